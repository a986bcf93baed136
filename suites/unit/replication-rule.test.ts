// The failover rule (helpers/checks/replication.ts) and the cluster wait (untilClustered) on made-up
// pages and views: each verdict shown failing on the case it exists for.
import { describe, expect, test } from 'vitest'
import type { SessionPage } from '../../helpers/lab/exsession.ts'
import type { NodePlan } from '../../helpers/intake/plan.ts'
import { untilClustered } from '../../helpers/lab/tomcat-lab.ts'
import { type FailoverCase, expectNoStaleState, expectSessionsSurvived, judgeFailover, sessionLost, windowFromLags } from '../../helpers/checks/replication.ts'
import type { ClusterView } from '../../helpers/lab/tomcat-node.ts'

const WINDOW = windowFromLags([8, 12, 30], 0, 3000) // 2 × 30 ms → the 250 ms floor
const T = 100_000 // the disruption, in performance.now() ms

function page(over: Partial<SessionPage> = {}): SessionPage {
  return { status: 200, node: 'node01', sessionId: 'ABC.node01', isNew: false, creationTime: 1, lastAccessedTime: 2, requestCount: 3, attributes: { color: 'blue', requestCount: '3' }, ...over }
}

/** A user whose last write was `ageMs` before the disruption, and what the survivor served. */
function user(ageMs: number, after: Partial<SessionPage> | undefined, extra: Partial<FailoverCase> = {}): FailoverCase {
  const served = after && page({ node: 'node02', sessionId: 'ABC.node02', requestCount: 4, ...after })
  return { user: 'u', before: page(), lastWriteAt: T - ageMs, attributes: { color: 'blue' }, failures: [], ...(served ? { after: served, cookie: served.sessionId } : {}), ...extra }
}

const judge = (...cases: FailoverCase[]) => judgeFailover(cases, T, WINDOW, ['node02'])

describe('the failover rule', () => {
  test('the same session, whole, on the survivor, id rebound: whole', () => {
    expect(judge(user(5000, {})).whole).toHaveLength(1)
  })

  test.each([
    ['no page from a survivor', undefined, {}, /no page from a survivor/],
    ['another id', { sessionId: 'XYZ.node02' }, {}, /another session/],
    ['a new session', { isNew: true }, {}, /isNew/],
    ['another creation time', { creationTime: 9 }, {}, /another creation time/],
    ['the id still names the dead node', { sessionId: 'ABC.node01' }, { cookie: 'ABC.node01' }, /route still names node01/],
    ["the browser's cookie names the old copy", {}, { cookie: 'ABC.node01' }, /cookie is ABC.node01/],
    ['served by the dead node', { node: 'node01', sessionId: 'ABC.node01' }, {}, /not by a survivor/],
  ] as const)('%s: the session is lost, even when the write was recent', (_, after, extra, why) => {
    const c = user(0, after, extra)
    if (after && 'cookie' in extra) c.cookie = extra.cookie
    const verdict = judge(c)
    expect(verdict.lost).toHaveLength(1)
    expect(verdict.lost[0]!.why).toMatch(why)
    expect(sessionLost(c, ['node02'])).toMatch(why)
  })

  // A balancer sticking by its own ROUTEID cookie (no jvmRoute): the id stays, the cookie must move.
  test('a route cookie: the same id, the cookie re-issued for the survivor: whole; the cookie still naming the dead node: lost', () => {
    const noRoute = (routeCookie: FailoverCase['routeCookie']) => ({ ...user(5000, { sessionId: 'ABC' }), before: page({ sessionId: 'ABC' }), routeCookie })
    expect(judge(noRoute({ name: 'ROUTEID', value: '.2', expected: '.2' })).whole).toHaveLength(1)
    const stale = noRoute({ name: 'ROUTEID', value: '.1', expected: '.2' })
    expect(sessionLost(stale, ['node02'])).toMatch(/ROUTEID cookie is \.1, not \.2 \(node02's member\): the balancer keeps aiming the user at the node that is gone/)
    expect(sessionLost({ ...stale, routeCookie: { name: 'ROUTEID', expected: '.2' } }, ['node02'])).toMatch(/ROUTEID cookie is absent/)
  })

  test('an attribute older than the window missing: settled state lost, whatever the replication', () => {
    const verdict = judge(user(WINDOW.ms + 1, { attributes: {} }))
    expect(verdict.staleSettled).toHaveLength(1)
    expect(verdict.staleSettled[0]!.why).toMatch(/color="blue" came back as null/)
  })

  test('the counter ahead (a request counted whose answer the user never saw): whole', () => {
    expect(judge(user(5000, { requestCount: 6 })).whole).toHaveLength(1)
  })

  test('the counter behind on a settled user: settled state lost', () => {
    expect(judge(user(5000, { requestCount: 3 })).staleSettled).toHaveLength(1)
  })

  test('the last write younger than the window missing: counted as recent, not settled', () => {
    const c = user(10, { requestCount: 3, attributes: { color: 'blue' } }, { attributes: { color: 'blue', last: 'x' }, recent: 'last' })
    const verdict = judge(c)
    expect(verdict.staleRecent).toHaveLength(1)
    expect(verdict.staleSettled).toHaveLength(0)
  })

  test('a young user missing an attribute that is not its last write: settled state lost', () => {
    const c = user(10, { attributes: { last: 'x' } }, { attributes: { color: 'blue', last: 'x' }, recent: 'last' })
    expect(judge(c).staleSettled).toHaveLength(1)
  })

  test('the window: twice the longest lag, at least 250 ms; no arrival means the give-up time', () => {
    expect(windowFromLags([10, 200], 0, 3000).ms).toBe(400)
    expect(windowFromLags([1], 0, 3000).ms).toBe(250)
    expect(windowFromLags([], 3, 3000)).toMatchObject({ maxLagMs: 3000, neverArrived: 3, probes: 3 })
  })
})

/** Only what the assertions read of a lab: its plan's replication mode, topology and limits. */
function labOf(asynchronous: boolean, limits: { staleReads?: number } = {}) {
  return { plan: { topology: 'multi-host', nodes: [{ asynchronous, file: 'server.xml' }], limits } } as never
}

describe('the verdict as assertions', () => {
  test('a lost session fails under asynchronous replication too', () => {
    expect(() => expectSessionsSurvived(labOf(true), judge(user(0, { isNew: true })), 'a stop')).toThrow(/1 of 1 users lost their session/)
  })

  test('settled state missing fails under asynchronous replication too, naming the window and the cause', () => {
    expect(() => expectSessionsSurvived(labOf(true), judge(user(5000, { attributes: {} })), 'a stop'))
      .toThrow(/came back without state older than the replication window 250 ms[\s\S]*channelSendOptions="6"/)
  })

  test('a recent write missing fails under synchronous replication', () => {
    const c = user(10, { requestCount: 3 }, { recent: 'color' })
    expect(() => expectSessionsSurvived(labOf(false), judge(c), 'a stop')).toThrow(/synchronous replication: no user may see an older state/)
  })

  test('a recent write missing under asynchronous replication fails past --max-stale-reads', () => {
    expect(() => expectNoStaleState(labOf(true, { staleReads: 0 }), 1, 2, 'writes missing', '')).toThrow(/--max-stale-reads 0/)
    expect(() => expectNoStaleState(labOf(true, { staleReads: 1 }), 1, 2, 'writes missing', '')).not.toThrow()
  })
})

describe('untilClustered', () => {
  const plan = (clustered: boolean) => ({ nodes: [{ clustered }, { clustered }] as NodePlan[] })
  const node = (view: Partial<ClusterView>) => ({ cluster: async () => ({ node: 'n', clustered: true, localMember: null, members: [], ...view }) })
  const formed = [node({ node: 'node01', localMember: 'a:4001', members: ['b:4001'] }), node({ node: 'node02', localMember: 'b:4001', members: ['a:4001'] })]

  test('passes when every node lists the others', async () => {
    await expect(untilClustered(plan(true), formed, 1000)).resolves.toBeUndefined()
  })

  test('a plan with <Cluster> whose nodes report no cluster fails, showing each view', async () => {
    const none = [node({ node: 'node01', clustered: false }), node({ node: 'node02', clustered: false })]
    await expect(untilClustered(plan(true), none, 600)).rejects.toThrow(/the cluster never formed[\s\S]*node01 reports no cluster[\s\S]*node02: clustered false/)
  })

  test('nodes that see nobody fail', async () => {
    const alone = [node({ node: 'node01', localMember: 'a:4001' }), node({ node: 'node02', localMember: 'b:4001' })]
    await expect(untilClustered(plan(true), alone, 600)).rejects.toThrow(/node01 sees members \[\], expected \["b:4001"\]/)
  })

  test('a dead incarnation listed beside the live one at its address fails, naming both and the fix', async () => {
    const ghost = [node({ node: 'node01', localMember: 'a:4001', members: ['b:4001'], incarnations: ['b:4001#0a', 'b:4001#0b'] }),
      node({ node: 'node02', localMember: 'b:4001', members: ['a:4001'], incarnations: ['a:4001#01'] })]
    await expect(untilClustered(plan(true), ghost, 600)).rejects.toThrow(/node01 lists b:4001#0a and b:4001#0b: two incarnations at one address[\s\S]*only after dropTime/)
    const one = [node({ node: 'node01', localMember: 'a:4001', members: ['b:4001'], incarnations: ['b:4001#0b'] }), formed[1]!]
    await expect(untilClustered(plan(true), one, 1000)).resolves.toBeUndefined()
  })

  test('only a plan without <Cluster> passes with no cluster reported', async () => {
    const none = [node({ clustered: false }), node({ clustered: false })]
    await expect(untilClustered(plan(false), none, 600)).resolves.toBeUndefined()
    await expect(untilClustered(plan(false), formed, 600)).rejects.toThrow(/no <Cluster> in the plan, yet a node reports one/)
  })
})
