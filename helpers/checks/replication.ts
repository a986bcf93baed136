/**
 * One rule for what a failover may cost, for every suite. Losing the session is always a failure:
 * another id, a new session, another creation time, no page from a survivor, or a browser cookie
 * that does not name the survivor's copy. What asynchronous replication (channelSendOptions with
 * 8) may lose is only the latest writes, inside its replication window: the time from a write's
 * response until the peers hold it, measured on the lab (`replicationWindow`). So a failover is
 * judged by how old the missing state was: state that had been quiet for longer than the window
 * must come back whole in every configuration; a write younger than that may be missing under
 * asynchronous replication (counted, reported with its cause and fix, failing past
 * --max-stale-reads), never under synchronous replication, which acknowledges before it answers.
 */
import { expect } from 'vitest'
import { staleReadAdvice } from './advice.ts'
import { type SessionPage, routeOf, sessionKey } from '../lab/exsession.ts'
import { record } from '../report/figures.ts'
import type { TomcatLab } from '../lab/tomcat-lab.ts'
import type { StartedTomcatNode } from '../lab/tomcat-node.ts'

/** How long a write takes to reach the other nodes, as measured on one lab. */
export interface ReplicationWindow {
  /** The longest measured time from a write's response until every other node held it. */
  maxLagMs: number
  /** A write younger than this at the failure may be missing under asynchronous replication. */
  ms: number
  lagsMs: number[]
  /** Probe writes the other nodes still did not hold after `giveUpMs`: lost, not late. */
  neverArrived: number
  probes: number
  giveUpMs: number
}

/** The window the verdict uses: twice the longest lag measured, at least 250 ms (a loaded machine stretches it). */
export function windowFromLags(lagsMs: number[], neverArrived: number, giveUpMs: number): ReplicationWindow {
  const maxLagMs = lagsMs.length ? Math.max(...lagsMs) : giveUpMs
  return { maxLagMs, ms: Math.max(2 * maxLagMs, 250), lagsMs, neverArrived, probes: lagsMs.length + neverArrived, giveUpMs }
}

export function describeWindow(w: ReplicationWindow): string {
  const lost = w.neverArrived ? `; ${w.neverArrived} of ${w.probes} probe writes never reached the other node within ${w.giveUpMs / 1000} s` : ''
  return `replication window ${w.ms.toFixed(0)} ms (longest of ${w.probes - w.neverArrived} probe writes: ${w.maxLagMs.toFixed(0)} ms${lost})`
}

const windows = new WeakMap<TomcatLab, Promise<ReplicationWindow>>()
const PROBES = 10
const WARMUP = 2
const GIVE_UP_MS = 3000

/**
 * The lab's replication window, measured once per lab: probe users write an attribute (half in
 * the request that creates the session, half in a later one) and every other node's copy of the
 * session (read without touching it) is polled until it holds the value.
 */
export function replicationWindow(lab: TomcatLab): Promise<ReplicationWindow> {
  let measured = windows.get(lab)
  if (!measured) {
    measured = measureWindow(lab)
    windows.set(lab, measured)
    measured.catch(() => windows.delete(lab))
  }
  return measured
}

async function measureWindow(lab: TomcatLab): Promise<ReplicationWindow> {
  // Without <Cluster> nothing replicates: no window to measure, and every failover loses the session.
  if (!lab.plan.nodes.some((n) => n.clustered)) return windowFromLags([0], 0, GIVE_UP_MS)
  const lags: number[] = []
  let neverArrived = 0
  for (let i = 0; i < WARMUP + PROBES; i++) {
    const user = lab.user()
    const value = `probe-${i}`
    const inCreatingRequest = i % 2 === 0
    const first = await user.visit(inCreatingRequest ? { name: 'probe', value } : undefined)
    const page = inCreatingRequest ? first : await user.visit({ name: 'probe', value })
    const written = performance.now()
    const lag = await lagUntilHeld(await keepersOf(lab, page.node, page.sessionId), page.sessionId, value, written)
    if (i < WARMUP) continue // the first writes of a cold JVM are slower than any later one
    if (lag === undefined) neverArrived++
    else lags.push(lag)
  }
  const window = windowFromLags(lags, neverArrived, GIVE_UP_MS)
  record({ kind: 'measure', name: `${lab.options.topology}: replication window (longest probe lag)`, value: window.maxLagMs, unit: 'ms' })
  return window
}

/**
 * The nodes that must hold a copy of session `id`, made on `node`: under BackupManager the backups
 * its primary names (the others only know where it lives), else every other node. A primary
 * naming no backup keeps every other node: the probe then shows its writes never arriving.
 */
async function keepersOf(lab: TomcatLab, node: string, id: string): Promise<StartedTomcatNode[]> {
  const others = lab.others(node)
  const own = await lab.node(node).sessionRole(id)
  if (own.role !== 'primary' || !own.backups.length) return others
  const locals = await Promise.all(others.map(async (n) => (await n.cluster()).localMember))
  return others.filter((_, i) => own.backups.includes(locals[i] ?? ''))
}

/** ms from `start` (the write's response) until every node holds `probe=value` in its copy of session `id`; undefined after GIVE_UP_MS. */
async function lagUntilHeld(nodes: StartedTomcatNode[], id: string, value: string, start: number): Promise<number | undefined> {
  const pending = new Set(nodes)
  // Bounded by time; each round is one request per node still missing the write.
  while (pending.size && performance.now() - start < GIVE_UP_MS) {
    for (const node of [...pending]) if ((await node.sessionCopy(id))?.attributes.probe === value) pending.delete(node)
  }
  return pending.size ? undefined : performance.now() - start
}


/** One user across a failover: what they last saw and wrote before it, and their first page after it. */
export interface FailoverCase {
  user: string
  /** The user's last page before the disruption (its request wrote the counter, and `recent` if set). */
  before: SessionPage
  /** performance.now() when `before` came back: the age of the user's last write. */
  lastWriteAt: number
  /** Attributes the user wrote, all of them; the last one may be `recent`. */
  attributes: Record<string, string>
  /** The attribute written by the request of `before`, when that request wrote one. */
  recent?: string
  /** The first page a survivor served; undefined when none came. */
  after?: SessionPage
  /** The JSESSIONID the browser holds after `after`. */
  cookie?: string
  /** A balancer sticking by its own route cookie: the value the browser holds after `after`, and the survivor's. */
  routeCookie?: { name: string; value?: string; expected: string }
  /** Why no page came, or the failed attempts before it. */
  failures: string[]
}

export interface FailoverVerdict {
  disruptedAt: number
  window: ReplicationWindow
  /** The session itself lost: always a failure. */
  lost: { c: FailoverCase; why: string }[]
  /** State older than the window missing: always a failure. */
  staleSettled: { c: FailoverCase; why: string }[]
  /** A write younger than the window missing: counted (asynchronous), a failure (synchronous). */
  staleRecent: { c: FailoverCase; why: string }[]
  whole: FailoverCase[]
}

/** Judges each case by the rule above (pure, so the rule itself is unit-tested). */
export function judgeFailover(cases: FailoverCase[], disruptedAt: number, window: ReplicationWindow, survivors: string[]): FailoverVerdict {
  const verdict: FailoverVerdict = { disruptedAt, window, lost: [], staleSettled: [], staleRecent: [], whole: [] }
  for (const c of cases) {
    const lost = sessionLost(c, survivors)
    if (lost) { verdict.lost.push({ c, why: lost }); continue }
    const after = c.after!
    const young = disruptedAt - c.lastWriteAt < window.ms
    const missing = Object.entries(c.attributes).filter(([k, v]) => after.attributes[k] !== v).map(([k]) => k)
    const settledMissing = missing.filter((k) => !(young && k === c.recent))
    // Behind, not merely different: a request the user gave up on (a timed-out attempt) or one the
    // balancer sent again after its member died mid-request may still have been counted, so the
    // counter can come back ahead with nothing lost (seen in a DNS matrix row: 6 after 4).
    const counterBehind = after.requestCount < c.before.requestCount + 1
    if (settledMissing.length || (counterBehind && !young)) {
      const parts = [...settledMissing.map((k) => `${k}=${JSON.stringify(c.attributes[k])} came back as ${JSON.stringify(after.attributes[k] ?? null)}`),
        ...(counterBehind ? [`the counter came back as ${after.requestCount}, not ${c.before.requestCount + 1}`] : [])]
      verdict.staleSettled.push({ c, why: `${parts.join('; ')} (last write ${age(disruptedAt, c)} before the failure)` })
    } else if (missing.length || counterBehind) {
      verdict.staleRecent.push({ c, why: `its last write, ${age(disruptedAt, c)} before the failure, is missing (${missing.length ? missing.join(', ') : `counter ${after.requestCount}`})` })
    } else verdict.whole.push(c)
  }
  return verdict
}

function age(disruptedAt: number, c: FailoverCase): string {
  return `${Math.max(0, disruptedAt - c.lastWriteAt).toFixed(0)} ms`
}

/** Why the user's session is gone, or undefined when the survivor serves the same one. */
export function sessionLost(c: FailoverCase, survivors: string[]): string | undefined {
  const { before, after } = c
  if (!after) return `no page from a survivor (${c.failures.slice(-3).join(' | ') || 'no attempt'})`
  if (!survivors.includes(after.node)) return `served by ${after.node}, not by a survivor (${survivors.join(', ')})`
  if (sessionKey(after.sessionId) !== sessionKey(before.sessionId)) return `another session: ${after.sessionId} instead of ${before.sessionId}`
  if (after.isNew) return 'a new session (isNew)'
  if (after.creationTime !== before.creationTime) return `another creation time: ${after.creationTime} instead of ${before.creationTime}`
  // JvmRouteBinderValve rewrites a routed id's suffix to the survivor's jvmRoute.
  const expected = routeOf(before.sessionId) === before.node ? `${sessionKey(before.sessionId)}.${after.node}` : before.sessionId
  if (after.sessionId !== expected) return `the id is ${after.sessionId}, not ${expected}: its route still names ${routeOf(after.sessionId)}, so the balancer keeps aiming the user at that node`
  if (c.cookie !== after.sessionId) return `the browser's cookie is ${c.cookie ?? 'absent'}, not the survivor's copy ${after.sessionId}`
  // The balancer re-issues its route cookie for the member it chose (BALANCER_ROUTE_CHANGED).
  const rc = c.routeCookie
  if (rc && rc.value !== rc.expected) return `the browser's ${rc.name} cookie is ${rc.value ?? 'absent'}, not ${rc.expected} (${after.node}'s member): the balancer keeps aiming the user at the node that is gone`
  return undefined
}

const asynchronous = (lab: TomcatLab) => lab.plan.nodes.some((n) => n.asynchronous)

/**
 * The verdict as assertions: lost sessions and lost settled state fail in every configuration;
 * missing recent writes fail under synchronous replication and count under asynchronous.
 */
export function expectSessionsSurvived(lab: TomcatLab, verdict: FailoverVerdict, what: string): void {
  const total = verdict.lost.length + verdict.staleSettled.length + verdict.staleRecent.length + verdict.whole.length
  const list = (items: { c: FailoverCase; why: string }[]) => items.slice(0, 5).map(({ c, why }) =>
    `  ${c.user}: ${why}\n    before: ${JSON.stringify(c.before)}\n    after:  ${c.after ? JSON.stringify(c.after) : '—'}` +
    (c.failures.length ? `\n    failed attempts before it: ${c.failures.length} (last: ${c.failures.at(-1)})` : '')).join('\n') +
    (items.length > 5 ? `\n  … and ${items.length - 5} more` : '')
  const cause = asynchronous(lab) ? ` ${staleReadAdvice(lab.plan, 'lost state')}` : ''
  const window = describeWindow(verdict.window)
  record({ kind: 'measure', name: `${what}: sessions whole / lost / settled state missing / recent write missing`, value: verdict.whole.length, unit: `of ${total} whole, ${verdict.lost.length} lost, ${verdict.staleSettled.length} settled-stale, ${verdict.staleRecent.length} recent-stale` })
  expect(verdict.lost.length, `${what}: ${verdict.lost.length} of ${total} users lost their session.\n${list(verdict.lost)}`).toBe(0)
  expect(verdict.staleSettled.length, `${what}: ${verdict.staleSettled.length} of ${total} users came back without state older than the ${window}: ` +
    `that state had settled and must survive in every configuration.${cause}\n${list(verdict.staleSettled)}`).toBe(0)
  expectNoStaleState(lab, verdict.staleRecent.length, total, `users' writes younger than the ${window} were missing after ${what}`, list(verdict.staleRecent))
}

/**
 * Writes younger than the replication window that a user did not see again: `stale` of `total`.
 * Synchronous replication acknowledges every change before the response, so any is a failure;
 * under asynchronous replication they are the price of the window: a warning with its cause and
 * fix, a failure past --max-stale-reads (LAB_MAX_STALE_READS).
 */
export function expectNoStaleState(lab: TomcatLab, stale: number, total: number, what: string, shown: string): void {
  const advice = staleReadAdvice(lab.plan, `${stale} of ${total} ${what}`)
  if (!asynchronous(lab)) {
    expect(stale, `synchronous replication: no user may see an older state of their session. ${advice}\n${shown}`).toBe(0)
    return
  }
  if (stale) record({ kind: 'finding', severity: 'warning', message: advice })
  const limit = lab.plan.limits.staleReads
  if (limit !== undefined) expect(stale, `--max-stale-reads ${limit}: ${advice}\n${shown}`).toBeLessThanOrEqual(limit)
}
