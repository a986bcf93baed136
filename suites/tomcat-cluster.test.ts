// The Tomcat nodes find each other (the post's McastService 228.0.0.4:45564) and form the
// replication cluster its server.xml describes, and a write reaches the other node.
import { IN_ORDER, describeEachLayout, expect, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import { describeWindow, replicationWindow } from '../helpers/checks/replication.ts'

describeEachLayout('cluster formation, %s layout (fixtures/tomcat/server.xml)', (topology) => {
  const config = { topology }

  test('each node lists every other node, and only them, as its replication members', IN_ORDER, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const views = await Promise.all(lab.routes.map((route) => lab.node(route).cluster()))
    const shown = JSON.stringify(views)
    for (const view of views) {
      expect(view.clustered, shown).toBe(true)
      expect([...view.members].sort(), shown).toEqual(views.filter((v) => v !== view).map((v) => v.localMember).sort())
    }
    record({ kind: 'measure', name: `${topology}: cluster formed after the last node started`, value: lab.formationMs / 1000, unit: 's' })
    await annotate(`cluster formed ${(lab.formationMs / 1000).toFixed(1)} s after the last node was started`, 'figure')
    expect(lab.formationMs, 'membership within 30 s of the last node starting').toBeLessThan(30_000)
  })

  test('each node serves ExSession under its own jvmRoute', IN_ORDER, async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    for (const route of lab.routes) {
      expect((await lab.node(route).cluster()).node).toBe(route)
    }
  })

  // The replication window the failover verdicts use, measured here: a write that never reaches
  // the other node is lost the moment its node goes away, however long ago it was made.
  test('every write reaches the other nodes: the replication window is measured', IN_ORDER, async ({ tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const window = await replicationWindow(lab)
    await annotate(`${topology}: ${describeWindow(window)}; lags ${window.lagsMs.map((l) => l.toFixed(0)).join(', ')} ms`, 'figure')
    expect(window.neverArrived, `${describeWindow(window)}: those writes are lost on a failover however old they are`).toBe(0)
  })
})
