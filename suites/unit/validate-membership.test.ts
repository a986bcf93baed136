import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { labProperties } from '../../helpers/intake/plan.ts'
import type { ValidateOptions } from '../../helpers/validate/index.ts'
import { readServerXml } from '../../helpers/validate/tomcat.ts'
import { variants } from '../support/variant.ts'

/**
 * Membership services other than multicast: StaticMembershipService (one <Member> per node, itself
 * included), StaticMembershipInterceptor (the older style: the peers as <Member>), CloudMembershipService
 * with the DNS or the Kubernetes provider. Each node's server.xml is fixtures/tomcat/server.xml with
 * its <Membership> (and Receiver) replaced, in a scratch copy of fixtures/.
 */
const QUICK_DETECTION = /<!-- TcpPingInterceptor every[^]*?-->\s*<Interceptor className="org\.apache\.catalina\.tribes\.group\.interceptors\.TcpPingInterceptor"[^>]*\/>\s*(<Interceptor className="org\.apache\.catalina\.tribes\.group\.interceptors\.TcpFailureDetector") connectTimeout="250"\/>/
/** The fixture with a plain TcpFailureDetector (no ping, no comment on it): what the DNS cases add a ping to. The kill-failover finding that asks for it is tested in validate-tomcat. */
const TEMPLATE = readFileSync('fixtures/tomcat/server.xml', 'utf8').replace(QUICK_DETECTION, '$1/>')
const MCAST = /<Membership className="org\.apache\.catalina\.tribes\.membership\.McastService"[^>]*\/>/
const STATIC = 'org.apache.catalina.tribes.membership.StaticMembershipService'
const CLOUD = 'org.apache.catalina.tribes.membership.cloud.CloudMembershipService'

const variant = variants('lb-e2e-membership-')

/** The template with `membership` in place of its McastService, and the Receiver on `receiver`. */
function serverXml(membership: string, receiver: { port?: number | string; address?: string } = {}): string {
  return TEMPLATE.replace('address="auto"', `address="${receiver.address ?? 'auto'}"`)
    .replace('port="4001"', `port="${receiver.port ?? 4001}"`)
    .replace(MCAST, membership)
}

const id = (n: number) => `{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,${n}}`
interface Member { host?: string; port?: number | string; uniqueId?: string }
const member = (m: Member) => `<Member className="org.apache.catalina.tribes.membership.StaticMember"${m.host !== undefined ? ` host="${m.host}"` : ''}` +
  `${m.port !== undefined ? ` port="${m.port}"` : ''}${m.uniqueId !== undefined ? ` uniqueId="${m.uniqueId}"` : ''}/>`
const staticService = (members: Member[]) => `<Membership className="${STATIC}">
              ${members.map(member).join('\n              ')}
            </Membership>`
const dns = (provider = 'dns', attributes = '') => `<Membership className="${CLOUD}" membershipProviderClassName="${provider}"${attributes}/>`
const DETECTOR = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>'
const PING = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="250"/>'
/** DNS membership as dns-membership-three-nodes writes it: a ping every 250 ms ahead of the failure detector, peers listed 120 s. */
const steadyDns = (receiver: { port?: number; address?: string } = {}, ping = PING, expiration = ' expirationTime="120000"') =>
  serverXml(dns('dns', expiration), receiver).replace(DETECTOR, `${ping}\n            ${DETECTOR}`)

/** The lab's three nodes, each on its own host and Receiver port; nodeMember(2) is node02. */
const HOSTS = ['10.88.0.141', '10.88.0.142', '10.88.0.143']
const nodeMember = (n: number): Member => ({ host: HOSTS[n - 1], port: 4000 + n, uniqueId: id(n) })
const EVERY = [nodeMember(1), nodeMember(2), nodeMember(3)]
const file = (n: number) => `tomcat/node0${n}/server.xml`
/** Both balancers with a third member (NODE03_…, route=node03 where the second has route=node02), for three nodes. */
const third = (t: string) => t.replace(/^( *)BalancerMember http:\/\/\$\{NODE02_ADDR\}:\$\{NODE02_PORT\}(.*)$/m,
  (line, indent: string, rest: string) => `${line}\n${indent}BalancerMember http://\${NODE03_ADDR}:\${NODE03_PORT}${rest.replace('route=node02', 'route=node03')}`)
const THIRD_MEMBER = { 'httpd/balancer-sticky.conf': third, 'httpd/balancer-nonsticky.conf': third }
/** Three nodes, each with its own server.xml (`xml(n)`). */
const threeNodes = (xml: (n: number) => string, options: ValidateOptions = {}) =>
  variant('fixtures', { ...THIRD_MEMBER, [file(1)]: xml(1), [file(2)]: xml(2), [file(3)]: xml(3) }, options)
const twoNodes = (xml: (n: number) => string, options: ValidateOptions = {}) => variant('fixtures', { [file(1)]: xml(1), [file(2)]: xml(2) }, options)
/** Warnings about the nodes' own files (the copied fixtures' variants and balancer-original.conf have theirs). */
const nodeFindings = (findings: string[]) => findings.filter((f) => f.includes(' tomcat/node0') && !f.includes('no quick failure detection'))

describe('membership: what is read', () => {
  test('a static list: kind, class, each member with ${property} references resolved, where', () => {
    const xml = serverXml(staticService([{ host: '${lb-e2e.node01.address}', port: 4001, uniqueId: id(1) }, { host: '10.88.0.142', port: '${cluster.port}', uniqueId: '{1,2}' }]))
    const s = readServerXml(xml, 'server.xml', { ...labProperties('node01'), 'lb-e2e.node01.address': '10.88.0.141' })
    expect(s.cluster?.multicast).toBeUndefined()
    expect(s.cluster?.membership).toEqual({
      kind: 'static', className: STATIC, line: 27, column: 13,
      members: [
        {
          line: 28, column: 15,
          host: { raw: '${lb-e2e.node01.address}', value: '10.88.0.141', line: 28, column: 86 },
          port: { raw: '4001', value: 4001, line: 28, column: 118 },
          uniqueId: { raw: id(1), value: id(1), line: 28, column: 130 },
        },
        {
          line: 29, column: 15,
          host: { raw: '10.88.0.142', value: '10.88.0.142', line: 29, column: 86 },
          port: { raw: '${cluster.port}', value: undefined, line: 29, column: 105 },
          uniqueId: { raw: '{1,2}', value: undefined, line: 29, column: 128 },
        },
      ],
    })
    expect(s.unresolved.map((u) => u.name)).toEqual(['cluster.port'])
  })

  test('the other kinds: multicast by default or by name, DNS and Kubernetes by provider, the interceptor beside McastService', () => {
    const kind = (xml: string) => readServerXml(xml, 'server.xml', {}).cluster?.membership
    expect(kind(TEMPLATE)).toMatchObject({ kind: 'multicast', className: 'org.apache.catalina.tribes.membership.McastService', line: 27, members: [] })
    expect(kind(TEMPLATE.replace(MCAST, ''))).toMatchObject({ kind: 'multicast', line: 26, column: 11 }) // no <Membership>: the <Channel>
    expect(kind(serverXml(dns()))).toMatchObject({ kind: 'dns', provider: { raw: 'dns', value: 'dns' } })
    expect(kind(serverXml(dns('org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider')))?.kind).toBe('dns')
    expect(kind(serverXml(dns('kubernetes')))?.kind).toBe('kubernetes')
    const unset = kind(serverXml(`<Membership className="${CLOUD}"/>`))
    expect(unset).toMatchObject({ kind: 'kubernetes', provider: { value: undefined } })
    expect(unset?.provider?.raw).toBeUndefined()
    expect(kind(serverXml(dns('com.example.ConsulMembershipProvider')))?.kind).toBe('other')
    expect(kind(serverXml('<Membership className="com.example.GossipMembership"/>'))).toMatchObject({ kind: 'other', className: 'com.example.GossipMembership' })
    const interceptor = kind(TEMPLATE.replace('<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>',
      `$&\n<Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">${member(nodeMember(2))}</Interceptor>`))
    expect(interceptor).toMatchObject({ kind: 'static-interceptor', className: 'org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor', line: 44, column: 1 })
    expect(interceptor?.members.map((m) => [m.host.value, m.port.value, m.uniqueId.value])).toEqual([['10.88.0.142', 4002, id(2)]])
  })
})

describe('membership: configurations that work', () => {
  test('three nodes with static membership, the hosts from the lab\'s -Dlb-e2e.nodeNN.address properties: no error, no warning', () => {
    const addresses = Object.fromEntries(HOSTS.map((h, i) => [`lb-e2e.node0${i + 1}.address`, h]))
    const list = EVERY.map((m, i) => ({ ...m, host: `\${lb-e2e.node0${i + 1}.address}` }))
    const v = threeNodes((n) => serverXml(staticService(list), { port: 4000 + n }), { properties: (node) => ({ ...labProperties(node), ...addresses }) })
    expect(v.errors).toEqual([])
    expect(nodeFindings(v.findings)).toEqual([])
    expect(v.nodes.map((n) => n.node)).toEqual(['node01', 'node02', 'node03'])
  })

  test('two nodes with static membership on one Receiver port each (multi-host): no error', () => {
    const list = [{ ...nodeMember(1), port: 4000 }, { ...nodeMember(2), port: 4000 }]
    expect(twoNodes(() => serverXml(staticService(list), { port: 4000 })).errors).toEqual([])
  })

  test('three nodes with DNS membership, one Receiver port, a quick ping ahead of the failure detector: no error, no warning', () => {
    expect(steadyDns()).toContain(`${PING}\n            ${DETECTOR}`)
    const v = threeNodes(() => steadyDns({ port: 4000 }))
    expect(v.errors).toEqual([])
    expect(nodeFindings(v.findings)).toEqual([])
  })

  test('DNS membership without that ping, with it after the detector or slow, or with peers expiring at 5 s: a warning naming the measured loss and the fix', () => {
    const warned = (xml: string) => nodeFindings(threeNodes(() => xml).findings)
    const message = expect.stringContaining('DNS membership (CloudMembershipService, dns) names a peer by its address, so a node restarted at its old address is the same member')
    for (const xml of [
      serverXml(dns(), { port: 4000 }),
      steadyDns({ port: 4000 }, PING, ''),
      steadyDns({ port: 4000 }, PING.replace('interval="250"', 'interval="1000"')),
      steadyDns({ port: 4000 }, PING.replace(' useThread="true"', '')),
      serverXml(dns('dns', ' expirationTime="120000"'), { port: 4000 }).replace(DETECTOR, `${DETECTOR}\n            ${PING}`),
    ]) expect(warned(xml), xml.match(/<Membership[^>]*>|<Interceptor[^>]*Ping[^>]*>/g)?.join(' ')).toEqual([message, message, message])
  })

  test('two nodes with StaticMembershipInterceptor, each listing the other: no error', () => {
    const interceptor = (n: number) => TEMPLATE.replace('<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>',
      `$&\n            <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">${member(nodeMember(3 - n))}</Interceptor>`)
    expect(twoNodes(interceptor).errors).toEqual([])
  })
})

describe('membership: one file', () => {
  test('Kubernetes membership: the lab has no API server', () => {
    const kubernetes = (membership: string) => twoNodes(() => serverXml(membership)).errors.filter((e) => e.startsWith('tomcat/node01/'))
    expect(kubernetes(dns('kubernetes'))).toEqual([
      'tomcat/node01/server.xml:27:104: membershipProviderClassName="kubernetes" is Kubernetes membership: it asks a Kubernetes API server for the cluster\'s pods, ' +
        'and the lab has no API server, so no node finds another and nothing replicates; for the gate use membershipProviderClassName="dns" ' +
        '(DNS_MEMBERSHIP_SERVICE_NAME resolving to every node) or StaticMembershipService with one <Member> per node',
    ])
    expect(kubernetes(`<Membership className="${CLOUD}"/>`)).toEqual([
      expect.stringMatching(/^tomcat\/node01\/server\.xml:27:13: CloudMembershipService without membershipProviderClassName is Kubernetes membership \(Tomcat's default provider\): it asks a Kubernetes API server/),
    ])
    expect(kubernetes(dns('org.apache.catalina.tribes.membership.cloud.KubernetesMembershipProvider'))).toEqual([
      expect.stringMatching(/membershipProviderClassName="org\.apache\.catalina\.tribes\.membership\.cloud\.KubernetesMembershipProvider" is Kubernetes membership: .*use membershipProviderClassName="dns"/),
    ])
  })

  test('StaticMembershipService without any <Member>', () => {
    expect(twoNodes(() => serverXml(`<Membership className="${STATIC}"/>`)).errors).toEqual([1, 2].map((n) =>
      `${file(n)}:27:13: StaticMembershipService lists no <Member>: Tomcat finds this node in that list by the Receiver's address and port, ` +
      'so it stops with \'There is no localMember in static member list\'; add one <Member className="org.apache.catalina.tribes.membership.StaticMember" host="…" port="…" ' +
      'uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"/> per node, this one included'))
  })

  test('StaticMembershipInterceptor without any <Member>', () => {
    const empty = TEMPLATE.replace('<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>',
      '$&\n            <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor"/>')
    expect(twoNodes(() => empty).errors).toEqual([1, 2].map((n) =>
      `${file(n)}:44:13: StaticMembershipInterceptor lists no <Member>: this node knows no peer to replicate to; add one ` +
      '<Member className="org.apache.catalina.tribes.membership.StaticMember" host="…" port="…" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"/> per other node'))
  })

  test('a <Member> without host, one without port, one without either', () => {
    const v = threeNodes((n) => serverXml(staticService(n === 1 ? [{ port: 4001, uniqueId: id(1) }, { host: HOSTS[1], uniqueId: id(2) }, { uniqueId: id(3) }] : EVERY), { port: 4000 + n }))
    const consequence = ': a static member has no default for it, so Tomcat never reaches that node (and a node cannot find itself in the list); ' +
      'add host="…" port="…": that node\'s address and its Receiver port'
    expect(v.errors).toEqual([
      `${file(1)}:28:15: <Member> has no host${consequence}`,
      `${file(1)}:29:15: <Member> has no port${consequence}`,
      `${file(1)}:30:15: <Member> has no host and no port${consequence}`,
    ])
  })

  test('two <Member> with one uniqueId', () => {
    const v = twoNodes((n) => serverXml(staticService([nodeMember(1), { ...nodeMember(2), uniqueId: '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,+1}' }]), { port: 4000 + n }))
    expect(v.errors).toEqual([1, 2].map((n) =>
      `${file(n)}:29:117: uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,+1}" is also the uniqueId of the <Member> at ${file(n)}:28:15: ` +
      'a member\'s uniqueId is the id that node goes by in the cluster, so two nodes must not share one; give every <Member> its own (e.g. a different last byte)'))
  })

  test.each([
    ['no braces', '0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1', 'it does not start with {', '"byte arrays must be represented as {1,3,4,5,6}"'],
    ['15 bytes', '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}', 'it has 15 bytes, not 16', '"UUID must be exactly 16 bytes"'],
    ['the 10 bytes of Tomcat\'s own documentation example', '{0,1,2,3,4,5,6,7,8,9}', 'it has 10 bytes, not 16', '"UUID must be exactly 16 bytes"'],
    ['spaces after the commas', '{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}', '" 0" is not a byte, -128 to 127 (spaces count)', 'a NumberFormatException'],
    ['a byte above 127', '{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,200}', '"200" is not a byte, -128 to 127', 'a NumberFormatException'],
    ['hexadecimal', '{0x0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}', '"0x0" is not a byte, -128 to 127', 'a NumberFormatException'],
  ])('a uniqueId Tomcat refuses: %s', (_, uniqueId, problem, thrown) => {
    const v = twoNodes((n) => serverXml(staticService(n === 1 ? [{ ...nodeMember(1), uniqueId }, nodeMember(2)] : [nodeMember(1), nodeMember(2)]), { port: 4000 + n }))
    expect(v.errors).toEqual([
      `${file(1)}:28:117: uniqueId="${uniqueId}" is not 16 bytes in braces (${problem}): StaticMember refuses it (${thrown}), ` +
      'Tomcat logs the exception and the member keeps the default id, 16 zero bytes; write 16 numbers from -128 to 127, comma-separated without spaces, ' +
      'e.g. uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"',
    ])
  })

  test('a uniqueId from a ${property}: checked once resolved; an undefined one is reported as that only', () => {
    const list = (uniqueId: string) => (n: number) => serverXml(staticService([{ ...nodeMember(1), uniqueId }, nodeMember(2)]), { port: 4000 + n })
    const options = { properties: (node: string) => ({ ...labProperties(node), 'node01.id': '{1,2,3}' }) }
    expect(twoNodes(list('${node01.id}'), options).errors).toEqual([1, 2].map((n) => expect.stringMatching(
      new RegExp(`^${file(n)}:28:117: uniqueId="\\$\\{node01\\.id\\}" is not 16 bytes in braces \\(it has 3 bytes, not 16\\)`))))
    expect(twoNodes(list('${node01.uuid}'), options).errors).toEqual([1, 2].map((n) => expect.stringMatching(
      new RegExp(`^${file(n)}:28:117: \\$\\{node01\\.uuid\\} \\(in uniqueId\\) is not defined`))))
  })

  test('Receiver address="0.0.0.0" with static or DNS membership: an error; with multicast it stays a warning', () => {
    const statics = twoNodes((n) => serverXml(staticService([nodeMember(1), nodeMember(2)]), { port: 4000 + n, address: '0.0.0.0' }))
    expect(statics.errors).toEqual([1, 2].map((n) =>
      `${file(n)}:33:23: Receiver address="0.0.0.0" with StaticMembershipService: Tomcat finds this node in its static member list by the Receiver's address and port, ` +
      'and no node\'s address is 0.0.0.0, so it stops with \'There is no localMember in static member list\'; set address= to this node\'s own address ' +
      '(the host its <Member> lists) or "auto" (this host\'s address)'))
    const dnsAny = twoNodes(() => steadyDns({ address: '0.0.0.0' }))
    expect(dnsAny.errors).toEqual([1, 2].map((n) =>
      `${file(n)}:30:23: Receiver address="0.0.0.0" with DNS membership: Tomcat tells itself from its peers among the DNS answers by the Receiver's address, ` +
      'so it takes itself for a peer, and it advertises 0.0.0.0 to the others, which cannot reach it there: nothing replicates; use address="auto" (this host\'s address) or the node\'s own address'))
    for (const v of [statics, dnsAny]) expect(nodeFindings(v.findings)).toEqual([])
    const multicast = twoNodes(() => serverXml(TEMPLATE.match(MCAST)![0], { address: '0.0.0.0' }))
    expect(multicast.errors).toEqual([])
    expect(nodeFindings(multicast.findings)).toEqual([1, 2].map((n) =>
      expect.stringMatching(new RegExp(`^warning ${file(n)}:34: Receiver address="0\\.0\\.0\\.0" is what this node advertises to its peers`))))
  })
})

describe('membership: across the nodes', () => {
  test('a node missing from its own static member list (its Receiver port is no member\'s)', () => {
    const v = twoNodes((n) => serverXml(staticService([nodeMember(1), nodeMember(2)]), { port: n === 2 ? 4003 : 4001 }))
    expect(v.errors).toEqual([
      `${file(2)}:27:13: node02's Receiver port 4003 (${file(2)}:34:23) is the port of none of its static members (4001, 4002): ` +
      'this node is missing from its own static member list: Tomcat stops with \'There is no localMember in static member list\'; ' +
      'add a <Member> with this node\'s address and port 4003 (every node lists every node, itself included)',
    ])
  })

  test('a node whose list leaves out another node; lists longer than the nodes', () => {
    const short = threeNodes((n) => serverXml(staticService(n === 3 ? [nodeMember(1), nodeMember(3)] : EVERY), { port: 4000 + n }))
    expect(short.errors).toEqual([
      `${file(3)}:27:13: node03's StaticMembershipService lists 2 members for the lab's 3 nodes (node01, node02, node03), while node01 lists 3, node02 lists 3: ` +
      'a node missing from a list is never its peer, so sessions do not reach it; list every node on every node, itself included (the same list everywhere)',
    ])
    const long = twoNodes((n) => serverXml(staticService(EVERY), { port: 4000 + n }))
    expect(long.errors).toEqual([1, 2].map((n) =>
      `${file(n)}:27:13: node0${n}'s StaticMembershipService lists 3 members for the lab's 2 nodes (node01, node02): ` +
      'a member the lab does not run is never reached; list every node on every node, itself included (the same list everywhere)'))
  })

  test("two nodes whose own members have one uniqueId (each file gives itself the first id)", () => {
    const v = twoNodes((n) => serverXml(staticService(n === 1 ? [nodeMember(1), nodeMember(2)] : [{ ...nodeMember(2), uniqueId: id(1) }, { ...nodeMember(1), uniqueId: id(2) }]), { port: 4000 + n }))
    expect(v.errors).toEqual([
      `${file(2)}:28:117: node02's own static member (port 4002) has uniqueId ${id(1)}, as node01's own member does (${file(1)}:28:117): ` +
      'the two nodes go by one id in the cluster; give each node\'s <Member> its own uniqueId, the same one in every node\'s list',
    ])
  })

  test('one shared server.xml with a static list: each node binds its own port (autoBind), so its own member is not compared by uniqueId', () => {
    const shared = serverXml(staticService([{ ...nodeMember(1), port: 4000 }, { ...nodeMember(2), port: 4000 }]), { port: 4000 })
    expect(variant('fixtures', { 'tomcat/server.xml': shared }).errors).toEqual([])
  })

  test('DNS membership with different Receiver ports', () => {
    const v = threeNodes((n) => serverXml(dns(), { port: n === 3 ? 4100 : 4000 }))
    expect(v.errors).toEqual([
      `${file(3)}:31:23: node03's Receiver port 4100 differs from node01's 4000 (${file(1)}:31:23): DNS membership assumes every peer listens on this node's Receiver port, ` +
      'so each sends to the other on a port nobody listens on and nothing replicates; use the same Receiver port on every node',
    ])
  })

  test('nodes that mix membership kinds', () => {
    const v = threeNodes((n) => (n === 1 ? serverXml(staticService(EVERY), { port: 4001 }) : n === 2 ? serverXml(dns(), { port: 4002 }) : serverXml(TEMPLATE.match(MCAST)![0], { port: 4003 })))
    expect(v.errors).toEqual([
      `${file(2)}:27:13: node02's cluster membership is DNS (CloudMembershipService, dns) while node01's is static (StaticMembershipService) (${file(1)}:27:13): ` +
      'they never find each other, so nothing replicates; use the same membership service on every node',
      `${file(3)}:27:13: node03's cluster membership is multicast (McastService) while node01's is static (StaticMembershipService) (${file(1)}:27:13): ` +
      'they never find each other, so nothing replicates; use the same membership service on every node',
    ])
  })

  test('StaticMembershipInterceptor lists that leave out a peer', () => {
    const interceptor = (members: Member[]) => TEMPLATE.replace('<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>',
      `$&\n            <Interceptor className="org.apache.catalina.tribes.group.interceptors.StaticMembershipInterceptor">${members.map(member).join('')}</Interceptor>`)
    const v = threeNodes((n) => interceptor(n === 1 ? [nodeMember(2)] : EVERY.filter((_, i) => i !== n - 1)))
    expect(v.errors).toEqual([
      `${file(1)}:44:13: node01's StaticMembershipInterceptor lists 1 member for the lab's 3 nodes (node01, node02, node03), while node02 lists 2, node03 lists 2: ` +
      'a node missing from a list is never its peer, so sessions do not reach it; list every other node on every node (the same list everywhere)',
    ])
  })
})
