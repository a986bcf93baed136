// Day-two operations on a live virtual service: draining, removing and adding real servers, and
// what IPVS alone does when a real server dies (nothing: that is what health checking is for).
import { describe, expect, test } from '../helpers/lab/fixtures.ts'
import { holdConnection } from '../helpers/lab/http.ts'
import { record } from '../helpers/report/figures.ts'
import { alternates, tally } from '../helpers/checks/tally.ts'

describe('operations on real servers (fixtures/ipvs/rr.rules)', () => {
  test('weight 0 drains a node: no new connections reach it, an existing one still finishes', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.untilNoActiveConnections()
    const held = await holdConnection(lvs.vip)
    try {
      const rows = await lvs.servers()
      const draining = Object.keys(rows).find((node) => rows[node]!.activeConns === 1)!
      expect(draining, `the held connection shows as active:\n${await lvs.director.show()}`).toBeDefined()
      const other = draining === 'node 1' ? 'node 2' : 'node 1'
      await lvs.director.editServer(lvs.service, { address: lvs.node(draining).address, port: 80, forward: 'masq', weight: 0 })
      expect((await lvs.servers())[draining]!.weight).toBe(0)

      const served = await lvs.fromHost(6)
      expect(tally(served), `after draining ${draining}: ${served.join(', ')}`).toEqual({ [other]: 6 })
      expect(await held.finish()).toContain(`It works! ${draining}`)
    } finally {
      held.close()
    }
  })

  test('ipvsadm -d removes a real server: everything goes to the rest', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.director.deleteServer(lvs.service, { address: lvs.node('node1').address, port: 80 })
    expect(Object.keys(await lvs.servers())).toEqual(['node 2'])
    const served = await lvs.fromHost(6)
    expect(tally(served), served.join(', ')).toEqual({ 'node 2': 6 })
  })

  test('a third real server added to the service joins the rotation: 3/3/3 over 9 requests', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.director.addServer(lvs.service, { address: lvs.node('node3').address, port: 80, forward: 'masq', weight: 1 })
    const served = await lvs.fromHost(9)
    expect(tally(served), served.join(', ')).toEqual({ 'node 1': 3, 'node 2': 3, 'node 3': 3 })
    expect(alternates(served), served.join(', ')).toBe(true)
  })

  // node3 is the victim: the half-open connections it leaves count as active on the director for
  // the SYN_RECV timeout (60 s), which would skew tests that weigh connections on node1/node2.
  test('a stopped real server keeps its share of connections, and those fail: IPVS alone has no health check', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.director.addServer(lvs.service, { address: lvs.node('node3').address, port: 80, forward: 'masq', weight: 1 })
    await (await lvs.container('node3')).stop(2)
    const served = await lvs.fromHost(9, 2000)
    expect(tally(served), `with node3 stopped: ${served.join(', ')}`).toEqual({ 'node 1': 3, 'node 2': 3, failed: 3 })
    expect((await lvs.servers())['node 3'], 'the director still lists the dead node').toMatchObject({ weight: 1 })
    record({ kind: 'finding', severity: 'info', message: `IPVS has no health check: with node3 stopped, ${tally(served).failed} of ${served.length} new connections were still sent to it and failed; pair IPVS with a health checker (keepalived, ldirectord) or remove dead real servers.` })
  })
})
