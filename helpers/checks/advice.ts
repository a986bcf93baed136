/**
 * Why a measurement came out as it did, read from the configuration under test, and the fix: the
 * words of a finding. A slow failover or a stale read is a property of the files, so the gate says
 * which line causes it rather than only that it happened.
 */
import type { TomcatLabPlan } from '../lab/tomcat-lab.ts'
import { displayPath } from '../settings.ts'

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The reason for a failover gap of `gapMs` after a `how` of the sticky node, and what to change. */
export function failoverAdvice(plan: TomcatLabPlan, how: 'stop' | 'kill', gapMs: number): string {
  const members = plan.balancerPlan.members
  const untimed = members.filter((m) => m.params.connectiontimeout === undefined)
  const lead = `${plan.topology}: ${s(gapMs)} to fail over after a ${how} of the sticky node`
  if (untimed.length && plan.topology === 'multi-host') {
    return `${lead}. Cause: no connectiontimeout on BalancerMember (${untimed.map((m) => displayPath(plan.balancer, m.line)).join(', ')}), ` +
      'so each request to the vanished node waits for the TCP connect timeout. Fix: connectiontimeout=1 (measured ~1 s).'
  }
  if (how === 'kill' && plan.nodes.some((n) => !n.asynchronous)) {
    return `${lead}. Cause: synchronous replication (channelSendOptions without 8): the survivor waits for the dead peer ` +
      '(~5 s, until membership drops it) before answering. Fix: <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="100"/> ' +
      'right before a TcpFailureDetector with connectTimeout="250" drops a crashed peer before the balancer sends its users over (measured on separate hosts after a SIGKILL: ' +
      'p95 7.32 s without, 1.31 s with, nothing lost; scripts/bench-parts/knobs.ts, fixtures/tomcat/server.xml). "8" (asynchronous) avoids the wait too but lets non-sticky users read stale sessions.'
  }
  return `${lead}.`
}

/**
 * The reason users saw an older state of their session than they last wrote (`what`: e.g. "of 9
 * non-sticky requests read …"), when the configuration explains it.
 */
export function staleReadAdvice(plan: TomcatLabPlan, what: string): string {
  const async = plan.nodes.filter((n) => n.asynchronous)
  const lead = `${plan.topology}: ${what}`
  if (!async.length) return `${lead}.`
  return `${lead}. Cause: asynchronous replication (channelSendOptions with 8, ${[...new Set(async.map((n) => displayPath(n.file)))].join(', ')}): ` +
    'a response is sent before the peer has the change, so the next request on the peer, or the peer after a failover, can miss it. ' +
    'Fix: channelSendOptions="6" (synchronous, acknowledged).'
}

/** Why a restarted node gets no new users: the members' retry (default 60 s), read from the balancer file. */
export function rejoinAdvice(plan: TomcatLabPlan): string {
  const long = plan.balancerPlan.members.filter((m) => Number(m.params.retry ?? 60) > 5)
  if (!long.length) return 'httpd still holds the member in error.'
  return `Cause: httpd keeps a member it could not reach out of the balancer for retry= seconds (${long.map((m) => `${displayPath(plan.balancer, m.line)} retry=${m.params.retry ?? '60 (default)'}`).join(', ')}), ` +
    'even once its node is back. Fix: retry=5 (measured: new users again within 0.4 s).'
}
