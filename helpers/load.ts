/**
 * Load during failover: many simulated users, each with a cookie jar and an attribute of their
 * own, issuing requests continuously through the balancer while one node is stopped or killed.
 * Bounded in time and in requests; reports what was sent, what failed and what was lost.
 */
import { type ExSessionUser, sessionKey } from './exsession.ts'
import type { TomcatLab } from './labs/tomcat.ts'

export interface LoadEvent {
  /** ms since the load started */
  t: number
  user: number
  node: string | null
  status: number | null
  latencyMs: number
  error?: string
}

export interface LoadResult {
  users: number
  /** The node taken down, and how many users were stuck to it. */
  victim: string
  usersOnVictim: number
  sent: number
  failed: number
  /** Users whose session changed (new id or missing attribute) after the disruption. */
  lost: number
  /** Users who saw another user's data. */
  mixedUp: number
  disruptionAt: number
  /** The distinct failure messages with their counts: the explanation of `failed`. */
  failures: Record<string, number>
  events: LoadEvent[]
}

export interface LoadOptions {
  users?: number
  /** How long the load runs in all. */
  durationMs?: number
  /** When the node is stopped or killed, from the start of the load. */
  disruptAfterMs?: number
  how: 'stop' | 'kill'
  /** The node to take down (default: the one most users are stuck to). */
  victim?: string
  /** A hard cap on requests, whatever the timing. */
  maxRequests?: number
}

export async function loadDuringFailover(lab: TomcatLab, options: LoadOptions): Promise<LoadResult> {
  const users = options.users ?? 50
  const durationMs = options.durationMs ?? 12_000
  const disruptAfterMs = options.disruptAfterMs ?? 3_000
  const maxRequests = options.maxRequests ?? 20_000
  const people: { user: ExSessionUser; key: string; value: string; node: string }[] = []
  for (let i = 0; i < users; i++) {
    const user = lab.user()
    const value = `user-${i}`
    const first = await user.visit({ name: 'owner', value })
    people.push({ user, key: sessionKey(first.sessionId), value, node: first.node })
  }
  // byrequests remembers earlier traffic, so users may not split evenly: take down the busier node.
  const [a, b] = lab.routes as [string, string]
  const onA = people.filter((p) => p.node === a).length
  const victim = lab.node(options.victim ?? (onA >= users - onA ? a : b))

  const events: LoadEvent[] = []
  const lost = new Set<number>()
  const mixed = new Set<number>()
  const started = performance.now()
  const elapsed = () => performance.now() - started
  let sent = 0
  const disruption = (async () => {
    await new Promise((resolve) => setTimeout(resolve, disruptAfterMs)) // the load's own schedule, not a readiness wait
    if (options.how === 'stop') await victim.shutdown()
    else await victim.kill()
  })()

  await Promise.all(people.map(async ({ user, key, value }, index) => {
    while (elapsed() < durationMs && sent < maxRequests) {
      sent++
      const t = elapsed()
      try {
        const page = await user.visit(undefined, 10_000)
        events.push({ t, user: index, node: page.node, status: page.status, latencyMs: elapsed() - t })
        if (sessionKey(page.sessionId) !== key) lost.add(index)
        if (page.attributes.owner === undefined) lost.add(index)
        else if (page.attributes.owner !== value) mixed.add(index)
      } catch (error) {
        const message = (error as Error).message
        events.push({ t, user: index, node: null, status: Number(/answered (\d+)/.exec(message)?.[1]) || null, latencyMs: elapsed() - t, error: message.slice(0, 100) })
      }
    }
  }))
  await disruption

  const failures: Record<string, number> = {}
  for (const e of events) if (e.error) failures[e.error] = (failures[e.error] ?? 0) + 1
  return {
    users, victim: victim.route, usersOnVictim: people.filter((p) => p.node === victim.route).length,
    sent, failed: events.filter((e) => e.error).length, lost: lost.size, mixedUp: mixed.size,
    disruptionAt: disruptAfterMs, failures, events,
  }
}
