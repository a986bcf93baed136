/**
 * What a suite may expect of replication, given the configuration under test. Synchronous
 * replication (channelSendOptions without 8) acknowledges every change before the response, so no
 * user may ever see an older state of their session: any stale read fails. Asynchronous replication
 * promises no such thing, so what it costs is measured and reported as a warning with its cause,
 * and fails the gate only past --max-stale-reads (LAB_MAX_STALE_READS).
 */
import { expect } from 'vitest'
import { staleReadAdvice } from './advice.ts'
import { type SessionPage, sessionKey } from './exsession.ts'
import { record } from './figures.ts'
import type { TomcatLab } from './labs/tomcat.ts'
import { gateLimit } from './settings.ts'

/** `stale` of `total` (`what`: "non-sticky requests read an older session than the previous one wrote"); `shown` goes into a failure. */
export function expectNoStaleState(lab: TomcatLab, stale: number, total: number, what: string, shown: string): void {
  const advice = staleReadAdvice(lab.plan, `${stale} of ${total} ${what}`)
  if (!lab.plan.nodes.some((n) => n.asynchronous)) {
    expect(stale, `synchronous replication: no user may see an older state of their session. ${advice}\n${shown}`).toBe(0)
    return
  }
  if (stale) record({ kind: 'finding', severity: 'warning', message: advice })
  const limit = gateLimit('LAB_MAX_STALE_READS')
  if (limit !== undefined) expect(stale, `--max-stale-reads ${limit}: ${advice}\n${shown}`).toBeLessThanOrEqual(limit)
}

/**
 * After a failover the survivor serves the same session: id with the route suffix rewritten
 * (JvmRouteBinderValve), the browser holding it, creation time, the counter one further, the
 * attributes the user wrote. Under asynchronous replication the survivor may hold an older state
 * (a change not yet, or never, replicated): that is measured and reported as above.
 */
export function expectSameSession(lab: TomcatLab, after: SessionPage, before: SessionPage, survivor: string,
  cookie: string | undefined, attributes: Record<string, string>): void {
  const shown = `before: ${JSON.stringify(before)}\nafter: ${JSON.stringify(after)}`
  expect(after.node, shown).toBe(survivor)
  const kept = sessionKey(after.sessionId) === sessionKey(before.sessionId) && !after.isNew && after.creationTime === before.creationTime &&
    after.requestCount === before.requestCount + 1 && Object.entries(attributes).every(([k, v]) => after.attributes[k] === v)
  if (!kept && lab.plan.nodes.some((n) => n.asynchronous)) {
    expectNoStaleState(lab, 1, 1, 'session reached the survivor lost or older than the user last wrote', shown)
    return
  }
  expect(after.sessionId, `same id, route suffix rewritten to ${survivor}\n${shown}`).toBe(`${sessionKey(before.sessionId)}.${survivor}`)
  expect(cookie, 'the browser holds the rewritten JSESSIONID').toBe(after.sessionId)
  expect(after.isNew, shown).toBe(false)
  expect(after.creationTime, shown).toBe(before.creationTime)
  expect(after.requestCount, `the counter continues\n${shown}`).toBe(before.requestCount + 1)
  expect(after.attributes, shown).toMatchObject(attributes)
}
