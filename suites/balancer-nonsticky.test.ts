// The non-sticky variant: byrequests balancing sends each request of one user to the next node, and
// session replication alone keeps the session whole.
import { describe, expect, test } from '../helpers/fixtures.ts'
import type { TomcatLabOptions } from '../helpers/labs/tomcat.ts'
import { sessionKey } from '../helpers/exsession.ts'
import { alternates, tally } from '../helpers/tally.ts'

describe('non-sticky balancing, multi-host layout (fixtures/httpd/balancer-nonsticky.conf)', () => {
  const config: TomcatLabOptions = { topology: 'multi-host', balancer: 'httpd/balancer-nonsticky.conf' }

  test("one user's requests alternate nodes while the session (id, creation time, counter, attributes) stays the same", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = lab.user()
    const first = await user.visit({ name: 'color', value: 'blue' })
    const pages = [first]
    for (let i = 0; i < 9; i++) pages.push(await user.visit())
    const nodes = pages.map((p) => p.node)
    const shown = pages.map((p) => `${p.node} ${p.sessionId} #${p.requestCount}`).join('\n')

    expect(alternates(nodes), shown).toBe(true)
    expect(tally(nodes), shown).toEqual({ node01: 5, node02: 5 })
    expect(new Set(pages.map((p) => sessionKey(p.sessionId))).size, shown).toBe(1)
    expect(new Set(pages.map((p) => p.creationTime)).size, shown).toBe(1)
    expect(pages.map((p) => p.requestCount), `no stale counter with channelSendOptions=6\n${shown}`)
      .toEqual(Array.from({ length: 10 }, (_, i) => i + 1))
    for (const p of pages) expect(p.attributes.color, shown).toBe('blue')
  })

  test("the balancer's own per-member counts (server-status Elected) agree with what the client saw", async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const before = await lab.balancer.workers()
    const user = lab.user()
    const nodes = []
    for (let i = 0; i < 8; i++) nodes.push((await user.visit()).node)
    const after = await lab.balancer.workers()

    const byNode = (route: string) => lab.node(route).url
    const delta = Object.fromEntries(['node01', 'node02'].map((route) => {
      const w = (list: typeof before) => list.find((x) => x.name === byNode(route))?.elected ?? Number.NaN
      return [route, w(after) - w(before)]
    }))
    expect(delta, `server-status before ${JSON.stringify(before)}\nafter ${JSON.stringify(after)}`).toEqual(tally(nodes))
  })
})
