// A rolling restart without errors: 50 users keep clicking while every node in turn is drained and
// disabled through balancer-manager, left to finish its requests in flight, stopped, started again,
// let back into the cluster with the users' sessions, and enabled. Every request counts: not one
// may fail, no session may be lost. The same rolling restart without the drain is run beside it,
// and the same tally must catch it.
import { describe, expect, oneLayout, runPlan, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import { type ThroughoutResult, loadThroughout } from '../helpers/checks/load.ts'
import { type NodeRestart, describeRollingRestart, rollingRestart } from '../helpers/checks/rolling-restart.ts'
import { routeOf } from '../helpers/lab/exsession.ts'
import type { TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'

const layout = oneLayout()
const USERS = 50
// The no-drain control proves the tally catches failed requests, on the project's own stack; a
// team's balancer may well survive an undrained stop (and should not fail the gate for it).
const own = runPlan().source === 'fixtures'

/** Requests sent while `route` was out of the balancer or down: the restart of that node was exercised. */
function sentWhileOut(result: ThroughoutResult<NodeRestart[]>, route: string): number {
  return result.events.filter((e) => /^(\S+): (in-flight|stop|deploy|start|rejoin|sessions)$/.exec(e.phase ?? '')?.[1] === route).length
}

describe(`rolling restart under load, ${layout} layout`, () => {
  const config: TomcatLabOptions = { topology: layout }

  test(`${USERS} users clicking through a drained rolling restart of every node: 0 failed requests, 0 lost sessions`, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    // Each request tagged with the step under way; the restarted node must hold every user's session before it is enabled.
    const result = await loadThroughout(lab, (load) => rollingRestart(lab, {
      drain: true, sessions: load.sessionIds, onStep: (node, step) => load.mark(`${node}: ${step}`),
    }), { users: USERS })
    const shown = describeRollingRestart(result)
    await annotate(`rolling restart with the drain: ${result.sent} requests, ${result.failed} failed, ${result.lost} lost; ` +
      result.work.map((r) => `${r.node} ${(r.ms / 1000).toFixed(1)} s`).join(', '), 'figure')
    for (const r of result.work) record({ kind: 'measure', name: `${layout}: rolling restart with the drain, ${r.node}`, value: r.ms / 1000, unit: 's' })

    expect(result.work.map((r) => r.node), `every node restarted, in turn:\n${shown}`).toEqual(lab.routes)
    expect(result.truncated, `the request cap stopped the users before the restart ended:\n${shown}`).toBe(false)
    for (const route of lab.routes) expect(sentWhileOut(result, route), `no request was sent while ${route} was out: its restart tested nothing\n${shown}`).toBeGreaterThan(0)
    expect(result.failed, `requests failed during the drained rolling restart:\n${shown}`).toBe(0)
    expect(result.lost, `sessions lost during the drained rolling restart:\n${shown}`).toBe(0)
    expect(result.mixedUp, `users who saw another user's data:\n${shown}`).toBe(0)
  })

  // Without the drain, every node in turn is stopped while its users click on it without pause:
  // the requests sent on httpd's kept-alive connections as Tomcat closes them are answered 502 and
  // not resent. How many is a race: one node's stop beside the other lane of `npm test` lost 0, 1,
  // 28 or 42 requests (scripts/test.ts), so the control restarts every node, as the drained test
  // does, and the tally must catch the sum. Measured: 60-166 failures per rolling restart of two nodes.
  test.skipIf(!own)(`the same restart without the drain is caught: the requests in flight when the nodes stop fail${own ? '' : ' (not run on a team\'s files: the control of the project\'s own fixtures)'}`, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const usersOnIt: Record<string, number> = {}
    const result = await loadThroughout(lab, (load) => rollingRestart(lab, {
      drain: false, sessions: load.sessionIds,
      onStep: (node, step) => {
        if (step === 'stop') usersOnIt[node] = load.sessionIds().filter((id) => routeOf(id) === node).length
        load.mark(`${node}: ${step}`)
      },
    }), { users: USERS })
    const shown = describeRollingRestart(result)
    await annotate(`rolling restart without the drain: ${result.sent} requests, ${result.failed} failed, ${result.lost} lost; ` +
      result.work.map((r) => `${r.node}: ${usersOnIt[r.node]} users on it, httpd counted ${r.busyAtDrain} in flight at the stop`).join('; '), 'figure')
    record({ kind: 'finding', severity: 'info', message: `a rolling restart without the drain: ${result.failed} of ${result.sent} requests failed` })

    expect(result.work.map((r) => r.node), `every node restarted, in turn:\n${shown}`).toEqual(lab.routes)
    for (const route of lab.routes) expect(usersOnIt[route], `no user was on ${route} when it stopped: the control stopped an idle node\n${shown}`).toBeGreaterThan(0)
    expect(result.failed, `the tally that passes the drained restart must catch this one:\n${shown}`).toBeGreaterThan(0)
  })
})
