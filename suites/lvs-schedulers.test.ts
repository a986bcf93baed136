// Schedulers other than rr, each with the distribution it promises.
import { describe, expect, test } from '../helpers/lab/fixtures.ts'
import { holdConnection } from '../helpers/lab/http.ts'
import { tally } from '../helpers/checks/tally.ts'

describe('other schedulers', () => {
  test('weighted round robin 3:1 gives 9/3 over 12 requests (fixtures/ipvs/wrr.rules)', async ({ lvs }) => {
    await lvs.apply('wrr.rules')
    const served = await lvs.fromHost(12)
    expect(tally(served), `served in order: ${served.join(', ')}`).toEqual({ 'node 1': 9, 'node 2': 3 })
  })

  test('least connections sends new connections away from a node holding a long one (fixtures/ipvs/lc.rules)', async ({ lvs }) => {
    await lvs.apply('lc.rules')
    await lvs.untilNoActiveConnections() // lc weighs active connections: start from none
    const held = await holdConnection(lvs.vip)
    try {
      const table = await lvs.director.show()
      const rows = await lvs.servers()
      const busy = Object.keys(rows).filter((node) => rows[node]!.activeConns === 1)
      const idle = Object.keys(rows).filter((node) => rows[node]!.activeConns === 0)
      expect([busy.length, idle.length], `one real server holds the long connection, the other none:\n${table}`).toEqual([1, 1])

      const served = await lvs.fromHost(6)
      expect(tally(served), `while ${busy[0]} holds a connection, served: ${served.join(', ')}\n${table}`).toEqual({ [idle[0]!]: 6 })
      expect(await held.finish(), 'the held connection completes on the node that held it').toContain(`It works! ${busy[0]}`)
    } finally {
      held.close()
    }
  })

  test('source hashing pins each client address to one node, and other addresses land elsewhere (fixtures/ipvs/sh.rules)', async ({ lvs }) => {
    await lvs.apply('sh.rules')
    const byClient: Record<string, string[]> = {}
    for (const source of lvs.info.client.sources) byClient[source] = await lvs.fromClient(3, source)
    const summary = Object.entries(byClient).map(([source, served]) => `${source}: ${served.join(', ')}`).join('\n')
    for (const served of Object.values(byClient)) expect(new Set(served).size, summary).toBe(1)
    expect(new Set(Object.values(byClient).map((served) => served[0])), summary).toEqual(new Set(['node 1', 'node 2']))
  })

  test('persistence (-p 300) keeps a client on its first node while a second client gets the other (fixtures/ipvs/persistent.rules)', async ({ lvs }) => {
    await lvs.apply('persistent.rules')
    const [first, second] = lvs.info.client.sources
    const a = await lvs.fromClient(6, first)
    const b = await lvs.fromClient(6, second)
    expect(new Set(a), `client ${first}: ${a.join(', ')}`).toHaveProperty('size', 1)
    expect(new Set(b), `client ${second}: ${b.join(', ')}`).toHaveProperty('size', 1)
    expect(a[0], `client ${first} on ${a[0]}, client ${second} on ${b[0]}`).not.toBe(b[0])
  })
})
