// The post's claim: stop the node a user is stuck to, and the same session — id with its route
// suffix rewritten by JvmRouteBinderValve, creation time, attributes — is served by the survivor.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { type ExSessionUser, type SessionPage, sessionKey } from '../helpers/exsession.ts'
import { record } from '../helpers/figures.ts'
import { TOPOLOGIES, type TomcatLab, type TomcatLabOptions } from '../helpers/labs/tomcat.ts'

/** A user with a session of a few requests and two attributes, stuck to one node. */
async function userWithSession(lab: TomcatLab): Promise<{ user: ExSessionUser; before: SessionPage }> {
  const user = lab.user()
  await user.visit({ name: 'color', value: 'blue' })
  await user.visit({ name: 'cart', value: 'three books' })
  const before = await user.visit()
  return { user, before }
}

function expectSameSession(after: SessionPage, before: SessionPage, survivor: string, cookie: string | undefined): void {
  const shown = `before: ${JSON.stringify(before)}\nafter: ${JSON.stringify(after)}`
  expect(after.node, shown).toBe(survivor)
  expect(after.sessionId, `same id, route suffix rewritten to ${survivor}\n${shown}`).toBe(`${sessionKey(before.sessionId)}.${survivor}`)
  expect(cookie, 'the browser holds the rewritten JSESSIONID').toBe(after.sessionId)
  expect(after.isNew, shown).toBe(false)
  expect(after.creationTime, shown).toBe(before.creationTime)
  expect(after.requestCount, `the counter continues\n${shown}`).toBe(before.requestCount + 1)
  expect(after.attributes, shown).toMatchObject({ color: 'blue', cart: 'three books' })
}

describe.each(TOPOLOGIES)('failover, %s layout (fixtures/tomcat/server.xml, fixtures/httpd/balancer-sticky.conf)', (topology) => {
  const config: TomcatLabOptions = { topology }

  const DISRUPTIONS = [
    { how: 'stop', what: 'a graceful stop (docker stop)' },
    { how: 'kill', what: 'a SIGKILL' },
  ] as const

  test.for(DISRUPTIONS)('session survives $what of its sticky node', async ({ how, what }, { tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const { user, before } = await userWithSession(lab)
    const survivor = lab.peer(before.node).route
    const since = performance.now()
    await (how === 'stop' ? lab.node(before.node).shutdown() : lab.node(before.node).kill())
    const { page, gapMs, failures } = await lab.recover(user, since)
    await annotate(`${topology}: failover gap after ${what} ${(gapMs / 1000).toFixed(2)} s (${failures.length} failed attempts)`, 'figure')
    record({ kind: 'failover', topology, how, config: 'default fixtures', gapMs, failures, before, after: page })
    if (gapMs > 3000) {
      record({ kind: 'finding', severity: 'warning', message: `${topology}: the first request after ${what} took ${(gapMs / 1000).toFixed(1)} s. ` +
        'With channelSendOptions="6" (synchronous) the survivor waits for the dead peer before answering; "8" (asynchronous) avoids the wait but lets non-sticky users read stale sessions.' })
    }
    expectSameSession(page, before, survivor, await user.cookie())
  })

  test('failback: the stopped node rejoins, receives the sessions, and carries them when the other stops', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const { user, before } = await userWithSession(lab)
    const first = lab.node(before.node)
    const second = lab.peer(before.node)

    await first.shutdown()
    const onSecond = (await lab.recover(user, performance.now())).page
    expectSameSession(onSecond, before, second.route, await user.cookie())

    await first.startAgain()
    await lab.untilClustered() // DeltaManager state transfer happens as the node joins
    await second.shutdown()
    const back = (await lab.recover(user, performance.now())).page
    expectSameSession(back, onSecond, first.route, await user.cookie())
  })
})
