/**
 * Removing what the lab created — and only that. Every resource carries the label `lb-e2e` and
 * `lb-e2e.run=<run id>`; TAP devices, QEMU processes and host NAT rules carry the name `lb-e2e`.
 * Ryuk is not available here, so this is the guarantee: at the end of a run, on SIGINT/SIGTERM,
 * and in `npm run clean` for leftovers of crashed runs.
 *
 * Synchronous on purpose: vitest exits 1 ms after a SIGINT, so a signal handler gets no second
 * turn of the event loop; everything must be done before it returns.
 */
import { readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execaSync } from 'execa'
import { LEDGER_NAME, removeOwnedServices } from './ipvs/host.ts'
import { say } from '../progress.ts'
import { LABEL, runId } from '../settings.ts'

export interface Leftovers {
  containers: string[]
  networks: string[]
  taps: string[]
  vms: number[]
  /** `iptables -t nat` rules of the host backend, tagged `--comment lb-e2e-<run>-<owner pid>`. */
  natRules: string[]
  /** The host backend's ledgers of the IPVS services it added (helpers/lab/ipvs/host.ts). */
  ipvsLedgers: string[]
}

/** Resources of one run (default: this run), or of every run whose owner process is gone. */
export function findLeftovers(scope: { run: string } | 'orphans' = { run: runId() }): Leftovers {
  const filter = scope === 'orphans' ? LABEL : `${LABEL}.run=${scope.run}`
  const orphan = (pid: string) => scope !== 'orphans' || !alive(Number(pid))
  const listed = (kind: 'ps -a' | 'network ls') =>
    lines(run('docker', [...kind.split(' '), '--filter', `label=${filter}`, '--format',
      `${kind === 'ps -a' ? '{{.Names}}' : '{{.Name}}'} {{.Label "${LABEL}.owner-pid"}}`]))
      .map((line) => line.split(' ')).filter(([, pid]) => orphan(pid ?? '')).map(([name]) => name!)
  const qemus = qemuProcesses(scope === 'orphans' ? undefined : scope.run)
  // A VM is orphaned when its parent (the test run) is gone; a TAP when no live VM of its run uses it.
  const live = scope === 'orphans' ? qemus.filter((q) => q.ppid !== 1 && alive(q.ppid)) : []
  return {
    containers: listed('ps -a'),
    networks: listed('network ls'),
    vms: qemus.filter((q) => !live.includes(q)).map((q) => q.pid),
    taps: tapDevices(scope === 'orphans' ? undefined : scope.run).filter((tap) => !live.some((q) => tapName(q.run) === tap)),
    natRules: natRules(scope === 'orphans' ? undefined : scope.run)
      .filter((rule) => orphan(/--comment lb-e2e-[0-9a-z]+-(\d+)/.exec(rule)?.[1] ?? '')),
    ipvsLedgers: readdirSync(os.tmpdir()).flatMap((name) => {
      const m = LEDGER_NAME.exec(name)
      return m && (scope === 'orphans' ? orphan(m[2]!) : m[1] === scope.run) ? [path.join(os.tmpdir(), name)] : []
    }),
  }
}

export function removeLeftovers(found: Leftovers): void {
  for (const pid of found.vms) { try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ } }
  if (found.containers.length) run('docker', ['rm', '-f', '-v', ...found.containers])
  for (const tap of found.taps) run('ip', ['link', 'delete', tap])
  for (const rule of found.natRules) run('iptables', ['-t', 'nat', ...rule.replace(/^-A /, '-D ').split(' ')])
  for (const ledger of found.ipvsLedgers) removeOwnedServices(ledger)
  if (found.networks.length) run('docker', ['network', 'rm', ...found.networks])
}

export function describeLeftovers(found: Leftovers): string {
  const parts = [
    found.containers.length && `containers: ${found.containers.join(', ')}`,
    found.networks.length && `networks: ${found.networks.join(', ')}`,
    found.taps.length && `TAP devices: ${found.taps.join(', ')}`,
    found.vms.length && `QEMU processes: ${found.vms.join(', ')}`,
    found.natRules.length && `iptables nat rules: ${found.natRules.join('; ')}`,
    found.ipvsLedgers.length && `IPVS services listed in ${found.ipvsLedgers.join(', ')}`,
  ].filter(Boolean)
  return parts.length ? parts.join('; ') : 'nothing'
}

/** Removes everything of this run; safe to call more than once. Returns what it removed. */
export function removeRun(run = runId()): Leftovers {
  const found = findLeftovers({ run })
  removeLeftovers(found)
  return found
}

/**
 * A lab's teardown: the stack's removals in reverse, every one attempted even after one failed (a
 * stuck container must not leave the rest and the network behind), then the first failure thrown
 * as it was: disposeAsync wraps a second failure and the first in a SuppressedError, whose message
 * is not why.
 */
export async function disposeInTurn(undo: AsyncDisposableStack): Promise<void> {
  try {
    await undo.disposeAsync()
  } catch (error) {
    throw firstFailure(error)
  }
}

/**
 * The same for removals of what already exists, outside any creation (a started lab's parts, a
 * pool's labs): each attempted in the order given, then the first failure thrown.
 */
export async function removeInTurn(removals: (() => Promise<unknown>)[]): Promise<void> {
  const undo = new AsyncDisposableStack()
  for (const remove of removals.toReversed()) undo.defer(async () => { await remove() })
  await disposeInTurn(undo)
}

/** Each later failure wraps the one before it: the innermost is the first. */
function firstFailure(error: unknown): unknown {
  while (error instanceof SuppressedError) error = error.suppressed
  return error
}

let installed = false

/**
 * The run's guarantee, installed once in vitest's main process: on Ctrl-C or a CI cancel, remove
 * this run's resources before the process exits; at a normal exit (after every lab's own
 * teardown), sweep what a teardown missed and say so, since that is a bug to fix.
 */
export function removeRunOnExit(): void {
  if (installed) return
  installed = true
  const run = runId() // pinned now, before workers start: the id they inherit is the one swept
  process.once('exit', () => {
    const missed = removeRun(run)
    if (describeLeftovers(missed) !== 'nothing') say(`cleanup: the run's final sweep removed ${describeLeftovers(missed)}`)
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.prependListener(signal, () => {
      say(`\n${signal}: removing this run's lab (run ${run}) …`)
      try {
        say(`removed ${describeLeftovers(removeRun(run))}`)
      } catch (error) {
        say(`cleanup failed: ${String(error)}; run \`npm run clean\``)
      }
      process.exitCode ??= signal === 'SIGINT' ? 130 : 143
      // vitest exits on its own handler; a plain script would not, so make sure the process ends.
      setTimeout(() => process.exit(), 100).unref()
    })
  }
}

export function tapName(run = runId()): string {
  return `lb-e2e-t${run}`.slice(0, 15)
}

function run(file: string, args: string[]): string {
  return execaSync(file, args, { reject: false, timeout: 60_000 }).stdout ?? ''
}

function lines(text: string): string[] {
  return text.split('\n').map((l) => l.trim()).filter(Boolean)
}

/** Whether a process of this pid is running (signal 0). */
export function alive(pid: number): boolean {
  if (!pid) return false
  try { process.kill(pid, 0); return true } catch { return false }
}

/** QEMU processes of the lab: started with `-name lb-e2e-<run>-…`. */
function qemuProcesses(runFilter?: string): { pid: number; ppid: number; run: string }[] {
  return lines(run('ps', ['-eo', 'pid=,ppid=,args=']))
    .map((line) => /^(\d+)\s+(\d+)\s+\S*qemu-system\S*\s.*-name lb-e2e-([0-9a-z]+)-/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null && (runFilter === undefined || m[3] === runFilter))
    .map((m) => ({ pid: Number(m[1]), ppid: Number(m[2]), run: m[3]! }))
}

/** TAP devices are named `lb-e2e-t<run>` (15 characters at most). */
function tapDevices(runFilter?: string): string[] {
  return [...run('ip', ['-o', 'link', 'show']).matchAll(/^\d+: (lb-e2e-t[0-9a-z]*)[:@]/gm)]
    .map((m) => m[1]!)
    .filter((name) => runFilter === undefined || name === tapName(runFilter))
}

function natRules(runFilter?: string): string[] {
  return lines(run('iptables', ['-t', 'nat', '-S', 'POSTROUTING'])).filter((l) => l.includes(`--comment ${LABEL}-${runFilter ?? ''}`))
}
