// npm run mutate [-- --only <name> …]: proof that the gate bites. Each mutation of
// fixtures/mutations/ changes a configuration — the default fixtures (held to the project's own
// limits, --strict) or a team-shaped one such as examples/blog-post (run as a team's first look
// is, lenient, so the rule itself must catch it) — and the gate runs against it;
// helpers/cli/mutations.ts mutationVerdict scores the run: killed only by the expected killer,
// survived when every test passed, error for anything else. For a team-shaped configuration the
// killers' suites also run once unmutated (the baseline): a killer that fails there proves
// nothing. A mutation the gate survives is a missing test. Logs: reports/mutations/<name>.log;
// table: reports/mutations.md.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { type Mutation, type Scored, applyMutation, expectedKillers, killersFailingOnBaseline, loadMutations, mutationBase, mutationVerdict } from '../helpers/cli/mutations.ts'
import { repoRoot } from '../helpers/settings.ts'

const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } } })
const catalogue = loadMutations().filter((m) => !values.only?.length || values.only.includes(m.name))
if (!catalogue.length) throw new Error(`no mutation named ${values.only?.join(', ')}`)
const logs = path.join(repoRoot, 'reports', 'mutations')
mkdirSync(logs, { recursive: true })

/** Baseline runs of team-shaped configurations, one per configuration and suites. */
const baselines = new Map<string, Promise<string | undefined>>()

interface Row extends Scored { name: string; seconds: number }
const rows: Row[] = []

for (const mutation of catalogue) {
  const started = performance.now()
  const scored = await run(mutation)
  const row = { ...scored, name: mutation.name, seconds: (performance.now() - started) / 1000 }
  rows.push(row)
  console.log(`${row.verdict.padEnd(8)} ${mutation.name} (${row.seconds.toFixed(0)} s): ${row.why}`)
}

const table = [
  '| mutation | result | why | time |',
  '|---|---|---|---|',
  ...rows.map((r) => `| \`${r.name}\` | ${r.verdict} | ${r.why.replaceAll('|', '\\|').replaceAll('\n', ' ')} | ${r.seconds.toFixed(0)} s |`),
].join('\n')
const count = (verdict: Row['verdict']) => rows.filter((r) => r.verdict === verdict)
const [killed, survived, errors] = [count('killed'), count('survived'), count('error')]
const not = (list: Row[], what: string) => (list.length ? `; ${what}: ${list.map((r) => r.name).join(', ')}` : '')
const summary = `${killed.length} killed, ${survived.length} survived, ${errors.length} error of ${rows.length}` +
  `${not(survived, 'survived (a missing test)')}${not(errors, 'error (no verdict: see why)')}`
writeFileSync(path.join(repoRoot, 'reports', 'mutations.md'), `# Mutations (default fixtures with --strict; team-shaped configurations lenient)\n\n${table}\n\n${summary}\n`)
console.log(`\n${table}\n\n${summary}`)
process.exitCode = killed.length === rows.length ? 0 : 1

/** The directory the gate runs on: the changed files alone over fixtures/, or a whole copy of a team-shaped configuration with them. */
function overlayFor(mutation: Mutation, changed: Record<string, string>): string {
  const overlay = mkdtempSync(path.join(os.tmpdir(), `lb-e2e-mutation-${mutation.name}-`))
  if (mutation.fixtures) cpSync(mutationBase(mutation), overlay, { recursive: true })
  for (const [file, text] of Object.entries(changed)) {
    mkdirSync(path.dirname(path.join(overlay, file)), { recursive: true })
    writeFileSync(path.join(overlay, file), text)
  }
  return overlay
}

function gate(overlay: string, area: string, junit: string, extra: string[]) {
  rmSync(junit, { force: true })
  return execa(process.execPath, [path.join(repoRoot, 'bin/lb-e2e.ts'), 'verify', '--fixtures', overlay, '--only', area, '--junit', junit, ...extra], {
    cwd: repoRoot, reject: false, all: true, env: { CI: 'true' },
  })
}

/** The killers' suites on the unmutated team-shaped configuration, once per configuration and suites. */
function baseline(mutation: Mutation, area: string, suites: string[]): Promise<string | undefined> {
  const key = JSON.stringify([mutation.fixtures, suites])
  let pending = baselines.get(key)
  if (!pending) {
    pending = (async () => {
      const overlay = overlayFor(mutation, {})
      const junit = path.join(logs, `baseline-${path.basename(mutation.fixtures!)}.junit.xml`)
      try {
        const run = await gate(overlay, area, junit, suites.flatMap((s) => ['--suite', s]))
        writeFileSync(path.join(logs, `baseline-${path.basename(mutation.fixtures!)}.log`), run.all ?? '')
        return existsSync(junit) ? readFileSync(junit, 'utf8') : undefined
      } finally {
        rmSync(overlay, { recursive: true, force: true })
      }
    })()
    baselines.set(key, pending)
  }
  return pending
}

/** The gate against one mutation: its expected killers' suites first (fast), then, if they pass, the whole area. */
async function run(mutation: Mutation): Promise<Scored> {
  const overlay = overlayFor(mutation, applyMutation(mutationBase(mutation), mutation))
  const log = path.join(logs, `${mutation.name}.log`)
  const junit = path.join(logs, `${mutation.name}.junit.xml`)
  writeFileSync(log, '')
  const limits = mutation.fixtures ? [] : ['--strict']
  try {
    const area = mutation.file.startsWith('ipvs/') ? 'lvs' : 'tomcat'
    const suites = [...new Set(expectedKillers(mutation).flatMap((k) => (k.kind === 'suite' ? [k.file] : [])))]
    if (mutation.fixtures && suites.length) {
      const base = await baseline(mutation, area, suites)
      if (base === undefined) return { verdict: 'error', why: `the baseline run of ${mutation.fixtures} wrote no JUnit report: see reports/mutations/baseline-*.log` }
      const already = killersFailingOnBaseline(mutation, base)
      if (already.length) return { verdict: 'error', why: `${already.join(' or ')} already fails on ${mutation.fixtures} unmutated: a kill by it would prove nothing` }
    }
    const attempts = suites.length ? [suites.flatMap((s) => ['--suite', s]), []] : [[]]
    for (const suite of attempts) {
      const result = await gate(overlay, area, junit, ['--bail', ...limits, ...suite])
      const output = (result.all ?? '').replaceAll(overlay, '<mutated>')
      const verdict = mutationVerdict(mutation, { exitCode: result.exitCode ?? -1, output, ...(existsSync(junit) ? { junit: readFileSync(junit, 'utf8') } : {}) })
      const scored = { ...verdict, why: verdict.why.replaceAll(overlay, '<mutated>') }
      writeFileSync(log, `${readFileSync(log, 'utf8')}$ lb-e2e verify --only ${area} ${[...limits, ...suite].join(' ')}\n${output}\n→ ${scored.verdict}: ${scored.why}\n\n`)
      if (scored.verdict !== 'survived') return scored
    }
    return { verdict: 'survived', why: suites.length ? `every test passed (${suites.join(', ')}, then the ${area} area)` : `every test of the ${area} area passed` }
  } finally {
    rmSync(overlay, { recursive: true, force: true })
  }
}
