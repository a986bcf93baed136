// A rolling restart without errors: 50 users keep clicking while every node in turn is drained and
// disabled through balancer-manager, left to finish its requests in flight, stopped, started again,
// let back into the cluster with the users' sessions, and enabled. Every request counts: not one
// may fail, no session may be lost. The same restart without the drain, of the node most users
// are on, is run beside it, and the same tally must catch it.
import { describe, expect, oneLayout, runPlan, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import { type ThroughoutResult, loadThroughout } from '../helpers/checks/load.ts'
import { type NodeRestart, describeRollingRestart, restartNode, rollingRestart } from '../helpers/checks/rolling-restart.ts'
import { tally } from '../helpers/checks/tally.ts'
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

  // Without the drain, the node most users are stuck to is stopped while they click on it without
  // pause, so each has a request in flight to it: httpd answers those 502 and does not resend them.
  // Measured: 60-166 failures per rolling restart of two nodes.
  test.skipIf(!own)(`the same restart without the drain is caught: the requests in flight when the node stops fail${own ? '' : ' (not run on a team\'s files: the control of the project\'s own fixtures)'}`, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    let usersOnIt = 0
    const result = await loadThroughout(lab, async (load) => {
      const [busiest, users] = Object.entries(tally(load.sessionIds().map(routeOf))).sort((a, b) => b[1] - a[1])[0]!
      usersOnIt = users
      return [await restartNode(lab, busiest, { drain: false, sessions: load.sessionIds, onStep: (node, step) => load.mark(`${node}: ${step}`) })]
    }, { users: USERS })
    const shown = describeRollingRestart(result)
    const [restart] = result.work
    await annotate(`restart of ${restart!.node} without the drain, ${usersOnIt} users on it: ${result.sent} requests, ${result.failed} failed, ${result.lost} lost; ` +
      `httpd counted ${restart!.busyAtDrain} in flight at the stop`, 'figure')
    record({ kind: 'finding', severity: 'info', message: `a restart without the drain: ${result.failed} of ${result.sent} requests failed (${restart!.busyAtDrain} in flight to ${restart!.node} at its stop)` })

    expect(usersOnIt, `no user was on ${restart!.node} when it stopped: the control stopped an idle node\n${shown}`).toBeGreaterThan(0)
    expect(result.failed, `the tally that passes the drained restart must catch this one:\n${shown}`).toBeGreaterThan(0)
  })
})
