// `npm run soak -- --runs 10`: the whole suite again and again, reporting pass/fail per run and per
// test and what each run left behind; `--interrupt` adds a run stopped by SIGINT in the middle of
// a lab start, which must leave nothing either. Writes reports/soak.json.
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { describeLeftovers, findLeftovers, removeLeftovers } from '../helpers/lab/cleanup.ts'
import { summarizeJunit } from '../helpers/report/junit.ts'
import { resultsFromJunit } from '../helpers/report/model.ts'
import { say } from '../helpers/progress.ts'
import { npmTestCommand, repoRoot } from '../helpers/settings.ts'

const { values: args } = parseArgs({ options: {
  runs: { type: 'string', default: '10' }, interrupt: { type: 'boolean', default: false },
  'interrupt-after': { type: 'string', default: '20' },
} })
const runs = Number(args.runs)
const dir = path.join(repoRoot, 'reports/soak')
mkdirSync(dir, { recursive: true })
const [node, npmTest] = npmTestCommand

interface RunResult { run: number; exitCode: number; seconds: number; passed: number; failed: number; skipped: number; leftovers: string; failedTests: string[] }
const results: RunResult[] = []

/** What the run left behind, removed so the next run starts clean (and counted against this one). */
function leftovers(): string {
  const found = findLeftovers('orphans')
  removeLeftovers(found)
  return describeLeftovers(found)
}

function failedTests(xml: string): string[] {
  return resultsFromJunit(xml).tests.filter((t) => t.state === 'failed').map((t) => `${t.file} > ${t.name}`)
}

for (let run = 1; run <= runs; run++) {
  const log = path.join(dir, `run-${run}.log`)
  const started = performance.now()
  const child = await execa(node, npmTest, { cwd: repoRoot, reject: false, all: true, env: { CI: 'true' } })
  writeFileSync(log, child.all ?? '')
  const junit = path.join(repoRoot, 'reports/junit.xml')
  const xml = existsSync(junit) ? readFileSync(junit, 'utf8') : ''
  if (xml) copyFileSync(junit, path.join(dir, `junit-${run}.xml`))
  const counts = xml ? summarizeJunit(xml) : { passed: 0, failed: 1, skipped: 0 }
  const result = { run, exitCode: child.exitCode ?? 1, seconds: (performance.now() - started) / 1000, ...counts, leftovers: leftovers(), failedTests: failedTests(xml) }
  results.push(result)
  say(`run ${run}/${runs}: ${result.exitCode === 0 ? 'green' : 'RED'} ${result.passed} passed, ${result.failed} failed in ${result.seconds.toFixed(0)} s; leftovers: ${result.leftovers}`)
}

let interrupted: { signalAfterS: number; exitCode: number | undefined; leftovers: string } | undefined
if (args.interrupt) {
  const after = Number(args['interrupt-after'])
  // Like Ctrl-C in a terminal: SIGINT to the whole process group of the run.
  const child = execa(node, npmTest, { cwd: repoRoot, reject: false, all: true, detached: true, env: { CI: 'true' } })
  const timer = setTimeout(() => { if (child.pid) process.kill(-child.pid, 'SIGINT') }, after * 1000)
  const done = await child
  clearTimeout(timer)
  writeFileSync(path.join(dir, 'interrupted.log'), done.all ?? '')
  interrupted = { signalAfterS: after, exitCode: done.exitCode, leftovers: leftovers() }
  say(`interrupted run (SIGINT after ${after} s): exit ${done.exitCode}; leftovers: ${interrupted.leftovers}`)
}

const flaky: Record<string, number> = {}
for (const r of results) for (const t of r.failedTests) flaky[t] = (flaky[t] ?? 0) + 1
const green = results.filter((r) => r.exitCode === 0 && r.failed === 0).length
const clean = results.filter((r) => r.leftovers === 'nothing').length
console.log('\nrun  result  passed  failed  seconds  leftovers')
for (const r of results) {
  console.log(`${String(r.run).padStart(3)}  ${(r.exitCode === 0 ? 'green' : 'red').padEnd(6)}  ${String(r.passed).padStart(6)}  ${String(r.failed).padStart(6)}  ${r.seconds.toFixed(0).padStart(7)}  ${r.leftovers}`)
}
console.log(`\n${green}/${results.length} runs green, ${clean}/${results.length} runs left nothing behind`)
console.log(Object.keys(flaky).length ? `tests that failed:\n${Object.entries(flaky).map(([t, n]) => `  ${n}/${results.length}  ${t}`).join('\n')}` : 'no test failed in any run')
if (interrupted) console.log(`interrupted run: SIGINT after ${interrupted.signalAfterS} s, exit ${interrupted.exitCode}, leftovers: ${interrupted.leftovers}`)
writeFileSync(path.join(repoRoot, 'reports/soak.json'), `${JSON.stringify({ runs: results, flaky, interrupted }, null, 2)}\n`)
process.exitCode = green === results.length && clean === results.length && (!interrupted || interrupted.leftovers === 'nothing') ? 0 : 1
