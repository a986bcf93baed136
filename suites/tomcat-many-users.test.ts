// Replication at a (small) scale: 200 users, each with an attribute of their own; the node holding
// most of them stops; judged user by user by the failover rule (helpers/checks/replication.ts): no
// session lost, no settled attribute missing, nobody sees another user's data.
import { describe, expect, oneLayout, test } from '../helpers/lab/fixtures.ts'
import type { TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { record } from '../helpers/report/figures.ts'
import { type StagedUser, failOver } from '../helpers/checks/failover.ts'
import { describeWindow, expectSessionsSurvived } from '../helpers/checks/replication.ts'
import { tally } from '../helpers/checks/tally.ts'
import { describeWorkers } from '../helpers/lab/balancer-manager.ts'

const USERS = 200

const layout = oneLayout()

describe(`many users, ${layout} layout`, () => {
  const config: TomcatLabOptions = { topology: layout }

  test(`${USERS} sessions, the node holding most of them stops: 0 lost, 0 mixed up`, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const started = performance.now()
    // Each user's one write is in the request that creates the session; the last users' writes
    // are younger than the replication window when the node stops, the first ones' long settled.
    const users: StagedUser[] = []
    for (let i = 0; i < USERS; i++) {
      const user = lab.user()
      const before = await user.visit({ name: 'owner', value: `user-${i}` })
      users.push({ name: `user ${i}`, user, before, lastWriteAt: performance.now(), attributes: { owner: `user-${i}` }, recent: 'owner' })
    }
    // The balancer is handed out as freshly started, so the split is about even; the node holding
    // more sessions is the one to stop.
    const spread = tally(users.map((u) => u.before.node))
    const workers = describeWorkers(await lab.balancer.manager.read())
    expect(Object.keys(spread).sort(), `${USERS} new users landed on ${JSON.stringify(spread)}: the balancer must spread them over every node; balancer workers: ${workers}`).toEqual([...lab.routes].sort())
    const victim = Object.entries(spread).sort((a, b) => b[1] - a[1])[0]![0]
    const { verdict, cases } = await failOver(lab, users, victim, 'stop')

    const mixed = cases.filter((c, i) => c.after?.attributes.owner !== undefined && c.after.attributes.owner !== `user-${i}`)
    expect(mixed.length, `sessions with another user's data:\n${mixed.slice(0, 5).map((c) => JSON.stringify(c.after)).join('\n')}`).toBe(0)
    expectSessionsSurvived(lab, verdict, `a graceful stop of ${victim} holding ${spread[victim]} of ${USERS} sessions`)
    record({ kind: 'measure', name: `${USERS} sessions checked across a node stop`, value: (performance.now() - started) / 1000, unit: 's' })
    await annotate(`${USERS} users (${JSON.stringify(spread)}) checked in ${((performance.now() - started) / 1000).toFixed(1)} s; ${describeWindow(verdict.window)}`, 'figure')
  })
})
