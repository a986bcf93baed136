// The non-sticky variant: byrequests balancing sends each request of one user to the next node, and
// session replication alone keeps the session whole.
import { describe, expect, oneLayout, test } from '../helpers/lab/fixtures.ts'
import type { TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { sessionKey } from '../helpers/lab/exsession.ts'
import { expectNoStaleState } from '../helpers/checks/replication.ts'
import { alternates, tally } from '../helpers/checks/tally.ts'

const layout = oneLayout()

describe(`non-sticky balancing, ${layout} layout (fixtures/httpd/balancer-nonsticky.conf)`, () => {
  const config: TomcatLabOptions = { topology: layout, balancer: 'httpd/balancer-nonsticky.conf' }

  test("one user's requests alternate nodes while the session (id, creation time, counter, attributes) stays the same", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    // Five rounds of the nodes: byrequests sends each request to the member furthest behind.
    const EACH = 5
    const first = await user.visit({ name: 'color', value: 'blue' })
    const pages = [first]
    while (pages.length < EACH * lab.routes.length) pages.push(await user.visit())
    const nodes = pages.map((p) => p.node)
    const shown = pages.map((p) => `${p.node} ${p.sessionId} #${p.requestCount}`).join('\n')

    expect(alternates(nodes), shown).toBe(true)
    expect(tally(nodes), shown).toEqual(Object.fromEntries(lab.routes.map((r) => [r, EACH])))
    // Each request reads what the previous one, on another node, wrote a moment before: the
    // session itself must be the same (id, creation time) in every configuration; a counter or
    // attribute behind it is a write younger than the replication window not yet there.
    const lost = pages.slice(1).filter((p) => sessionKey(p.sessionId) !== sessionKey(first.sessionId) || p.isNew || p.creationTime !== first.creationTime)
    const stale = pages.slice(1).filter((p, i) => !lost.includes(p) && (p.requestCount !== pages[i]!.requestCount + 1 || p.attributes.color !== 'blue'))
    expect(first.requestCount, shown).toBe(1)
    expect(lost.length, `the session was lost (another id, a new session or another creation time) on ${lost.length} of ${pages.length - 1} requests:\n${shown}`).toBe(0)
    expectNoStaleState(lab, stale.length, pages.length - 1, 'non-sticky requests read an older state of the session than the previous request wrote', shown)
  })

  test("the balancer's own per-member counts (server-status Elected) agree with what the client saw", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const before = await lab.balancer.workers()
    const user = lab.user()
    const nodes = []
    for (let i = 0; i < 8; i++) nodes.push((await user.visit()).node)
    const after = await lab.balancer.workers()

    const delta = Object.fromEntries(lab.routes.map((route) => {
      const w = (list: typeof before) => list.find((x) => lab.isWorkerOf(x, route))?.elected ?? Number.NaN
      return [route, w(after) - w(before)]
    }))
    expect(delta, `server-status before ${JSON.stringify(before)}\nafter ${JSON.stringify(after)}`).toEqual(tally(nodes))
  })
})
