/**
 * The Tomcat session-replication lab: two to four clustered Tomcat nodes (as many as the plan's
 * files describe) running ExSession behind an Apache mod_proxy_balancer, in one of two real layouts:
 *  - `single-host`, the original post's: the balancer and every Tomcat share one network namespace;
 *    members are http://127.0.0.1:8180, :8280 …, and a stopped node refuses connections at once.
 *  - `multi-host`, as production runs it: each Tomcat its own container and (fixed) address.
 * Address plan on its own network: balancer .140, node01 .141, node02 .142, node03 .143, node04 .144.
 */
import { readFileSync } from 'node:fs'
import { assert } from 'vitest'
import path from 'node:path'
import { type StartedBalancer, type WorkerStatus, BalancerContainer } from './balancer.ts'
import { removeInTurn } from './cleanup.ts'
import { LabError, asSetupError } from '../errors.ts'
import { ExSessionUser, type SessionPage } from './exsession.ts'
import { ensureImage, tomcatImage } from './images.ts'
import { type BalancerPlan, type Limits, type NodePlan, type Plan, type Stickiness, type Topology, memberVariables, planFile, readBalancer, readNodes } from '../intake/plan.ts'
import { type LabNetwork, createLabNetwork } from './network.ts'
import { step } from '../progress.ts'
import { type TomcatVersion, displayPath, fixturesDir, resourceName } from '../settings.ts'
import { isLoopback, readHttpdConfig } from '../validate/httpd.ts'
import { type ClusterView, type StartedTomcatNode, TomcatNodeContainer, incarnationAddress } from './tomcat-node.ts'
import { until } from '../wait.ts'
import { EXSESSION_PROXY_CONF, exSessionContexts, exSessionProxyConf } from './webapp.ts'

export interface TomcatLabOptions {
  topology: Topology
  /** server.xml under test, relative to fixtures/ (default: the plan's own, per node). The project's characterization variants name theirs. */
  serverXml?: string
  /** Balancer configuration under test, relative to fixtures/ (default httpd/balancer-sticky.conf). */
  balancer?: string
  /** The Tomcat the nodes run (default: the plan's, LAB_TOMCAT): the smoke of the other versions names one. */
  tomcat?: TomcatVersion
}

export interface TomcatLabPlan {
  topology: Topology
  tomcat: TomcatVersion
  balancer: string
  /** The balancer as the plan read it: members, stickiness, lbmethod. */
  balancerPlan: BalancerPlan
  nodes: NodePlan[]
  /** ExSession's web.xml when the configuration under test brings its own. */
  webXml?: string
  war?: string
  /** Where users visit the lab's ExSession through the balancer: /ExSession, /lb-e2e-ExSession beside a team's ExSession.war, or the path the team's ProxyPass routes. */
  exSessionPath: string
  /** The contexts ExSession is deployed at on every node (webapp.ts exSessionContexts); the first is read directly. */
  exSessionContexts: string[]
  /** The lab's balancer file routing exSessionPath when the one under test does not (it mirrors the team's ProxyPass). */
  exSessionProxy?: string
  /** The run's limits: what turns this lab's measured findings into failures. */
  limits: Limits
  /** Per node (by jvmRoute): the route= of its balancer member, what a route cookie carries for it. */
  memberRoutes: Record<string, string | undefined>
}

/** The balancer files of a configuration: where the suites' labs take their members from. */
export const BALANCER_FILES = ['httpd/balancer-sticky.conf', 'httpd/balancer-nonsticky.conf']

/**
 * A lab of these options from the run's plan: its nodes, ports and jvmRoutes as the plan read
 * them. Only the project's own characterization variants (a serverXml or balancer other than the
 * plan's) are read here, with the plan's readers.
 */
export function planTomcatLab(plan: Plan, options: TomcatLabOptions): TomcatLabPlan {
  const relative = options.balancer ?? 'httpd/balancer-sticky.conf'
  const role = /^httpd\/balancer-(sticky|nonsticky)\.conf$/.exec(relative)?.[1] as 'sticky' | 'nonsticky' | undefined
  const file = role ? planFile(plan, relative) : path.join(fixturesDir, relative)
  const balancerPlan = (role && plan.balancers[role]) || readBalancer(file, role ?? 'sticky')
  if (!balancerPlan) throw new LabError(`${displayPath(file)}: no balancer with members for the Tomcat lab`)
  if (options.topology === 'multi-host' && balancerPlan.members.some((m) => isLoopback(m.host))) {
    throw new LabError(`${displayPath(file)} reaches its members on the loopback address: it was written for one host (single-host layout); ` +
      'the multi-host layout cannot run it')
  }
  // The project's own variants with a balancer of their own (the post's) run as many nodes as it has members.
  const count = role ? plan.nodes[options.topology].length : balancerPlan.members.length
  const nodes = options.serverXml && options.serverXml !== 'tomcat/server.xml'
    ? readNodes(Array.from({ length: count }, () => path.join(fixturesDir, options.serverXml!)), balancerPlan.members, options.topology)
    : plan.nodes[options.topology]
  const config = readHttpdConfig(readFileSync(file, 'utf8'), file)
  // A member is its node's by the lab's variable (${NODE02_ADDR}), else by its port on one host, else by order.
  const memberOf = (n: NodePlan, i: number) => balancerPlan.members.find((m) => m.host === `\${${n.name.toUpperCase()}_ADDR}`)
    ?? balancerPlan.members.find((m) => isLoopback(m.host) && Number(m.port) === n.http) ?? balancerPlan.members[i]
  const memberRoutes = Object.fromEntries(nodes.map((n, i) => [n.route, memberOf(n, i)?.params.route]))
  const { contexts: exSessionContextPaths, front: exSessionPath } = exSessionContexts(config, plan.war)
  const exSessionProxy = exSessionProxyConf(config, exSessionPath, plan.war)
  return {
    topology: options.topology, tomcat: options.tomcat ?? plan.tomcat, balancer: file, balancerPlan, nodes,
    ...(plan.webXml ? { webXml: plan.webXml } : {}),
    ...(plan.war ? { war: plan.war } : {}),
    exSessionPath,
    exSessionContexts: exSessionContextPaths,
    ...(exSessionProxy ? { exSessionProxy } : {}),
    limits: plan.limits,
    memberRoutes,
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
  /** The nodes by jvmRoute (their session id suffix), in node order. */
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

  static async start(runPlan: Plan, options: TomcatLabOptions): Promise<TomcatLab> {
    const opts = { serverXml: 'tomcat/server.xml', balancer: 'httpd/balancer-sticky.conf', tomcat: runPlan.tomcat, ...options }
    const plan = planTomcatLab(runPlan, opts)
    await Promise.all([ensureImage('apache'), ensureImage(tomcatImage(plan.tomcat))])
    const files = [...new Set(plan.nodes.map((n) => displayPath(n.file)))].join(' + ')
    const title = `Tomcat lab (Tomcat ${plan.tomcat}, ${opts.topology}, ${plan.nodes.length} nodes, ${files}, ${displayPath(plan.balancer)}${plan.war ? `, ${path.basename(plan.war)}` : ''})`
    const name = `tc${++labsStarted}`
    // What exists so far, removed in reverse when the start fails half-way.
    const undo = new AsyncDisposableStack()
    try {
      const network = await step(`${title}: network`, () => createLabNetwork(name))
      undo.defer(() => network.remove())
      return await step(title, async () => {
        const single = opts.topology === 'single-host'
        const nodeAddress = (i: number) => (single ? '127.0.0.1' : network.address(141 + i))
        const members = memberVariables(plan.nodes, nodeAddress)
        let balancerContainer = new BalancerContainer(plan.balancer, members, name).onNetwork(network.name, network.address(140))
        // The team's file stays as written; the lab's ExSession path is routed by a file beside it.
        if (plan.exSessionProxy) {
          balancerContainer = balancerContainer.withCopyContentToContainer([{ content: plan.exSessionProxy, target: `/etc/apache2/conf-enabled/${EXSESSION_PROXY_CONF}` }])
        }
        const balancer = await balancerContainer.start()
        undo.defer(() => balancer.remove())
        const startNode = async (n: NodePlan, i: number) => {
          let container = new TomcatNodeContainer(n.name, n.route, name, plan.tomcat)
            .withServerXml(n.file)
            .withPorts(n.http, n.shutdown)
            .withNodeAddresses(Object.fromEntries(plan.nodes.map((m, j) => [m.name, nodeAddress(j)])))
            .withSystemProperties(runPlan.jvm?.properties ?? {})
            .withExSessionPaths(plan.exSessionContexts, n.descriptors)
          // DNS membership: one name every node answers to, as a headless service (a network alias they share).
          if (n.membership === 'dns') container = container.withMembershipName(`${resourceName(name)}-members`)
          if (plan.webXml) container = container.withExSessionWebXml(plan.webXml)
          if (plan.war) container = container.withWar(plan.war)
          const node = await (single
            ? container.inNamespaceOf({ id: balancer.getId(), address: network.address(140) })
            : container.onNetwork(network.name, nodeAddress(i))).start()
          undo.defer(() => node.remove())
          return node
        }
        // The first node alone. Two nodes started together can block 60 s in
        // DeltaManager.waitForSendAllSessions (LAB-NOTES): each asks the other for the sessions
        // before either can answer. A node asks its oldest member; with multicast membership
        // every heartbeat carries the sender's alive time, so once the first node serves, the
        // later ones all ask it and can start together. With DNS membership they cannot (seen: a
        // Tomcat 11 lab of three, the last two together, took 66.7 s), nor, unmeasured, static.
        const started: StartedTomcatNode[] = [await startNode(plan.nodes[0]!, 0)]
        const joining = performance.now()
        const rest = plan.nodes.slice(1).map((n, i) => () => startNode(n, i + 1))
        if (plan.nodes.every((n) => n.membership === 'multicast')) {
          // Settled, not Promise.all: a node still starting when another fails must be in `undo` before it runs.
          const starts = await Promise.allSettled(rest.map((start) => start()))
          for (const s of starts) if (s.status === 'rejected') throw s.reason
          started.push(...starts.map((s) => (s as PromiseFulfilledResult<StartedTomcatNode>).value))
        } else for (const start of rest) started.push(await start())
        // A cluster that never forms is the configuration's failure, not the lab's: the lab
        // starts, and every test that uses it fails with each node's view (restore()).
        const formation = await untilClustered(plan, started).then(() => ({ ms: performance.now() - joining }), (error: Error) => ({ error }))
        const lab = new TomcatLab(opts, plan, network, balancer, Object.fromEntries(plan.nodes.map((n, i) => [n.route, started[i]!])), formation)
        undo.move() // the lab owns them now: stop() removes them
        return lab
      })
    } catch (error) {
      // The error that counts is why the lab did not start, not a removal failing after it.
      await undo.disposeAsync().catch(() => undefined)
      throw asSetupError(title, error)
    }
  }

  get balancerUrl(): string { return this.balancer.url }

  /** The nodes' jvmRoutes, in node order (node01's first). */
  get routes(): string[] { return this.plan.nodes.map((n) => n.route) }

  user(): ExSessionUser { return new ExSessionUser(this.balancer.url, this.plan.exSessionPath) }

  /** How the balancer keeps users on their node, as the plan read it from the file. */
  get stickiness(): Stickiness { return this.plan.balancerPlan.stickiness }

  /**
   * The value of the balancer's route cookie for a node (`.node02`, as `ROUTEID=.%{BALANCER_WORKER_ROUTE}e`
   * sets it), or undefined when the balancer does not stick by a route cookie.
   */
  routeCookieFor(route: string): { name: string; value: string } | undefined {
    const s = this.stickiness
    if (s.by !== 'route-cookie') return undefined
    const member = this.plan.memberRoutes[route]
    if (member === undefined) throw new LabError(`${displayPath(this.plan.balancer)}: no member route= for ${route}: its route cookie cannot name it`)
    return { name: s.names[0]!, value: `.${member}` }
  }

  /** The node (jvmRoute) a route cookie's value names; '' for none (no cookie, or a member of no node). */
  nodeOfRouteCookie(value: string | undefined): string {
    return this.routes.find((r) => value !== undefined && this.plan.memberRoutes[r] !== undefined && value === `.${this.plan.memberRoutes[r]}`) ?? ''
  }

  node(route: string): StartedTomcatNode {
    const node = this.nodes[route]
    if (!node) throw new LabError(`no Tomcat node with jvmRoute ${route} (${this.routes.join(', ')})`)
    return node
  }

  /**
   * The balancer's worker for a node, as /server-status names it (by URL only): its host and port
   * (the AJP connector's for an ajp:// member), or in the single-host layout its port (the file may
   * say 127.0.0.1 or localhost).
   */
  isWorkerOf(worker: WorkerStatus, route: string): boolean {
    const [member, node] = [new URL(worker.name), new URL(this.node(route).url)]
    const ajp = this.plan.nodes.find((n) => n.route === route)?.ajp
    const port = member.protocol === 'ajp:' ? String(ajp) : node.port
    // mod_status leaves out a scheme's default port (ajp://10.0.0.2 for :8009, http:// for :80).
    const memberPort = member.port || (member.protocol === 'ajp:' ? '8009' : '80')
    return memberPort === port && (this.options.topology === 'single-host' || member.hostname === node.hostname)
  }

  /** Every node but this one: where its users go when it is gone, the peers that hold copies of its sessions. */
  others(route: string): StartedTomcatNode[] {
    this.node(route)
    return this.routes.filter((r) => r !== route).map((r) => this.node(r))
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

  /** After a test: every node running again, the cluster formed and the balancer as freshly started, as the next test expects. */
  async restore(): Promise<void> {
    for (const node of Object.values(this.nodes)) {
      if (await node.running()) continue
      await this.untilForgotten(node)
      await node.startAgain()
    }
    await this.untilClustered()
    await this.balancer.reset()
  }

  /**
   * Before a killed node starts again: until no running peer's membership service still lists the
   * incarnation the SIGKILL ended. Started sooner, at the same address and port, the new
   * incarnation answers TcpFailureDetector's TCP check for the dead one, the peers keep the dead
   * one as a member beside it, and the node's next crash waits out the sender's 5 s on it
   * (measured: 3 of 8 kills right after a restore took 6.1 s instead of 1.1 s).
   */
  async untilForgotten(node: StartedTomcatNode, timeoutMs = 30_000): Promise<void> {
    const dead = node.killedIncarnation
    if (!dead) return
    const peers: StartedTomcatNode[] = []
    for (const peer of this.others(node.route)) if (await peer.running()) peers.push(peer)
    await until(`${node.route}'s killed incarnation leaving its peers' membership`, async () => {
      const still = (await Promise.all(peers.map(async (p) => ((await p.cluster()).heard ?? []).includes(dead) ? p.route : undefined))).filter(Boolean)
      if (still.length) throw new Error(`${still.join(', ')} still list ${dead}`)
    }, { timeoutMs, intervalMs: 100 })
  }

  /** Removes the nodes, the balancer and the network, each even when one before it failed. */
  async stop(): Promise<void> {
    await removeInTurn([...Object.values(this.nodes).map((node) => () => node.remove()), () => this.balancer.remove(), () => this.network.remove()])
  }
}

/** Two entries of one member list at one address (another uniqueId each), or undefined. */
export function twoIncarnations(incarnations: string[]): [string, string] | undefined {
  const seen = new Map<string, string>()
  for (const i of incarnations) {
    const before = seen.get(incarnationAddress(i))
    if (before !== undefined && before !== i) return [before, i]
    seen.set(incarnationAddress(i), i)
  }
  return undefined
}

/**
 * Every node lists every other node, and only them, as its replication members (bounded wait);
 * on timeout an assertion failure that shows each node's view. Only a plan without <Cluster> has
 * nothing to form, and then no node may report one.
 */
export async function untilClustered(plan: Pick<TomcatLabPlan, 'nodes'>, nodes: Pick<StartedTomcatNode, 'cluster'>[], timeoutMs = 30_000): Promise<void> {
  const expectCluster = plan.nodes.some((n) => n.clustered)
  let views: ClusterView[] = []
  const UNREACHED = 'Cause: the nodes do not reach each other (membership: multicast address/port, Receiver address, interceptors that filter members).'
  const GHOST = 'Cause: TcpFailureDetector checks a member by connecting to its address, which the restarted node answers, so the crashed one stays ' +
    'listed and its next crash waits out the sender timeout. Fix: start a crashed node again only after dropTime.'
  const problem = (): { why: string; cause: string } | undefined => {
    if (!expectCluster) return views.some((v) => v.clustered) ? { why: 'no <Cluster> in the plan, yet a node reports one', cause: UNREACHED } : undefined
    const locals = views.map((v) => v.localMember)
    for (const [i, view] of views.entries()) {
      if (!view.clustered) return { why: `${view.node} reports no cluster`, cause: UNREACHED }
      const others = locals.filter((_, j) => j !== i)
      if (JSON.stringify([...view.members].sort()) !== JSON.stringify([...others].sort())) return { why: `${view.node} sees members ${JSON.stringify(view.members)}, expected ${JSON.stringify(others)}`, cause: UNREACHED }
      const twice = twoIncarnations(view.incarnations ?? [])
      if (twice) return { why: `${view.node} lists ${twice.join(' and ')}: two incarnations at one address, a dead one beside the live one`, cause: GHOST }
    }
    return undefined
  }
  try {
    await until('the Tomcat nodes forming their cluster', async () => {
      views = await Promise.all(nodes.map((node) => node.cluster()))
      const wrong = problem()
      if (wrong) throw new Error(wrong.why)
    }, { timeoutMs, intervalMs: 250 })
  } catch (error) {
    const shown = views.map((v) => `  ${v.node}: clustered ${v.clustered}, local member ${v.localMember}, members ${JSON.stringify(v.members)}` +
      (v.incarnations?.length ? `, incarnations ${JSON.stringify(v.incarnations)}` : '')).join('\n')
    const wrong = problem()
    assert.fail(`the cluster never formed within ${timeoutMs / 1000} s (${wrong?.why ?? (error as Error).message}); each node's view:\n${shown || '  (no node answered)'}\n${wrong?.cause ?? UNREACHED}`)
  }
}

/**
 * Tomcat labs shared by every test file of a worker (the `tomcatLabs` fixture): one per distinct
 * configuration, started on first use, handed out healthy (nodes running, cluster formed), and
 * removed when the worker ends. Starting a lab takes ~10 s; most suites use the same two.
 */
export class TomcatLabPool {
  readonly #labs = new Map<string, Promise<TomcatLab>>()
  readonly #plan: Plan

  constructor(plan: Plan) {
    this.#plan = plan
  }

  /** A lab of this configuration, every node running and the cluster formed. */
  async get(options: TomcatLabOptions): Promise<TomcatLab> {
    const key = JSON.stringify([options.topology, options.serverXml ?? '', options.balancer ?? '', options.tomcat ?? ''])
    let pending = this.#labs.get(key)
    if (!pending) {
      pending = TomcatLab.start(this.#plan, options)
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
