/**
 * What a suite may expect of replication, given the configuration under test. Synchronous
 * replication (channelSendOptions without 8) acknowledges every change before the response, so no
 * user may ever see an older state of their session: any stale read fails. Asynchronous replication
 * promises no such thing, so what it costs is measured and reported as a warning with its cause,
 * and fails the gate only past --max-stale-reads (LAB_MAX_STALE_READS).
 */
import { expect } from 'vitest'
import { staleReadAdvice } from './advice.ts'
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
