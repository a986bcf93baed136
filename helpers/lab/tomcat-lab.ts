/**
 * The Tomcat session-replication lab: two clustered Tomcat nodes (jvmRoute node01/node02) running
 * ExSession behind an Apache mod_proxy_balancer, in one of two real layouts:
 *  - `single-host`, the original post's: the balancer and both Tomcats share one network namespace;
 *    members are http://127.0.0.1:8180 and :8280, and a stopped node refuses connections at once.
 *  - `multi-host`, as production runs it: each Tomcat its own container and (fixed) address.
 * Address plan on its own network: balancer .140, node01 .141, node02 .142.
 */
import { readFileSync } from 'node:fs'
import { assert } from 'vitest'
import path from 'node:path'
import { type StartedBalancer, type WorkerStatus, BalancerContainer } from './balancer.ts'
import { removeInTurn } from './cleanup.ts'
import { LabError, asSetupError } from '../errors.ts'
import { ExSessionUser, type SessionPage } from './exsession.ts'
import { ensureImage } from './images.ts'
import { type LabNetwork, createLabNetwork } from './network.ts'
import { step } from '../progress.ts'
import { displayPath, fixturePath, fixturesDir, labWar, serverXmlPath } from '../settings.ts'
import { isLoopback, readHttpdConfig } from '../validate/httpd.ts'
import { labProperties } from '../validate/index.ts'
import { readServerXml } from '../validate/tomcat.ts'
import { type ClusterView, type StartedTomcatNode, TomcatNodeContainer } from './tomcat-node.ts'
import { until } from '../wait.ts'
import { EXSESSION_PROXY_CONF, contextDescriptorDir, exSessionPathBeside, exSessionProxyConf } from './webapp.ts'

export type Topology = 'single-host' | 'multi-host'
export const TOPOLOGIES: Topology[] = ['single-host', 'multi-host']

export interface TomcatLabOptions {
  topology: Topology
  /** server.xml under test, relative to fixtures/ (default tomcat/server.xml). */
  serverXml?: string
  /** Balancer configuration under test, relative to fixtures/ (default httpd/balancer-sticky.conf). */
  balancer?: string
}

/** The lab's two nodes: containers, directories of a per-node server.xml (tomcat/<node>/server.xml). */
export const NODES = ['node01', 'node02'] as const
export type NodeName = (typeof NODES)[number]

/** Per-node ports the lab gives a server.xml that reads them as ${http.port} / ${shutdown.port}. */
const DEFAULT_PORTS: Record<Topology, Record<NodeName, { http: number; shutdown: number }>> = {
  'single-host': { node01: { http: 8180, shutdown: 8105 }, node02: { http: 8280, shutdown: 8205 } },
  'multi-host': { node01: { http: 8080, shutdown: 8005 }, node02: { http: 8080, shutdown: 8005 } },
}

/** What one node runs, read from its server.xml (and the balancer, for a port the file leaves to a property). */
export interface NodePlan {
  name: NodeName
  file: string
  /** The Engine's jvmRoute (the session id suffix); the node's name when the file sets none. */
  route: string
  http: number
  shutdown: number
  /** Where its Host reads context descriptors (relative to CATALINA_BASE): ExSession is deployed by one. */
  descriptors: string
  /** channelSendOptions with the asynchronous bit (8, Tomcat's default): replication does not wait for the peer. */
  asynchronous: boolean
  /** A <Cluster> where Tomcat uses it (under <Engine> or <Host>): the node must join the others. */
  clustered: boolean
}

export interface TomcatLabPlan {
  topology: Topology
  balancer: string
  nodes: NodePlan[]
  /** ExSession's web.xml when the configuration under test brings its own. */
  webXml?: string
  war?: string
  /** The lab's ExSession's context path: /ExSession, or /lb-e2e-ExSession when the team's war is deployed there. */
  exSessionPath: string
  /** The lab's balancer file routing exSessionPath when the one under test does not (it mirrors the team's ProxyPass). */
  exSessionProxy?: string
}

/** The balancer files of a configuration: where the suites' labs take their members from. */
export const BALANCER_FILES = ['httpd/balancer-sticky.conf', 'httpd/balancer-nonsticky.conf']

/**
 * Every layout, with the reason the configuration under test cannot run in it: members on the
 * loopback address (the post's `http://127.0.0.1:8180`) in any of its balancer files mean it was
 * written for one host, so the multi-host layout does not apply; members the lab names
 * (${NODE01_ADDR}) run in both.
 */
export function layoutChoices(): { topology: Topology; skip?: string }[] {
  const oneHost = BALANCER_FILES.map((relative) => fixturePath(relative)).find((file) =>
    readHttpdConfig(readFileSync(file, 'utf8'), file).balancers.some((b) => b.members.some((m) => isLoopback(m.host))))
  // Two nodes whose files listen on the same literal HTTP port (8080 on each of their hosts) cannot share one.
  const literal = NODES.map((name) => {
    const file = serverXmlPath(name, 'tomcat/server.xml')
    const connector = readServerXml(readFileSync(file, 'utf8'), file, labProperties(name)).httpPorts[0]
    return { file, port: connector?.raw?.includes('${') ? undefined : connector?.value }
  })
  const clash = literal.find((a, i) => a.port !== undefined && literal.some((b, j) => j > i && b.port === a.port && b.file !== a.file))
  return TOPOLOGIES.map((topology) => {
    if (topology === 'multi-host' && oneHost) return { topology, skip: `${displayPath(oneHost)} reaches its members on the loopback address: written for one host` }
    if (topology === 'single-host' && clash) return { topology, skip: `every node's server.xml listens on HTTP port ${clash.port} (${literal.map((l) => displayPath(l.file)).join(', ')}): on one host only the first could bind it` }
    return { topology }
  })
}

/** The layouts the configuration under test can run in. */
export function layoutsFor(): Topology[] {
  return layoutChoices().filter((c) => c.skip === undefined).map((c) => c.topology)
}

/** The layout a suite that needs one layout runs in: multi-host, as production runs, unless the files were written for one host. */
export function preferredLayout(): Topology {
  return layoutsFor().includes('multi-host') ? 'multi-host' : 'single-host'
}

/** Reads the files a lab of these options runs: ports and jvmRoutes come from them, never assumed. */
export function planTomcatLab(options: TomcatLabOptions): TomcatLabPlan {
  const serverXml = options.serverXml ?? 'tomcat/server.xml'
  const balancer = fixturePath(options.balancer ?? 'httpd/balancer-sticky.conf')
  const config = readHttpdConfig(readFileSync(balancer, 'utf8'), balancer)
  const members = config.balancers.flatMap((b) => b.members)
  if (options.topology === 'multi-host' && members.some((m) => isLoopback(m.host))) {
    throw new LabError(`${displayPath(balancer)} reaches its members on the loopback address: it was written for one host (single-host layout); ` +
      'the multi-host layout cannot run it')
  }
  const nodes = NODES.map((name): NodePlan => {
    const file = serverXmlPath(name, serverXml)
    const text = readFileSync(file, 'utf8')
    const defaults = DEFAULT_PORTS[options.topology][name]
    const read = (http: number) => readServerXml(text, file, { ...labProperties(name), 'http.port': String(http), 'shutdown.port': String(defaults.shutdown) })
    const first = read(defaults.http)
    const route = first.engine?.jvmRoute?.value ?? name
    // A connector port left to ${http.port}: the port the balancer's member for this route uses, when it names one.
    const memberPort = Number(members.find((m) => m.params.route === route && /^\d+$/.test(m.port ?? ''))?.port)
    const server = first.httpPorts[0]?.raw?.includes('${') && memberPort ? read(memberPort) : first
    const http = server.httpPorts[0]?.value
    if (http === undefined) throw new LabError(`${displayPath(file)}: ${name} has no HTTP/1.1 <Connector> with a port: the balancer cannot reach it`)
    const sendOptions = server.cluster?.channelSendOptions.value
    return { name, file, route, http, shutdown: server.shutdownPort.value ?? defaults.shutdown, descriptors: contextDescriptorDir(text, file),
      asynchronous: sendOptions !== undefined && (sendOptions & 8) !== 0, clustered: server.cluster !== undefined && ['Engine', 'Host'].includes(server.cluster.parent) }
  })
  const webXml = fixturePath('webapp/WEB-INF/web.xml')
  const war = labWar()
  const exSessionPath = exSessionPathBeside(war)
  const exSessionProxy = exSessionProxyConf(config, exSessionPath, war)
  return {
    topology: options.topology, balancer, nodes,
    ...(webXml.startsWith(fixturesDir) ? {} : { webXml }),
    ...(war ? { war } : {}),
    exSessionPath,
    ...(exSessionProxy ? { exSessionProxy } : {}),
  }
}


/** How a test takes a node away: a graceful stop (SIGTERM, Tomcat shuts down) or a crash (SIGKILL). */
export const DISRUPTIONS = [
  { how: 'stop', what: 'a graceful stop (docker stop)' },
  { how: 'kill', what: 'a SIGKILL' },
] as const

export interface Recovery<Page = SessionPage> {
  page: Page
  /** From the start of the disruption to the first successful page. */
  gapMs: number
  /** What the user saw before that: errors or non-200 answers. */
  failures: string[]
}

let labsStarted = 0

export class TomcatLab {
  readonly options: Required<TomcatLabOptions>
  readonly plan: TomcatLabPlan
  readonly network: LabNetwork
  readonly balancer: StartedBalancer
  /** The nodes by jvmRoute (their session id suffix). */
  readonly nodes: Record<string, StartedTomcatNode>
  /** From starting the second node to the cluster formed; NaN when it never formed (`formationError` says how it stood). */
  readonly formationMs: number
  /** Why the cluster did not form at start: every later use of the lab fails with it. */
  readonly formationError: Error | undefined

  private constructor(options: Required<TomcatLabOptions>, plan: TomcatLabPlan, network: LabNetwork, balancer: StartedBalancer,
    nodes: Record<string, StartedTomcatNode>, formation: { ms: number } | { error: Error }) {
    this.options = options
    this.plan = plan
    this.network = network
    this.balancer = balancer
    this.nodes = nodes
    this.formationMs = 'ms' in formation ? formation.ms : Number.NaN
    this.formationError = 'error' in formation ? formation.error : undefined
  }

  static async start(options: TomcatLabOptions): Promise<TomcatLab> {
    const opts = { serverXml: 'tomcat/server.xml', balancer: 'httpd/balancer-sticky.conf', ...options }
    const plan = planTomcatLab(opts)
    await Promise.all([ensureImage('apache'), ensureImage('tomcat')])
    const files = [...new Set(plan.nodes.map((n) => displayPath(n.file)))].join(' + ')
    const title = `Tomcat lab (${opts.topology}, ${files}, ${displayPath(plan.balancer)}${plan.war ? `, ${path.basename(plan.war)}` : ''})`
    const name = `tc${++labsStarted}`
    const network = await step(`${title}: network`, () => createLabNetwork(name))
    const started: { remove(): Promise<void> }[] = []
    try {
      return await step(title, async () => {
        const single = opts.topology === 'single-host'
        const nodeAddress = (i: number) => (single ? '127.0.0.1' : network.address(141 + i))
        const members = Object.fromEntries(plan.nodes.flatMap((n, i) => [
          [`${n.name.toUpperCase()}_ADDR`, nodeAddress(i)], [`${n.name.toUpperCase()}_PORT`, String(n.http)],
        ]))
        let balancerContainer = new BalancerContainer(plan.balancer, members, name).onNetwork(network.name, network.address(140))
        // The team's file stays as written; the lab's ExSession path is routed by a file beside it.
        if (plan.exSessionProxy) {
          balancerContainer = balancerContainer.withCopyContentToContainer([{ content: plan.exSessionProxy, target: `/etc/apache2/conf-enabled/${EXSESSION_PROXY_CONF}` }])
        }
        const balancer = await balancerContainer.start()
        started.push(balancer)
        const startNode = async (n: NodePlan, i: number) => {
          let container = new TomcatNodeContainer(n.name, n.route, name)
            .withServerXml(n.file)
            .withPorts(n.http, n.shutdown)
            .withExSessionPath(plan.exSessionPath, n.descriptors)
          if (plan.webXml) container = container.withExSessionWebXml(plan.webXml)
          if (plan.war) container = container.withWar(plan.war)
          const node = await (single
            ? container.inNamespaceOf({ id: balancer.getId(), address: network.address(140) })
            : container.onNetwork(network.name, nodeAddress(i))).start()
          started.push(node)
          return node
        }
        // The second node starts only once the first is up: started together, one can block 60 s
        // in DeltaManager.waitForSendAllSessions (LAB-NOTES).
        const [first, second] = plan.nodes as [NodePlan, NodePlan]
        const node01 = await startNode(first, 0)
        const joining = performance.now()
        const node02 = await startNode(second, 1)
        // A cluster that never forms is the configuration's failure, not the lab's: the lab
        // starts, and every test that uses it fails with each node's view (restore()).
        const formation = await untilClustered(plan, [node01, node02]).then(() => ({ ms: performance.now() - joining }), (error: Error) => ({ error }))
        return new TomcatLab(opts, plan, network, balancer, { [first.route]: node01, [second.route]: node02 }, formation)
      })
    } catch (error) {
      // The error that counts is why the lab did not start, not a removal failing after it.
      await removeInTurn([...started.reverse().map((s) => () => s.remove()), () => network.remove()]).catch(() => undefined)
      throw asSetupError(title, error)
    }
  }

  get balancerUrl(): string { return this.balancer.url }

  /** The nodes' jvmRoutes, in node order (node01's first). */
  get routes(): string[] { return this.plan.nodes.map((n) => n.route) }

  user(): ExSessionUser { return new ExSessionUser(this.balancer.url, this.plan.exSessionPath) }

  node(route: string): StartedTomcatNode {
    const node = this.nodes[route]
    if (!node) throw new LabError(`no Tomcat node with jvmRoute ${route} (${this.routes.join(', ')})`)
    return node
  }

  /**
   * The balancer's worker for a node, as /server-status names it (by URL only): its host and port,
   * or in the single-host layout its port (the file may say 127.0.0.1 or localhost).
   */
  isWorkerOf(worker: WorkerStatus, route: string): boolean {
    const [member, node] = [new URL(worker.name), new URL(this.node(route).url)]
    return member.port === node.port && (this.options.topology === 'single-host' || member.hostname === node.hostname)
  }

  /** The other node of the pair. */
  peer(route: string): StartedTomcatNode {
    const other = this.routes.find((r) => r !== route)
    if (other === undefined || !this.nodes[route]) throw new LabError(`no Tomcat node with jvmRoute ${route} (${this.routes.join(', ')})`)
    return this.node(other)
  }

  /** Every node of a clustered plan lists every other one as its member (the views shown when not). */
  untilClustered(): Promise<void> {
    if (this.formationError) throw this.formationError
    return untilClustered(this.plan, this.plan.nodes.map((n) => this.node(n.route)))
  }

  /**
   * The user's next successful page after a disruption that began at `since` (performance.now()),
   * retrying on errors every 100 ms for at most `timeoutMs`: the failover gap as a user feels it.
   */
  async recover<Page = SessionPage>(user: { visit(): Promise<Page> }, since: number, timeoutMs = 120_000): Promise<Recovery<Page>> {
    const failures: string[] = []
    const page = await until('a page from the surviving node', async () => {
      try {
        return await user.visit()
      } catch (error) {
        failures.push((error as Error).message.slice(0, 120))
        throw error
      }
    }, { timeoutMs, intervalMs: 100 })
    return { page, gapMs: performance.now() - since, failures }
  }

  /** After a test: every node running again, the cluster formed and no member in error, as the next test expects. */
  async restore(): Promise<void> {
    for (const node of Object.values(this.nodes)) if (!(await node.running())) await node.startAgain()
    await this.untilClustered()
    await this.balancer.clearErrors()
  }

  /** Removes the nodes, the balancer and the network, each even when one before it failed. */
  async stop(): Promise<void> {
    await removeInTurn([...Object.values(this.nodes).map((node) => () => node.remove()), () => this.balancer.remove(), () => this.network.remove()])
  }
}

/**
 * Every node lists every other node, and only them, as its replication members (bounded wait);
 * on timeout an assertion failure that shows each node's view. Only a plan without <Cluster> has
 * nothing to form, and then no node may report one.
 */
export async function untilClustered(plan: Pick<TomcatLabPlan, 'nodes'>, nodes: Pick<StartedTomcatNode, 'cluster'>[], timeoutMs = 30_000): Promise<void> {
  const expectCluster = plan.nodes.some((n) => n.clustered)
  let views: ClusterView[] = []
  const problem = (): string | undefined => {
    if (!expectCluster) return views.some((v) => v.clustered) ? 'no <Cluster> in the plan, yet a node reports one' : undefined
    const locals = views.map((v) => v.localMember)
    for (const [i, view] of views.entries()) {
      if (!view.clustered) return `${view.node} reports no cluster`
      const others = locals.filter((_, j) => j !== i)
      if (JSON.stringify([...view.members].sort()) !== JSON.stringify([...others].sort())) return `${view.node} sees members ${JSON.stringify(view.members)}, expected ${JSON.stringify(others)}`
    }
    return undefined
  }
  try {
    await until('the Tomcat nodes forming their cluster', async () => {
      views = await Promise.all(nodes.map((node) => node.cluster()))
      const wrong = problem()
      if (wrong) throw new Error(wrong)
    }, { timeoutMs, intervalMs: 250 })
  } catch (error) {
    const shown = views.map((v) => `  ${v.node}: clustered ${v.clustered}, local member ${v.localMember}, members ${JSON.stringify(v.members)}`).join('\n')
    assert.fail(`the cluster never formed within ${timeoutMs / 1000} s (${problem() ?? (error as Error).message}); each node's view:\n${shown || '  (no node answered)'}\n` +
      'Cause: the nodes do not reach each other (membership: multicast address/port, Receiver address, interceptors that filter members).')
  }
}

/**
 * Tomcat labs shared by every test file of a worker (the `tomcatLabs` fixture): one per distinct
 * configuration, started on first use, handed out healthy (nodes running, cluster formed), and
 * removed when the worker ends. Starting a lab takes ~10 s; most suites use the same two.
 */
export class TomcatLabPool {
  readonly #labs = new Map<string, Promise<TomcatLab>>()

  /** A lab of this configuration, every node running and the cluster formed. */
  async get(options: TomcatLabOptions): Promise<TomcatLab> {
    const key = JSON.stringify([options.topology, options.serverXml ?? '', options.balancer ?? ''])
    let pending = this.#labs.get(key)
    if (!pending) {
      pending = TomcatLab.start(options)
      this.#labs.set(key, pending)
      pending.catch(() => this.#labs.delete(key)) // a failed start is retried by the next user
    }
    const lab = await pending
    await lab.restore()
    return lab
  }

  async stopAll(): Promise<void> {
    const labs = await Promise.allSettled(this.#labs.values())
    this.#labs.clear()
    await removeInTurn(labs.flatMap((lab) => (lab.status === 'fulfilled' ? [() => lab.value.stop()] : [])))
  }
}
