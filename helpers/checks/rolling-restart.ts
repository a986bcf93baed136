/**
 * A rolling restart as an operator runs it, node by node, each step waited for on a real signal:
 * drain and disable the node's member through httpd's balancer-manager, wait until httpd has no
 * request in flight to it (the page's Busy count), stop it gracefully, start it again (optionally
 * with a new war), wait until it is back in the cluster and holds the users' sessions (DeltaManager
 * state transfer), enable it and wait until httpd reports it usable. `drain: false` is the same
 * restart without the balancer steps: the node stopped under the users' feet, as teams do it.
 */
import path from 'node:path'
import { LabError } from '../errors.ts'
import type { BalancerManager, ManagedBalancer, ManagedWorker } from '../lab/balancer-manager.ts'
import { fetchOnce } from '../lab/http.ts'
import type { TomcatLab } from '../lab/tomcat-lab.ts'
import type { ThroughoutResult } from './load.ts'
import { tally } from './tally.ts'
import { until } from '../wait.ts'

/** How long a drained node's traffic counters must stand still before a Busy count above 0 is taken for drift. */
export const QUIET_MS = 2000

export type RestartStep = 'drain' | 'in-flight' | 'stop' | 'deploy' | 'start' | 'rejoin' | 'sessions' | 'enable' | 'usable'

export interface RollingRestartOptions {
  /** Take each node out of the balancer before it stops and back in after (false: the restart without the drain). */
  drain: boolean
  /** A new version of the webapp, copied onto each node while it is stopped (at the lab's war's name, so it replaces that context). */
  war?: string
  /** Each step as it begins: progress lines, the load's phase. */
  onStep?: (node: string, step: RestartStep) => void
  /** Session ids the restarted node must hold before it takes users again, asked anew on every poll (ids move with their node). */
  sessions?: () => string[]
  /** How long httpd may take to finish the requests in flight to a drained node (default 30 s). */
  inFlightWithinMs?: number
  /** How long an enabled node may take to be reported usable (default 30 s). */
  usableWithinMs?: number
  /** How long the restarted node may take to hold every session (default 30 s). */
  sessionsWithinMs?: number
}

export interface NodeRestart {
  node: string
  /** From the first step (drain, or stop without it) to the node usable in the balancer again (without the drain: back in the cluster). */
  ms: number
  /** When each step began, ms after the node's first step. */
  steps: { step: RestartStep; atMs: number }[]
  /** Requests in flight to the node as httpd counted them when it was drained (or stopped, without the drain): a hint (ManagedWorker.busy). */
  busyAtDrain: number
  /** httpd's Busy count when the drained node was stopped: 0, or a count that stood still with no traffic for QUIET_MS (drifted). */
  busyLeft: number
  /** Sessions found on the restarted node before it took users again; null: not checked (no list, or a Manager that keeps no copy on every node). */
  sessionsHeld: number | null
}

/** Restarts every node of the lab in node order; resolves with what each took. Bounded: every wait has its limit. */
export async function rollingRestart(lab: TomcatLab, options: RollingRestartOptions): Promise<NodeRestart[]> {
  const restarts: NodeRestart[] = []
  for (const route of lab.routes) restarts.push(await restartNode(lab, route, options))
  return restarts
}

/** One node through the steps; a node left drained by a failure half-way is enabled again before the error propagates. */
export async function restartNode(lab: TomcatLab, route: string, options: RollingRestartOptions): Promise<NodeRestart> {
  const node = lab.node(route)
  const manager = lab.balancer.manager
  const started = performance.now()
  const steps: NodeRestart['steps'] = []
  const step = (name: RestartStep) => {
    steps.push({ step: name, atMs: performance.now() - started })
    options.onStep?.(route, name)
  }
  const workers = async () => workersOf(lab, route, await manager.read())
  let drained = false
  try {
    let busyAtDrain = 0
    let busyLeft = 0
    if (options.drain) {
      step('drain')
      // Drain (N) stops new users; disabled (D) sends the node's sticky users to a peer, which holds their sessions.
      for (const { balancer, worker } of await workers()) {
        // The page httpd answers the update with: what was in flight to the node as it was taken out.
        const page = await manager.set(balancer, worker.url, { drain: true, disabled: true })
        drained = true
        busyAtDrain += page.find((b) => b.name === balancer)?.workers.find((w) => w.url === worker.url)?.busy ?? 0
      }
      step('in-flight')
      // Busy 0, or (httpd's count can drift: see ManagedWorker.busy) no byte moving to or from the
      // node for QUIET_MS while Busy stays where it is: nothing is in flight any more.
      let quiet = { since: performance.now(), traffic: '' }
      busyLeft = await until(`httpd finishing the requests in flight to ${route}`, async () => {
        const now = await workers()
        const busy = total(now, 'busy')
        const traffic = JSON.stringify(now.map(({ worker }) => [worker.busy, worker.to, worker.from]))
        if (traffic !== quiet.traffic) quiet = { since: performance.now(), traffic }
        if (busy > 0 && performance.now() - quiet.since < QUIET_MS) throw new Error(`${busy} still in flight`)
        return busy
      }, { timeoutMs: options.inFlightWithinMs ?? 30_000, intervalMs: 50 })
    } else {
      // Without the drain, what is in flight as the node is stopped (what httpd will answer 502).
      busyAtDrain = total(await workers(), 'busy')
    }
    step('stop')
    await node.shutdown()
    if (options.war) {
      step('deploy')
      // Tomcat re-expands a war whose modification time differs from the one it expanded.
      const name = path.basename(lab.plan.war ?? options.war)
      await node.copyFilesToContainer([{ source: options.war, target: `/opt/tomcat/webapps/${name}` }])
    }
    step('start')
    await node.startAgain()
    if (options.war) await untilDeployed(node, path.basename(lab.plan.war ?? options.war, '.war'))
    step('rejoin')
    await lab.untilClustered()
    const sessionsHeld = await holdsSessions(lab, route, options, () => step('sessions'))
    // Without the drain httpd holds the stopped member in error until a request picks it after
    // `retry=`; with every user stuck to a peer none may, so there is nothing to wait for.
    if (options.drain) {
      step('enable')
      for (const { balancer, worker } of await workers()) await manager.set(balancer, worker.url, { drain: false, disabled: false })
      drained = false
      step('usable')
      let probedAt = 0
      await until(`httpd reporting ${route} usable again`, async () => {
        const unusable = (await workers()).filter(({ worker }) => !worker.flags.usable || worker.flags.draining || worker.flags.disabled)
        // A member in error (Err) stays so until a request picks it after `retry=`, and
        // balancer-manager has no flag to clear it; every user is stuck to a peer by now, so one
        // request naming its route (once a second) is what brings it back: seen once in 6 runs.
        const inError = unusable.filter(({ worker }) => worker.flags.error)
        if (inError.length && performance.now() - probedAt > 1000) {
          probedAt = performance.now()
          for (const { worker } of inError) await probeRoute(lab, worker.route)
        }
        if (unusable.length) throw new Error(unusable.map(({ balancer, worker }) => `${balancer} ${worker.url}: ${worker.status}`).join('; '))
      }, { timeoutMs: options.usableWithinMs ?? 30_000, intervalMs: 100 })
    }
    return { node: route, ms: performance.now() - started, steps, busyAtDrain, busyLeft, sessionsHeld }
  } finally {
    if (drained) await enable(manager, await workers().catch(() => []))
  }
}

/** One request through the balancer that its stickiness sends to `route` (a session id or route cookie naming it; not one of the users'). */
async function probeRoute(lab: TomcatLab, route: string): Promise<void> {
  const { stickiness } = lab.plan.balancerPlan
  const name = stickiness.by === 'none' ? undefined : stickiness.names[0]
  if (!name || !route) return
  const value = stickiness.by === 'route-cookie' ? `.${route}` : `lb-e2e-probe.${route}`
  await fetchOnce(`${lab.balancerUrl}${lab.plan.exSessionPath}/`, { headers: { cookie: `${name}=${value}` }, timeoutMs: 5_000 }).catch(() => undefined)
}

/** The node's workers in every balancer of the page (one per balancer that lists it). */
export function workersOf(lab: Pick<TomcatLab, 'isWorkerOf'>, route: string, page: ManagedBalancer[]): { balancer: string; worker: ManagedWorker }[] {
  const found = page.flatMap((b) => b.workers
    .filter((w) => lab.isWorkerOf({ name: w.url, route: w.route, status: w.status, elected: w.elected }, route))
    .map((worker) => ({ balancer: b.name, worker })))
  if (!found.length) {
    const listed = page.flatMap((b) => b.workers.map((w) => `${b.name} ${w.url}`)).join(', ') || 'none'
    throw new LabError(`balancer-manager lists no worker of ${route} (workers: ${listed})`)
  }
  return found
}

function total(workers: { worker: ManagedWorker }[], field: 'busy'): number {
  return workers.reduce((n, { worker }) => n + worker[field], 0)
}

/**
 * Waits until the restarted node holds a copy of every session in `options.sessions` (read
 * without touching them): only under a Manager that replicates every session to every node
 * (DeltaManager); under BackupManager a node holds only what it backs up, so there is nothing to
 * wait for. Returns how many it holds, or null when not checked.
 */
async function holdsSessions(lab: TomcatLab, route: string, options: RollingRestartOptions, begin: () => void): Promise<number | null> {
  if (!options.sessions) return null
  const node = lab.node(route)
  if (!(await node.cluster()).manager?.includes('DeltaManager')) return null
  begin()
  return until(`${route} holding every user's session after rejoining`, async () => {
    const ids = options.sessions!()
    const copies = await Promise.all(ids.map((id) => node.sessionCopy(id)))
    const missing = ids.filter((_, i) => copies[i] === null)
    if (missing.length) throw new Error(`${missing.length} of ${ids.length} missing, e.g. ${missing.slice(0, 3).join(', ')}`)
    return ids.length
  }, { timeoutMs: options.sessionsWithinMs ?? 30_000, intervalMs: 250 })
}

/** The new war's context answers (anything but 404): Tomcat deployed it, not only ExSession. */
async function untilDeployed(node: { route: string; url: string }, context: string): Promise<void> {
  await until(`${node.route} serving /${context}/ (the new war) after the restart`, async () => {
    const reply = await fetchOnce(`${node.url}/${context}/`, { timeoutMs: 5000 })
    if (reply.status === 404) throw new Error(`/${context}/ answered 404: Tomcat has not deployed it (docker logs of the node)`)
  }, { timeoutMs: 60_000, intervalMs: 250 })
}

async function enable(manager: BalancerManager, workers: { balancer: string; worker: ManagedWorker }[]): Promise<void> {
  for (const { balancer, worker } of workers) await manager.set(balancer, worker.url, { drain: false, disabled: false }).catch(() => undefined)
}

/** What a rolling restart under load came to, for a person: each node's steps, then every failure and lost session with when and where. */
export function describeRollingRestart(result: ThroughoutResult<NodeRestart[]>, shown = 10): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const nodes = result.work.map((r) => `  ${r.node}: ${s(r.ms)} (${r.steps.map((x) => `${x.step} +${s(x.atMs)}`).join(', ')}); ` +
    `${r.busyAtDrain} in flight when taken out${r.busyLeft ? ` (httpd still counted ${r.busyLeft} busy after ${QUIET_MS / 1000} s without traffic)` : ''}; sessions held on rejoining: ${r.sessionsHeld ?? 'not checked'}`)
  const failed = result.events.filter((e) => e.error)
  const byPhase = Object.entries(tally(failed.map((e) => e.phase ?? '?'))).map(([p, n]) => `${n} while ${p}`).join(', ')
  const lines = [
    `${result.users} users, ${result.sent} requests, ${result.failed} failed, ${result.lost} sessions lost, ${result.mixedUp} mixed up`,
    'nodes:', ...nodes,
  ]
  if (failed.length) {
    lines.push(`failed requests (${byPhase}):`,
      ...Object.entries(result.failures).map(([m, n]) => `  ${n} × ${m}`),
      `first ${Math.min(shown, failed.length)}:`,
      ...failed.toSorted((a, b) => a.t - b.t).slice(0, shown).map((e) => `  ${s(e.t)} (answered +${s(e.latencyMs)}) user ${e.user} (started on ${result.outcomes[e.user]?.node}), sent while ${e.phase}: ${e.error}`))
  }
  const lost = result.outcomes.filter((o) => o.lost)
  if (lost.length) lines.push(`lost sessions (first ${Math.min(shown, lost.length)}):`, ...lost.slice(0, shown).map((o) => `  user ${o.user} (started on ${o.node}): ${o.lost}`))
  return lines.join('\n')
}
