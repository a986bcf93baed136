/**
 * A Tomcat 9 cluster node running ExSession, configured from a server.xml of fixtures/tomcat/ and
 * the per-node values that file reads as system properties (${jvmRoute}, ${http.port},
 * ${shutdown.port}). It has an address of its own on the lab network (multi-host layout) or shares
 * the balancer's network namespace (the original single-host layout).
 * ExSession is deployed by a context descriptor at /ExSession, or at another path when a team's own
 * ExSession.war takes /ExSession (withExSessionPaths).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers'
import { type ContainerControl, controlContainer, startedOrRemoved, withStaticAddress } from './containers.ts'
import type { SessionRoleReport } from './exsession.ts'
import { fetchOnce } from './http.ts'
import { propertyOptions } from '../intake/setenv.ts'
import { imageTag, tomcatImage } from './images.ts'
import { type TomcatVersion, labels, resourceName } from '../settings.ts'
import { NotReached, until } from '../wait.ts'
import { tail } from '../errors.ts'

export interface ClusterView {
  node: string
  clustered: boolean
  localMember: string | null
  /** The members replication sends to (the channel's view, above its interceptors). */
  members: string[]
  /** ExSession's session Manager class (DeltaManager, BackupManager …); null when the page could not read it. */
  manager?: string | null
  /** This member as "host:port#uniqueId" (McastService names it; null for the others). */
  localIncarnation?: string | null
  /** The channel's members as "host:port#uniqueId", one entry each, duplicates kept: two at one address are a dead incarnation beside the live one. */
  incarnations?: string[]
  /** The membership service's own list the same way: a killed node's incarnation stays here until dropTime. */
  heard?: string[]
}

/** The address part of an incarnation ("host:port#id" → "host:port"). */
export const incarnationAddress = (incarnation: string): string => incarnation.split('#')[0]!

/** A node's own copy of one session, read without touching it (no access, no replication). */
export interface SessionCopy {
  sessionId: string
  creationTime: number
  requestCount: number | null
  attributes: Record<string, string>
}

/**
 * How long a node may take to serve: 7–8 s measured, but a DeltaManager that asks for the
 * sessions of a peer that never answers waits stateTransferTimeout (60 s) per webapp, and the lab
 * deploys two (ExSession and the team's war): past that, the node will not come up.
 */
const UNTIL_SERVING_MS = 150_000

export class TomcatNodeContainer extends GenericContainer {
  readonly #node: string
  readonly #route: string
  #httpPort = 8080
  #exSessionPath = '/ExSession'
  #host: { network: string; address: string } | undefined
  #aliases: string[] = []
  #namespaceOf: { id: string; address: string } | undefined

  /**
   * `node` names the container (node01, node02); `route` is the node's jvmRoute, the session id
   * suffix the balancer routes on (ExSession reports it as the serving node).
   * `lab` names the lab it belongs to, so several labs can run side by side; `tomcat` is the
   * version it runs (its image).
   */
  constructor(node: string, route: string, lab: string, tomcat: TomcatVersion) {
    super(imageTag(tomcatImage(tomcat)))
    this.#node = node
    this.#route = route
    this.withName(resourceName(`${lab}-${node}`)).withLabels(labels())
  }

  /** The server.xml under test, copied to conf/server.xml before Tomcat starts, with the properties it reads. */
  withServerXml(file: string): this {
    return this.withCopyFilesToContainer([{ source: file, target: '/opt/tomcat/conf/server.xml' }])
      .withEnvironment(nodeEnvironment(this.#node, this.#route, file))
  }

  /** ExSession's deployment descriptor under test (e.g. a web.xml without <distributable/>). */
  withExSessionWebXml(file: string): this {
    return this.withCopyFilesToContainer([{ source: file, target: '/opt/lb-e2e/ExSession/WEB-INF/web.xml' }])
  }

  /**
   * ExSession's context path (default /ExSession), and where server.xml's Host reads context
   * descriptors (conf/<Engine name>/<Host name>, or its xmlBase; relative to CATALINA_BASE).
   */
  withExSessionPaths(contextPaths: string[], descriptors = 'conf/Catalina/localhost'): this {
    this.#exSessionPath = contextPaths[0] ?? '/ExSession'
    // Space-separated, the root context as "/" (its descriptor is ROOT.xml).
    return this.withEnvironment({ EXSESSION_PATH: contextPaths.map((c) => c || '/').join(' '), EXSESSION_DESCRIPTORS: descriptors })
  }

  /** A team's own webapp, deployed beside ExSession at /<name of the .war>. */
  withWar(file: string): this {
    return this.withCopyFilesToContainer([{ source: file, target: `/opt/tomcat/webapps/${path.basename(file)}` }])
  }

  /** Every node's lab address, as the system properties a static member list reads (-Dlb-e2e.node02.address). */
  withNodeAddresses(addresses: Record<string, string>): this {
    return this.withEnvironment(addressEnvironment(addresses))
  }

  /** The team's setenv.sh system properties (helpers/intake/setenv.ts), on the java command line. */
  withSystemProperties(properties: Record<string, string>): this {
    return Object.keys(properties).length ? this.withEnvironment({ LAB_SYSTEM_PROPERTIES: propertyOptions(properties) }) : this
  }

  /**
   * DNS membership (CloudMembershipService with the dns provider): a name that resolves to every
   * node, as a Kubernetes headless service does — a network alias the nodes share.
   */
  withMembershipName(name: string): this {
    this.#aliases = [name]
    if (this.#host) withStaticAddress(this, this.#host.network, this.#host.address, this.#aliases)
    return this.withEnvironment({ DNS_MEMBERSHIP_SERVICE_NAME: name })
  }

  withPorts(http: number, shutdown: number): this {
    this.#httpPort = http
    return this.withEnvironment({ HTTP_PORT: String(http), SHUTDOWN_PORT: String(shutdown) })
  }

  /** Multi-host layout: its own fixed address on the lab network (kept across stop/start). */
  onNetwork(network: string, address: string): this {
    this.#host = { network, address }
    return withStaticAddress(this, network, address, this.#aliases)
  }

  /** Single-host layout: inside another container's network namespace, reached at its address. */
  inNamespaceOf(container: { id: string; address: string }): this {
    this.#namespaceOf = container
    return this.withNetworkMode(`container:${container.id}`)
  }

  override async start(): Promise<StartedTomcatNode> {
    const address = this.#host?.address ?? this.#namespaceOf?.address
    if (!address) throw new Error(`TomcatNodeContainer ${this.#route}: call onNetwork() or inNamespaceOf() first`)
    const started = await super.start()
    return startedOrRemoved(started, async () => {
      const node = new StartedTomcatNode(started, this.#route, `http://${address}:${this.#httpPort}`, await controlContainer(started.getId()), this.#exSessionPath)
      await node.untilServing()
      return node
    })
  }
}

/**
 * A running node. `shutdown()`, `kill()` and `startAgain()` can repeat (testcontainers' own
 * `stop()` removes the container and happens once); the lab removes the container at the end.
 */
export class StartedTomcatNode extends AbstractStartedContainer {
  readonly route: string
  /** Where the node answers HTTP from the host: http://address:port */
  readonly url: string
  /** ExSession's context path on this node. */
  readonly exSessionPath: string
  readonly #control: ContainerControl

  constructor(started: StartedTestContainer, route: string, url: string, control: ContainerControl, exSessionPath = '/ExSession') {
    super(started)
    this.route = route
    this.url = url
    this.exSessionPath = exSessionPath
    this.#control = control
  }

  /** Graceful: `docker stop` (SIGTERM); Tomcat shuts down, the peer keeps the sessions. */
  async shutdown(): Promise<void> { await this.#control.stop(20) }

  /** A crash: SIGKILL, no shutdown hooks; the peer notices through membership (dropTime). */
  async kill(): Promise<void> {
    await this.#control.kill()
    this.killedIncarnation = this.incarnation
  }

  /**
   * This node's membership incarnation ("host:port#uniqueId") since its last start, when its
   * membership service names one (McastService); read from the page that showed it serving.
   */
  incarnation: string | undefined
  /** The incarnation a SIGKILL ended, until the node starts again: peers may still list it. */
  killedIncarnation: string | undefined

  /** Starts a stopped node again and waits until ExSession answers. */
  async startAgain(): Promise<void> {
    await this.#control.start()
    await this.untilServing()
  }

  remove(): Promise<void> { return this.#control.remove() }

  running(): Promise<boolean> { return this.#control.running() }

  allLogs(): Promise<string> { return this.#control.logs() }

  /** CPU time the node's JVM used so far: the bench's start levers weigh a start by it. */
  cpuSeconds(): Promise<number> { return this.#control.cpuSeconds() }

  /** The cluster as this node sees it (ExSession's /cluster page, from Tomcat's JMX). */
  async cluster(): Promise<ClusterView> {
    const reply = await fetchOnce(`${this.url}${this.exSessionPath}/cluster`, { timeoutMs: 3000 })
    if (reply.status !== 200) throw new Error(`${this.route}: ${this.exSessionPath}/cluster answered ${reply.status}`)
    return JSON.parse(reply.body) as ClusterView
  }

  /** This node's copy of session `id` (the full id, route suffix included), or null when it holds none. */
  async sessionCopy(id: string): Promise<SessionCopy | null> {
    const reply = await fetchOnce(`${this.url}${this.exSessionPath}/cluster?session=${encodeURIComponent(id)}`, { timeoutMs: 3000 })
    if (reply.status !== 200) throw new Error(`${this.route}: ${this.exSessionPath}/cluster?session= answered ${reply.status}`)
    return (JSON.parse(reply.body) as { session: SessionCopy | null }).session
  }

  /**
   * This node's part in keeping session `id` (the full id): under BackupManager primary, backup or
   * proxy and the backup members its map entry names, read without side effects (a map `get()`
   * would make this node the session's primary); members as host:port, named by placeSession.
   */
  async sessionRole(id: string): Promise<SessionRoleReport> {
    const reply = await fetchOnce(`${this.url}${this.exSessionPath}/cluster?session=${encodeURIComponent(id)}`, { timeoutMs: 3000 })
    if (reply.status !== 200) throw new Error(`${this.route}: ${this.exSessionPath}/cluster?session= answered ${reply.status}`)
    const view = JSON.parse(reply.body) as ClusterView & { placement?: Omit<SessionRoleReport, 'node' | 'localMember'> }
    if (!view.placement) throw new Error(`${this.route}: ${this.exSessionPath}/cluster?session= has no "placement": an ExSession older than the lab's (rebuild the Tomcat image)`)
    return { ...view.placement, node: view.node, localMember: view.localMember }
  }

  /** Member addresses (host:port) this node currently sees. */
  async members(): Promise<string[]> { return (await this.cluster()).members }

  /**
   * Waits until ExSession answers. When it never does, why is in Tomcat's own output (a deploy stuck
   * waiting for a peer's session state, a port already bound, a cluster that never started): its
   * last lines go with the error, which stays a NotReached.
   */
  async untilServing(): Promise<void> {
    try {
      const view = await until(`Tomcat ${this.route} serving ExSession at ${this.url}${this.exSessionPath}`, () => this.cluster(), { timeoutMs: UNTIL_SERVING_MS, intervalMs: 250 })
      // A new start, a new incarnation: the killed one is history (TomcatLab.untilForgotten).
      this.incarnation = view?.localIncarnation ?? undefined
      this.killedIncarnation = undefined
    } catch (error) {
      if (!(error instanceof NotReached)) throw error
      const log = await this.allLogs().catch((e: unknown) => `(its output could not be read: ${e instanceof Error ? e.message : String(e)})`)
      throw new NotReached(`${error.message}\nthe last lines of ${this.route}'s Tomcat output:\n${tail(log, 40)}`, { cause: error.cause })
    }
  }
}

/**
 * The system properties a node's server.xml may read: ${jvmRoute} only when the file asks for it
 * (Tomcat's Engine takes a -DjvmRoute as its jvmRoute even when server.xml sets none, which would
 * hide a missing one), the lab's name for the node always.
 */
/** The image's LAB_NODE_ADDRESSES: every node's address, which it passes as -Dlb-e2e.<node>.address. */
export function addressEnvironment(addresses: Record<string, string>): Record<string, string> {
  return { LAB_NODE_ADDRESSES: Object.entries(addresses).map(([node, address]) => `${node}=${address}`).join(' ') }
}

export function nodeEnvironment(node: string, route: string, serverXml: string): Record<string, string> {
  return { LAB_NODE: node, ...(readFileSync(serverXml, 'utf8').includes('${jvmRoute}') ? { JVM_ROUTE: route } : {}) }
}
