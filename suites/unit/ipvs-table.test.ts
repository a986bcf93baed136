import { describe, expect, test } from 'vitest'
import { parseRates, parseStats, parseTable } from '../../helpers/lab/ipvs/table.ts'

// Captured from the original post (ipvsadm 1.31 prints the same layout).
const TABLE = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.0.2.200:80 rr
  -> 172.17.0.2:80                Masq    1      0          0
  -> 172.17.0.3:80                Masq    1      0          0
TCP  10.0.2.201:80 sh persistent 300
  -> 172.17.0.4:80                Route   3      2          7
`

const STATS = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes
  -> RemoteAddress:Port
TCP  10.0.2.200:80                       4       24       16     1576     1972
  -> 172.17.0.2:80                       2       12        8      788      986
  -> 172.17.0.3:80                       2       12        8      788      986
`

const RATE = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS
  -> RemoteAddress:Port
TCP  10.0.2.200:80                       1        6        4      394      493
  -> 172.17.0.2:80                       0        3        2      197      246
`

describe('ipvsadm -L -n --exact parsers', () => {
  test('table: services, scheduler, persistence, forward, weight, connections', () => {
    expect(parseTable(TABLE)).toEqual([
      { protocol: 'tcp', address: '10.0.2.200', port: 80, scheduler: 'rr', servers: [
        { address: '172.17.0.2', port: 80, forward: 'masq', weight: 1, activeConns: 0, inactiveConns: 0 },
        { address: '172.17.0.3', port: 80, forward: 'masq', weight: 1, activeConns: 0, inactiveConns: 0 },
      ] },
      { protocol: 'tcp', address: '10.0.2.201', port: 80, scheduler: 'sh', persistence: 300, servers: [
        { address: '172.17.0.4', port: 80, forward: 'route', weight: 3, activeConns: 2, inactiveConns: 7 },
      ] },
    ])
  })

  test('stats: totals and per real server', () => {
    const [svc] = parseStats(STATS)
    expect(svc!.totals).toEqual({ conns: 4, inPkts: 24, outPkts: 16, inBytes: 1576, outBytes: 1972 })
    expect(svc!.servers.map((s) => [s.address, s.conns, s.outBytes])).toEqual([['172.17.0.2', 2, 986], ['172.17.0.3', 2, 986]])
  })

  test('rate: per-second figures', () => {
    expect(parseRates(RATE)[0]!.totals).toEqual({ cps: 1, inPps: 6, outPps: 4, inBps: 394, outBps: 493 })
  })

  test('an empty table is no services', () => {
    expect(parseTable(TABLE.split('\n').slice(0, 3).join('\n'))).toEqual([])
  })

  test('rounded figures (no --exact) and foreign text are refused', () => {
    expect(() => parseStats(STATS.replace('1576', '1576K'))).toThrow('was --exact given?')
    expect(() => parseTable('ipvsadm: command not found')).toThrow('not ipvsadm -L -n output')
  })
})
