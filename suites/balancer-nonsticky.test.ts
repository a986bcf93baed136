// The non-sticky variant: byrequests balancing sends each request of one user to the next node, and
// session replication alone keeps the session whole.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { type TomcatLabOptions, preferredLayout } from '../helpers/labs/tomcat.ts'
import { type SessionPage, sessionKey } from '../helpers/exsession.ts'
import { expectNoStaleState } from '../helpers/replication.ts'
import { alternates, tally } from '../helpers/tally.ts'

const layout = preferredLayout()

describe(`non-sticky balancing, ${layout} layout (fixtures/httpd/balancer-nonsticky.conf)`, () => {
  const config: TomcatLabOptions = { topology: layout, balancer: 'httpd/balancer-nonsticky.conf' }

  test("one user's requests alternate nodes while the session (id, creation time, counter, attributes) stays the same", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    const first = await user.visit({ name: 'color', value: 'blue' })
    const pages = [first]
    for (let i = 0; i < 9; i++) pages.push(await user.visit())
    const nodes = pages.map((p) => p.node)
    const shown = pages.map((p) => `${p.node} ${p.sessionId} #${p.requestCount}`).join('\n')

    expect(alternates(nodes), shown).toBe(true)
    expect(tally(nodes), shown).toEqual(Object.fromEntries(lab.routes.map((r) => [r, 5])))
    // A read is stale when it does not continue what the previous request wrote: same session
    // (id, creation time), the counter one further, the attribute still there.
    const continues = (p: SessionPage, previous: SessionPage) => sessionKey(p.sessionId) === sessionKey(previous.sessionId) &&
      p.creationTime === previous.creationTime && p.requestCount === previous.requestCount + 1 && p.attributes.color === 'blue'
    const stale = pages.slice(1).filter((p, i) => !continues(p, pages[i]!))
    expect(first.requestCount, shown).toBe(1)
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
