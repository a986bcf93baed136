/**
 * Removing what the lab created — and only that. Every resource carries the label `lb-e2e` and
 * `lb-e2e.run=<run id>`; TAP devices and QEMU processes carry the name prefix `lb-e2e`. Ryuk is not
 * available here, so this is the guarantee: at the end of a run, on SIGINT/SIGTERM, and in
 * `npm run clean` for leftovers of a crashed run.
 */
import { execa } from 'execa'
import { getContainerRuntimeClient } from 'testcontainers'
import { say } from './progress.ts'
import { LABEL, runId } from './settings.ts'

export interface Leftovers {
  containers: string[]
  networks: string[]
  taps: string[]
  vms: number[]
}

/** Resources of one run (default: this run), or of every run whose owner process is gone. */
export async function findLeftovers(scope: { run: string } | 'orphans'): Promise<Leftovers> {
  const { dockerode } = (await getContainerRuntimeClient()).container
  const filters = { label: scope === 'orphans' ? [LABEL] : [`${LABEL}.run=${scope.run}`] }
  const orphan = (labels: Record<string, string> | undefined) =>
    scope !== 'orphans' || !alive(Number(labels?.[`${LABEL}.owner-pid`] ?? 0))
  const containers = (await dockerode.listContainers({ all: true, filters }))
    .filter((c) => orphan(c.Labels)).map((c) => c.Names[0]?.replace(/^\//, '') ?? c.Id)
  const networks = (await dockerode.listNetworks({ filters }))
    .filter((n) => orphan(n.Labels)).map((n) => n.Name)
  if (scope !== 'orphans') {
    return { containers, networks, taps: await tapDevices(scope.run), vms: (await qemuProcesses(scope.run)).map((q) => q.pid) }
  }
  // A VM is orphaned when its parent (the test run) is gone; a TAP when no live VM of its run uses it.
  const qemus = await qemuProcesses()
  const live = qemus.filter((q) => alive(q.ppid) && q.ppid !== 1)
  const taps = (await tapDevices()).filter((tap) => !live.some((q) => tapName(q.run) === tap))
  return { containers, networks, taps, vms: qemus.filter((q) => !live.includes(q)).map((q) => q.pid) }
}

export async function removeLeftovers(found: Leftovers): Promise<void> {
  for (const pid of found.vms) process.kill(pid, 'SIGKILL')
  const { dockerode } = (await getContainerRuntimeClient()).container
  await Promise.all(found.containers.map((name) =>
    dockerode.getContainer(name).remove({ force: true, v: true }).catch(() => undefined)))
  for (const tap of found.taps) await execa('ip', ['link', 'delete', tap], { reject: false })
  for (const name of found.networks) await dockerode.getNetwork(name).remove().catch(() => undefined)
}

export function describeLeftovers(found: Leftovers): string {
  const parts = [
    found.containers.length && `containers: ${found.containers.join(', ')}`,
    found.networks.length && `networks: ${found.networks.join(', ')}`,
    found.taps.length && `TAP devices: ${found.taps.join(', ')}`,
    found.vms.length && `QEMU processes: ${found.vms.join(', ')}`,
  ].filter(Boolean)
  return parts.length ? parts.join('; ') : 'nothing'
}

/** Removes everything of this run; safe to call more than once. */
export async function removeRun(run = runId()): Promise<Leftovers> {
  const found = await findLeftovers({ run })
  await removeLeftovers(found)
  return found
}

let installed = false

/** On Ctrl-C or a CI cancel, remove this run's resources before exiting. */
export function removeRunOnSignals(): void {
  if (installed) return
  installed = true
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      say(`\n${signal}: removing this run's lab (run ${runId()}) …`)
      const code = signal === 'SIGINT' ? 130 : 143
      const hardStop = setTimeout(() => process.exit(code), 20_000)
      removeRun().then(
        (found) => say(`removed ${describeLeftovers(found)}`),
        (error) => say(`cleanup failed: ${String(error)}; run \`npm run clean\``),
      ).finally(() => { clearTimeout(hardStop); process.exit(code) })
    })
  }
}

function alive(pid: number): boolean {
  if (!pid) return false
  try { process.kill(pid, 0); return true } catch { return false }
}

/** QEMU processes of the lab: started with `-name lb-e2e-<run>-…`. */
async function qemuProcesses(run?: string): Promise<{ pid: number; ppid: number; run: string }[]> {
  const { stdout } = await execa('pgrep', ['-a', '-f', `qemu-system.*-name ${LABEL}-${run ?? ''}`], { reject: false })
  const found = []
  for (const line of stdout.split('\n').filter(Boolean)) {
    const pid = Number(line.split(' ')[0])
    const name = new RegExp(`-name ${LABEL}-([0-9a-z]+)`).exec(line)?.[1]
    const { stdout: ppid } = await execa('ps', ['-o', 'ppid=', '-p', String(pid)], { reject: false })
    if (name) found.push({ pid, ppid: Number(ppid.trim()), run: name })
  }
  return found
}

/** TAP devices are named `lb-e2e-t<run>` (15 characters at most, so the run id is their tail). */
async function tapDevices(run?: string): Promise<string[]> {
  const { stdout } = await execa('ip', ['-o', 'link', 'show'], { reject: false })
  return [...stdout.matchAll(/^\d+: (lb-e2e-t[0-9a-z]*)[:@]/gm)]
    .map((m) => m[1]!)
    .filter((name) => run === undefined || name === tapName(run))
}

export function tapName(run = runId()): string {
  return `lb-e2e-t${run}`.slice(0, 15)
}
