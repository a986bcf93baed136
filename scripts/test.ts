// `npm test`: vitest's projects in two lanes side by side, one vitest process each, merged into one
// report. Vitest itself runs projects one group after another: the Tomcat project shares its labs
// between files in one worker (isolate: false, one worker), and a group holds only projects of one
// worker count, so nothing ran beside it and the two cores were 58 % busy over 317 s. Each lane has
// its own run id (its own labs, swept by its own process) and figures file; their blob reports are
// merged with `vitest --merge-reports` (the workflow's way of joining its shards), whose reporters
// write reports/junit.xml, summary.md and index.html once, from everything.
//
//   npm test                   every project, in the lanes below
//   npm test -- <vitest args>  vitest run with those arguments, in this one process's child, as is
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { repoRoot } from '../helpers/settings.ts'

/**
 * The lanes, by project name; the last lane runs every project not named here, so a project added
 * to vitest.config.ts runs without being listed. Tomcat with the gate's CLI tests: measured, that split
 * ends both lanes within 16 s of each other (219 s and 203 s); Tomcat alone left the second lane
 * 44 s longer (190 s and 234 s).
 */
const LANES: string[][] = [['tomcat', 'gate']]

const vitest = path.join(repoRoot, 'node_modules/.bin/vitest')
const dir = path.join(repoRoot, 'reports', 'lanes')
const args = process.argv.slice(2)

const children: ResultPromise[] = []
let signalled: NodeJS.Signals | undefined
// The children run in process groups of their own (detached): a Ctrl-C reaches this process alone
// and is passed on once, so each lane's vitest removes its labs once (helpers/lab/cleanup.ts).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (signalled) return
    signalled = signal
    for (const child of children) child.kill(signal)
  })
}

if (args.length) {
  const child = execa(vitest, ['run', ...args], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], reject: false, detached: true })
  children.push(child)
  process.exit((await child).exitCode ?? exitCodeOf(signalled))
}

rmSync(dir, { recursive: true, force: true })
mkdirSync(path.join(dir, 'blob'), { recursive: true })
const named = LANES.flat()
const lanes = [
  ...LANES.map((projects) => ({ title: projects.join(', '), filter: projects.flatMap((p) => ['--project', p]) })),
  { title: `every project but ${named.join(', ')}`, filter: named.flatMap((p) => ['--project', `!${p}`]) },
]

const started = performance.now()
const finished = await Promise.all(lanes.map(async (lane, i) => {
  const n = i + 1
  process.stdout.write(`▸ lane ${n}: ${lane.title}\n`)
  const child = execa(vitest, [
    'run', ...lane.filter,
    '--reporter=blob', `--outputFile.blob=${path.join(dir, 'blob', `lane-${n}.json`)}`, '--reporter=./helpers/report/lane-progress.ts',
  ], {
    cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], reject: false, detached: true,
    // LB_E2E_RUN empty: each lane's vitest mints its own run id (helpers/settings.ts runId).
    env: { LB_E2E_RUN: '', LB_E2E_FIGURES: path.join(dir, `figures-${n}.jsonl`) },
  })
  children.push(child)
  const result = await child
  const seconds = (performance.now() - started) / 1000
  process.stdout.write(`▸ lane ${n} (${lane.title}) ended in ${seconds.toFixed(0)} s, exit ${result.exitCode ?? result.signal}\n`)
  return { n, title: lane.title, exitCode: result.exitCode ?? 1, blob: existsSync(path.join(dir, 'blob', `lane-${n}.json`)) }
}))

if (signalled) process.exit(exitCodeOf(signalled))

// The lanes' figures, one file as the reports read it (the merged run takes all of them).
const figures = finished.map(({ n }) => path.join(dir, `figures-${n}.jsonl`)).filter((f) => existsSync(f))
writeFileSync(path.join(repoRoot, 'reports', 'figures.jsonl'), figures.map((f) => readFileSync(f, 'utf8')).join(''))

const merged = readdirSync(path.join(dir, 'blob')).length
  ? (await execa(vitest, ['run', `--merge-reports=${path.join(dir, 'blob')}`], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'], reject: false })).exitCode ?? 1
  : 1
// A lane that left no blob report (its vitest failed before reporting) is in no merged count: say so.
const unreported = finished.filter((lane) => !lane.blob)
for (const lane of unreported) process.stdout.write(`✗ lane ${lane.n} (${lane.title}) exited ${lane.exitCode} without a report: its error is above\n`)
process.exit(merged !== 0 ? merged : unreported.length || finished.some((l) => l.exitCode !== 0) ? 1 : 0)

function exitCodeOf(signal: NodeJS.Signals | undefined): number {
  return signal === 'SIGINT' ? 130 : signal === 'SIGHUP' ? 129 : signal ? 143 : 1
}
