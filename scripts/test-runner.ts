// `npm run test:runner`: the LVS suites on a real IPVS kernel, in the runner VM (helpers/runner/),
// once per director backend that GitHub runners use: `host` (ipvsadm on the runner itself) and
// `container` (ipvsadm in a NET_ADMIN container). One boot runs the workflow's own job script
// (scripts/ci-job.sh: modules, setup, test) and then each backend's run; every line of the VM's
// console is printed as it comes. The results join the report (a "Runner VM" section per backend,
// from reports/figures.jsonl) and reports/runner/<backend>/ keeps each run's JUnit file and report.
//   npm run test:runner [-- --backends host,container] [-- FILE_FILTER…]
// Exit 0 when every backend passed, 1 otherwise, 2 on bad arguments.
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { removeRunOnExit } from '../helpers/lab/cleanup.ts'
import { ensureRunnerDisk } from '../helpers/runner/disk.ts'
import { makeProjectDisk } from '../helpers/runner/project-disk.ts'
import { bootRunner } from '../helpers/runner/vm.ts'
import { say, seconds, step } from '../helpers/progress.ts'
import { readJunit } from '../helpers/report/junit.ts'
import { reportFromFiles, writeReports } from '../helpers/report/write.ts'
import { FIGURES_FILE, cacheDir, repoRoot, tomcatVersion } from '../helpers/settings.ts'

const BACKENDS = ['host', 'container'] as const
type Backend = (typeof BACKENDS)[number]

const { values, positionals } = parseArgs({ allowPositionals: true, options: { backends: { type: 'string', default: BACKENDS.join(',') } } })
const backends = values.backends.split(',').map((b) => b.trim()).filter(Boolean)
const unknown = backends.filter((b) => !(BACKENDS as readonly string[]).includes(b))
if (unknown.length || !backends.length) {
  console.error(`test:runner: --backends ${values.backends}: expected a comma-separated list of ${BACKENDS.join(', ')}`)
  process.exit(2)
}
const filters = positionals.filter((p) => /^[\w./-]+$/.test(p))
if (filters.length !== positionals.length) {
  console.error(`test:runner: file filters may hold only letters, digits and . / _ - (got ${positionals.join(' ')})`)
  process.exit(2)
}

const started = performance.now()
removeRunOnExit() // Ctrl-C or SIGTERM: the VM goes with the run
// The project copies of earlier runs that ended without cleaning up (a SIGKILL): their owner is gone.
const runs = path.join(cacheDir, 'runner-run')
for (const pid of existsSync(runs) ? await fs.readdir(runs) : []) {
  let alive = false
  try { process.kill(Number(pid), 0); alive = true } catch { /* gone */ }
  if (!alive) await fs.rm(path.join(runs, pid), { recursive: true, force: true })
}
const disk = await ensureRunnerDisk()
const work = path.join(runs, String(process.pid))
const out = path.join(work, 'out')
await fs.rm(work, { recursive: true, force: true })
await fs.mkdir(out, { recursive: true })

// The job for this boot: the workflow's steps, then the LVS project once per backend. Its lines
// that start with `lb-e2e runner:` mark the steps in the console.
const job = `#!/usr/bin/env bash
# Written by scripts/test-runner.ts for one boot of the runner VM.
set -uo pipefail
export CI=true LAB_TOMCAT=${tomcatVersion()}
mark() { echo "lb-e2e runner: $* (at $(cut -d' ' -f1 /proc/uptime) s)"; }
uname -r >/out/kernel
mark "step modules"; bash scripts/ci-job.sh modules || exit 1
mark "step setup"; bash scripts/ci-job.sh setup || exit 1
status=0
for backend in ${backends.join(' ')}; do
  mkdir -p "/out/$backend"
  mark "step test, LAB_IPVS_BACKEND=$backend"
  # Through a pipe: on the serial console (a terminal) vitest would redraw its progress in place.
  LAB_IPVS_BACKEND=$backend LAB_JUNIT_FILE="/out/$backend/junit.xml" bash scripts/ci-job.sh test --project lvs ${filters.join(' ')} 2>&1 | cat
  echo "\${PIPESTATUS[0]}" >"/out/$backend/rc"
  cp -r reports "/out/$backend/" 2>/dev/null
  mark "backend $backend finished: $(cat "/out/$backend/rc")"
  [ "$(cat "/out/$backend/rc")" = 0 ] || status=1
done
mark "job done"
exit $status
`
const project = await step('runner VM project copy (working tree and node_modules, mke2fs -d)', () => makeProjectDisk(work, job))
say('▸ runner VM: boot, the workflow\'s job steps, the LVS project per backend (console follows)')
/** The job's last step that began (its `lb-e2e runner: step …` line): where it stopped, when a backend never ran. */
let lastStep = 'none (the VM never reached the job)'
const exit = await bootRunner({
  mode: 'job', kernel: disk.kernel, initrd: disk.initrd, disk: disk.disk, second: project, outDir: out,
  consoleLog: path.join(work, 'console.log'), timeoutMs: 60 * 60_000,
  onLine: (line) => {
    const plain = line.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    lastStep = /lb-e2e runner: step (.+) \(at [\d.]+ s\)/.exec(plain)?.[1] ?? lastStep
    say(`  │ ${plain}`)
  },
})

// Each backend's results: its JUnit file, read as every report is read, and its exit code.
const kernel = (await fs.readFile(path.join(out, 'kernel'), 'utf8').catch(() => '?')).trim()
const reportsDir = path.join(repoRoot, 'reports')
let ok = exit.status === 0
const lines: string[] = []
for (const backend of backends as Backend[]) {
  const dir = path.join(out, backend)
  const rc = Number((await fs.readFile(path.join(dir, 'rc'), 'utf8').catch(() => 'NaN')).trim())
  const junitFile = path.join(dir, 'junit.xml')
  const junit = existsSync(junitFile) ? readJunit(await fs.readFile(junitFile, 'utf8')) : undefined
  const tests = junit?.tests ?? []
  const count = (state: string) => tests.filter((t) => t.state === state).length
  const failures = tests.filter((t) => t.state === 'failed').map((t) => ({ test: t.name, message: (t.failures[0]?.message ?? '').split('\n')[0] ?? '' }))
  const passed = rc === 0 && count('passed') > 0 && count('failed') === 0 && !junit?.unhandled.length
  ok &&= passed
  const figure = {
    at: new Date().toISOString(), test: null, kind: 'runner', backend, kernel, exitCode: Number.isNaN(rc) ? null : rc,
    passed: count('passed'), failed: count('failed'), skipped: count('skipped'), durationMs: (junit?.time ?? 0) * 1000, failures,
    job: 'scripts/ci-job.sh modules, setup, test --project lvs',
  }
  await fs.mkdir(path.dirname(FIGURES_FILE), { recursive: true })
  await fs.appendFile(FIGURES_FILE, `${JSON.stringify(figure)}\n`)
  const keep = path.join(reportsDir, 'runner', backend)
  await fs.rm(keep, { recursive: true, force: true })
  await fs.mkdir(keep, { recursive: true })
  if (existsSync(dir)) await fs.cp(dir, keep, { recursive: true })
  lines.push(Number.isNaN(rc)
    ? `${backend}: did not run: the job ended in its step ${lastStep}`
    : `${backend}: ${figure.passed} passed, ${figure.failed} failed, ${figure.skipped} skipped in ${(figure.durationMs / 1000).toFixed(0)} s (exit ${rc})${failures.map((f) => `\n    ✗ ${f.test}: ${f.message}`).join('')}`)
}

// The report again, with the runner's section: from the last `npm test` when there was one.
const junit = path.join(reportsDir, 'junit.xml')
if (existsSync(junit)) {
  const data = await reportFromFiles(junit, [FIGURES_FILE], 'vitest run, then npm run test:runner')
  const written = await writeReports(data, reportsDir, {})
  say(`report: ${written.summary}, ${written.html}`)
}
await fs.rm(work, { recursive: true, force: true })
const t = (ms: number) => `${(ms / 1000).toFixed(0)} s`
const made = disk.timings.diskMs ? `; disk made in ${t(disk.timings.diskMs)}, baked in ${t(disk.timings.bakeMs)}` : '; disk from the cache'
say(`\nrunner VM (kernel ${kernel}): ${seconds(started)} in all (images checked in ${t(disk.timings.imageMs)}${made}; boot, job and power-off ${t(exit.ms)}):`)
for (const line of lines) say(`  ${line}`)
if (exit.status !== 0) say(`  the VM's job ended with status ${exit.status ?? 'none (it did not finish)'}`)
process.exit(ok ? 0 : 1)
