import { describe, expect, test } from 'vitest'
import { formatRules, parseRules, resolveRules } from '../../helpers/lab/ipvs/rules.ts'

const ORIGINAL = `# the original post's setup
-A -t VIP:80 -s rr
-a -t VIP:80 -r node2:80 -m
-a -t VIP:80 -r node1:80 -m -w 1
`

describe('ipvsadm-save rules', () => {
  test('parse the original setup into typed commands', () => {
    expect(parseRules(ORIGINAL, 'rr.rules')).toEqual([
      { op: 'add-service', service: { protocol: 'tcp', address: 'VIP', port: 80, scheduler: 'rr' } },
      { op: 'add-server', service: { protocol: 'tcp', address: 'VIP', port: 80 }, server: { address: 'node2', port: 80, forward: 'masq', weight: 1 } },
      { op: 'add-server', service: { protocol: 'tcp', address: 'VIP', port: 80 }, server: { address: 'node1', port: 80, forward: 'masq', weight: 1 } },
    ])
  })

  test('resolve symbolic names and serialise for ipvsadm -R', () => {
    const rules = resolveRules(parseRules(ORIGINAL, 'rr.rules'), { VIP: '172.29.3.200', node1: '172.29.3.2', node2: '172.29.3.3' }, 'rr.rules')
    expect(formatRules(rules)).toBe([
      '-A -t 172.29.3.200:80 -s rr',
      '-a -t 172.29.3.200:80 -r 172.29.3.3:80 -m -w 1',
      '-a -t 172.29.3.200:80 -r 172.29.3.2:80 -m -w 1',
      '',
    ].join('\n'))
  })

  test('persistence, weights, direct routing, edits and deletes round-trip', () => {
    const text = '-A -t 10.0.0.1:80 -s sh -p 60\n-a -t 10.0.0.1:80 -r 10.0.0.2:80 -g -w 3\n-e -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 0\n-d -t 10.0.0.1:80 -r 10.0.0.2:80\n-D -t 10.0.0.1:80\n'
    expect(formatRules(parseRules(text, 'x'))).toBe(text.replace('-p 60', '-p 60'))
    expect(parseRules('-A -t 10.0.0.1:80 -s rr -p', 'x')[0]).toMatchObject({ service: { persistence: 300 } })
  })

  test.each([
    ['-C', 'x.rules:1: -C would clear every virtual service'],
    ['-A -t VIP -s rr', 'x.rules:1: VIP is not ADDRESS:PORT'],
    ['\n-A -t VIP:80 -s fastest', 'x.rules:2: unknown scheduler fastest'],
    ['-a -t VIP:80 -m', 'x.rules:1: no real server'],
    ['-X -t VIP:80', 'x.rules:1: unknown command -X'],
    ['-a -t VIP:80 -r n:80 -w heavy', 'x.rules:1: weight heavy is not a number'],
  ])('%j is rejected with its line', (text, message) => {
    expect(() => parseRules(text, 'x.rules')).toThrow(message)
  })

  test('an unknown host name is named in the error', () => {
    expect(() => resolveRules(parseRules(ORIGINAL, 'rr.rules'), { VIP: '1.2.3.4', node1: '1.2.3.5' }, 'rr.rules'))
      .toThrow('rr.rules: unknown host node2; the lab knows VIP, node1')
  })
})
