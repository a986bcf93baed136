// npm run corpus [-- --only <name> …]: the corpus directories that start labs (examples/corpus,
// verdicts.json: "passes" or "fails"), each through the gate as a team would run it; the refusals
// are proven without Docker by suites/unit/intake-corpus.test.ts. A directory whose verdict is not
// the expected one fails the run. Logs: reports/corpus/<name>.log.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { resultsFromJunit } from '../helpers/report/model.ts'
import { repoRoot } from '../helpers/settings.ts'

interface Verdict { shape: string; verdict: 'passes' | 'fails' | 'refused'; failsIn?: string[]; args?: string[]; sameAs?: string }
const CORPUS = path.join(repoRoot, 'examples', 'corpus')
const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } } })
const verdicts = Object.entries(JSON.parse(readFileSync(path.join(CORPUS, 'verdicts.json'), 'utf8')) as Record<string, Verdict>)
  .filter(([name, v]) => v.verdict !== 'refused' && (!values.only?.length || values.only.includes(name)))
const logs = path.join(repoRoot, 'reports', 'corpus')
mkdirSync(logs, { recursive: true })

/** One gate run on a directory: its exit code, the suite files with a failed test, its closing line. */
async function gate(name: string, dir: string, args: string[]): Promise<{ exitCode: number; failed: Set<string>; closing: string }> {
  const junit = path.join(logs, `${name}.junit.xml`)
  const run = await execa(process.execPath, [path.join(repoRoot, 'bin/lb-e2e.ts'), 'verify', '--fixtures', dir, '--only', 'tomcat', '--junit', junit, ...args],
    { cwd: repoRoot, reject: false, all: true, env: { CI: 'true' } })
  writeFileSync(path.join(logs, `${name}.log`), run.all ?? '')
  // No report when the gate stopped before vitest (a refusal, a setup error): no test failed in it.
  const xml = existsSync(junit) ? readFileSync(junit, 'utf8') : undefined
  const failed = new Set(xml === undefined ? [] : resultsFromJunit(xml).tests.filter((t) => t.state === 'failed').map((t) => t.file))
  return { exitCode: run.exitCode ?? -1, failed, closing: (run.all ?? '').trim().split('\n').at(-1) ?? '' }
}
const verdictOf = (r: Awaited<ReturnType<typeof gate>>) => (r.exitCode === 0 ? 'passed' : r.exitCode === 1 ? `failed in ${[...r.failed].sort().join(', ')}` : `exit ${r.exitCode}`)

const rows: string[] = []
let wrong = 0
for (const [name, v] of verdicts) {
  const started = performance.now()
  const dir = path.join(CORPUS, name)
  const args = (v.args ?? []).map((a) => (a.endsWith('.war') ? path.join(dir, a) : a))
  const run = await gate(name, dir, args)
  let ok = v.verdict === 'passes' ? run.exitCode === 0 : run.exitCode === 1 && (v.failsIn ?? []).every((f) => run.failed.has(f))
  let said = `${verdictOf(run)} (${run.closing})`
  // The same configuration under other names (sameAs) must get the same verdict: the same exit
  // code, failing in the suites expected. (Which other suites fail too can differ between two
  // runs of a configuration that loses writes at random, as asynchronous replication does.)
  if (v.sameAs) {
    const same = await gate(`${name}.sameAs`, path.join(repoRoot, v.sameAs), [])
    const agree = same.exitCode === run.exitCode && (v.failsIn ?? []).every((f) => same.failed.has(f))
    ok &&= agree
    said += `; ${v.sameAs}: ${verdictOf(same)}${agree ? ', the same' : ', **not the same**'}`
  }
  if (!ok) wrong++
  rows.push(`| \`${name}\` | ${v.verdict}${v.failsIn ? ` in ${v.failsIn.join(', ')}` : ''} | ${said} | ${ok ? 'as expected' : '**not as expected**'} | ${((performance.now() - started) / 1000).toFixed(0)} s |`)
  console.log(rows.at(-1))
}
const table = ['| directory | expected | the gate said | | time |', '|---|---|---|---|---|', ...rows].join('\n')
writeFileSync(path.join(repoRoot, 'reports', 'corpus.md'), `# Corpus\n\n${table}\n`)
console.log(`\n${table}\n\n${verdicts.length - wrong} of ${verdicts.length} as expected`)
process.exitCode = wrong ? 1 : 0
