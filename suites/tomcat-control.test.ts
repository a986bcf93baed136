// The control: with a server.xml that cannot replicate (no <Cluster>), the same failover loses the
// session. Proof that the failover suites can fail — they pass because replication works.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { type TomcatLabOptions, preferredLayout } from '../helpers/labs/tomcat.ts'
import { sessionKey } from '../helpers/exsession.ts'

describe('control: no replication (fixtures/tomcat/server-no-cluster.xml)', () => {
  const config: TomcatLabOptions = { topology: preferredLayout(), serverXml: 'tomcat/server-no-cluster.xml' }

  test('stopping the sticky node loses the session: a new id, no attributes, the counter from 1', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    await user.visit({ name: 'color', value: 'blue' })
    const before = await user.visit()
    await lab.node(before.node).shutdown()
    const { page: after } = await lab.recover(user, performance.now())
    const shown = `before: ${JSON.stringify(before)}\nafter: ${JSON.stringify(after)}`
    expect(after.node, shown).toBe(lab.peer(before.node).route)
    expect(sessionKey(after.sessionId), shown).not.toBe(sessionKey(before.sessionId))
    expect(after.isNew, shown).toBe(true)
    expect(after.requestCount, shown).toBe(1)
    expect(after.attributes.color, shown).toBeUndefined()
  })
})
