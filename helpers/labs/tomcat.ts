/**
 * The Tomcat session-replication lab: two clustered Tomcat nodes (jvmRoute node01/node02) running
 * ExSession behind an Apache mod_proxy_balancer, in one of two real layouts:
 *  - `single-host`, the original post's: the balancer and both Tomcats share one network namespace;
 *    members are http://127.0.0.1:8180 and :8280, and a stopped node refuses connections at once.
 *  - `multi-host`, as production runs it: each Tomcat its own container and (fixed) address.
 * Address plan on its own network: balancer .140, node01 .141, node02 .142.
 */
import path from 'node:path'
import { type StartedBalancer, BalancerContainer } from '../balancer.ts'
import { LabError } from '../errors.ts'
import { ExSessionUser, type SessionPage } from '../exsession.ts'
import { ensureImage } from '../images.ts'
import { type LabNetwork, createLabNetwork } from '../network.ts'
import { step } from '../progress.ts'
import { fixturesDir } from '../settings.ts'
import { type StartedTomcatNode, TomcatNodeContainer } from '../tomcat.ts'
import { until } from '../wait.ts'

export type Topology = 'single-host' | 'multi-host'
export const TOPOLOGIES: Topology[] = ['single-host', 'multi-host']

export interface TomcatLabOptions {
  topology: Topology
  /** server.xml under test, relative to fixtures/ (default tomcat/server.xml). */
  serverXml?: string
  /** Balancer configuration under test, relative to fixtures/ (default httpd/balancer-sticky.conf). */
  balancer?: string
}

const ROUTES = ['node01', 'node02'] as const
export type Route = (typeof ROUTES)[number]

/** Per-node ports: in one namespace they must differ (the post's 8180/8280, shutdown 8105/8205). */
const PORTS: Record<Topology, Record<Route, { http: number; shutdown: number }>> = {
  'single-host': { node01: { http: 8180, shutdown: 8105 }, node02: { http: 8280, shutdown: 8205 } },
  'multi-host': { node01: { http: 8080, shutdown: 8005 }, node02: { http: 8080, shutdown: 8005 } },
}

export interface Recovery {
  page: SessionPage
  /** From the start of the disruption to the first successful page. */
  gapMs: number
  /** What the user saw before that: errors or non-200 answers. */
  failures: string[]
}

let labsStarted = 0

export class TomcatLab {
  readonly options: Required<TomcatLabOptions>
  readonly network: LabNetwork
  readonly balancer: StartedBalancer
  readonly nodes: Record<Route, StartedTomcatNode>
  /** From starting node02 to both nodes listing each other as members. */
  readonly formationMs: number

  private constructor(options: Required<TomcatLabOptions>, network: LabNetwork, balancer: StartedBalancer,
    nodes: Record<Route, StartedTomcatNode>, formationMs: number) {
    this.options = options
    this.network = network
    this.balancer = balancer
    this.nodes = nodes
    this.formationMs = formationMs
  }

  static async start(options: TomcatLabOptions): Promise<TomcatLab> {
    const opts = { serverXml: 'tomcat/server.xml', balancer: 'httpd/balancer-sticky.conf', ...options }
    await Promise.all([ensureImage('apache'), ensureImage('tomcat')])
    const title = `Tomcat lab (${opts.topology}, ${opts.serverXml}, ${opts.balancer})`
    const name = `tc${++labsStarted}`
    const network = await createLabNetwork(name)
    const started: { remove(): Promise<void> }[] = []
    try {
      return await step(title, async () => {
        const ports = PORTS[opts.topology]
        const single = opts.topology === 'single-host'
        const nodeAddress = (route: Route) => (single ? '127.0.0.1' : network.address(route === 'node01' ? 141 : 142))
        const members = Object.fromEntries(ROUTES.flatMap((r) => [
          [`${r.toUpperCase()}_ADDR`, nodeAddress(r)], [`${r.toUpperCase()}_PORT`, String(ports[r].http)],
        ]))
        const balancer = await new BalancerContainer(path.join(fixturesDir, opts.balancer), members, name)
          .onNetwork(network.name, network.address(140)).start()
        started.push(balancer)
        const startNode = async (route: Route) => {
          const container = new TomcatNodeContainer(route, name)
            .withServerXml(path.join(fixturesDir, opts.serverXml))
            .withPorts(ports[route].http, ports[route].shutdown)
          const node = await (single
            ? container.inNamespaceOf({ id: balancer.getId(), address: network.address(140) })
            : container.onNetwork(network.name, nodeAddress(route))).start()
          started.push(node)
          return node
        }
        // The second node starts only once the first is up: started together, one can block 60 s
        // in DeltaManager.waitForSendAllSessions (LAB-NOTES).
        const node01 = await startNode('node01')
        const joining = performance.now()
        const node02 = await startNode('node02')
        await untilClustered([node01, node02])
        return new TomcatLab(opts, network, balancer, { node01, node02 }, performance.now() - joining)
      })
    } catch (error) {
      for (const s of started.reverse()) await s.remove().catch(() => undefined)
      await network.remove()
      throw error
    }
  }

  get balancerUrl(): string { return this.balancer.url }

  user(): ExSessionUser { return new ExSessionUser(this.balancer.url) }

  node(route: string): StartedTomcatNode {
    const node = this.nodes[route as Route]
    if (!node) throw new LabError(`no Tomcat node ${route} (node01, node02)`)
    return node
  }

  /** The other node of the pair. */
  peer(route: string): StartedTomcatNode {
    return this.node(route === 'node01' ? 'node02' : 'node01')
  }

  untilClustered(): Promise<void> {
    return untilClustered(Object.values(this.nodes))
  }

  /**
   * The user's next successful page after a disruption that began at `since` (performance.now()),
   * retrying on errors every 100 ms for at most `timeoutMs`: the failover gap as a user feels it.
   */
  async recover(user: ExSessionUser, since: number, timeoutMs = 120_000): Promise<Recovery> {
    const failures: string[] = []
    const page = await until('a page from the surviving node', async () => {
      try {
        return await user.visit(undefined, 10_000)
      } catch (error) {
        failures.push((error as Error).message.slice(0, 120))
        throw error
      }
    }, { timeoutMs, intervalMs: 100 })
    return { page, gapMs: performance.now() - since, failures }
  }

  /** After a test: every node running again and the cluster formed, as the next test expects. */
  async restore(): Promise<void> {
    for (const node of Object.values(this.nodes)) if (!(await node.running())) await node.startAgain()
    await this.untilClustered()
  }

  async stop(): Promise<void> {
    for (const node of Object.values(this.nodes)) await node.remove()
    await this.balancer.remove()
    await this.network.remove()
  }
}

/**
 * Both nodes list each other, and only each other, as replication members (bounded wait).
 * A server.xml without <Cluster> (the control) has nothing to form: no node reports a cluster.
 */
async function untilClustered(nodes: StartedTomcatNode[], timeoutMs = 60_000): Promise<void> {
  await until('both Tomcat nodes listing each other as cluster members', async () => {
    const views = await Promise.all(nodes.map((node) => node.cluster()))
    if (views.every((view) => !view.clustered)) return
    for (const view of views) {
      if (view.members.length !== 1 || view.members[0] === view.localMember) {
        throw new Error(`${view.node} sees members ${JSON.stringify(view.members)}`)
      }
    }
  }, { timeoutMs, intervalMs: 250 })
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
    for (const lab of labs) if (lab.status === 'fulfilled') await lab.value.stop()
  }
}
