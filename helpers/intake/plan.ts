/**
 * The run's plan: the configuration under test (a team's files laid out by the intake over
 * fixtures/, or the project's own fixtures) read once into typed values that everything after
 * reads: validation's caller, the labs, the suites, the findings and the report. vitest's main
 * process makes it (vitest.config.ts) and hands it to the workers (`provide`/`inject`); the CLI
 * makes it once after the intake and saves it as reports/plan.json. Nothing downstream re-reads
 * the team's files or the LAB_* environment.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { type LimitName, describeLimits, gateLimit, limitsMode } from '../checks/limits.ts'
import { LabError } from '../errors.ts'
import { type JvmOptions, propertyOptions, readSetenv } from './setenv.ts'
import { type TomcatVersion, displayPath, fixturePath, fixturesDir, fixturesOverlay, intakeJvmRoutes, isFile, labWar, repoRoot, serverXmlPath, tomcatVersion } from '../settings.ts'
import { type BalancerMember, isLoopback, readHttpdConfig } from '../validate/httpd.ts'
import { type MembershipKind, type Properties, readServerXml } from '../validate/tomcat.ts'
import { contextDescriptorDir } from '../lab/webapp.ts'

export type Topology = 'single-host' | 'multi-host'
export const TOPOLOGIES: Topology[] = ['single-host', 'multi-host']

/** The lab runs two to four Tomcat nodes, as many as the files describe. */
export const MIN_NODES = 2
export const MAX_NODES = 4

/** The lab's name for its i-th node (0-based): its container, its directory tomcat/<name>/, its ${NODEnn_ADDR}. */
export function nodeName(index: number): string {
  return `node${String(index + 1).padStart(2, '0')}`
}

export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => nodeName(i))
}

/** The system property a server.xml reads a lab node's address from (each node container passes one for every node). */
export function addressProperty(node: string): string {
  return `lb-e2e.${node}.address`
}

/** Per-node ports the lab gives a server.xml that reads them as ${http.port} / ${shutdown.port}. */
export function defaultPorts(topology: Topology, index: number): { http: number; shutdown: number } {
  return topology === 'single-host' ? { http: 8180 + 100 * index, shutdown: 8105 + 100 * index } : { http: 8080, shutdown: 8005 }
}

/** What one node runs, read from its server.xml (and the balancer, for a port the file leaves to a property). */
export interface NodePlan {
  name: string
  file: string
  /** The Engine's jvmRoute (the session id suffix), as the file sets it; undefined when it sets none. */
  jvmRoute?: string
  /** What the lab and the suites call the node: its jvmRoute, else its name (ExSession then shows the name). */
  route: string
  http: number
  /** The HTTP port is written in the file, not left to ${http.port}: the lab cannot move it. */
  httpLiteral: boolean
  /** Its AJP connector's port, when it has one (an ajp:// member reaches it as ${NODEnn_AJP_PORT}). */
  ajp?: number
  shutdown: number
  /** Where its Host reads context descriptors (relative to CATALINA_BASE): ExSession is deployed by one. */
  descriptors: string
  /** The session Manager's class, short (DeltaManager, BackupManager, …). */
  manager: string
  /**
   * Replication does not wait for the peer: the asynchronous bit (8) in channelSendOptions (8,
   * Tomcat's default) for DeltaManager, in mapSendOptions (default 6) for BackupManager.
   */
  asynchronous: boolean
  /** A <Cluster> where Tomcat uses it (under <Engine> or <Host>): the node must join the others. */
  clustered: boolean
  /** How it finds its peers: multicast, a static list, DNS (CloudMembershipService) …; none without a <Cluster>. */
  membership: MembershipKind | 'none'
}

/** How a balancer keeps a user on one node. */
export type Stickiness =
  /** The node's jvmRoute after the '.' of the session id (JSESSIONID|jsessionid): Tomcat names the node. */
  | { by: 'route-suffix'; names: string[] }
  /** A cookie of the balancer's own (ROUTEID=.<route>, set from BALANCER_WORKER_ROUTE): httpd names the node. */
  | { by: 'route-cookie'; names: string[] }
  | { by: 'none' }

export interface BalancerPlan {
  role: 'sticky' | 'nonsticky'
  file: string
  name: string
  members: BalancerMember[]
  stickiness: Stickiness
  lbmethod: string
  /** Its ProxyPass lines: the path users visit → the path on the nodes (where the lab's ExSession answers). */
  routes: { path: string; target: string }[]
}

export interface LayoutChoice {
  topology: Topology
  /** Why the configuration cannot run in this layout: its tests are reported as skipped, saying so. */
  skip?: string
}

export interface Limits {
  mode: 'strict' | 'lenient'
  description: string
  /** Seconds, count, seconds; undefined: a measured finding is a warning. */
  failoverGap?: number
  staleReads?: number
  rejoinTime?: number
}

export interface Plan {
  /** The directory the configuration came from (a team's, as they keep it; else fixtures/). */
  source: string
  /** The Tomcat the nodes run (LAB_TOMCAT, `--tomcat`). */
  tomcat: TomcatVersion
  /** Every layout file the run uses (tomcat/server.xml, httpd/balancer-sticky.conf, ipvs/rr.rules …) → the file. */
  files: Record<string, string>
  /** The Tomcat nodes, per layout (ports differ): as many as the files describe. */
  nodes: Record<Topology, NodePlan[]>
  balancers: Partial<Record<BalancerPlan['role'], BalancerPlan>>
  war?: string
  /** ExSession's web.xml when the configuration brings its own. */
  webXml?: string
  layouts: LayoutChoice[]
  limits: Limits
  /** The team's tomcat/setenv.sh: the -D system properties every node starts with, and the options the lab leaves out. */
  jvm?: { file: string } & JvmOptions
}

const LAYOUT_FILES = ['httpd/balancer-sticky.conf', 'httpd/balancer-nonsticky.conf', 'httpd/realserver.conf', 'webapp/WEB-INF/web.xml']

/** Reads the configuration under test (LAB_FIXTURES over fixtures/, LAB_WAR, the LAB_MAX_… limits) into the plan. */
export function readPlan(env: NodeJS.ProcessEnv = process.env): Plan {
  const overlay = fixturesOverlay()
  const files: Record<string, string> = {}
  for (const relative of [...LAYOUT_FILES, ...rulesFiles(overlay)]) files[relative] = fixturePath(relative)
  const balancers: Plan['balancers'] = {}
  for (const role of ['sticky', 'nonsticky'] as const) {
    const balancer = readBalancer(files[`httpd/balancer-${role}.conf`]!, role)
    if (balancer) balancers[role] = balancer
  }
  const names = nodeNames(nodeCount([overlay, fixturesDir], balancers.sticky ?? balancers.nonsticky))
  for (const name of names) files[`tomcat/${name}/server.xml`] = serverXmlPath(name, 'tomcat/server.xml')
  const serverFiles = names.map((n) => files[`tomcat/${n}/server.xml`]!)
  const members = (balancers.sticky ?? balancers.nonsticky)?.members ?? []
  const nodes = Object.fromEntries(TOPOLOGIES.map((t) => [t, readNodes(serverFiles, members, t)])) as Record<Topology, NodePlan[]>
  const webXml = files['webapp/WEB-INF/web.xml']!
  const war = labWar()
  const setenv = overlay && path.join(overlay, 'tomcat/setenv.sh')
  if (setenv && isFile(setenv)) files['tomcat/setenv.sh'] = setenv
  const jvm = files['tomcat/setenv.sh'] && { file: files['tomcat/setenv.sh'], ...readSetenv(readFileSync(files['tomcat/setenv.sh'], 'utf8'), displayPath(files['tomcat/setenv.sh'])) }
  return {
    source: overlay ? displayPath(overlay) : displayPath(fixturesDir),
    tomcat: tomcatVersion(env),
    files, nodes, balancers,
    ...(war ? { war } : {}),
    ...(webXml.startsWith(fixturesDir) ? {} : { webXml }),
    layouts: layoutChoices(Object.values(balancers), nodes['multi-host']),
    limits: readLimits(env),
    ...(jvm ? { jvm } : {}),
  }
}

/**
 * How many nodes: one a server.xml of their own (tomcat/node0N/), else one a member of the
 * balancer (a shared server.xml runs on each), else two, the post's.
 */
function nodeCount(dirs: (string | undefined)[], balancer: BalancerPlan | undefined): number {
  const own = dirs.flatMap((dir) => (dir ? nodeNames(MAX_NODES).filter((n) => isFile(path.join(dir, 'tomcat', n, 'server.xml'))) : []))
  const perNode = own.length ? nodeNames(MAX_NODES).indexOf(own.sort().at(-1)!) + 1 : 0
  const count = perNode || balancer?.members.length || MIN_NODES
  if (count > MAX_NODES) {
    throw new LabError(`${displayPath(balancer!.file, balancer!.members[MAX_NODES]!.line)}: balancer://${balancer!.name} has ${count} members; the lab runs ${MIN_NODES} to ${MAX_NODES} Tomcat nodes: ` +
      `keep ${MAX_NODES} members for the gate (a fifth node proves nothing the fourth does not)`)
  }
  return Math.max(MIN_NODES, count)
}

/** The nodes a directory in the fixtures layout describes (validation reads it before any plan is made). */
export function nodeNamesOf(dir: string): string[] {
  const balancer = readBalancer(path.join(dir, 'httpd/balancer-sticky.conf'), 'sticky') ?? readBalancer(path.join(dir, 'httpd/balancer-nonsticky.conf'), 'nonsticky')
  return nodeNames(nodeCount([dir], balancer))
}

function rulesFiles(overlay: string | undefined): string[] {
  const names = new Set<string>()
  for (const dir of [fixturesDir, overlay]) {
    if (!dir) continue
    try {
      for (const n of readdirSync(path.join(dir, 'ipvs'))) if (n.endsWith('.rules')) names.add(`ipvs/${n}`)
    } catch { /* no ipvs/ in this directory */ }
  }
  return [...names].sort()
}

/** A balancer file of the layout: its first balancer with members, how it sticks, how it picks. */
export function readBalancer(file: string, role: BalancerPlan['role']): BalancerPlan | undefined {
  if (!isFile(file)) return undefined
  const config = readHttpdConfig(readFileSync(file, 'utf8'), file)
  const balancer = config.balancers.find((b) => b.members.length)
  if (!balancer) return undefined
  const rule = config.proxyPasses.find((p) => p.balancer.toLowerCase() === balancer.name.toLowerCase())
  const sticky = balancer.params.stickysession ?? rule?.params.stickysession
  const names = sticky ? sticky.split('|') : []
  const cookies = names.filter((n) => config.routeCookies.some((c) => c.name === n))
  const stickiness: Stickiness = !names.length ? { by: 'none' } : cookies.length ? { by: 'route-cookie', names: cookies } : { by: 'route-suffix', names }
  const routes = config.proxyPasses.filter((p) => p.balancer.toLowerCase() === balancer.name.toLowerCase()).map((p) => ({ path: p.path, target: p.target }))
  return { role, file, name: balancer.name, members: balancer.members, stickiness, lbmethod: balancer.params.lbmethod ?? 'byrequests', routes }
}

/** The system properties the lab's Tomcat image sets (helpers/lab/images/tomcat/tomcat-foreground), multi-host ports. */
export function labProperties(node: string): Properties {
  return { jvmRoute: node, 'http.port': '8080', 'shutdown.port': '8005', 'catalina.home': '/opt/tomcat', 'catalina.base': '/opt/tomcat' }
}

/**
 * The system properties the lab gives a node: labProperties, and -DjvmRoute as the intake took it
 * from the team's balancer (a shared server.xml with jvmRoute="${jvmRoute}" behind members with
 * route=tomcat1 …: each of their hosts passes its own), else the node's name.
 */
export function nodeProperties(name: string): Properties {
  const route = intakeJvmRoutes()[name]
  const addresses = Object.fromEntries(Object.entries(CHECK_ADDRESSES).map(([n, a]) => [addressProperty(n), a]))
  return { ...labProperties(name), ...addresses, ...(route ? { jvmRoute: route } : {}) }
}

/**
 * Every node's address where files are read or checked before any lab exists (validation, Tomcat's
 * configtest in a container without a network): documentation addresses (TEST-NET-1), which
 * nothing is ever sent to; a static member list parses with them as with the lab's own.
 */
export const CHECK_ADDRESSES: Record<string, string> = Object.fromEntries(nodeNames(MAX_NODES).map((n, i) => [n, `192.0.2.${i + 1}`]))

/** Each node's server.xml read with the lab's properties for that layout; a port left to ${http.port} takes its member's. */
export function readNodes(serverFiles: string[], members: BalancerMember[], topology: Topology): NodePlan[] {
  return serverFiles.map((file, index): NodePlan => {
    const name = nodeName(index)
    const text = readFileSync(file, 'utf8')
    const defaults = defaultPorts(topology, index)
    const read = (http: number) => readServerXml(text, file, { ...nodeProperties(name), 'http.port': String(http), 'shutdown.port': String(defaults.shutdown) })
    const first = read(defaults.http)
    const jvmRoute = first.engine?.jvmRoute?.value
    const route = jvmRoute ?? name
    const memberPort = Number(members.find((m) => m.params.route === route && /^\d+$/.test(m.port ?? ''))?.port)
    const server = first.httpPorts[0]?.raw?.includes('${') && memberPort ? read(memberPort) : first
    const http = server.httpPorts[0]?.value
    if (http === undefined) throw new LabError(`${displayPath(file)}: ${name} has no HTTP/1.1 <Connector> with a port: the balancer cannot reach it`)
    const manager = (server.cluster?.manager.className.value ?? 'org.apache.catalina.ha.session.DeltaManager').split('.').at(-1)!
    const sendOptions = manager === 'BackupManager' ? server.cluster?.manager.mapSendOptions.value : server.cluster?.channelSendOptions.value
    const ajp = server.ajpConnectors[0]?.port.value
    const httpLiteral = !server.httpPorts[0]?.raw?.includes('${')
    return { name, file, ...(jvmRoute !== undefined ? { jvmRoute } : {}), route, http, httpLiteral, ...(ajp !== undefined ? { ajp } : {}), shutdown: server.shutdownPort.value ?? defaults.shutdown, descriptors: contextDescriptorDir(text, file),
      manager, asynchronous: sendOptions !== undefined && (sendOptions & 8) !== 0, clustered: server.cluster !== undefined && ['Engine', 'Host'].includes(server.cluster.parent),
      membership: server.cluster?.membership.kind ?? 'none' }
  })
}

/**
 * Every layout, with the reason the configuration cannot run in it: members on the loopback
 * address (the post's `http://127.0.0.1:8180`) mean it was written for one host, so the
 * multi-host layout does not apply; nodes that listen on the same literal HTTP port (8080 on each
 * of their hosts) cannot share one host.
 */
function layoutChoices(balancers: BalancerPlan[], nodes: NodePlan[]): LayoutChoice[] {
  const oneHost = balancers.find((b) => b.members.some((m) => isLoopback(m.host)))
  const literal = nodes.map((n) => ({ file: n.file, port: n.httpLiteral ? n.http : undefined }))
  const clash = literal.find((a, i) => a.port !== undefined && literal.some((b, j) => j > i && b.port === a.port))
  // Static and DNS membership find a node by its own address: on one host every node would have one.
  const byAddress = nodes.find((n) => n.membership === 'static' || n.membership === 'dns')
  return TOPOLOGIES.map((topology): LayoutChoice => {
    if (topology === 'multi-host' && oneHost) return { topology, skip: `${displayPath(oneHost.file)} reaches its members on the loopback address: written for one host` }
    if (topology === 'single-host' && byAddress) {
      return { topology, skip: `${displayPath(byAddress.file)} finds its peers by ${byAddress.membership === 'dns' ? 'DNS' : 'a static member list'}: each node needs an address of its own, and on one host they share one` }
    }
    if (topology === 'single-host' && clash) return { topology, skip: `every node's server.xml listens on HTTP port ${clash.port} (${[...new Set(literal.map((l) => displayPath(l.file)))].join(', ')}): on one host only the first could bind it` }
    return { topology }
  })
}

function readLimits(env: NodeJS.ProcessEnv): Limits {
  const limit = (name: LimitName) => gateLimit(name, env)
  const defined = <K extends string>(key: K, v: number | undefined) => (v === undefined ? {} : { [key]: v } as Record<K, number>)
  return {
    mode: limitsMode(env), description: describeLimits(env),
    ...defined('failoverGap', limit('LAB_MAX_FAILOVER_GAP')), ...defined('staleReads', limit('LAB_MAX_STALE_READS')), ...defined('rejoinTime', limit('LAB_MAX_REJOIN_TIME')),
  }
}

/** Names the plan file the gate saved for its vitest run: the workers take that plan, not a new reading. */
export const PLAN_ENV = 'LB_E2E_PLAN'
export const PLAN_FILE = path.join(repoRoot, 'reports', 'plan.json')

/** Saves the plan where the report and the vitest run find it; returns the file. */
export function savePlan(plan: Plan, file = PLAN_FILE): string {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, `${JSON.stringify(plan, null, 2)}\n`)
  return file
}

/** vitest's main process: the plan the gate saved (LB_E2E_PLAN), else the configuration read now; saved under reports/ either way. */
export function loadPlan(env: NodeJS.ProcessEnv = process.env): Plan {
  const given = env[PLAN_ENV]
  const plan = given ? JSON.parse(readFileSync(given, 'utf8')) as Plan : readPlan(env)
  if (!given) savePlan(plan)
  return plan
}

/** The variables a balancer file's members use for the nodes (NODE01_ADDR, NODE01_PORT, NODE01_AJP_PORT …), given each node's address. */
export function memberVariables(nodes: NodePlan[], address: (index: number) => string): Record<string, string> {
  return Object.fromEntries(nodes.flatMap((n, i) => {
    const upper = n.name.toUpperCase()
    return [[`${upper}_ADDR`, address(i)], [`${upper}_PORT`, String(n.http)], ...(n.ajp !== undefined ? [[`${upper}_AJP_PORT`, String(n.ajp)]] : [])]
  }))
}

/** The layouts the configuration can run in. */
export function runnableLayouts(plan: Pick<Plan, 'layouts'>): Topology[] {
  return plan.layouts.filter((c) => c.skip === undefined).map((c) => c.topology)
}

/** The layout for a suite that needs one: multi-host, as production runs, unless the files were written for one host. */
export function preferredLayout(plan: Pick<Plan, 'layouts'>): Topology {
  return runnableLayouts(plan).includes('multi-host') ? 'multi-host' : 'single-host'
}

/** The file the plan uses for a layout path (ipvs/rr.rules …): the configuration's, else fixtures/'s. */
export function planFile(plan: Pick<Plan, 'files'>, relative: string): string {
  const file = plan.files[relative]
  if (!file) throw new LabError(`the plan has no ${relative} (files: ${Object.keys(plan.files).join(', ')})`)
  return file
}

/** The plan in words, for the gate's output: one line a node and a balancer. */
export function describePlan(plan: Plan): string {
  const nodes = plan.nodes[preferredLayout(plan)]
  const lines = [`plan (${plan.source}): ${nodes.length} Tomcat ${plan.tomcat} nodes; layouts ${runnableLayouts(plan).join(', ') || 'none'}; limits ${plan.limits.description}`]
  for (const n of nodes) lines.push(`  ${n.name}: ${displayPath(n.file)}, jvmRoute ${n.jvmRoute ?? `none (the lab calls it ${n.route})`}, HTTP ${n.http}${n.ajp ? `, AJP ${n.ajp}` : ''}, ${n.clustered ? `clustered (${n.membership} membership), ${n.manager}, ${n.asynchronous ? 'asynchronous' : 'synchronous'} replication` : 'no cluster'}`)
  for (const b of Object.values(plan.balancers)) {
    const how = b.stickiness.by === 'none' ? 'not sticky' : `sticky by ${b.stickiness.by === 'route-cookie' ? 'route cookie' : 'session id route suffix'} ${b.stickiness.names.join('|')}`
    const routes = b.routes.map((r) => `${r.path} → ${r.target || '/'}`).join(', ')
    lines.push(`  ${b.role} balancer: ${displayPath(b.file)}, balancer://${b.name}, ${b.members.length} members, ${how}, lbmethod ${b.lbmethod}${routes ? `; routes ${routes}` : ''}`)
  }
  for (const l of plan.layouts.filter((c) => c.skip)) lines.push(`  ${l.topology}: not run (${l.skip})`)
  if (plan.war) lines.push(`  webapp: ${displayPath(plan.war)}`)
  if (plan.jvm) {
    lines.push(`  JVM (${displayPath(plan.jvm.file)}): ${propertyOptions(plan.jvm.properties) || 'no -D property'} on every node` +
      `${plan.jvm.perNode.length ? `; per node, the lab's own instead: ${plan.jvm.perNode.join(' ')}` : ''}` +
      `${plan.jvm.ignored.length ? `; not applied (the lab's heap and GC): ${plan.jvm.ignored.join(' ')}` : ''}`)
  }
  return lines.join('\n')
}
