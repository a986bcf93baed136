// `ipvsadm -L -n --stats` must agree with the traffic sent: the kernel's own counters as evidence.
import { describe, expect, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import { tally } from '../helpers/checks/tally.ts'

const N = 10

describe('ipvsadm --stats counters (fixtures/ipvs/rr.rules)', () => {
  test(`after zeroing and exactly ${N} requests, Conns is ${N / 2} per real server and ${N} for the service`, async ({ lvs }) => {
    await lvs.apply('rr.rules')
    const zeroed = await lvs.zeroCounters()
    const served = await lvs.fromHost(N)
    expect(tally(served)).toEqual({ 'node 1': N / 2, 'node 2': N / 2 })

    const { figures, text } = await lvs.statsAfter(N)
    record({ kind: 'ipvs-stats', before: zeroed, after: text })
    expect(figures.totals.conns, text).toBe(N)
    expect(figures.servers.map((s) => s.conns), text).toEqual([N / 2, N / 2])
  })

  test('packets and bytes are counted both ways per real server, and the service row is their sum', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.zeroCounters()
    await lvs.fromHost(N)
    const { figures, text } = await lvs.statsAfter(N)
    const counters = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const
    for (const server of figures.servers) {
      for (const c of counters) expect(server[c], `${c} of ${server.address}\n${text}`).toBeGreaterThan(0)
    }
    for (const c of counters) {
      expect(figures.totals[c], `service ${c} = sum of real servers\n${text}`)
        .toBe(figures.servers.reduce((sum, s) => sum + s[c], 0))
    }
  })

  test('zeroing resets every counter of the service', async ({ lvs }) => {
    await lvs.apply('rr.rules')
    await lvs.fromHost(2)
    await lvs.statsAfter(2)
    await lvs.director.zero(lvs.service)
    const [figures] = (await lvs.director.stats()).filter((s) => s.address === lvs.vip)
    expect(figures!.totals, await lvs.director.show('stats')).toEqual({ conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0 })
  })
})
