// mod_proxy_balancer with route=node01|node02 and stickysession=JSESSIONID|jsessionid: a user
// stays on the node whose jvmRoute ends their session id.
import { describeEachLayout, expect, test } from '../helpers/lab/fixtures.ts'
import { routeOf } from '../helpers/lab/exsession.ts'

// Every layout the balancer file can run in (members on 127.0.0.1: only single-host).
describeEachLayout('sticky sessions, %s layout (fixtures/httpd/balancer-sticky.conf)', (topology) => {
  const config = { topology }

  test("a new user's session id ends in the serving node's route, and 20 more requests stay there", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    const first = await user.visit()
    expect(first.isNew).toBe(true)
    expect(lab.routes).toContain(first.node)
    expect(routeOf(first.sessionId), `session ${first.sessionId} from ${first.node}`).toBe(first.node)
    expect(await user.cookie()).toBe(first.sessionId)

    const later = []
    for (let i = 0; i < 20; i++) later.push(await user.visit())
    expect(later.map((p) => p.node), `sticky to ${first.node}`).toEqual(Array(20).fill(first.node))
    expect(new Set(later.map((p) => p.sessionId))).toEqual(new Set([first.sessionId]))
    expect(later.map((p) => p.requestCount)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2))
  })

  // byrequests counts every request a member served, sticky ones too, and sends new users to the
  // member behind until the counts even out: within that difference (plus a few) one lands there.
  test('other new users can land on the other node', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const first = await lab.user().visit()
    const other = lab.peer(first.node).route
    const elected = (await lab.balancer.workers()).map((w) => w.elected)
    const bound = Math.abs((elected[0] ?? 0) - (elected[1] ?? 0)) + 10
    const others: string[] = []
    while (others.length < bound && !others.includes(other)) others.push((await lab.user().visit()).node)
    const workers = JSON.stringify(await lab.balancer.workers())
    expect(others.includes(other), `first user on ${first.node}, then ${others.length} new users on ${[...new Set(others)].join(', ')}; balancer workers: ${workers}`).toBe(true)
  })
})
