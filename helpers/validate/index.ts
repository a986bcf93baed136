/**
 * Validation before anything starts: every file of a fixtures directory (laid out like fixtures/)
 * read and checked on its own, then checked against the others: the balancer's routes against the
 * Tomcats' jvmRoutes, the nodes' membership (multicast groups, static member lists, DNS ports)
 * against each other, the member ports against the connectors. Pure: it reads files, starts nothing.
 *
 *   tomcat/server.xml                  one file for every node, per-node values as ${property}
 *   tomcat/node01/server.xml …         or one per node (a node's own file wins over the shared one);
 *   tomcat/*.xml                       other variants (server-original.xml …), checked on their own
 *   httpd/balancer-*.conf              balancer configurations
 *   ipvs/*.rules                       ipvsadm-save rules
 *   webapp/WEB-INF/web.xml             the webapp's deployment descriptor, when given
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { LabError } from '../errors.ts'
import { nodeNamesOf, nodeProperties, readBalancer } from '../intake/plan.ts'
import { type TomcatVersion, isFile } from '../settings.ts'
import { type Finding, type Report, emptyReport, labError, mergeReports, where } from './findings.ts'
import { type BalancerMember, type HttpdConfig, checkHttpdConfig, isLoopback, readHttpdConfig } from './httpd.ts'
import { checkRules } from './ipvs.ts'
import { type Membership, type Properties, type Setting, type StaticMemberSetting, type TomcatServer, checkServerXml, readServerXml } from './tomcat.ts'
import { checkWebXml, readWebXml } from './webxml.ts'

export type { Finding, Severity } from './findings.ts'
export { formatFinding } from './findings.ts'

export interface ValidateOptions {
  /** The lab's Tomcat nodes (default: as many as the directory describes, helpers/intake/plan.ts). */
  nodes?: string[]
  /** System properties each node's server.xml is read with (default: the lab's, nodeProperties). */
  properties?: (node: string) => Properties
  /** Variables the balancer files may use (default NODE01_ADDR, NODE01_PORT … for the nodes). */
  variables?: string[]
  /** Symbolic host names the rules may use (default VIP, node1, node2, node3). */
  hosts?: string[]
  /** The webapp's web.xml (default: webapp/WEB-INF/web.xml of the directory, when present). */
  webXml?: string
  /** The Tomcat the nodes will run (default 9): what it removed is an error, what a later one removed a warning. */
  tomcat?: TomcatVersion
}

/** What the lab will run: per node, the file and the values read from it. */
export interface NodeConfig {
  node: string
  file: string
  jvmRoute?: string
  httpPorts: number[]
  shutdownPort?: number
}

export interface Validation {
  errors: LabError[]
  findings: Finding[]
  nodes: NodeConfig[]
}

export const LAB_HOSTS = ['VIP', 'node1', 'node2', 'node3']

export function validateFixtures(dir: string, options: ValidateOptions = {}): Validation {
  const nodes = options.nodes ?? nodeNamesOf(dir)
  const properties = options.properties ?? nodeProperties
  // The balancer under test sticking by its own route cookie: the nodes need no jvmRoute.
  // (A file httpd cannot read is reported with the balancers below.)
  const routeCookie = attemptQuietly(() => readBalancer(path.join(dir, 'httpd/balancer-sticky.conf'), 'sticky'))?.stickiness.by === 'route-cookie'
  const variables = options.variables ?? nodes.flatMap((n) => [`${n.toUpperCase()}_ADDR`, `${n.toUpperCase()}_PORT`, `${n.toUpperCase()}_AJP_PORT`])
  const file = (relative: string) => path.join(dir, relative)
  const reports: Report[] = []
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read()
    } catch (error) {
      if (!(error instanceof LabError)) throw error
      reports.push({ errors: [error], findings: [] })
      return undefined
    }
  }

  // Tomcat: the file each node runs, then the other variants, each read with every node's properties.
  const servers = new Map<string, TomcatServer>()
  const tomcatDir = file('tomcat')
  const shared = path.join(tomcatDir, 'server.xml')
  for (const sub of list(tomcatDir).filter((n) => isFile(path.join(tomcatDir, n, 'server.xml')) && !nodes.includes(n))) {
    reports.push({ errors: [labError(path.join(tomcatDir, sub, 'server.xml'), undefined, `the lab runs ${nodes.join(', ')}: name the directory after one of them`)], findings: [] })
  }
  if (existsSync(tomcatDir)) {
    for (const node of nodes) {
      const own = path.join(tomcatDir, node, 'server.xml')
      const source = isFile(own) ? own : isFile(shared) ? shared : undefined
      if (!source) {
        reports.push({ errors: [labError(tomcatDir, undefined, `no server.xml for ${node}: add ${path.join(tomcatDir, node, 'server.xml')} or a shared ${shared}`)], findings: [] })
        continue
      }
      const server = attempt(() => readServerXml(readFileSync(source, 'utf8'), source, properties(node)))
      if (server) {
        servers.set(node, server)
        reports.push(checkServerXml(server, { routeCookie, ...(options.tomcat ? { tomcat: options.tomcat } : {}) }))
      }
    }
    for (const variant of list(tomcatDir).filter((n) => n.endsWith('.xml') && n !== 'server.xml')) {
      const source = path.join(tomcatDir, variant)
      for (const node of nodes) {
        const server = attempt(() => readServerXml(readFileSync(source, 'utf8'), source, properties(node)))
        if (server) reports.push(checkServerXml(server, { variant: true, ...(options.tomcat ? { tomcat: options.tomcat } : {}) }))
      }
    }
  }
  reports.push(crossCheckNodes(servers, nodes))

  // httpd: each balancer file, against the nodes' jvmRoutes and member ports.
  const jvmRoutes = [...servers.values()].flatMap((s) => (s.engine?.jvmRoute?.value ? [s.engine.jvmRoute.value] : []))
  const httpdDir = file('httpd')
  const balancers: HttpdConfig[] = []
  for (const name of list(httpdDir).filter((n) => /^balancer-.*\.conf$/.test(n))) {
    const source = path.join(httpdDir, name)
    const config = attempt(() => readHttpdConfig(readFileSync(source, 'utf8'), source))
    if (!config) continue
    // The lab's own variants (balancer-original.conf) run with their own server.xml, not these nodes.
    const underTest = /^balancer-(sticky|nonsticky)\.conf$/.test(name)
    if (underTest) balancers.push(config)
    const b = config.balancers.find((x) => x.members.length)
    if (underTest && b && b.members.length !== nodes.length) {
      reports.push({ errors: [labError(source, b, `balancer://${b.name} has ${b.members.length} members for ${nodes.length} Tomcat nodes (${nodes.join(', ')}): ` +
        `${b.members.length < nodes.length ? 'a node without a member gets no user, and its failover is never tried' : 'a member without a node is never reachable'}; give the balancer one member a node`)], findings: [] })
    }
    reports.push(checkHttpdConfig(config, { jvmRoutes: underTest && servers.size === nodes.length ? jvmRoutes : undefined, variables }))
  }
  reports.push(crossCheckBalancers(balancers, servers))

  // ipvs: each rules file.
  const ipvsDir = file('ipvs')
  for (const name of list(ipvsDir).filter((n) => n.endsWith('.rules'))) {
    const source = path.join(ipvsDir, name)
    const { errors, findings } = checkRules(readFileSync(source, 'utf8'), source, { hosts: options.hosts ?? LAB_HOSTS })
    reports.push({ errors, findings })
  }

  // The webapp.
  const webXml = options.webXml ?? (isFile(file('webapp/WEB-INF/web.xml')) ? file('webapp/WEB-INF/web.xml') : undefined)
  if (webXml) {
    const web = attempt(() => readWebXml(readFileSync(webXml, 'utf8'), webXml))
    if (web) reports.push(checkWebXml(web))
  }

  const { errors, findings } = mergeReports(...reports)
  return { errors, findings, nodes: [...servers].map(([node, s]) => nodeConfig(node, s)) }
}

/**
 * The nodes of one cluster must agree: distinct routes, all clustered or none, one membership
 * service, the same multicast group, static lists that name every node, DNS peers on one port.
 */
function crossCheckNodes(servers: Map<string, TomcatServer>, nodes: string[]): Report {
  const report = emptyReport()
  const entries = [...servers]
  const [first] = entries
  if (!first) return report
  const label = (node: string, s: TomcatServer) => `${node} (${s.file})`
  const routes = new Map<string, string>()
  for (const [node, s] of entries) {
    const route = s.engine?.jvmRoute
    if (!route?.value) continue
    const other = routes.get(route.value)
    if (other) {
      report.errors.push(labError(s.file, route, `${node}'s jvmRoute ${route.value} is also ${other}'s: the balancer cannot tell their sessions apart; give each node its own jvmRoute`))
    } else routes.set(route.value, node)
  }
  const clustered = (s: TomcatServer) => s.cluster !== undefined && ['Engine', 'Host'].includes(s.cluster.parent)
  const [firstNode, firstServer] = first
  for (const [node, s] of entries.slice(1)) {
    if (clustered(s) !== clustered(firstServer)) {
      const [withCluster, without] = clustered(s) ? [[node, s], first] as const : [first, [node, s]] as const
      report.errors.push(labError(without[1].file, without[1].engine, `${without[0]} has no <Cluster> while ${label(withCluster[0], withCluster[1])} has one: ` +
        'they never replicate to each other; give every node the same <Cluster>'))
      continue
    }
    const [ma, mb] = [firstServer.cluster?.membership, s.cluster?.membership]
    if (ma && mb && clustered(s) && ma.kind !== mb.kind) {
      report.errors.push(labError(s.file, mb, `${node}'s cluster membership is ${membershipName(mb)} while ${firstNode}'s is ${membershipName(ma)} (${where(firstServer.file, ma)}): ` +
        'they never find each other, so nothing replicates; use the same membership service on every node'))
      continue
    }
    const [a, b] = [firstServer.cluster?.multicast, s.cluster?.multicast]
    if (!a || !b) continue
    const differs = (x: Setting<string | number>, y: Setting<string | number>) => x.value !== undefined && y.value !== undefined && x.value !== y.value
    for (const key of ['address', 'port'] as const) {
      if (differs(a[key], b[key])) {
        report.errors.push(labError(s.file, b[key], `McastService ${key} ${b[key].value} differs from ${firstNode}'s ${a[key].value} (${where(firstServer.file, a[key])}): ` +
          'the nodes never see each other, so nothing replicates; use the same multicast address and port on every node'))
      }
    }
  }
  report.errors.push(...crossCheckMembership(entries.filter(([, s]) => clustered(s)), nodes))
  return report
}

function membershipName(m: Membership): string {
  switch (m.kind) {
    case 'multicast': return 'multicast (McastService)'
    case 'static': return 'static (StaticMembershipService)'
    case 'static-interceptor': return 'static (StaticMembershipInterceptor)'
    case 'dns': return 'DNS (CloudMembershipService, dns)'
    case 'kubernetes': return 'Kubernetes (CloudMembershipService)'
    default: return m.className || '(a <Membership> without className)'
  }
}

/**
 * Static lists and DNS membership across the nodes, when they all use one kind (else the kinds are
 * the error). The lab cannot know the addresses a list names, so a node's own member is the one on
 * its Receiver's port (or, among several on that port, the one on its Receiver's literal address).
 */
function crossCheckMembership(entries: [string, TomcatServer][], nodes: string[]): LabError[] {
  const errors: LabError[] = []
  const kinds = new Set(entries.map(([, s]) => s.cluster!.membership.kind))
  if (kinds.size !== 1) return errors
  const [kind] = kinds
  const count = nodes.length
  if (kind === 'static' || kind === 'static-interceptor') {
    const listed = entries.map(([node, s]) => [node, s.cluster!.membership.members.length] as const).filter(([, n]) => n > 0)
    for (const [node, s] of entries) {
      const m = s.cluster!.membership
      const n = m.members.length
      if (!n) continue // reported on its own: a list without <Member>
      // StaticMembershipService: every node, itself included; the interceptor lists the other nodes.
      const wanted = kind === 'static' ? [count] : [count - 1, count]
      if (!wanted.includes(n)) {
        const others = listed.filter(([other, k]) => other !== node && k !== n).map(([other, k]) => `${other} lists ${k}`)
        errors.push(labError(s.file, m, `${node}'s ${kind === 'static' ? 'StaticMembershipService' : 'StaticMembershipInterceptor'} lists ${n} member${n === 1 ? '' : 's'} for the lab's ${count} nodes (${nodes.join(', ')})` +
          `${others.length ? `, while ${others.join(', ')}` : ''}: ${n < Math.min(...wanted) ? 'a node missing from a list is never its peer, so sessions do not reach it' : 'a member the lab does not run is never reached'}; ` +
          `${kind === 'static' ? 'list every node on every node, itself included' : 'list every other node on every node'} (the same list everywhere)`))
      }
    }
    if (kind !== 'static') return errors
    const own = new Map<string, StaticMemberSetting>()
    for (const [node, s] of entries) {
      const { membership: m, receiver } = s.cluster!
      const port = receiver.port.value
      const ports = m.members.flatMap((x) => (x.port.value === undefined ? [] : [x.port.value]))
      // A member whose port is unknown (unresolved, not a number) may be this node: then nothing to say.
      if (port === undefined || !m.members.length || ports.length !== m.members.length) continue
      const onPort = m.members.filter((x) => x.port.value === port)
      if (!onPort.length) {
        errors.push(labError(s.file, m, `${node}'s Receiver port ${port} (${where(s.file, receiver.port)}) is the port of none of its static members (${[...new Set(ports)].join(', ')}): ` +
          `this node is missing from its own static member list: Tomcat stops with 'There is no localMember in static member list'; ` +
          `add a <Member> with this node's address and port ${port} (every node lists every node, itself included)`))
        continue
      }
      const address = receiver.address.value
      const self = onPort.length === 1 ? onPort[0] : onPort.filter((x) => address !== undefined && x.host.value === address).at(0)
      if (self) own.set(node, self)
    }
    // One file shared by the nodes: each finds itself by the port it binds (autoBind), not one the file names.
    const files = new Map(entries.map(([node, s]) => [node, s.file]))
    const ids = new Map<string, string>()
    const membersOf = new Map(entries.map(([node, s]) => [node, s.cluster!.membership.members]))
    for (const [node, self] of own) {
      const id = self.uniqueId.value
      // An id twice in the node's own list is reported there (one file), not again here.
      if (id === undefined || membersOf.get(node)!.filter((x) => x.uniqueId.value === id).length > 1) continue
      const other = [...ids].find(([n, v]) => v === id && files.get(n) !== files.get(node))?.[0]
      if (other) {
        const theirs = own.get(other)!
        errors.push(labError(files.get(node)!, self.uniqueId, `${node}'s own static member (port ${self.port.value}) has uniqueId ${self.uniqueId.raw}, as ${other}'s own member does ` +
          `(${where(files.get(other)!, theirs.uniqueId)}): the two nodes go by one id in the cluster; give each node's <Member> its own uniqueId, the same one in every node's list`))
      } else ids.set(node, id)
    }
  }
  if (kind === 'dns') {
    const [firstNode, first] = entries[0]!
    const p = first.cluster!.receiver.port
    for (const [node, s] of entries.slice(1)) {
      const q = s.cluster!.receiver.port
      if (p.value === undefined || q.value === undefined || p.value === q.value) continue
      errors.push(labError(s.file, q, `${node}'s Receiver port ${q.value} differs from ${firstNode}'s ${p.value} (${where(first.file, p)}): ` +
        'DNS membership assumes every peer listens on this node\'s Receiver port, so each sends to the other on a port nobody listens on and nothing replicates; ' +
        'use the same Receiver port on every node'))
    }
  }
  return errors
}

/**
 * Balancer members against the nodes: a member's literal port must be its node's HTTP connector,
 * and nodes the balancer reaches on the loopback address share one host, so their ports must differ.
 */
function crossCheckBalancers(balancers: HttpdConfig[], servers: Map<string, TomcatServer>): Report {
  const report = emptyReport()
  const byRoute = new Map([...servers].flatMap(([node, s]) => (s.engine?.jvmRoute?.value ? [[s.engine.jvmRoute.value, { node, s }] as const] : [])))
  let oneHost: { file: string; line: number } | undefined
  // A member's node: the lab's variable names it (${NODE02_ADDR}), else its route the node's jvmRoute.
  const nodeOf = (m: BalancerMember) => {
    const named = /^\$\{(NODE\d\d)_ADDR\}$/.exec(m.host)?.[1]?.toLowerCase()
    const s = named === undefined ? undefined : servers.get(named)
    return s ? { node: named!, s } : m.params.route === undefined ? undefined : byRoute.get(m.params.route)
  }
  for (const config of balancers) {
    for (const b of config.balancers) for (const m of b.members.filter((x) => /^ajp:/i.test(x.url))) {
      const target = nodeOf(m)
      if (target) report.errors.push(...ajpErrors(config.file, b.params.secret, m, target))
    }
    for (const m of config.balancers.flatMap((b) => b.members)) {
      if (isLoopback(m.host)) oneHost ??= { file: config.file, line: m.line }
      if (/^ajp:/i.test(m.url)) continue
      const target = m.params.route === undefined ? undefined : byRoute.get(m.params.route)
      if (!target || !/^\d+$/.test(m.port ?? '')) continue
      const ports = target.s.httpPorts.flatMap((p) => (p.value === undefined ? [] : [p.value]))
      if (ports.length && !ports.includes(Number(m.port))) {
        report.errors.push(labError(config.file, m, `BalancerMember ${m.url} route=${m.params.route}: ${target.node} (${target.s.file}) has no HTTP connector on port ${m.port} ` +
          `(it listens on ${ports.join(', ')}): requests for it fail; make the member's port and the connector's agree`))
      }
    }
  }
  if (!oneHost) return report
  const entries = [...servers]
  const literal = (s: Setting<number> | undefined) => (s?.value !== undefined && s.value !== -1 ? s.value : undefined)
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const [[aNode, a], [bNode, b]] = [entries[i]!, entries[j]!]
      if (a.file === b.file) continue // one shared file: the lab's properties give each node its ports
      const clashes: [string, Setting<number>][] = []
      for (const p of b.httpPorts) if (a.httpPorts.some((q) => literal(q) !== undefined && literal(q) === literal(p))) clashes.push(['HTTP port', p])
      if (literal(a.shutdownPort) !== undefined && literal(a.shutdownPort) === literal(b.shutdownPort)) clashes.push(['shutdown port', b.shutdownPort])
      const [ra, rb] = [a.cluster?.receiver, b.cluster?.receiver]
      if (ra && rb && literal(ra.port) === literal(rb.port) && (rb.autoBind.value ?? 100) <= 1) clashes.push(['Receiver port', rb.port])
      for (const [what, setting] of clashes) {
        report.errors.push(labError(b.file, setting, `${bNode} uses ${what} ${setting.value}, as ${aNode} does (${a.file}), while ${where(oneHost.file, oneHost)} reaches the nodes on the loopback address, ` +
          'one host: the second node cannot bind it; give each node its own port'))
      }
    }
  }
  return report
}

/**
 * An ajp:// member against its node's AJP connector: there is one on its port, it listens where
 * the balancer connects (Tomcat's default since 9.0.31 is the loopback address only), and the
 * member sends the secret the connector requires (else Tomcat answers 403 to every request).
 */
function ajpErrors(file: string, balancerSecret: string | undefined, m: BalancerMember, target: { node: string; s: TomcatServer }): LabError[] {
  const { node, s } = target
  const connectors = s.ajpConnectors
  if (!connectors.length) {
    return [labError(file, m, `BalancerMember ${m.url}: ${node} (${s.file}) has no AJP connector (<Connector protocol="AJP/1.3">): every request to it fails; ` +
      'add the connector, or reach the node over http:// on its HTTP connector')]
  }
  const literal = /^\d+$/.test(m.port ?? '') ? Number(m.port) : undefined
  const connector = connectors.find((c) => literal === undefined || c.port.value === literal)
  if (!connector) {
    return [labError(file, m, `BalancerMember ${m.url}: ${node} (${s.file}) has no AJP connector on port ${m.port} (its AJP connectors: ${connectors.map((c) => c.port.value).join(', ')}); make them agree`)]
  }
  const errors: LabError[] = []
  const address = connector.address
  if (address.value !== undefined && isLoopback(address.value) && !isLoopback(m.host)) {
    errors.push(labError(s.file, connector, `${node}'s AJP connector, which its balancer member reaches (${where(file, m)}), listens on ${address.value}` +
      `${address.raw === undefined ? " (address unset: Tomcat's default since 9.0.31)" : ''}, the loopback address, while the balancer connects from another host: nothing can connect; ` +
      'set address="0.0.0.0" (or the node\'s own address) on the connector'))
  }
  const sent = m.params.secret ?? balancerSecret
  const wanted = connector.secretRequired.value === false ? undefined : connector.secret.value
  if (wanted !== undefined && sent !== wanted) {
    errors.push(labError(file, m, `BalancerMember ${m.url} ${sent === undefined ? 'sends no secret=' : `sends secret=${sent}`}, but ${node}'s AJP connector (${where(s.file, connector)}) ` +
      'requires its own secret: Tomcat answers 403 to every request; put the connector\'s secret in secret= on the member (or on the balancer with ProxySet)'))
  }
  return errors
}

function nodeConfig(node: string, s: TomcatServer): NodeConfig {
  const route = s.engine?.jvmRoute?.value
  return {
    node,
    file: s.file,
    ...(route !== undefined ? { jvmRoute: route } : {}),
    httpPorts: s.httpPorts.flatMap((p) => (p.value === undefined ? [] : [p.value])),
    ...(s.shutdownPort.value !== undefined ? { shutdownPort: s.shutdownPort.value } : {}),
  }
}

function attemptQuietly<T>(read: () => T): T | undefined {
  try {
    return read()
  } catch (error) {
    if (error instanceof LabError) return undefined
    throw error
  }
}

function list(dir: string): string[] {
  return existsSync(dir) && statSync(dir).isDirectory() ? readdirSync(dir).sort() : []
}
