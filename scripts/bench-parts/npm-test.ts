// The bench's `--only npm-test` part: the warm `npm test` itself, timed (images already built, so
// what is left is the run). Its JUnit report goes to reports/bench-npm-test.xml, not over the
// last `npm test`'s. (What runs side by side inside a file, the matrix rows, the layouts, the CLI
// refusals, is not switched off from here: vitest's --maxConcurrency=1 leaves the projects'
// describe.concurrent as it is, measured: 544 s against 550 s. Its effect per file is in the
// suites' comments.)
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { UNHANDLED, readJunit, summarizeJunit } from '../../helpers/report/junit.ts'
import { npmTestCommand, repoRoot } from '../../helpers/settings.ts'

export interface BenchRow { what: string; value: string; detail?: string }

export interface NpmTestRun {
  seconds: number
  /** Share of the machine's cores busy during the run, from /proc/stat (all processes: the labs' too). */
  busy: number
  passed: number
  failed: number
  skipped: number
  exitCode: number
  /** Seconds per project: the sum of its files' times (JUnit has no start and end per project). */
  projects: Record<string, number>
}

function cpuTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  const idle = fields[3]! + fields[4]!
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
  return { busy: total - idle, total }
}

async function runOnce(say: (line: string) => void): Promise<NpmTestRun> {
  const junit = path.join(repoRoot, 'reports/bench-npm-test.xml')
  say(`▸ warm npm test (JUnit: ${path.relative(repoRoot, junit)})`)
  const before = cpuTicks()
  const started = performance.now()
  const child = await execa(...npmTestCommand, {
    cwd: repoRoot, reject: false, all: true, env: { LAB_JUNIT_FILE: junit },
  })
  const seconds = (performance.now() - started) / 1000
  const after = cpuTicks()
  const xml = await readFile(junit, 'utf8').catch(() => '')
  const report = xml ? readJunit(xml) : undefined
  const counts = report ? summarizeJunit(report) : { passed: 0, failed: 1, skipped: 0 }
  const projects: Record<string, number> = {}
  // The test files: vitest writes one testsuite per file, named by its path.
  for (const suite of report?.suites.filter((x) => !x.within.length && x.name !== UNHANDLED) ?? []) {
    const project = projectOf(suite.name)
    if (project) projects[project] = (projects[project] ?? 0) + suite.time
  }
  if (child.exitCode !== 0) say(`  npm test exited ${child.exitCode}: ${(child.all ?? '').split('\n').filter((l) => /FAIL|Error/.test(l)).slice(0, 5).join('; ')}`)
  return { seconds, busy: (after.busy - before.busy) / (after.total - before.total), ...counts, exitCode: child.exitCode ?? 1, projects }
}

/** The vitest project a test file belongs to, by vitest.config.ts's include patterns. */
function projectOf(file: string): string | undefined {
  if (file.startsWith('suites/unit/')) return 'unit'
  const name = path.basename(file)
  if (name.startsWith('lvs-')) return 'lvs'
  if (name.startsWith('tomcat-') || name.startsWith('balancer-')) return 'tomcat'
  if (name.startsWith('matrix-')) return 'matrix'
  if (name.startsWith('gate-')) return 'gate'
  return undefined
}

export async function npmTestBench(options: { say: (line: string) => void }): Promise<{ run: NpmTestRun; rows: BenchRow[] }> {
  const run = await runOnce(options.say)
  const rows = [{
    what: 'warm npm test',
    value: `${run.seconds.toFixed(0)} s`,
    detail: `${run.passed} passed, ${run.failed} failed, ${run.skipped} skipped; cores busy ${(run.busy * 100).toFixed(0)} %; ` +
      Object.entries(run.projects).map(([p, s]) => `${p} ${s.toFixed(0)} s`).join(', '),
  }]
  return { run, rows }
}
