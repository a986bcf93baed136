// mod_proxy_balancer with route= on each member and stickysession=: a user stays on the node
// that made their session, by the mechanism the file sets up: the jvmRoute that ends the session
// id (stickysession=JSESSIONID|jsessionid, the fixture's), or a route cookie of the balancer's own
// (Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e", stickysession=ROUTEID).
import { IN_ORDER, describeEachLayout, expect, runPlan, test } from '../helpers/lab/fixtures.ts'
import { describeWorkers } from '../helpers/lab/balancer-manager.ts'
import { routeOf } from '../helpers/lab/exsession.ts'

const stickiness = runPlan().balancers.sticky?.stickiness
const mechanism = stickiness?.by === 'route-cookie' ? `its ${stickiness.names[0]} cookie` : "its session id's route suffix"

// Every layout the balancer file can run in (members on 127.0.0.1: only single-host).
describeEachLayout('sticky sessions, %s layout (fixtures/httpd/balancer-sticky.conf)', (topology) => {
  const config = { topology }

  test(`a new user is bound to the serving node by ${mechanism}, and 20 more requests stay there`, IN_ORDER, async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    const first = await user.visit()
    expect(first.isNew).toBe(true)
    expect(lab.routes).toContain(first.node)
    expect(await user.cookie()).toBe(first.sessionId)
    const routeCookie = lab.routeCookieFor(first.node)
    if (routeCookie) {
      expect(await user.cookie(routeCookie.name), `the balancer's ${routeCookie.name} cookie after the first page from ${first.node}`).toBe(routeCookie.value)
    } else {
      expect(routeOf(first.sessionId), `session ${first.sessionId} from ${first.node}`).toBe(first.node)
    }

    const later = []
    for (let i = 0; i < 20; i++) later.push(await user.visit())
    expect(later.map((p) => p.node), `sticky to ${first.node}`).toEqual(Array(20).fill(first.node))
    expect(new Set(later.map((p) => p.sessionId))).toEqual(new Set([first.sessionId]))
    expect(later.map((p) => p.requestCount)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2))
  })

  // byrequests balances requests, the test before's sticky ones included, but the lab is handed
  // out with its balancer as freshly started (StartedBalancer.reset), where new users take turns:
  // the second already lands on the other node (measured). Ten a node is a generous bound; the
  // balancer-manager view (Load: whom byrequests owes requests) says why when it is not met.
  test('new users land on every node', IN_ORDER, async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const bound = 10 * lab.routes.length
    const landed: string[] = []
    while (landed.length < bound && !lab.routes.every((r) => landed.includes(r))) landed.push((await lab.user().visit()).node)
    const workers = describeWorkers(await lab.balancer.manager.read())
    expect([...new Set(landed)].sort(), `${landed.length} new users landed on ${[...new Set(landed)].join(', ')}; balancer workers: ${workers}`).toEqual([...lab.routes].sort())
  })
})
