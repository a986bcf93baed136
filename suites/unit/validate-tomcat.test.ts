import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { formatFinding } from '../../helpers/validate/findings.ts'
import { checkServerXml, readServerXml } from '../../helpers/validate/tomcat.ts'

const NODE01 = { jvmRoute: 'node01', 'http.port': '8080', 'shutdown.port': '8005' }
const read = (file: string) => readFileSync(file, 'utf8')
const SERVER_XML = read('fixtures/tomcat/server.xml')
const POST_NODE02 = 'examples/blog-post/tomcat/node02/server.xml'

/** A small server.xml with `cluster` inside <Host>. */
function server(cluster: string, engine = 'jvmRoute="node01"'): string {
  return `<Server port="8005" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1"/>
    <Engine name="Catalina" defaultHost="localhost" ${engine}>
      <Host name="localhost" appBase="webapps">
        ${cluster}
      </Host>
    </Engine>
  </Service>
</Server>
`
}

function messages(text: string, properties: Record<string, string> = NODE01, file = 'server.xml', variant = false) {
  const report = checkServerXml(readServerXml(text, file, properties), { variant })
  return { errors: report.errors.map((e) => e.message), findings: report.findings.map(formatFinding) }
}

describe('server.xml: what is read', () => {
  test('the default fixture: ports and jvmRoute from the properties, the cluster as written', () => {
    const s = readServerXml(SERVER_XML, 'fixtures/tomcat/server.xml', NODE01)
    expect(s.shutdownPort).toEqual({ raw: '${shutdown.port}', value: 8005, line: 6, column: 9 })
    expect(s.httpPorts.map((p) => p.value)).toEqual([8080])
    expect(s.engine?.jvmRoute).toEqual({ raw: '${jvmRoute}', value: 'node01', line: 13, column: 53 })
    expect(s.cluster).toMatchObject({
      line: 19, column: 9, parent: 'Host', className: 'org.apache.catalina.ha.tcp.SimpleTcpCluster',
      channelSendOptions: { raw: '6', value: 6, line: 20, column: 18 },
      manager: { className: { value: 'org.apache.catalina.ha.session.DeltaManager' }, replicates: true, expireSessionsOnShutdown: { value: false } },
      multicast: { address: { value: '228.0.0.4' }, port: { value: 45564, line: 29 } },
      receiver: { address: { value: 'auto' }, port: { value: 4001 }, autoBind: { value: 100 } },
      replicationValve: true, jvmRouteBinderValve: true, clusterSessionListener: true,
    })
    expect(s.unresolved).toEqual([])
  })

  test("the post's stock Tomcat 9 file (node02): literal ports 8280/8205/4002, AJP and the sample <Cluster> commented out", () => {
    const s = readServerXml(read(POST_NODE02), POST_NODE02)
    expect(s.shutdownPort.value).toBe(8205)
    expect(s.httpPorts.map((p) => p.value)).toEqual([8280])
    expect(s.engine?.jvmRoute?.value).toBe('node02')
    expect(s.cluster).toMatchObject({ parent: 'Host', line: 136, receiver: { address: { value: '0.0.0.0' }, port: { value: 4002 } }, channelSendOptions: { value: 8 } })
  })

  test("Tomcat's defaults count where server.xml says nothing: DeltaManager, both valves, ClusterSessionListener, 228.0.0.4:45564, asynchronous 8", () => {
    const s = readServerXml(server('<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>'), 'server.xml')
    expect(s.cluster).toMatchObject({
      channelSendOptions: { value: 8 }, manager: { className: { value: 'org.apache.catalina.ha.session.DeltaManager' }, replicates: true },
      multicast: { address: { value: '228.0.0.4' }, port: { value: 45564 } }, receiver: { address: { value: 'auto' }, port: { value: 4000 } },
      valves: [], replicationValve: true, jvmRouteBinderValve: true, clusterSessionListener: true,
    })
  })

  test('channelSendOptions may be option names, as SimpleTcpCluster accepts them', () => {
    const s = readServerXml(server('<Cluster className="x" channelSendOptions="use_ack,synchronized_ack"/>'), 'server.xml')
    expect(s.cluster?.channelSendOptions.value).toBe(6)
  })
})

describe('server.xml: errors', () => {
  test('not well-formed: the file, line and column, and which element is left open', () => {
    expect(() => readServerXml(SERVER_XML.replace('</Host>', ''), 'fixtures/tomcat/server.xml', NODE01)).toThrow(
      'fixtures/tomcat/server.xml:66:13: not well-formed XML: </Engine> found where <Host> (opened at 15:7) must be closed first. Fix the markup there: Tomcat cannot read this file')
  })

  test.each([
    ['an unquoted attribute', SERVER_XML.replace('port="4001"', 'port=4001'), 'fixtures/tomcat/server.xml:35:28: not well-formed XML: unquoted attribute value'],
    ['a second root element', `${SERVER_XML}\n<Server/>\n`, 'fixtures/tomcat/server.xml:70:8: not well-formed XML: documents may contain only one root'],
    ['a bare & in a value', SERVER_XML.replace('filter=""', 'filter="a&b"'), 'fixtures/tomcat/server.xml:53:27: not well-formed XML: a bare & (write &amp; for the character itself)'],
    ['an element never closed', SERVER_XML.replace('</Server>', ''), 'fixtures/tomcat/server.xml:69: not well-formed XML: <Server> (opened at 6:1) is never closed'],
  ])('not well-formed: %s', (_, text, message) => {
    expect(() => readServerXml(text, 'fixtures/tomcat/server.xml', NODE01)).toThrow(message)
  })

  test('a file that is not a server.xml', () => {
    expect(() => readServerXml('<web-app/>', 'conf/server.xml')).toThrow(
      'conf/server.xml:1:1: the root element is <web-app>, not <Server>: Tomcat cannot start from this file; is it a server.xml?')
  })

  test('<Cluster> outside <Engine> and <Host> is an error at its position, since Tomcat silently ignores it there', () => {
    const text = server('').replace('    <Engine', '    <Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>\n    <Engine')
    expect(messages(text)).toEqual({
      errors: ['server.xml:4:5: <Cluster> must be inside <Engine> or <Host>, not <Service>: Tomcat ignores it there and no session is replicated; move it into <Host> (or <Engine>)'],
      findings: [],
    })
  })

  test('an unknown ${property} names the attribute and the properties that exist', () => {
    expect(messages(SERVER_XML.replace('jvmRoute="${jvmRoute}"', 'jvmRoute="${jvmRute}"'), NODE01, 'fixtures/tomcat/server.xml').errors).toEqual([
      'fixtures/tomcat/server.xml:13:53: ${jvmRute} (in jvmRoute) is not defined: Tomcat would keep the text as it is. Define it (-DjvmRute=…) or use one of the properties given: jvmRoute, http.port, shutdown.port',
    ])
  })

  test('a port that is not a number, and send options that mean nothing', () => {
    const text = server('<Cluster className="x" channelSendOptions="fast"/>').replace('port="8080"', 'port="80a"')
    expect(messages(text).errors).toEqual([
      'server.xml:3:16: port="80a" is not a port number: Tomcat cannot use it; write a port number',
      'server.xml:6:32: channelSendOptions="fast" is neither a number nor option names (use_ack, synchronized_ack, async…): use 6',
    ])
  })

  test('a <Cluster> without className', () => {
    expect(messages(server('<Cluster channelSendOptions="6"/>')).errors).toEqual([
      'server.xml:6:9: <Cluster> has no className: Tomcat cannot create it; use className="org.apache.catalina.ha.tcp.SimpleTcpCluster"',
    ])
  })
})

describe('server.xml: findings', () => {
  test('the default fixture has none', () => {
    expect(messages(SERVER_XML, NODE01, 'fixtures/tomcat/server.xml')).toEqual({ errors: [], findings: [] })
  })

  test('synchronous replication without a quick ping ahead of a quick failure detector: a warning citing the measured kill gaps', () => {
    const QUICK = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="100"/>\n' +
      '            <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector" connectTimeout="250"/>'
    expect(SERVER_XML).toContain(QUICK)
    const slow = (text: string) => messages(text).findings.filter((f) => f.includes('no quick failure detection'))
    const warning = expect.stringMatching(/^warning server\.xml:\d+: synchronous replication \(channelSendOptions without 8\) and no quick failure detection: .*waits ~5 s.*p95 7\.32 s.*p95 1\.31 s/)
    const plain = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>'
    for (const text of [
      SERVER_XML.replace(QUICK, plain), // the fixtures before #16
      SERVER_XML.replace('interval="100"', 'interval="250"'),
      SERVER_XML.replace(' connectTimeout="250"', ''),
      SERVER_XML.replace(' useThread="true"', ''),
      SERVER_XML.replace(QUICK, QUICK.split('\n            ').reverse().join('\n            ')), // the ping after the detector finds no detector to drive
    ]) expect(slow(text), text.match(/<Interceptor[^>]*(Ping|Detector)[^>]*>/g)?.join(' ')).toEqual([warning])
    expect(slow(SERVER_XML)).toEqual([])
    // Asynchronous replication does not wait for the dead peer (it has its own warning).
    expect(slow(SERVER_XML.replace(QUICK, plain).replace('channelSendOptions="6"', 'channelSendOptions="8"'))).toEqual([])
  })

  test('quick failure detection, but McastService keeps a crashed node listed past the takeover: a warning at dropTime citing the measured kill gaps', () => {
    const late = (text: string) => messages(text).findings.filter((f) => f.includes('McastService dropTime'))
    const at = (line: number, ms: number, what = '') => expect.stringMatching(new RegExp(`^warning server\\.xml:${line}: McastService dropTime ${ms} ms${what}: .*waits ~5 s.*use frequency="100" dropTime="1000".*p95 6\\.17 s.*p95 1\\.19 s`))
    const dropLine = SERVER_XML.split('\n').findIndex((l) => l.includes('dropTime="1000"')) + 1
    expect(dropLine).toBeGreaterThan(0)
    expect(late(SERVER_XML)).toEqual([])
    // The post's heartbeat on today's detection (the knob table's row), and Tomcat's default when dropTime is not written.
    expect(late(SERVER_XML.replace('dropTime="1000"', 'dropTime="3000"'))).toEqual([at(dropLine, 3000)])
    const membershipLine = SERVER_XML.split('\n').findIndex((l) => l.includes('<Membership className')) + 1
    expect(late(SERVER_XML.replace('dropTime="1000"', ''))).toEqual([at(membershipLine, 3000, ' \\(the default\\)')])
    // Not on top of the slow-kill warning (that one's fix comes first), nor under asynchronous replication, which never waits.
    const plain = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>'
    const noPing = SERVER_XML.replace(/<Interceptor className="org\.apache\.catalina\.tribes\.group\.interceptors\.TcpPingInterceptor"[^>]*\/>\s*<Interceptor[^>]*TcpFailureDetector[^>]*\/>/, plain)
    expect(late(noPing.replace('dropTime="1000"', 'dropTime="3000"'))).toEqual([])
    expect(late(SERVER_XML.replace('dropTime="1000"', 'dropTime="3000"').replace('channelSendOptions="6"', 'channelSendOptions="8"'))).toEqual([])
  })

  test('BackupManager: without quick failure detection the proxy path keeps the dead route (both warnings); with it, neither', () => {
    const backup = (text: string) => text.replace('org.apache.catalina.ha.session.DeltaManager', 'org.apache.catalina.ha.session.BackupManager')
    const withQuick = messages(backup(SERVER_XML)).findings
    expect(withQuick).toEqual([])
    const QUICK = /<Interceptor className="org\.apache\.catalina\.tribes\.group\.interceptors\.TcpPingInterceptor"[^>]*\/>\s*/
    const without = messages(backup(SERVER_XML.replace(QUICK, ''))).findings
    expect(without).toEqual([
      expect.stringContaining('BackupManager on three or more nodes: after a SIGKILL'),
      expect.stringContaining('synchronous replication (mapSendOptions without 8) and no quick failure detection'),
    ])
    expect(without[1]).toContain('BackupManager\'s lookup on a node that only knew where the session lived returns nothing')
  })

  test("the original post's values: asynchronous replication and a receiver on 0.0.0.0", () => {
    expect(messages(read('fixtures/tomcat/server-original.xml'), NODE01, 'fixtures/tomcat/server-original.xml')).toEqual({
      errors: [],
      findings: [
        'warning fixtures/tomcat/server-original.xml:18: channelSendOptions="8" is asynchronous: a request served by the other node right after a change can read the old session (16 of 40 non-sticky requests did in the lab); use channelSendOptions="6" (acknowledged, synchronous), at the price of a wait of ~5 s for the first request after a peer dies',
        'warning fixtures/tomcat/server-original.xml:31: Receiver address="0.0.0.0" is what this node advertises to its peers: replication works only when every node shares one host; use address="auto" (this host\'s address) so nodes on separate hosts reach each other',
      ],
    })
  })

  test('no <Cluster> in a file a node runs: refused, replication cannot work', () => {
    expect(messages(read('fixtures/tomcat/server-no-cluster.xml'), NODE01, 'fixtures/tomcat/server-no-cluster.xml')).toEqual({
      errors: ['fixtures/tomcat/server-no-cluster.xml:12:5: no <Cluster>: a session lives only on the node that created it, and a failover loses it; add the cluster block under <Host> (fixtures/tomcat/server.xml shows one)'],
      findings: [],
    })
  })

  test('the control without <Cluster>, as the lab\'s own variant: a finding', () => {
    expect(messages(read('fixtures/tomcat/server-no-cluster.xml'), NODE01, 'fixtures/tomcat/server-no-cluster.xml', true)).toEqual({
      errors: [],
      findings: ['warning fixtures/tomcat/server-no-cluster.xml:12: no <Cluster>: a session lives only on the node that created it, and a failover loses it; add the cluster block under <Host> (fixtures/tomcat/server.xml shows one)'],
    })
  })

  test('a ${property} only the team\'s hosts know, where the lab does not depend on it: a warning; in the cluster or a connector: an error', () => {
    const text = server(`<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="6">
          <Channel className="org.apache.catalina.tribes.group.GroupChannel">
            <Receiver className="org.apache.catalina.tribes.transport.nio.NioReceiver" address="auto" port="\${cluster.port}"/>
          </Channel>
        </Cluster>`).replace('<Service name="Catalina">', `<GlobalNamingResources>
    <Resource name="jdbc/app" auth="Container" type="javax.sql.DataSource" url="\${db.url}" password="\${db.password}"/>
  </GlobalNamingResources>
  <Service name="Catalina">`)
    const { errors, findings } = messages(text)
    expect(errors).toEqual([expect.stringMatching(/^server\.xml:\d+:\d+: \$\{cluster\.port\} \(in port\) is not defined: Tomcat would keep the text as it is/)])
    expect(findings.filter((f) => f.includes('is not defined here'))).toEqual([
      'warning server.xml:3: ${db.url} (in <Resource> url) is not defined here: the lab cannot know it (your hosts pass it), and that element takes no part in load balancing or replication, so the lab runs without it',
      'warning server.xml:3: ${db.password} (in <Resource> password) is not defined here: the lab cannot know it (your hosts pass it), and that element takes no part in load balancing or replication, so the lab runs without it',
    ])
  })

  test('no channelSendOptions at all: the default 8 is asynchronous too', () => {
    expect(messages(server('<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster"/>')).findings).toEqual([
      'warning server.xml:6: no channelSendOptions: Tomcat\'s default 8 is asynchronous: a request served by the other node right after a change can read the old session (16 of 40 non-sticky requests did in the lab); use channelSendOptions="6" (acknowledged, synchronous), at the price of a wait of ~5 s for the first request after a peer dies',
    ])
  })

  test('a non-replicating Manager, expireSessionsOnShutdown="true", a missing JvmRouteBinderValve and jvmRoute', () => {
    const text = server(`<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="6">
          <Manager className="org.apache.catalina.session.StandardManager" expireSessionsOnShutdown="true"/>
          <Valve className="org.apache.catalina.ha.tcp.ReplicationValve"/>
        </Cluster>`, '')
    expect(messages(text).errors).toEqual([
      'server.xml:7:20: <Manager className="org.apache.catalina.session.StandardManager"> does not replicate sessions: a failover loses them; use org.apache.catalina.ha.session.DeltaManager (every node holds every session) or BackupManager (one backup node)',
    ])
    expect(messages(text).findings).toEqual([
      'warning server.xml:4: no jvmRoute on <Engine>: session ids carry no route, so a sticky balancer cannot keep a user on their node; add jvmRoute="${jvmRoute}" (or the node\'s name)',
      'warning server.xml:7: expireSessionsOnShutdown="true": a graceful stop of one node expires its sessions on every node, so the survivor has nothing to serve; use "false"',
      'warning server.xml:6: no JvmRouteBinderValve: a failed-over session keeps the dead node\'s route in its id, so the balancer keeps aiming that user at the dead node (and back at it when it returns); add <Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/> to the <Cluster>',
    ])
  })

  test('listeners listed without ClusterSessionListener: the DeltaManager never hears from its peers', () => {
    const text = server(`<Cluster className="org.apache.catalina.ha.tcp.SimpleTcpCluster" channelSendOptions="6">
          <ClusterListener className="com.example.AuditListener"/>
        </Cluster>`)
    expect(messages(text).findings).toEqual([expect.stringContaining('no quick failure detection')])
    expect(messages(text).errors).toEqual([
      'server.xml:6:9: no ClusterSessionListener among the ClusterListeners: replication messages never reach the DeltaManager, so nothing replicates; add <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener"/>',
    ])
  })
})
