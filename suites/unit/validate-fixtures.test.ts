import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { type Finding, formatFinding, validateFixtures } from '../../helpers/validate/index.ts'
import { checkRules } from '../../helpers/validate/ipvs.ts'
import { variants } from '../support/variant.ts'

const POST = 'examples/blog-post'
/** A finding's severity, place and problem, without the consequence and the fix after the first ': '. */
const headline = (f: Finding) => `${f.severity} ${f.file}:${f.line} ${f.message.split(': ')[0]}`

const variant = variants('lb-e2e-validate-')

describe("the repository's fixtures", () => {
  test('validate with no errors; only the original and control variants have findings, the defaults none', () => {
    const v = validateFixtures('fixtures', { webXml: 'webapp/WEB-INF/web.xml' })
    expect(v.errors.map((e) => e.message)).toEqual([])
    expect(v.findings.map(headline)).toEqual([
      'warning fixtures/tomcat/server-no-cluster.xml:12 no <Cluster>',
      'warning fixtures/tomcat/server-original.xml:18 channelSendOptions="8" is asynchronous',
      'warning fixtures/tomcat/server-original.xml:31 Receiver address="0.0.0.0" is what this node advertises to its peers',
      'warning fixtures/httpd/balancer-original.conf:6 BalancerMember http://${NODE01_ADDR}:${NODE01_PORT} has no connectiontimeout',
      'warning fixtures/httpd/balancer-original.conf:6 BalancerMember http://${NODE01_ADDR}:${NODE01_PORT} has no retry (default 60 s)',
      'warning fixtures/httpd/balancer-original.conf:7 BalancerMember http://${NODE02_ADDR}:${NODE02_PORT} has no connectiontimeout',
      'warning fixtures/httpd/balancer-original.conf:7 BalancerMember http://${NODE02_ADDR}:${NODE02_PORT} has no retry (default 60 s)',
    ])
    expect(v.nodes).toEqual([
      { node: 'node01', file: 'fixtures/tomcat/server.xml', jvmRoute: 'node01', httpPorts: [8080], shutdownPort: 8005 },
      { node: 'node02', file: 'fixtures/tomcat/server.xml', jvmRoute: 'node02', httpPorts: [8080], shutdownPort: 8005 },
    ])
  })

  test("the original post's own files (stock server.xml per node, 127.0.0.1 members): no errors, the documented warnings", () => {
    const v = validateFixtures(POST)
    expect(v.errors.map((e) => e.message)).toEqual([])
    expect(v.findings.map(headline)).toEqual([
      `warning ${POST}/tomcat/node01/server.xml:137 channelSendOptions="8" is asynchronous`,
      `warning ${POST}/tomcat/node01/server.xml:150 Receiver address="0.0.0.0" is what this node advertises to its peers`,
      `warning ${POST}/tomcat/node02/server.xml:137 channelSendOptions="8" is asynchronous`,
      `warning ${POST}/tomcat/node02/server.xml:150 Receiver address="0.0.0.0" is what this node advertises to its peers`,
      `warning ${POST}/httpd/balancer-sticky.conf:3 BalancerMember http://127.0.0.1:8180 has no connectiontimeout`,
      `warning ${POST}/httpd/balancer-sticky.conf:3 BalancerMember http://127.0.0.1:8180 has no retry (default 60 s)`,
      `warning ${POST}/httpd/balancer-sticky.conf:3 BalancerMember http://127.0.0.1:8180 is on the loopback address`,
      `warning ${POST}/httpd/balancer-sticky.conf:4 BalancerMember http://127.0.0.1:8280 has no connectiontimeout`,
      `warning ${POST}/httpd/balancer-sticky.conf:4 BalancerMember http://127.0.0.1:8280 has no retry (default 60 s)`,
      `warning ${POST}/httpd/balancer-sticky.conf:4 BalancerMember http://127.0.0.1:8280 is on the loopback address`,
    ])
    expect(v.nodes.map((n) => [n.node, n.jvmRoute, n.httpPorts, n.shutdownPort])).toEqual([['node01', 'node01', [8180], 8105], ['node02', 'node02', [8280], 8205]])
  })
})

describe('cross-checks between files', () => {
  const node02 = 'tomcat/node02/server.xml'

  test('nodes on different multicast ports', () => {
    expect(variant(POST, { [node02]: (t) => t.replace('port="45564"', 'port="45565"') }).errors).toEqual([
      'tomcat/node02/server.xml:146:25: McastService port 45565 differs from node01\'s 45564 (tomcat/node01/server.xml:146:25): the nodes never see each other, so nothing replicates; use the same multicast address and port on every node',
    ])
  })

  test("a balancer route that matches no node's jvmRoute", () => {
    expect(variant(POST, { [node02]: (t) => t.replace('jvmRoute="node02"', 'jvmRoute="tomcat2"') }).errors).toEqual([
      'httpd/balancer-sticky.conf:4:5: route=node02 matches no Tomcat jvmRoute (node01, tomcat2): session ids end in .node01 or .tomcat2, so no user sticks to this member; set route= to the node\'s jvmRoute',
    ])
  })

  test("a member's port that is not its node's HTTP connector", () => {
    expect(variant(POST, { [node02]: (t) => t.replace('<Connector port="8280"', '<Connector port="8380"') }).errors).toEqual([
      'httpd/balancer-sticky.conf:4:5: BalancerMember http://127.0.0.1:8280 route=node02: node02 (tomcat/node02/server.xml) has no HTTP connector on port 8280 (it listens on 8380): requests for it fail; make the member\'s port and the connector\'s agree',
    ])
  })

  test('nodes that share one host (loopback members) on the same shutdown port', () => {
    expect(variant(POST, { [node02]: (t) => t.replace('<Server port="8205"', '<Server port="8105"') }).errors).toEqual([
      'tomcat/node02/server.xml:22:9: node02 uses shutdown port 8105, as node01 does (tomcat/node01/server.xml), while httpd/balancer-sticky.conf:3 reaches the nodes on the loopback address, one host: the second node cannot bind it; give each node its own port',
    ])
  })

  test('two nodes with one jvmRoute, and a <Cluster> on one node only', () => {
    expect(variant(POST, { [node02]: (t) => t.replace('jvmRoute="node02"', 'jvmRoute="node01"') }).errors).toContain(
      'tomcat/node02/server.xml:113:53: node02\'s jvmRoute node01 is also node01\'s: the balancer cannot tell their sessions apart; give each node its own jvmRoute')
    const noCluster = (t: string) => t.replace(/\n\s*<Cluster className="[^"]*"\s+channelSendOptions[\s\S]*?<\/Cluster>\n/, '\n')
    expect(variant(POST, { [node02]: noCluster }).errors).toEqual([
      'tomcat/node02/server.xml:113:5: no <Cluster>: a session lives only on the node that created it, and a failover loses it; add the cluster block under <Host> (fixtures/tomcat/server.xml shows one)',
      'tomcat/node02/server.xml:113:5: node02 has no <Cluster> while node01 (tomcat/node01/server.xml) has one: they never replicate to each other; give every node the same <Cluster>',
    ])
  })

  test('a per-node directory the lab does not run, a node without any server.xml, a third node that copies the second', () => {
    const v = variant(POST, { 'tomcat/tomcat3/server.xml': readFileSync(`${POST}/${node02}`, 'utf8') })
    expect(v.errors).toEqual(['tomcat/tomcat3/server.xml: the lab runs node01, node02: name the directory after one of them'])
    // tomcat/node03/ is a third node: a copy of node02's file clashes with it on every per-node value.
    const third = variant(POST, { 'tomcat/node03/server.xml': readFileSync(`${POST}/${node02}`, 'utf8') })
    expect(third.errors).toHaveLength(4)
    expect(third.errors).toEqual(expect.arrayContaining([
      expect.stringMatching(/^tomcat\/node03\/server\.xml:\d+:\d+: node03's jvmRoute node02 is also node02's/),
      expect.stringMatching(/^tomcat\/node03\/server\.xml:\d+:\d+: node03 uses HTTP port 8280, as node02 does/),
      expect.stringMatching(/^tomcat\/node03\/server\.xml:\d+:\d+: node03 uses shutdown port 8205, as node02 does/),
      expect.stringMatching(/^httpd\/balancer-sticky\.conf:\d+:\d+: balancer:\/\/mycluster has 2 members for 3 Tomcat nodes \(node01, node02, node03\): a node without a member gets no user/),
    ]))
    expect(variant(POST, {}, { nodes: ['node01', 'node02', 'node04'] }).errors).toContain(
      'tomcat: no server.xml for node04: add tomcat/node04/server.xml or a shared tomcat/server.xml')
  })

  test('ajp:// members: a node without an AJP connector, a secret that is not the connector\'s, a secret sent to a connector on the loopback address', () => {
    const ajpMembers = (t: string) => t.replaceAll('http://${NODE01_ADDR}:${NODE01_PORT}', 'ajp://${NODE01_ADDR}:${NODE01_AJP_PORT}')
      .replaceAll('http://${NODE02_ADDR}:${NODE02_PORT}', 'ajp://${NODE02_ADDR}:${NODE02_AJP_PORT}')
    const connector = (attributes: string) => (t: string) => t.replace('<Engine ', `<Connector protocol="AJP/1.3" port="8009" ${attributes}/>\n    <Engine `)
    const none = variant('fixtures', { 'httpd/balancer-sticky.conf': ajpMembers })
    expect(none.errors).toEqual(expect.arrayContaining([expect.stringMatching(/BalancerMember ajp:\/\/\$\{NODE01_ADDR\}:\$\{NODE01_AJP_PORT\}: node01 \(.*server\.xml\) has no AJP connector/)]))
    const wrong = variant('fixtures', {
      'httpd/balancer-sticky.conf': (t) => ajpMembers(t).replaceAll('retry=5', 'retry=5 secret=other'),
      'tomcat/server.xml': connector('address="0.0.0.0" secret="s3cret"'),
    })
    expect(wrong.errors).toEqual(expect.arrayContaining([expect.stringMatching(/sends secret=other, but node01's AJP connector .* requires its own secret: Tomcat answers 403/)]))
    const loopback = variant('fixtures', {
      'httpd/balancer-sticky.conf': (t) => ajpMembers(t).replaceAll('retry=5', 'retry=5 secret=s3cret'),
      'tomcat/server.xml': connector('secret="s3cret"'),
    })
    expect(loopback.errors).toEqual(expect.arrayContaining([expect.stringMatching(/node01's AJP connector, which its balancer member reaches .*, listens on localhost \(address unset: Tomcat's default since 9\.0\.31\)/)]))
    const right = variant('fixtures', {
      'httpd/balancer-sticky.conf': (t) => ajpMembers(t).replaceAll('retry=5', 'retry=5 secret=s3cret'),
      'tomcat/server.xml': connector('address="0.0.0.0" secret="s3cret"'),
    })
    expect(right.errors).toEqual([])
  })

  test('a balancer that sticks by its own route cookie: nodes without jvmRoute, routes that are no jvmRoute, and no warning for either', () => {
    const v = variant('fixtures', {
      'httpd/balancer-sticky.conf': (t) => `Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED\n${t}`
        .replace('route=node01', 'route=1').replace('route=node02', 'route=2').replace('stickysession=JSESSIONID|jsessionid', 'stickysession=ROUTEID'),
      'tomcat/server.xml': (t) => t.replace(' jvmRoute="${jvmRoute}"', '').replace(/\s*<Valve className="org\.apache\.catalina\.ha\.session\.JvmRouteBinderValve"\/>/, ''),
    })
    expect(v.errors).toEqual([])
    expect(v.findings.filter((f) => /jvmRoute|JvmRouteBinderValve|stickysession/.test(f))).toEqual([])
  })

  test('a node file that is not well-formed is one error; the other files are still checked', () => {
    const v = variant(POST, { [node02]: (t) => t.replace('</Host>', '</host>') })
    expect(v.errors).toEqual([
      'tomcat/node02/server.xml:189:13: not well-formed XML: </host> found where <Host> (opened at 133:7) must be closed first. Fix the markup there: Tomcat cannot read this file',
    ])
    expect(v.findings.filter((f) => f.includes('balancer-sticky.conf'))).toHaveLength(6)
  })

  test('an unknown ${property} in the shared server.xml, with the properties a team passes', () => {
    const v = variant('fixtures', {}, { properties: (node) => ({ jvmRoute: node, 'http.port': '8080' }) })
    expect(v.errors).toEqual(['tomcat/server.xml:6:9', 'tomcat/server-no-cluster.xml:5:9', 'tomcat/server-original.xml:5:9'].map((at) =>
      `${at}: \${shutdown.port} (in port) is not defined: Tomcat would keep the text as it is. Define it (-Dshutdown.port=…) or use one of the properties given: jvmRoute, http.port`))
  })

  test('a web.xml without <distributable/> in the directory is refused: replication cannot work', () => {
    const web = readFileSync('webapp/WEB-INF/web.xml', 'utf8').replace('  <distributable/>\n', '')
    expect(variant(POST, { 'webapp/WEB-INF/web.xml': web }).errors).toContain(
      'webapp/WEB-INF/web.xml:3:1: no <distributable/> in <web-app>: Tomcat does not replicate this webapp\'s sessions (it gets a StandardManager, not the cluster\'s DeltaManager), so a failover loses them; add <distributable/> under <web-app>')
  })

  test('a rules file ipvsadm would refuse is one error naming the line', () => {
    expect(variant(POST, { 'ipvs/rr.rules': (t) => t.replace('-s rr\n', '-s fastest\n') }).errors).toEqual([
      'ipvs/rr.rules:2: unknown scheduler fastest\n  -A -t VIP:80 -s fastest',
    ])
  })
})

describe('ipvs rules beyond their syntax', () => {
  const LAB = { hosts: ['VIP', 'node1', 'node2', 'node3'] }
  const report = (text: string) => {
    const r = checkRules(text, 'x.rules', LAB)
    return { errors: r.errors.map((e) => e.message), findings: r.findings.map(formatFinding) }
  }

  test("the repository's rules files: nothing to report", () => {
    for (const name of ['rr', 'wrr', 'lc', 'sh', 'persistent', 'direct-routing']) {
      expect(report(readFileSync(`fixtures/ipvs/${name}.rules`, 'utf8')), name).toEqual({ errors: [], findings: [] })
    }
  })

  test('a real server at weight 0 and a service without real servers', () => {
    expect(report('-A -t VIP:80 -s rr\n-a -t VIP:80 -r node1:80 -m -w 0\n-a -t VIP:80 -r node2:80 -m -w 1\n-A -t VIP:443 -s rr\n').findings).toEqual([
      'warning x.rules:2: real server node1:80 has weight 0: it receives no new connections (drained), so VIP:80 runs on the others alone; use -w 1 or remove the line',
      'warning x.rules:4: virtual service VIP:443 has no real servers: every connection to it fails; add -a lines',
    ])
  })

  test('an unknown host, a real server before its service, the same real server twice', () => {
    expect(report('# rules\n-a -t VIP:80 -r node1:80 -m\n-A -t VIP:80 -s rr\n-a -t VIP:80 -r web1:80 -m\n-a -t VIP:80 -r node2:80 -m\n-a -t VIP:80 -r node2:80 -m\n').errors).toEqual([
      'x.rules:2: VIP:80 is not added before this line: ipvsadm fails with "Service not defined"; add it first with -A',
      'x.rules:4: unknown host web1: the lab resolves VIP, node1, node2, node3; use one of those or an IPv4 address',
      'x.rules:6: real server node2:80 is already in VIP:80: ipvsadm fails with "Destination already exists"; use -e to edit it',
    ])
  })
})
