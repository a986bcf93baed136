/**
 * A Tomcat 9 server.xml, read for what the lab and a user depend on: ports, the Engine's jvmRoute,
 * and the session-replication cluster (where it sits, its Manager, send options, membership,
 * receiver, valves, listeners), with `${property}` references resolved as Tomcat resolves them
 * from system properties. Where server.xml leaves something out, Tomcat's default is what counts
 * (SimpleTcpCluster.checkDefaults adds both valves when none is listed, McastService defaults to
 * 228.0.0.4:45564), so the reader applies the same defaults.
 */
import { LabError } from '../errors.ts'
import type { TomcatVersion } from '../settings.ts'
import { type Finding, type Position, type Report, finding, labError, where } from './findings.ts'
import { type XmlElement, descendants, readXml } from './xml.ts'

/** System properties a server.xml may refer to as `${name}` (the lab sets jvmRoute, http.port, shutdown.port). */
export type Properties = Record<string, string>

/** A value as written (`raw`, undefined when Tomcat's default applies), resolved, and where. */
export interface Setting<T> {
  raw?: string
  /** undefined when the raw text does not resolve to a valid value (checkServerXml says why). */
  value: T | undefined
  line: number
  column: number
}

/** An AJP connector with the defaults Tomcat has given it since 9.0.31: loopback only, a secret required. */
export interface AjpConnector {
  line: number
  column: number
  port: Setting<number>
  /** Where it listens: Tomcat's default is localhost (the loopback address). */
  address: Setting<string>
  /** Tomcat's default is true: without a secret the connector does not start. */
  secretRequired: Setting<boolean>
  /** secret, or its older name requiredSecret. */
  secret: Setting<string>
}

export interface TomcatServer {
  /** className values of classes a Tomcat no longer has (removedIn: the first without it), where they stand. */
  removedClasses: { className: string; removedIn: '8' | '10.1'; replacement: string; line: number; column: number }[]
  /** EncryptInterceptors that leave encryptionAlgorithm to the version's default. */
  encryptDefaults: { line: number; column: number }[]
  file: string
  /** The properties it was read with. */
  properties: Properties
  /** -1 disables the shutdown port; Tomcat's default is 8005. */
  shutdownPort: Setting<number>
  /** HTTP/1.1 connectors: the lab reads each node through the first (and a balancer may use it). */
  httpPorts: Setting<number>[]
  /** AJP/1.3 connectors: what an ajp:// BalancerMember reaches. */
  ajpConnectors: AjpConnector[]
  engine?: { line: number; column: number; jvmRoute?: Setting<string> }
  cluster?: TomcatCluster
  /** `${name}` references the properties do not define. */
  /** `${name}` references no property defines; `used`: in a part of the file the lab runs. */
  unresolved: { name: string; attribute: string; element: string; used: boolean; line: number; column: number }[]
}

export interface TomcatCluster {
  line: number
  column: number
  /** The element it sits in: only Engine and Host make a cluster. */
  parent: string
  className?: string
  /** Bit 8 (asynchronous) set means replication does not wait for the peers. Default 8. */
  channelSendOptions: Setting<number>
  /** mapSendOptions: how BackupManager sends to the backup and the other nodes (its default 6: synchronized, acknowledged). */
  manager: { className: Setting<string>; replicates: boolean; expireSessionsOnShutdown: Setting<boolean>; mapSendOptions: Setting<number> }
  /**
   * McastService's group, and its heartbeat: a beacon every `frequency` ms, a peer dropped after
   * `dropTime` ms without one (defaults 500 and 3000); undefined for another membership service.
   */
  multicast?: { address: Setting<string>; port: Setting<number>; frequency: Setting<number>; dropTime: Setting<number> }
  /** How the nodes find each other: the <Membership> service, or a StaticMembershipInterceptor's list. */
  membership: Membership
  /** The <Membership>'s expirationTime (CloudMembershipService: how long a peer that stopped answering stays listed; default 5000). */
  membershipExpiration: Setting<number>
  /** The channel's interceptors in their order, with the attributes a check reads. */
  interceptors: { className: string; attributes: Record<string, string>; line: number; column: number }[]
  receiver: { address: Setting<string>; port: Setting<number>; autoBind: Setting<number> }
  /** Valves as listed (class names); empty means Tomcat adds ReplicationValve and JvmRouteBinderValve. */
  valves: string[]
  replicationValve: boolean
  jvmRouteBinderValve: boolean
  /** Listed, or added by Tomcat (no ClusterListener at all, DeltaManager). */
  clusterSessionListener: boolean
}

/**
 * multicast: McastService (also Tomcat's default when server.xml names no <Membership>);
 * static: StaticMembershipService, one <Member> per node, itself included;
 * static-interceptor: McastService plus a StaticMembershipInterceptor listing its peers as <Member>;
 * dns / kubernetes: CloudMembershipService with the DNS or the Kubernetes provider (its default);
 * other: any other class, not checked.
 */
export type MembershipKind = 'multicast' | 'static' | 'static-interceptor' | 'dns' | 'kubernetes' | 'other'

/** A <Member className="…StaticMember">: where that node listens, and the id it goes by. */
export interface StaticMemberSetting {
  /** StaticMember has no default: undefined `raw` means none is written. */
  host: Setting<string>
  port: Setting<number>
  /** `value`: the 16 bytes as Tomcat reads them, `{0,0,…,1}`; undefined when unset or not 16 bytes in braces. */
  uniqueId: Setting<string>
  line: number
  column: number
}

export interface Membership {
  kind: MembershipKind
  /** The membership service's class (McastService when none is named), or the StaticMembershipInterceptor's. */
  className: string
  /** The <Membership> (or <Interceptor>) element; the <Channel> or <Cluster> when there is none. */
  line: number
  column: number
  /** The static list as written (static, static-interceptor); empty for the other kinds. */
  members: StaticMemberSetting[]
  /** CloudMembershipService's membershipProviderClassName (no raw: unset, and Tomcat uses Kubernetes). */
  provider?: Setting<string>
}

const DELTA_MANAGER = 'org.apache.catalina.ha.session.DeltaManager'
const MCAST_SERVICE = 'org.apache.catalina.tribes.membership.McastService'
const DNS_PROVIDER = 'org.apache.catalina.tribes.membership.cloud.DNSMembershipProvider'
const KUBERNETES_PROVIDER = 'org.apache.catalina.tribes.membership.cloud.KubernetesMembershipProvider'
const REPLICATING_MANAGERS = /(^|\.)(DeltaManager|BackupManager)$/
const ASYNCHRONOUS = 8
const REFERENCE = /\$\{([^}]*)\}/g
const HAS_REFERENCE = /\$\{[^}]*\}/
/** SimpleTcpCluster.setChannelSendOptions(String): names for the Channel.SEND_OPTIONS_* bits. */
const SEND_OPTION_NAMES: Record<string, number> = {
  async: 8, asynchronous: 8, byte: 1, byte_message: 1, multicast: 0x40, secure: 0x10,
  sync: 4, synchronized_ack: 4, udp: 0x20, use_ack: 2,
}

/** Reads server.xml; only a file Tomcat could not parse at all is thrown (LabError at the spot). */
export function readServerXml(text: string, file: string, properties: Properties = {}): TomcatServer {
  const root = readXml(text, file)
  if (root.name !== 'Server') {
    throw labError(file, root, `the root element is <${root.name}>, not <Server>: Tomcat cannot start from this file; is it a server.xml?`)
  }
  // Every reference counts, also in elements the checks do not read; `used`: in what the lab runs
  // of the file (the Server, its connectors, Engine and Host, the whole <Cluster>), not a
  // DataSource's URL or a Realm's password that only the team's own hosts can know.
  const unresolved: TomcatServer['unresolved'] = []
  const visit = (element: XmlElement, inCluster: boolean) => {
    const cluster = inCluster || element.localName === 'Cluster'
    const used = cluster || USED_ELEMENTS.has(element.localName)
    for (const [attribute, raw] of Object.entries(element.attributes)) {
      for (const m of raw.matchAll(REFERENCE)) {
        if (!Object.hasOwn(properties, m[1]!)) unresolved.push({ name: m[1]!, attribute, element: element.name, used, ...at(element, attribute) })
      }
    }
    for (const child of element.children) visit(child, cluster)
  }
  visit(root, false)
  const setting = <T>(element: XmlElement | undefined, attribute: string, parse: (text: string) => T | undefined,
    fallback: { value: T | undefined; at: XmlElement }): Setting<T> => {
    const raw = element?.attributes[attribute]
    if (element === undefined || raw === undefined) return { value: fallback.value, ...at(fallback.at) }
    const text = substitute(raw, properties)
    return { raw, value: HAS_REFERENCE.test(text) ? undefined : parse(text), ...at(element, attribute) }
  }

  const services = root.children.filter((c) => c.localName === 'Service')
  const engine = services.flatMap((s) => s.children).find((c) => c.localName === 'Engine')
  const httpPorts = services.flatMap((s) => s.children)
    .filter((c) => c.localName === 'Connector' && isHttp(c.attributes.protocol) && c.attributes.port !== undefined)
    .map((c) => setting(c, 'port', port, { value: undefined, at: c }))
  const ajpConnectors = services.flatMap((s) => s.children)
    .filter((c) => c.localName === 'Connector' && isAjp(c.attributes.protocol))
    .map((c): AjpConnector => ({
      ...at(c),
      port: setting(c, 'port', port, { value: undefined, at: c }),
      address: setting(c, 'address', (t) => t, { value: 'localhost', at: c }),
      secretRequired: setting(c, 'secretRequired', boolean, { value: true, at: c }),
      secret: setting(c, c.attributes.secret === undefined && c.attributes.requiredSecret !== undefined ? 'requiredSecret' : 'secret', (t) => t, { value: undefined, at: c }),
    }))
  const cluster = [...descendants(root)].find((e) => e.localName === 'Cluster')
  const removedClasses = [...descendants(root)].flatMap((e) => {
    const name = e.attributes.className
    const gone = name === undefined ? undefined : REMOVED_CLASSES[name]
    return gone ? [{ className: name!, ...gone, ...at(e, 'className') }] : []
  })
  const encryptDefaults = [...descendants(root)]
    .filter((e) => /(^|\.)EncryptInterceptor$/.test(e.attributes.className ?? '') && e.attributes.encryptionAlgorithm === undefined)
    .map((e) => at(e))
  return {
    file,
    properties,
    removedClasses,
    encryptDefaults,
    shutdownPort: setting(root, 'port', port, { value: 8005, at: root }),
    httpPorts,
    ajpConnectors,
    ...(engine ? { engine: {
      ...at(engine),
      ...(engine.attributes.jvmRoute !== undefined ? { jvmRoute: setting(engine, 'jvmRoute', (t) => t, { value: undefined, at: engine }) } : {}),
    } } : {}),
    ...(cluster ? { cluster: readCluster(cluster, setting) } : {}),
    unresolved,
  }
}

/** Elements whose attributes the lab's run depends on (besides the whole <Cluster>). */
const USED_ELEMENTS = new Set(['Server', 'Service', 'Connector', 'Engine', 'Host'])

/**
 * Classes a server.xml may name that a later Tomcat removed (the Tomcat 7 cluster classes gone in
 * 8; what 10.1 dropped, measured by listing Debian's tomcat9-* and tomcat10-* jars: the blocking
 * transport.bio, JDBCRealm). Nothing a server.xml names went between 10.1 and 11.
 */
const BIO = 'the blocking transport.bio classes are gone since Tomcat 10: use the NIO ones'
const REMOVED_CLASSES: Record<string, { removedIn: '8' | '10.1'; replacement: string }> = {
  'org.apache.catalina.tribes.group.interceptors.MessageDispatch15Interceptor': { removedIn: '8', replacement: 'use org.apache.catalina.tribes.group.interceptors.MessageDispatchInterceptor' },
  'org.apache.catalina.ha.session.JvmRouteSessionIDBinderListener': { removedIn: '8', replacement: 'remove it: JvmRouteBinderValve alone rebinds the session id since Tomcat 8' },
  'org.apache.catalina.ha.session.SimpleTcpReplicationManager': { removedIn: '8', replacement: 'use org.apache.catalina.ha.session.DeltaManager' },
  'org.apache.catalina.tribes.transport.bio.BioReceiver': { removedIn: '10.1', replacement: `${BIO}: org.apache.catalina.tribes.transport.nio.NioReceiver` },
  'org.apache.catalina.tribes.transport.bio.PooledMultiSender': { removedIn: '10.1', replacement: `${BIO}: org.apache.catalina.tribes.transport.nio.PooledParallelSender` },
  'org.apache.catalina.tribes.transport.bio.MultipointBioSender': { removedIn: '10.1', replacement: `${BIO}: org.apache.catalina.tribes.transport.nio.PooledParallelSender` },
  'org.apache.catalina.tribes.transport.bio.BioSender': { removedIn: '10.1', replacement: `${BIO}: org.apache.catalina.tribes.transport.nio.PooledParallelSender` },
  'org.apache.catalina.realm.JDBCRealm': { removedIn: '10.1', replacement: 'use org.apache.catalina.realm.DataSourceRealm' },
}

/** EncryptInterceptor's default encryptionAlgorithm, read from each version's class (Debian's jars). */
const ENCRYPT_DEFAULTS: Record<TomcatVersion, string> = { '9': 'AES/CBC/PKCS5Padding', '10.1': 'AES/GCM/NoPadding', '11': 'AES/CBC/PKCS5Padding' }

type SettingOf = <T>(element: XmlElement | undefined, attribute: string, parse: (text: string) => T | undefined,
  fallback: { value: T | undefined; at: XmlElement }) => Setting<T>

/** `${name}` references replaced by the properties that define them; the others left as written. */
function substitute(raw: string, properties: Properties): string {
  return raw.replace(REFERENCE, (whole, name: string) => (Object.hasOwn(properties, name) ? properties[name]! : whole))
}

function at(element: XmlElement, attribute?: string): { line: number; column: number } {
  const position = attribute === undefined ? undefined : element.attributeAt[attribute]
  return { line: position?.line ?? element.line, column: position?.column ?? element.column }
}

function readCluster(cluster: XmlElement, setting: SettingOf): TomcatCluster {
  const child = (parent: XmlElement | undefined, name: string) => parent?.children.find((c) => c.localName === name)
  const classes = (name: string) => cluster.children.filter((c) => c.localName === name).map((c) => c.attributes.className ?? '')
  const listed = (list: string[], simpleName: string) => list.some((c) => c.split('.').at(-1) === simpleName)
  const manager = child(cluster, 'Manager')
  const managerClass = setting(manager, 'className', (t) => t, { value: DELTA_MANAGER, at: cluster })
  // No <Channel>, <Membership> or <Receiver>: Tomcat's GroupChannel, McastService and NioReceiver defaults.
  const channel = child(cluster, 'Channel')
  const membership = child(channel, 'Membership')
  const receiver = child(channel, 'Receiver')
  const near = receiver ?? channel ?? cluster
  const valves = classes('Valve')
  const listeners = classes('ClusterListener')
  const isMcast = membership === undefined || /(^|\.)McastService$/.test(membership.attributes.className ?? '')
  const staticInterceptor = channel?.children.find((c) => c.localName === 'Interceptor' && /(^|\.)StaticMembershipInterceptor$/.test(c.attributes.className ?? ''))
  return {
    ...at(cluster),
    parent: cluster.parent?.name ?? '(none)',
    ...(cluster.attributes.className !== undefined ? { className: cluster.attributes.className } : {}),
    channelSendOptions: setting(cluster, 'channelSendOptions', sendOptions, { value: ASYNCHRONOUS, at: cluster }),
    manager: {
      className: managerClass,
      replicates: REPLICATING_MANAGERS.test(managerClass.value ?? ''),
      expireSessionsOnShutdown: setting(manager, 'expireSessionsOnShutdown', boolean, { value: false, at: manager ?? cluster }),
      mapSendOptions: setting(manager, 'mapSendOptions', sendOptions, { value: 6, at: manager ?? cluster }),
    },
    ...(isMcast ? { multicast: {
      address: setting(membership, 'address', (t) => t, { value: '228.0.0.4', at: membership ?? channel ?? cluster }),
      port: setting(membership, 'port', port, { value: 45564, at: membership ?? channel ?? cluster }),
      frequency: setting(membership, 'frequency', integer, { value: 500, at: membership ?? channel ?? cluster }),
      dropTime: setting(membership, 'dropTime', integer, { value: 3000, at: membership ?? channel ?? cluster }),
    } } : {}),
    membership: readMembership(membership, isMcast ? staticInterceptor : undefined, channel ?? cluster, setting),
    membershipExpiration: setting(membership, 'expirationTime', integer, { value: 5000, at: membership ?? channel ?? cluster }),
    interceptors: (channel?.children ?? []).filter((c) => c.localName === 'Interceptor')
      .map((c) => ({ className: c.attributes.className ?? '', attributes: c.attributes, ...at(c) })),
    receiver: {
      address: setting(receiver, 'address', (t) => t, { value: 'auto', at: near }),
      port: setting(receiver, 'port', port, { value: 4000, at: near }),
      autoBind: setting(receiver, 'autoBind', integer, { value: 100, at: near }),
    },
    valves,
    replicationValve: valves.length === 0 || listed(valves, 'ReplicationValve'),
    jvmRouteBinderValve: valves.length === 0 || listed(valves, 'JvmRouteBinderValve'),
    clusterSessionListener: listed(listeners, 'ClusterSessionListener') || (listeners.length === 0 && isDeltaManager(managerClass.value)),
  }
}

/**
 * The membership service and, for a static one, its <Member> list. A StaticMembershipInterceptor
 * counts only beside McastService (or no <Membership>): that is how the older style is written.
 */
function readMembership(membership: XmlElement | undefined, interceptor: XmlElement | undefined, near: XmlElement, setting: SettingOf): Membership {
  const members = (parent: XmlElement) => parent.children.filter((c) => c.localName === 'Member').map((m): StaticMemberSetting => ({
    ...at(m),
    host: setting(m, 'host', (t) => (t.trim() === '' ? undefined : t), { value: undefined, at: m }),
    port: setting(m, 'port', port, { value: undefined, at: m }),
    uniqueId: setting(m, 'uniqueId', (t) => {
      const bytes = uniqueIdBytes(t)
      return Array.isArray(bytes) ? `{${bytes.join(',')}}` : undefined
    }, { value: undefined, at: m }),
  }))
  if (interceptor) {
    return { kind: 'static-interceptor', className: interceptor.attributes.className!, ...at(interceptor), members: members(interceptor) }
  }
  if (!membership) return { kind: 'multicast', className: MCAST_SERVICE, ...at(near), members: [] }
  const className = membership.attributes.className ?? ''
  const base = { className, ...at(membership), members: [] }
  if (/(^|\.)McastService$/.test(className)) return { kind: 'multicast', ...base }
  if (/(^|\.)StaticMembershipService$/.test(className)) return { kind: 'static', ...base, members: members(membership) }
  if (/(^|\.)CloudMembershipService$/.test(className)) {
    // CloudMembershipService.start: no provider, or "kubernetes", is KubernetesMembershipProvider.
    const provider = setting(membership, 'membershipProviderClassName', (t) => t, { value: undefined, at: membership })
    const kind = provider.raw === undefined || provider.value === 'kubernetes' || provider.value === KUBERNETES_PROVIDER ? 'kubernetes'
      : provider.value === 'dns' || provider.value === DNS_PROVIDER ? 'dns' : 'other'
    return { kind, ...base, provider }
  }
  return { kind: 'other', ...base }
}

/**
 * A uniqueId as StaticMember.setUniqueId reads it (tribes Arrays.fromString): it must start with
 * `{`; the tokens between `{`, `,` and `}` are each Byte.parseByte'd (no spaces, -128 to 127), and
 * there must be exactly 16 of them. The bytes, or what is wrong and what Tomcat throws for it.
 */
function uniqueIdBytes(text: string): number[] | { problem: string; thrown: string } {
  if (!text.startsWith('{')) return { problem: 'it does not start with {', thrown: '"byte arrays must be represented as {1,3,4,5,6}"' }
  const tokens = text.split(/[{},]/).filter((t) => t !== '')
  const bad = tokens.find((t) => !/^[+-]?\d+$/.test(t) || Number(t) < -128 || Number(t) > 127)
  if (bad !== undefined) return { problem: `"${bad}" is not a byte, -128 to 127${/\s/.test(bad) ? ' (spaces count)' : ''}`, thrown: 'a NumberFormatException' }
  if (tokens.length !== 16) return { problem: `it has ${tokens.length} byte${tokens.length === 1 ? '' : 's'}, not 16`, thrown: '"UUID must be exactly 16 bytes"' }
  return tokens.map(Number)
}

/** Errors (Tomcat would not start, or would silently not cluster) and findings (what a user loses). */
/**
 * `variant`: one of the lab's own characterization files (the post's original, the no-cluster
 * control), checked on its own: what says replication cannot work is reported as a finding
 * there, and is an error (the gate refuses the input) in any file a node runs.
 */
export function checkServerXml(server: TomcatServer, check: { variant?: boolean; routeCookie?: boolean; tomcat?: TomcatVersion } = {}): Report {
  const { file } = server
  const errors: LabError[] = []
  const findings: Finding[] = []
  // A static finding that replication cannot work: no run could pass, so the gate refuses first.
  const cannotReplicate = (at: Position | undefined, message: string) => {
    if (check.variant) findings.push(finding('warning', file, at, message))
    else errors.push(labError(file, at, message))
  }
  const known = Object.keys(server.properties)

  for (const u of server.unresolved) {
    if (!u.used) {
      findings.push(finding('warning', file, u, `\${${u.name}} (in <${u.element}> ${u.attribute}) is not defined here: the lab cannot know it (your hosts pass it), ` +
        'and that element takes no part in load balancing or replication, so the lab runs without it'))
      continue
    }
    errors.push(labError(file, u, `\${${u.name}} (in ${u.attribute}) is not defined: Tomcat would keep the text as it is. ` +
      `Define it (-D${u.name}=…) or use ${known.length ? `one of the properties given: ${known.join(', ')}` : 'a literal value'}`))
  }
  // A value with an undefined ${property} is reported once, as that, not also as a bad value.
  const unresolvedAt = (s: Setting<unknown>) => server.unresolved.some((u) => u.line === s.line && u.column === s.column)
  const number = (s: Setting<number>, attribute: string, what: string) => {
    if (s.raw !== undefined && s.value === undefined && !unresolvedAt(s)) {
      errors.push(labError(file, s, `${attribute}="${s.raw}" is not ${what}: Tomcat cannot use it; write ${what}`))
    }
  }
  const tomcat = check.tomcat ?? '9'
  for (const r of server.removedClasses) {
    if (r.removedIn === '8') errors.push(labError(file, r, `className="${r.className}" is a Tomcat 7 class, removed in Tomcat 8: Tomcat cannot load it; ${r.replacement}`))
    else if (tomcat !== '9') errors.push(labError(file, r, `className="${r.className}" was removed in Tomcat 10: Tomcat ${tomcat} cannot load it (ClassNotFoundException at start); ${r.replacement}`))
    else findings.push(finding('warning', file, r, `className="${r.className}" was removed in Tomcat 10: this file runs on Tomcat 9 only, and fails to start on 10.1 and 11; ${r.replacement}`))
  }
  for (const e of server.encryptDefaults) {
    const others = Object.entries(ENCRYPT_DEFAULTS).filter(([v, a]) => v !== tomcat && a !== ENCRYPT_DEFAULTS[tomcat]).map(([v, a]) => `${v}: ${a}`)
    findings.push(finding('warning', file, e, `<Interceptor className="…EncryptInterceptor"> sets no encryptionAlgorithm: Tomcat ${tomcat}'s default is ${ENCRYPT_DEFAULTS[tomcat]}, ` +
      `other versions' differ (${others.join(', ')}), so nodes of two versions (a rolling upgrade) cannot read each other's messages; set encryptionAlgorithm="${ENCRYPT_DEFAULTS[tomcat]}" on every node`))
  }
  number(server.shutdownPort, 'port', 'a port number')
  for (const p of server.httpPorts) number(p, 'port', 'a port number')
  for (const a of server.ajpConnectors) {
    number(a.port, 'port', 'a port number')
    if (a.secretRequired.value !== false && !a.secret.value && !unresolvedAt(a.secret)) {
      errors.push(labError(file, a, `<Connector protocol="AJP/1.3"${a.port.raw ? ` port="${a.port.raw}"` : ''}> requires a secret (secretRequired is ${a.secretRequired.raw === undefined ? 'true by default since Tomcat 9.0.31' : `"${a.secretRequired.raw}"`}) ` +
        'and sets none: Tomcat does not start the connector, so every ajp:// member answers 503; set secret="…" here and the same secret= on the BalancerMember ' +
        '(secretRequired="false" only where no one else can reach the port)'))
    }
  }

  const engine = server.engine
  // A balancer that sticks by a route cookie of its own names the node itself: no jvmRoute needed.
  if (engine && !engine.jvmRoute && !check.routeCookie) {
    findings.push(finding('warning', file, engine, 'no jvmRoute on <Engine>: session ids carry no route, so a sticky balancer cannot keep a user on their node; add jvmRoute="${jvmRoute}" (or the node\'s name)'))
  }

  const cluster = server.cluster
  if (!cluster) {
    cannotReplicate(engine, 'no <Cluster>: a session lives only on the node that created it, and a failover loses it; add the cluster block under <Host> (fixtures/tomcat/server.xml shows one)')
    return { errors, findings }
  }
  if (cluster.parent !== 'Engine' && cluster.parent !== 'Host') {
    errors.push(labError(file, cluster, `<Cluster> must be inside <Engine> or <Host>, not <${cluster.parent}>: Tomcat ignores it there and no session is replicated; move it into <Host> (or <Engine>)`))
    return { errors, findings }
  }
  if (cluster.className === undefined) {
    errors.push(labError(file, cluster, '<Cluster> has no className: Tomcat cannot create it; use className="org.apache.catalina.ha.tcp.SimpleTcpCluster"'))
  }

  const options = cluster.channelSendOptions
  if (options.raw !== undefined && options.value === undefined && !unresolvedAt(options)) {
    errors.push(labError(file, options, `channelSendOptions="${options.raw}" is neither a number nor option names (use_ack, synchronized_ack, async…): use 6`))
  } else if (options.value !== undefined && (options.value & ASYNCHRONOUS) !== 0) {
    const said = options.raw === undefined ? 'no channelSendOptions: Tomcat\'s default 8 is' : `channelSendOptions="${options.raw}" is`
    findings.push(finding('warning', file, options, `${said} asynchronous: a request served by the other node right after a change can read the old session ` +
      '(16 of 40 non-sticky requests did in the lab); use channelSendOptions="6" (acknowledged, synchronous), at the price of a wait of ~5 s for the first request after a peer dies'))
  }

  const manager = cluster.manager
  if (!manager.replicates) {
    cannotReplicate(manager.className, `<Manager className="${manager.className.raw}"> does not replicate sessions: a failover loses them; ` +
      'use org.apache.catalina.ha.session.DeltaManager (every node holds every session) or BackupManager (one backup node)')
  }
  if (/(^|\.)BackupManager$/.test(manager.className.value ?? '')) {
    const map = manager.mapSendOptions
    if (map.value !== undefined && (map.value & ASYNCHRONOUS) !== 0) {
      findings.push(finding('warning', file, map, `mapSendOptions="${map.raw}" is asynchronous: the backup node may miss a write, and a failover then serves the session without it ` +
        '(measured with mapSendOptions="8": 1 of 10 writes never reached the backup within 3 s, and a killed primary\'s settled attribute was lost); use mapSendOptions="6"'))
    } else if (slowKillFailover(cluster)) {
      findings.push(finding('warning', file, manager.className, 'BackupManager on three or more nodes: after a SIGKILL of a session\'s primary, a user the balancer sends to a node that only knows ' +
        'where the session lives (not its backup) gets it whole, after ~5 s, but still under the dead node\'s route: that node\'s lookup tells the dead primary it took over, the synchronous send ' +
        'times out, and JvmRouteBinderValve has no session to rebind until the next request (measured: suites/tomcat-backup-manager.test.ts). DeltaManager, where every node holds ' +
        'every session, rebinds at once; asynchronous mapSendOptions rebind too but lose writes; the quick failure detection below rebinds without losing any ' +
        '(examples/corpus/backup-manager-three-nodes)'))
    }
  }
  const slowKill = slowKillFailover(cluster)
  if (slowKill) findings.push(finding('warning', file, slowKill.at, slowKill.message))
  else {
    const late = lateMulticastDrop(cluster)
    if (late) findings.push(finding('warning', file, late.at, late.message))
  }
  if (manager.expireSessionsOnShutdown.value === true) {
    findings.push(finding('warning', file, manager.expireSessionsOnShutdown, 'expireSessionsOnShutdown="true": a graceful stop of one node expires its sessions on every node, so the survivor has nothing to serve; use "false"'))
  }
  number(cluster.receiver.port, 'port', 'a port number')
  const address = cluster.receiver.address
  const membership = cluster.membership
  const anyAddress = address.value !== undefined && /^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(address.value)
  if (anyAddress && membership.kind === 'static') {
    // StaticMembershipService.findLocalMember: the Receiver's address and port against every <Member>.
    errors.push(labError(file, address, `Receiver address="${address.raw}" with StaticMembershipService: Tomcat finds this node in its static member list by the Receiver's address and port, ` +
      `and no node's address is ${address.value}, so it stops with 'There is no localMember in static member list'; set address= to this node's own address (the host its <Member> lists) or "auto" (this host's address)`))
  } else if (anyAddress && membership.kind === 'dns') {
    // DNSMembershipProvider: the DNS answer equal to the Receiver's address is itself; it advertises that address.
    cannotReplicate(address, `Receiver address="${address.raw}" with DNS membership: Tomcat tells itself from its peers among the DNS answers by the Receiver's address, so it takes itself for a peer, ` +
      `and it advertises ${address.value} to the others, which cannot reach it there: nothing replicates; use address="auto" (this host's address) or the node's own address`)
  } else if (address.value && /^(0\.0\.0\.0|127\.\d+\.\d+\.\d+|localhost|::|::1)$/.test(address.value)) {
    findings.push(finding('warning', file, address, `Receiver address="${address.raw}" is what this node advertises to its peers: replication works only when every node shares one host; ` +
      'use address="auto" (this host\'s address) so nodes on separate hosts reach each other'))
  }
  if (cluster.multicast) number(cluster.multicast.port, 'port', 'a port number')
  checkMembership(server, membership, errors, cannotReplicate)
  if (membership.kind === 'dns') {
    // Measured (examples/corpus/dns-membership, verdicts.json): the dns provider names a peer by its
    // address, so a node restarted there is the same member; without a ping ahead of the failure
    // detector and a long expiration, a peer took it back up to 25.7 s after it served again.
    const names = cluster.interceptors.map((i) => i.className.split('.').at(-1))
    const ping = cluster.interceptors.find((i) => /(^|\.)TcpPingInterceptor$/.test(i.className))
    const pingFirst = ping !== undefined && names.indexOf('TcpPingInterceptor') < names.indexOf('TcpFailureDetector') && names.includes('TcpFailureDetector')
    const quick = ping?.attributes.useThread === 'true' && Number(ping.attributes.interval ?? 1000) <= 250
    if (!(pingFirst && quick) || (cluster.membershipExpiration.value ?? 5000) < 60_000) {
      findings.push(finding('warning', file, membership, 'DNS membership (CloudMembershipService, dns) names a peer by its address, so a node restarted at its old address is the same member: ' +
        'a peer whose replication to it failed while it was down takes it back only at its next channel heartbeat (5 s), or at its next DNS lookup (the JVM caches answers 30 s); ' +
        'sessions made on that peer in between never reach the restarted node (their later deltas are dropped) and are lost when that peer fails (measured: taken back 0.2–25.7 s after it served again). ' +
        // The ping the kill failover needs (QUICK_DROP) is quicker still than the 250 ms measured here: one fix for both.
        `Add <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="${QUICK_DROP.pingIntervalMs}"/> before the TcpFailureDetector and ` +
        'expirationTime="120000" on the <Membership> (examples/corpus/dns-membership-three-nodes, with a 250 ms ping: taken back 0.06–0.24 s before it asked for the sessions, 12 of 12)'))
    }
  }
  // Without a jvmRoute in the id there is no route to rebind (a route cookie names the node instead).
  if (!cluster.jvmRouteBinderValve && !(check.routeCookie && !engine?.jvmRoute)) {
    findings.push(finding('warning', file, cluster, 'no JvmRouteBinderValve: a failed-over session keeps the dead node\'s route in its id, so the balancer keeps aiming that user at the dead node (and back at it when it returns); ' +
      'add <Valve className="org.apache.catalina.ha.session.JvmRouteBinderValve"/> to the <Cluster>'))
  }
  if (!cluster.replicationValve) {
    cannotReplicate(cluster, 'no ReplicationValve: the cluster does not learn when a request has changed a session, so changes are not sent to the other nodes; ' +
      'add <Valve className="org.apache.catalina.ha.tcp.ReplicationValve" filter=""/> to the <Cluster>')
  }
  if (!cluster.clusterSessionListener && isDeltaManager(manager.className.value)) {
    cannotReplicate(cluster, 'no ClusterSessionListener among the ClusterListeners: replication messages never reach the DeltaManager, so nothing replicates; ' +
      'add <ClusterListener className="org.apache.catalina.ha.session.ClusterSessionListener"/>')
  }
  return { errors, findings }
}

/**
 * Measured by `npm run bench -- --only knobs` (scripts/bench-parts/knobs.ts: the default fixtures,
 * two nodes on separate hosts, 5 SIGKILLs each, Tomcat 9): the first request after a SIGKILL that
 * changes a session waits for the dead peer's acknowledgement (ParallelNioSender's select(5000),
 * whatever the Transport's timeout) unless the peer has left the member list before the balancer
 * sends the user over. A ping every 100 ms ahead of a failure detector that gives a connect 250 ms does that.
 */
export const QUICK_DROP = { pingIntervalMs: 100, connectTimeoutMs: 250 }
const KILL_FIGURES = 'measured after a SIGKILL on separate hosts, 5 trials each: as written without them p50 6.49 s, p95 7.32 s; ' +
  'a ping every 250 ms p95 6.97 s; with connectTimeout="500" p95 6.30 s; ping 100 ms and connectTimeout 250 ms p50 1.22 s, p95 1.31 s, nothing lost'

/**
 * The McastService heartbeat of the default fixture, and what it measured against the post's
 * (`npm run bench -- --only knobs`, 20 stops + 20 SIGKILLs on separate hosts, quick detection as
 * QUICK_DROP): TcpFailureDetector's basic check, on every channel heartbeat, puts back a member
 * McastService still lists and removes it only after a failed connect, so a crashed node stays
 * listed for dropTime, and a write in that moment waits ~5 s on it.
 */
export const QUICK_MULTICAST = { frequencyMs: 100, dropTimeMs: 1000 }
const DROP_FIGURES = 'measured, 20 SIGKILLs on separate hosts with that detection: frequency 500 / dropTime 3000 (the defaults) kill p95 6.17 s; frequency 100 / dropTime 1000 p95 1.19 s, nothing lost'

/** Synchronous replication waits on a peer: the manager's send options say whether (BackupManager's mapSendOptions, else channelSendOptions). */
function synchronousReplication(cluster: TomcatCluster): { backup: boolean } | undefined {
  const backup = /(^|\.)BackupManager$/.test(cluster.manager.className.value ?? '')
  const options = backup ? cluster.manager.mapSendOptions : cluster.channelSendOptions
  return !cluster.manager.replicates || options.value === undefined || (options.value & ASYNCHRONOUS) !== 0 ? undefined : { backup }
}

/** Quick failure detection, but multicast membership that keeps listing a crashed node long after the balancer has sent its users over. */
function lateMulticastDrop(cluster: TomcatCluster): { at: Position; message: string } | undefined {
  const mcast = cluster.multicast
  if (!mcast || mcast.dropTime.value === undefined || mcast.dropTime.value <= QUICK_MULTICAST.dropTimeMs || !synchronousReplication(cluster)) return undefined
  return {
    at: mcast.dropTime,
    message: `McastService dropTime ${mcast.dropTime.value} ms${mcast.dropTime.raw === undefined ? ' (the default)' : ''}: a crashed node stays in the multicast member list that long, and TcpFailureDetector's check on each channel heartbeat ` +
      'puts it back among the replication members until its connect fails, so a write in that moment waits ~5 s for the dead node (one SIGKILL in ten, or twenty); ' +
      `use frequency="${QUICK_MULTICAST.frequencyMs}" dropTime="${QUICK_MULTICAST.dropTimeMs}" on the <Membership> (ten missed heartbeats; the detector vetoes dropping a node that still answers) (${DROP_FIGURES})`,
  }
}

/** A synchronous cluster whose dead member stays listed long enough to stall the survivor's first write after a SIGKILL. */
function slowKillFailover(cluster: TomcatCluster): { at: Position; message: string } | undefined {
  const sync = synchronousReplication(cluster)
  if (!sync) return undefined
  const { backup } = sync
  const simple = (i: { className: string }) => i.className.split('.').at(-1)
  const detectorAt = cluster.interceptors.findIndex((i) => simple(i) === 'TcpFailureDetector')
  const pingAt = cluster.interceptors.findIndex((i) => simple(i) === 'TcpPingInterceptor')
  const ping = cluster.interceptors[pingAt]
  const detector = cluster.interceptors[detectorAt]
  const quickPing = ping !== undefined && pingAt < detectorAt && ping.attributes.useThread === 'true' && Number(ping.attributes.interval ?? 1000) <= QUICK_DROP.pingIntervalMs
  const quickDetector = detector !== undefined && Number(detector.attributes.connectTimeout ?? 1000) <= QUICK_DROP.connectTimeoutMs
  if (quickPing && quickDetector) return undefined
  const fix = `<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="${QUICK_DROP.pingIntervalMs}"/> ` +
    `right before <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector" connectTimeout="${QUICK_DROP.connectTimeoutMs}"/>`
  return {
    at: detector ?? cluster,
    message: `synchronous replication (${backup ? 'mapSendOptions' : 'channelSendOptions'} without 8) and no quick failure detection: after a node crashes, the survivor's first request ` +
      'that changes a session waits ~5 s for the dead node\'s acknowledgement, until membership drops it (the Transport\'s timeout does not shorten that wait)' +
      `${backup ? ', and BackupManager\'s lookup on a node that only knew where the session lived returns nothing, so the id keeps the dead node\'s route' : ''}; ` +
      `use ${fix}, so a crashed node leaves the list before the balancer's connectiontimeout sends its users over (${KILL_FIGURES})`,
  }
}

/** The membership service on its own: one the lab can run, and a static list Tomcat can read. */
function checkMembership(server: TomcatServer, membership: Membership, errors: LabError[], cannotReplicate: (at: Position | undefined, message: string) => void) {
  const { file } = server
  const unresolvedAt = (s: Setting<unknown>) => server.unresolved.some((u) => u.line === s.line && u.column === s.column)
  if (membership.kind === 'kubernetes') {
    const provider = membership.provider
    const said = provider?.raw === undefined
      ? 'CloudMembershipService without membershipProviderClassName is Kubernetes membership (Tomcat\'s default provider)'
      : `membershipProviderClassName="${provider.raw}" is Kubernetes membership`
    cannotReplicate(provider?.raw === undefined ? membership : provider, `${said}: it asks a Kubernetes API server for the cluster's pods, and the lab has no API server, ` +
      'so no node finds another and nothing replicates; for the gate use membershipProviderClassName="dns" (DNS_MEMBERSHIP_SERVICE_NAME resolving to every node) ' +
      'or StaticMembershipService with one <Member> per node')
    return
  }
  if (membership.kind !== 'static' && membership.kind !== 'static-interceptor') return
  const service = membership.kind === 'static' ? 'StaticMembershipService' : 'StaticMembershipInterceptor'
  const example = '<Member className="org.apache.catalina.tribes.membership.StaticMember" host="…" port="…" uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"/>'
  if (!membership.members.length) {
    if (membership.kind === 'static') {
      errors.push(labError(file, membership, `${service} lists no <Member>: Tomcat finds this node in that list by the Receiver's address and port, ` +
        `so it stops with 'There is no localMember in static member list'; add one ${example} per node, this one included`))
    } else {
      cannotReplicate(membership, `${service} lists no <Member>: this node knows no peer to replicate to; add one ${example} per other node`)
    }
    return
  }
  const seen = new Map<string, StaticMemberSetting>()
  for (const m of membership.members) {
    const missing = [m.host.raw === undefined || m.host.raw.trim() === '' ? 'host' : undefined, m.port.raw === undefined ? 'port' : undefined].filter((x) => x !== undefined)
    if (missing.length) {
      errors.push(labError(file, m, `<Member> has no ${missing.join(' and no ')}: a static member has no default for it, so Tomcat never reaches that node ` +
        '(and a node cannot find itself in the list); add host="…" port="…": that node\'s address and its Receiver port'))
    }
    if (m.port.raw !== undefined && m.port.value === undefined && !unresolvedAt(m.port)) {
      errors.push(labError(file, m.port, `port="${m.port.raw}" is not a port number: Tomcat cannot use it; write a port number`))
    }
    const id = m.uniqueId
    if (id.raw === undefined || unresolvedAt(id)) continue
    if (id.value === undefined) {
      const { problem, thrown } = uniqueIdBytes(substitute(id.raw, server.properties)) as { problem: string; thrown: string }
      errors.push(labError(file, id, `uniqueId="${id.raw}" is not 16 bytes in braces (${problem}): StaticMember refuses it (${thrown}), ` +
        'Tomcat logs the exception and the member keeps the default id, 16 zero bytes; write 16 numbers from -128 to 127, comma-separated without spaces, ' +
        'e.g. uniqueId="{0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,1}"'))
      continue
    }
    const first = seen.get(id.value)
    if (first) {
      errors.push(labError(file, id, `uniqueId="${id.raw}" is also the uniqueId of the <Member> at ${where(file, first)}: a member's uniqueId is the id that node goes by in the cluster, ` +
        'so two nodes must not share one; give every <Member> its own (e.g. a different last byte)'))
    } else seen.set(id.value, m)
  }
}

function isDeltaManager(className: string | undefined): boolean {
  return /(^|\.)DeltaManager$/.test(className ?? '')
}

function isAjp(protocol: string | undefined): boolean {
  return protocol === 'AJP/1.3' || /Ajp/.test(protocol ?? '')
}

function isHttp(protocol: string | undefined): boolean {
  return protocol === undefined || protocol === 'HTTP/1.1' || /Http11|Http2/.test(protocol)
}

function integer(text: string): number | undefined {
  return /^-?\d+$/.test(text.trim()) ? Number(text) : undefined
}

function port(text: string): number | undefined {
  const n = integer(text)
  return n !== undefined && n >= -1 && n <= 65535 ? n : undefined
}

function boolean(text: string): boolean | undefined {
  return text === 'true' ? true : text === 'false' ? false : undefined
}

function sendOptions(text: string): number | undefined {
  const n = integer(text)
  if (n !== undefined) return n
  let bits = 0
  for (const name of text.split(',').map((s) => s.trim().toLowerCase())) {
    const bit = SEND_OPTION_NAMES[name]
    if (bit === undefined) return undefined
    bits |= bit
  }
  return bits
}
