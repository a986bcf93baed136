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

const rows: string[] = []
let wrong = 0
for (const [name, v] of verdicts) {
  const started = performance.now()
  const dir = path.join(CORPUS, name)
  const junit = path.join(logs, `${name}.junit.xml`)
  const args = (v.args ?? []).map((a) => (a.endsWith('.war') ? path.join(dir, a) : a))
  const run = await execa(process.execPath, [path.join(repoRoot, 'bin/lb-e2e.ts'), 'verify', '--fixtures', dir, '--only', 'tomcat', '--junit', junit, ...args],
    { cwd: repoRoot, reject: false, all: true, env: { CI: 'true' } })
  writeFileSync(path.join(logs, `${name}.log`), run.all ?? '')
  // No report when the gate stopped before vitest (a refusal, a setup error): no test failed in it.
  const xml = existsSync(junit) ? readFileSync(junit, 'utf8') : undefined
  const failedFiles = new Set(xml === undefined ? [] : resultsFromJunit(xml).tests.filter((t) => t.state === 'failed').map((t) => t.file))
  const closing = (run.all ?? '').trim().split('\n').at(-1) ?? ''
  const ok = v.verdict === 'passes' ? run.exitCode === 0 : run.exitCode === 1 && (v.failsIn ?? []).every((f) => failedFiles.has(f))
  if (!ok) wrong++
  const said = `${run.exitCode === 0 ? 'passed' : run.exitCode === 1 ? `failed in ${[...failedFiles].join(', ')}` : `exit ${run.exitCode}`} (${closing})`
  rows.push(`| \`${name}\` | ${v.verdict}${v.failsIn ? ` in ${v.failsIn.join(', ')}` : ''} | ${said} | ${ok ? 'as expected' : '**not as expected**'} | ${((performance.now() - started) / 1000).toFixed(0)} s |`)
  console.log(rows.at(-1))
}
const table = ['| directory | expected | the gate said | | time |', '|---|---|---|---|---|', ...rows].join('\n')
writeFileSync(path.join(repoRoot, 'reports', 'corpus.md'), `# Corpus\n\n${table}\n`)
console.log(`\n${table}\n\n${verdicts.length - wrong} of ${verdicts.length} as expected`)
process.exitCode = wrong ? 1 : 0
