// 50 users with their own sessions keep clicking while the node most of them are stuck to is
// killed. Every user must get their own session back, whole, within a bound; only requests in
// flight while the node went down may fail, none sent once it is gone; no session may be lost or
// mixed up.
import { describe, expect, oneLayout, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import type { TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { loadDuringFailover } from '../helpers/checks/load.ts'

const layout = oneLayout()
/** A user's whole wait for their session after the kill: the survivor may wait ~5 s for the dead peer, under synchronous replication. */
const RECOVER_WITHIN_MS = 20_000

describe(`load during failover, ${layout} layout`, () => {
  const config: TomcatLabOptions = { topology: layout }

  test('50 users clicking while the node most of them are stuck to is killed: each gets their session back, 0 lost, 0 mixed up, no request failing once it is gone', async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const result = await loadDuringFailover(lab, { how: 'kill', users: 50, disruptAfterMs: 3_000, recoverWithinMs: RECOVER_WITHIN_MS })
    const explained = Object.entries(result.failures).map(([message, n]) => `${n} × ${message}`).join('\n')
    const waits = result.outcomes.flatMap((o) => (o.recoveredAfterMs === null ? [] : [o.recoveredAfterMs])).sort((a, b) => a - b)
    const whileGoing = result.outcomes.reduce((n, o) => n + o.failedWhileGoing, 0)
    await annotate(`kill under load: ${result.sent} requests, ${result.failed} failed (${whileGoing} in flight while ${result.victim} went down, ` +
      `${((result.goneAt - result.disruptionAt) / 1000).toFixed(2)} s); worst wait for a session ${((waits.at(-1) ?? Number.NaN) / 1000).toFixed(1)} s`, 'figure')
    record({ kind: 'load-timeline', topology: layout, how: 'kill', disruptionAt: result.disruptionAt,
      events: result.events.filter((_, i) => i % Math.ceil(result.events.length / 4000) === 0) })
    if (result.failed) record({ kind: 'finding', severity: 'info', message: `kill under load: ${result.failed} of ${result.sent} requests failed:\n${explained}` })
    const show = (list: typeof result.outcomes) => `${list.slice(0, 5).map((o) => JSON.stringify(o)).join('\n')}\nfailures:\n${explained}`

    expect(result.usersOnVictim, `no user was stuck to ${result.victim}, the killed node: the kill tested nothing`).toBeGreaterThan(0)
    const mixed = result.outcomes.filter((o) => o.mixedUp)
    expect(mixed.length, `users who saw another user's data:\n${show(mixed)}`).toBe(0)
    const lost = result.outcomes.filter((o) => o.lost)
    expect(lost.length, `users whose session was lost (settled for 3 s before the kill):\n${show(lost)}`).toBe(0)
    const stranded = result.outcomes.filter((o) => o.recoveredAfterMs === null)
    expect(stranded.length, `users with no page of their own session within ${RECOVER_WITHIN_MS / 1000} s of the kill:\n${show(stranded)}`).toBe(0)
    const failedOutside = result.outcomes.filter((o) => o.failedOutside > 0)
    expect(failedOutside.length, `users with a request failing that was not in flight while ${result.victim} went down (the kill began ` +
      `${(result.disruptionAt / 1000).toFixed(2)} s and returned ${(result.goneAt / 1000).toFixed(2)} s into the load):\n${show(failedOutside)}`).toBe(0)
  })
})
