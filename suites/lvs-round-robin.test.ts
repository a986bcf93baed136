// The original post's setup: `ipvsadm -A -t VIP:80 -s rr`, two Apache real servers added with -m.
import { describe, expect, test } from '../helpers/lab/fixtures.ts'
import { alternates, tally } from '../helpers/checks/tally.ts'

describe('round robin through the VIP (fixtures/ipvs/rr.rules)', () => {
  test('10 requests from the host alternate strictly between node 1 and node 2, 5/5', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    const served = await lvs.fromHost(10)
    expect(tally(served), `served in order: ${served.join(', ')}`).toEqual({ 'node 1': 5, 'node 2': 5 })
    expect(alternates(served), `served in order: ${served.join(', ')}`).toBe(true)
  })

  test('10 requests from a client container on the lab network alternate the same way', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    const served = await lvs.fromClient(10)
    expect(tally(served), `served in order: ${served.join(', ')}`).toEqual({ 'node 1': 5, 'node 2': 5 })
    expect(alternates(served), `served in order: ${served.join(', ')}`).toBe(true)
  })

  test('the director lists the service as the post shows it: rr, two Masq real servers of weight 1', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    const [service] = (await lvs.director.table()).filter((s) => s.address === lvs.vip)
    expect(service).toMatchObject({ protocol: 'tcp', port: 80, scheduler: 'rr' })
    expect(Object.entries(await lvs.servers()).map(([node, row]) => [node, row.forward, row.weight]).sort())
      .toEqual([['node 1', 'masq', 1], ['node 2', 'masq', 1]])
  })
})
