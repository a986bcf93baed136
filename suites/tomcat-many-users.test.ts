// Replication at a (small) scale: 200 users, each with an attribute of their own; the node holding
// most of them stops; every session is intact on the survivor.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { type TomcatLabOptions, preferredLayout } from '../helpers/labs/tomcat.ts'
import { type SessionPage, sessionKey } from '../helpers/exsession.ts'
import { record } from '../helpers/figures.ts'
import { expectNoStaleState } from '../helpers/replication.ts'
import { tally } from '../helpers/tally.ts'

const USERS = 200

const layout = preferredLayout()

describe(`many users, ${layout} layout`, () => {
  const config: TomcatLabOptions = { topology: layout }

  test(`${USERS} sessions, the node holding most of them stops: 0 lost, 0 mixed up`, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const started = performance.now()
    const users = Array.from({ length: USERS }, () => lab.user())
    const before: SessionPage[] = []
    for (const [i, user] of users.entries()) before.push(await user.visit({ name: 'owner', value: `user-${i}` }))
    // byrequests remembers earlier traffic of the shared lab, so the split may be uneven: the node
    // holding more sessions is the one to stop.
    const spread = tally(before.map((p) => p.node))
    const [a, b] = lab.routes as [string, string]
    const victim = (spread[a] ?? 0) >= (spread[b] ?? 0) ? a : b
    const survivor = lab.peer(victim).route

    await lab.node(victim).shutdown()
    await lab.recover(users[0]!, performance.now()) // the balancer has noticed
    const after: SessionPage[] = []
    for (const user of users) after.push(await user.visit())

    // Lost (a new session) or without its attribute: an older state than the user wrote.
    const stale = after.filter((p, i) => sessionKey(p.sessionId) !== sessionKey(before[i]!.sessionId) || p.isNew || p.attributes.owner === undefined)
    const mixed = after.filter((p, i) => p.attributes.owner !== undefined && p.attributes.owner !== `user-${i}`)
    const report = (pages: SessionPage[]) => pages.slice(0, 5).map((p) => JSON.stringify(p)).join('\n')
    expect(mixed.length, `sessions with another user's data:\n${report(mixed)}`).toBe(0)
    expectNoStaleState(lab, stale.length, USERS, `sessions reached the survivor lost or without their attribute`, `sessions lost or stale:\n${report(stale)}`)
    expect(new Set(after.map((p) => p.node))).toEqual(new Set([survivor]))
    record({ kind: 'measure', name: `${USERS} sessions checked across a node stop`, value: (performance.now() - started) / 1000, unit: 's' })
    await annotate(`${USERS} users (${JSON.stringify(spread)}) checked in ${((performance.now() - started) / 1000).toFixed(1)} s`, 'figure')
  })
})
