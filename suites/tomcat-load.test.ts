// 50 users with their own sessions keep clicking while the node most of them are stuck to is
// killed: no session may be lost or mixed up; failed requests are counted and explained.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { record } from '../helpers/figures.ts'
import { type TomcatLabOptions, preferredLayout } from '../helpers/labs/tomcat.ts'
import { loadDuringFailover } from '../helpers/load.ts'
import { expectNoStaleState } from '../helpers/replication.ts'

const layout = preferredLayout()

describe(`load during failover, ${layout} layout`, () => {
  const config: TomcatLabOptions = { topology: layout }

  test('50 users clicking while the node most of them are stuck to is killed: 0 sessions lost, 0 mixed up', async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const result = await loadDuringFailover(lab, { how: 'kill', users: 50, durationMs: 10_000, disruptAfterMs: 3_000 })
    const explained = Object.entries(result.failures).map(([message, n]) => `${n} × ${message}`).join('\n')
    await annotate(`kill under load: ${result.sent} requests, ${result.failed} failed, ${result.lost} sessions lost`, 'figure')
    record({ kind: 'load-timeline', topology: layout, how: 'kill', disruptionAt: result.disruptionAt,
      events: result.events.filter((_, i) => i % Math.ceil(result.events.length / 4000) === 0) })
    if (result.failed) record({ kind: 'finding', severity: 'info', message: `kill under load: ${result.failed} of ${result.sent} requests failed:\n${explained}` })

    expect(result.sent, 'the load ran').toBeGreaterThan(result.users * 10)
    expect(result.usersOnVictim, `users stuck to ${result.victim}, the killed node`).toBeGreaterThanOrEqual(result.users / 2)
    expect(result.mixedUp, 'sessions with another user\'s data').toBe(0)
    expectNoStaleState(lab, result.lost, result.users, 'users found their session lost or without their attribute after the kill', `failures:\n${explained}`)
    expect(result.events.filter((e) => e.t > result.disruptionAt && e.node !== null && e.node !== result.victim).length, 'the survivor served after the kill').toBeGreaterThan(0)
  })
})
