/**
 * Load during failover: many simulated users, each with a cookie jar and an attribute of their
 * own, issuing requests continuously through the balancer while one node is stopped or killed
 * (loadDuringFailover), or while an operation runs from start to end (loadThroughout: a rolling
 * restart). Bounded in time and in requests; reports, user by user, what failed, when their
 * session was back and whether it was whole.
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
  /** What the operation under way was doing when the request was sent (loadThroughout's `mark`). */
  phase?: string
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
  const people = await seatUsers(lab, users)
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

/** A user of the load: their session (its key, without the route suffix) and the owner attribute they wrote into it. */
interface Seated { user: ExSessionUser; key: string; value: string; node: string; sessionId: string }

/** `users` users, one after the other, each with a session of their own holding `owner=user-N`. */
async function seatUsers(lab: Pick<TomcatLab, 'user'>, users: number): Promise<Seated[]> {
  const people: Seated[] = []
  for (let i = 0; i < users; i++) {
    const user = lab.user()
    const value = `user-${i}`
    const first = await user.visit({ name: 'owner', value })
    people.push({ user, key: sessionKey(first.sessionId), value, node: first.node, sessionId: first.sessionId })
  }
  return people
}

/** What an operation run under loadThroughout can see of the load while it runs. */
export interface RunningLoad {
  /** Every user's session id as last served (its route suffix says which node holds it now). */
  sessionIds(): string[]
  /** Tags the requests sent from now on with what the operation is doing (`node01: stopping`). */
  mark(phase: string): void
  /** ms since the users started clicking. */
  elapsed(): number
}

/** One user through the whole operation: every request counted, failures and session included. */
export interface ThroughoutOutcome {
  user: number
  /** The node the user started on. */
  node: string
  sent: number
  failed: number
  /** Why the session is gone (another id, the owner attribute missing), at its first sight. */
  lost?: string
  /** Another user's data in this user's session. */
  mixedUp: boolean
}

export interface ThroughoutResult<T> {
  users: number
  sent: number
  /** Every request that failed (an error or a non-200 answer), of all `sent`. */
  failed: number
  /** Users whose session was lost at any point. */
  lost: number
  mixedUp: number
  outcomes: ThroughoutOutcome[]
  /** The distinct failure messages with their counts. */
  failures: Record<string, number>
  events: LoadEvent[]
  /** What the operation returned. */
  work: T
  /** When the operation began (every user had clicked once) and ended, ms since the users started clicking. */
  workStartedAt: number
  workEndedAt: number
  /** The request cap stopped the users before the operation ended: what it did later went unobserved. */
  truncated: boolean
}

export interface ThroughoutOptions {
  users?: number
  /** Pages each user still clicks after the operation ended: the session must hold there too. */
  afterWork?: number
  /** One request's timeout. */
  requestTimeoutMs?: number
  /** A hard cap on requests, whatever the timing. */
  maxRequests?: number
}

/**
 * Users click, every one without pause, from before `work` starts (it starts once each has had a
 * page answered: all are clicking) until it has ended and each has clicked `afterWork` more pages;
 * every request is counted, the failed ones with the phase the operation had marked when they
 * were sent. When `work` fails, the users stop and its error is thrown.
 */
export async function loadThroughout<T>(lab: Pick<TomcatLab, 'user'>, work: (load: RunningLoad) => Promise<T>, options: ThroughoutOptions = {}): Promise<ThroughoutResult<T>> {
  const users = options.users ?? 50
  const afterWork = options.afterWork ?? 3
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000
  const maxRequests = options.maxRequests ?? 200_000
  const people = await seatUsers(lab, users)
  const events: LoadEvent[] = []
  const started = performance.now()
  const elapsed = () => performance.now() - started
  let phase = 'before'
  let sent = 0
  let workStartedAt = Number.NaN
  let workEndedAt = Number.POSITIVE_INFINITY
  let truncated = false
  const running: RunningLoad = { sessionIds: () => people.map((p) => p.sessionId), mark: (p) => { phase = p }, elapsed }
  // Each user arrives once: after their first answer in the loop (or when they stop before one).
  const { promise: warm, resolve: allArrived } = Promise.withResolvers<void>()
  let arrived = 0
  const arrive = () => { if (++arrived === users) allArrived() }
  // Settled at once: the users run on while it does, and its failure is thrown once they stopped.
  const done = settle(warm.then(() => { workStartedAt = elapsed(); return work(running) }).finally(() => { workEndedAt = elapsed(); phase = 'after' }))

  const outcomes = await Promise.all(people.map(async (person, index): Promise<ThroughoutOutcome> => {
    const o: ThroughoutOutcome = { user: index, node: person.node, sent: 0, failed: 0, mixedUp: false }
    let after = 0
    let first = true
    while (after < afterWork && sent < maxRequests) {
      if (elapsed() > workEndedAt) after++
      sent++
      o.sent++
      const t = elapsed()
      const tag = phase
      try {
        const page = await person.user.visit(undefined, requestTimeoutMs)
        events.push({ t, user: index, node: page.node, status: page.status, latencyMs: elapsed() - t, phase: tag })
        person.sessionId = page.sessionId
        if (page.attributes.owner !== undefined && page.attributes.owner !== person.value) o.mixedUp = true
        const gone = sessionKey(page.sessionId) !== person.key ? `another session ${page.sessionId}` : page.attributes.owner === undefined ? 'its owner attribute is missing' : undefined
        if (gone) o.lost ??= `${gone} (served by ${page.node} at ${(t / 1000).toFixed(1)} s, ${tag})`
      } catch (error) {
        const message = (error as Error).message
        events.push({ t, user: index, node: null, status: Number(/answered (\d+)/.exec(message)?.[1]) || null, latencyMs: elapsed() - t, error: message.slice(0, 100), phase: tag })
        o.failed++
      }
      if (first) { first = false; arrive() }
    }
    if (first) arrive()
    if (sent >= maxRequests && !(elapsed() > workEndedAt)) truncated = true
    return o
  }))
  const result = outcome(await done)

  const failures: Record<string, number> = {}
  for (const e of events) if (e.error) failures[e.error] = (failures[e.error] ?? 0) + 1
  return {
    users, sent, failed: events.filter((e) => e.error).length,
    lost: outcomes.filter((o) => o.lost).length, mixedUp: outcomes.filter((o) => o.mixedUp).length,
    outcomes, failures, events, work: result, workStartedAt, workEndedAt, truncated,
  }
}
