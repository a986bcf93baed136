/**
 * Load during failover: many simulated users, each with a cookie jar and an attribute of their
 * own, issuing requests continuously through the balancer while one node is stopped or killed.
 * Bounded in time and in requests; reports, user by user, what failed, when their session was
 * back and whether it was whole.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { type ExSessionUser, sessionKey } from '../lab/exsession.ts'
import type { TomcatLab } from '../lab/tomcat-lab.ts'
import { tally } from './tally.ts'
import { outcome, settle } from '../wait.ts'

export interface LoadEvent {
  /** ms since the load started */
  t: number
  user: number
  node: string | null
  status: number | null
  latencyMs: number
  error?: string
}

/** What one user lived through: every request's outcome, judged against their own session. */
export interface UserOutcome {
  user: number
  node: string
  /**
   * Failed requests (errors, non-200) that were not in flight while the node went down: sent
   * before the disruption, or after the node was gone (its stop or kill returned). None may fail.
   */
  failedOutside: number
  /** Failed requests sent while the node was going down (from the disruption to its stop or kill returning): in flight during it. */
  failedWhileGoing: number
  /** ms from the disruption to this user's first page after it that showed their own session; null: never. */
  recoveredAfterMs: number | null
  /** Why the session is gone (another id, new, the attribute missing), when it is. */
  lost?: string
  /** Another user's data in this user's session. */
  mixedUp: boolean
}

export interface LoadResult {
  users: number
  /** The node taken down, and how many users were stuck to it. */
  victim: string
  usersOnVictim: number
  sent: number
  failed: number
  outcomes: UserOutcome[]
  disruptionAt: number
  /** When the stop or kill returned (ms since the load started): from then on the node is gone. */
  goneAt: number
  /** The distinct failure messages with their counts: the explanation of `failed`. */
  failures: Record<string, number>
  events: LoadEvent[]
}

export interface LoadOptions {
  users?: number
  /** When the node is stopped or killed, from the start of the load. */
  disruptAfterMs?: number
  /** How long each user keeps trying to get their session back after the disruption. */
  recoverWithinMs?: number
  /** Requests a user keeps sending after recovering, to show the session stays whole. */
  afterRecovery?: number
  /** One request's timeout: the one in flight when the node dies fails after this. */
  requestTimeoutMs?: number
  how: 'stop' | 'kill'
  /** The node to take down (default: the one most users are stuck to). */
  victim?: string
  /** A hard cap on requests, whatever the timing. */
  maxRequests?: number
}

/**
 * Each user clicks until the disruption, then on until they have their own session back and a
 * few more pages, or until `recoverWithinMs` has passed: every user ends with an outcome, so one
 * who never recovers is counted, not dropped.
 */
export async function loadDuringFailover(lab: TomcatLab, options: LoadOptions): Promise<LoadResult> {
  const users = options.users ?? 50
  const disruptAfterMs = options.disruptAfterMs ?? 3_000
  const recoverWithinMs = options.recoverWithinMs ?? 30_000
  const afterRecovery = options.afterRecovery ?? 5
  // Longer than the survivor's wait for a dead peer under synchronous replication (~5 s), so a slow answer is not counted as a failure.
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const maxRequests = options.maxRequests ?? 20_000
  const people: { user: ExSessionUser; key: string; value: string; node: string }[] = []
  for (let i = 0; i < users; i++) {
    const user = lab.user()
    const value = `user-${i}`
    const first = await user.visit({ name: 'owner', value })
    people.push({ user, key: sessionKey(first.sessionId), value, node: first.node })
  }
  const counts = tally(people.map((p) => p.node))
  const victim = lab.node(options.victim ?? Object.entries(counts).sort((a, b) => b[1] - a[1])[0]![0])

  const events: LoadEvent[] = []
  const started = performance.now()
  const elapsed = () => performance.now() - started
  let sent = 0
  let goneAt = Number.POSITIVE_INFINITY
  // Settled at once, so its failure is never an unhandled rejection while the users run.
  const disruption = settle((async () => {
    await delay(disruptAfterMs) // the load's own schedule, not a readiness wait
    if (options.how === 'stop') await victim.shutdown()
    else await victim.kill()
    goneAt = elapsed()
  })())

  const outcomes = await Promise.all(people.map(async ({ user, key, value, node }, index): Promise<UserOutcome> => {
    const outcome: UserOutcome = { user: index, node, failedOutside: 0, failedWhileGoing: 0, recoveredAfterMs: null, mixedUp: false }
    let pagesAfterRecovery = 0
    const done = () => elapsed() > disruptAfterMs + recoverWithinMs || pagesAfterRecovery >= afterRecovery || sent >= maxRequests
    while (!done()) {
      sent++
      const t = elapsed()
      try {
        const page = await user.visit(undefined, requestTimeoutMs)
        events.push({ t, user: index, node: page.node, status: page.status, latencyMs: elapsed() - t })
        if (page.attributes.owner !== undefined && page.attributes.owner !== value) outcome.mixedUp = true
        const gone = sessionKey(page.sessionId) !== key ? `another session ${page.sessionId}` : page.attributes.owner === undefined ? 'its owner attribute is missing' : undefined
        if (gone) outcome.lost ??= `${gone} (served by ${page.node} at ${(t / 1000).toFixed(1)} s)`
        if (t >= disruptAfterMs) {
          if (!gone && outcome.recoveredAfterMs === null) outcome.recoveredAfterMs = elapsed() - disruptAfterMs
          if (outcome.recoveredAfterMs !== null) pagesAfterRecovery++
        }
      } catch (error) {
        const message = (error as Error).message
        events.push({ t, user: index, node: null, status: Number(/answered (\d+)/.exec(message)?.[1]) || null, latencyMs: elapsed() - t, error: message.slice(0, 100) })
        // A request sent before the node was gone was in flight while it went down (a dying JVM can
        // still accept a connection and reset it); one sent after must not fail.
        if (t >= goneAt || t + requestTimeoutMs < disruptAfterMs) outcome.failedOutside++
        else outcome.failedWhileGoing++
      }
    }
    return outcome
  }))
  outcome(await disruption)

  const failures: Record<string, number> = {}
  for (const e of events) if (e.error) failures[e.error] = (failures[e.error] ?? 0) + 1
  return {
    users, victim: victim.route, usersOnVictim: counts[victim.route] ?? 0,
    sent, failed: events.filter((e) => e.error).length, outcomes,
    disruptionAt: disruptAfterMs, goneAt, failures, events,
  }
}
