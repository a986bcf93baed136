// The post's own configuration, unchanged (fixtures/tomcat/server-original.xml,
// fixtures/httpd/balancer-original.conf), in the layout it was written for: one host, members at
// 127.0.0.1:8180/8280. Its claim holds there; the default fixtures only add measured fixes.
import { describe, test } from '../helpers/fixtures.ts'
import type { TomcatLabOptions } from '../helpers/labs/tomcat.ts'
import { record } from '../helpers/figures.ts'
import { expectSameSession } from '../helpers/replication.ts'

describe("the original post's configuration, single-host layout", () => {
  const config: TomcatLabOptions = { topology: 'single-host', serverXml: 'tomcat/server-original.xml', balancer: 'httpd/balancer-original.conf' }

  test('stopping the sticky node: the survivor serves the same session, as the post shows', async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    await user.visit({ name: 'color', value: 'blue' })
    const before = await user.visit()
    const survivor = lab.peer(before.node).route
    const since = performance.now()
    await lab.node(before.node).shutdown()
    const { page: after, gapMs, failures } = await lab.recover(user, since)
    record({ kind: 'failover', topology: 'single-host', how: 'stop', config: 'original post', gapMs, failures, before, after })
    await annotate(`original configuration, single-host: failover gap after docker stop ${(gapMs / 1000).toFixed(2)} s`, 'figure')
    // Its channelSendOptions="8" is asynchronous: a write lost on the way is reported, not failed.
    expectSameSession(lab, after, before, survivor, await user.cookie(), { color: 'blue' })
  })
})
