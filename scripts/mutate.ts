// npm run mutate [-- --only <name> …]: proof that the gate bites. Each mutation of
// fixtures/mutations/ is laid over the default fixtures and the gate runs against it (with the
// limits a strict CI would set); the table says what caught it. A mutation the gate survives is a
// missing test. Logs: reports/mutations/<name>.log; table: reports/mutations.md.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { JUNIT_FILE } from '../helpers/gate/verify.ts'
import { type Mutation, applyMutation, loadMutations } from '../helpers/mutations.ts'
import { resultsFromJunit } from '../helpers/report/model.ts'
import { fixturesDir, repoRoot } from '../helpers/settings.ts'

/** The limits the catalogue is run with: without them a slow failover or stale reads only warn. */
const STRICT = ['--max-failover-gap', '10', '--max-stale-reads', '0', '--max-rejoin-time', '20']

const { values } = parseArgs({ options: { only: { type: 'string', multiple: true } } })
const catalogue = loadMutations().filter((m) => !values.only?.length || values.only.includes(m.name))
if (!catalogue.length) throw new Error(`no mutation named ${values.only?.join(', ')}`)
const logs = path.join(repoRoot, 'reports', 'mutations')
mkdirSync(logs, { recursive: true })

interface Row { name: string; caughtBy: string; verdict: 'killed' | 'survived' | 'error'; expected: boolean; seconds: number }
const rows: Row[] = []

for (const mutation of catalogue) {
  const started = performance.now()
  const row = await run(mutation)
  rows.push({ ...row, name: mutation.name, seconds: (performance.now() - started) / 1000 })
  console.log(`${row.verdict.padEnd(8)} ${mutation.name} (${((performance.now() - started) / 1000).toFixed(0)} s): ${row.caughtBy}`)
}

const table = [
  '| mutation | caught by | result |',
  '|---|---|---|',
  ...rows.map((r) => `| \`${r.name}\` | ${r.caughtBy.replaceAll('|', '\\|')}${r.verdict === 'killed' && !r.expected ? ' (not the expected killer)' : ''} | ${r.verdict} (${r.seconds.toFixed(0)} s) |`),
].join('\n')
const killed = rows.filter((r) => r.verdict === 'killed').length
const summary = `${killed} of ${rows.length} mutations killed${rows.length - killed ? `, ${rows.length - killed} not: ${rows.filter((r) => r.verdict !== 'killed').map((r) => r.name).join(', ')}` : ''}`
writeFileSync(path.join(repoRoot, 'reports', 'mutations.md'), `# Mutations (${STRICT.join(' ')})\n\n${table}\n\n${summary}\n`)
console.log(`\n${table}\n\n${summary}`)
process.exitCode = killed === rows.length ? 0 : 1

/** The gate against one mutation: its expected killer's suite first (fast), then the whole area. */
async function run(mutation: Mutation): Promise<Omit<Row, 'name' | 'seconds'>> {
  const overlay = mkdtempSync(path.join(os.tmpdir(), `lb-e2e-mutation-${mutation.name}-`))
  const log = path.join(logs, `${mutation.name}.log`)
  writeFileSync(log, '')
  try {
    for (const [file, text] of Object.entries(applyMutation(fixturesDir, mutation))) {
      mkdirSync(path.dirname(path.join(overlay, file)), { recursive: true })
      writeFileSync(path.join(overlay, file), text)
    }
    const area = mutation.file.startsWith('ipvs/') ? 'lvs' : 'tomcat'
    const killerFile = mutation.expectedKiller.startsWith('suites/') ? mutation.expectedKiller.split(' > ')[0]! : undefined
    const attempts = killerFile ? [['--suite', killerFile], []] : [[]]
    for (const suite of attempts) {
      const gate = await execa(process.execPath, [path.join(repoRoot, 'bin/lb-e2e.ts'), 'verify', '--fixtures', overlay, '--only', area, '--bail', ...STRICT, ...suite], {
        cwd: repoRoot, reject: false, all: true, env: { CI: 'true' },
      })
      writeFileSync(log, `${readFileSync(log, 'utf8')}$ lb-e2e verify --only ${area} ${suite.join(' ')}\n${gate.all ?? ''}\n`)
      if (gate.exitCode === 2) {
        // The first error: its first line, and for a program's long output its telling line.
        const block = /^ {2}error: (.*(?:\n {4}.*)*)/m.exec(gate.all ?? '')?.[1] ?? 'the input was refused'
        const [head, ...more] = block.split('\n')
        const telling = more.map((l) => l.trim()).find((l) => /Error at line|Caused by|AH\d+|Invalid command/.test(l))
        const error = telling ? `${head} ${telling}` : head!
        const said = /^(validation|configtest): (.*)$/.exec(mutation.expectedKiller)?.[2]
        return { caughtBy: `validation: ${error.replace(overlay, '<mutated>')}`, verdict: 'killed', expected: said !== undefined && error.includes(said) }
      }
      if (gate.exitCode === 1) {
        const failed = resultsFromJunit(readFileSync(JUNIT_FILE, 'utf8')).tests.find((t) => t.state === 'failed')
        const caught = failed ? `${failed.file} > ${failed.name}` : 'a failing run (see the log)'
        // The same test in the other layout counts as the expected killer.
        const anyLayout = (name: string) => name.replace(/\b(single|multi)-host\b/g, '<layout>')
        return { caughtBy: caught, verdict: 'killed', expected: anyLayout(caught) === anyLayout(mutation.expectedKiller) }
      }
      if (gate.exitCode !== 0) return { caughtBy: `the gate could not run (exit ${gate.exitCode}, see ${path.relative(repoRoot, log)})`, verdict: 'error', expected: false }
    }
    return { caughtBy: '— (every test passed)', verdict: 'survived', expected: false }
  } finally {
    rmSync(overlay, { recursive: true, force: true })
  }
}
