// Two Tomcat nodes find each other over multicast (McastService 228.0.0.4:45564) and form the
// replication cluster the post's server.xml describes.
import { describe, expect, test } from '../helpers/fixtures.ts'
import { record } from '../helpers/figures.ts'
import { layoutsFor } from '../helpers/labs/tomcat.ts'

describe.each(layoutsFor())('cluster formation, %s layout (fixtures/tomcat/server.xml)', (topology) => {
  const config = { topology }

  test('each node lists the other, and only the other, as its replication member', async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const [a, b] = await Promise.all(lab.routes.map((route) => lab.node(route).cluster()))
    if (!a || !b) throw new Error(`expected two nodes, the lab has ${lab.routes.join(', ')}`)
    expect(a.clustered && b.clustered, JSON.stringify([a, b])).toBe(true)
    expect(a.members, JSON.stringify([a, b])).toEqual([b.localMember])
    expect(b.members, JSON.stringify([a, b])).toEqual([a.localMember])
    record({ kind: 'measure', name: `${topology}: cluster formed after node02 started`, value: lab.formationMs / 1000, unit: 's' })
    await annotate(`cluster formed ${(lab.formationMs / 1000).toFixed(1)} s after node02 was started`, 'figure')
    expect(lab.formationMs, 'membership within 30 s of the second node starting').toBeLessThan(30_000)
  })

  test('each node serves ExSession under its own jvmRoute', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    for (const route of lab.routes) {
      expect((await lab.node(route).cluster()).node).toBe(route)
    }
  })
})
