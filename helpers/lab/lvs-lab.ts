/**
 * The Linux Virtual Server lab: the original post's setup on a network of its own — two (plus a
 * spare third) Apache real servers at .131–.133, an IPVS director with the VIP at .200, and a client container
 * with extra source addresses (.160–.175) for schedulers that hash or pin by client. Started once per run in
 * vitest's main process (`startLvsLab`), driven from test files (`LvsLab.attach`).
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { disposeInTurn } from './cleanup.ts'
import { type ContainerControl, controlContainer, labContainer, startedOrRemoved } from './containers.ts'
import { LabError, asSetupError } from '../errors.ts'
import { fetchOnce } from './http.ts'
import { ensureImage, imageTag } from './images.ts'
import { type Director } from './ipvs/director.ts'
import { type DirectorInfo, connectDirector, startDirector } from './ipvs/pick.ts'
import { type RuleCommand, type ServiceKey, parseRules, resolveRules, serviceId } from './ipvs/rules.ts'
import { type Counters, type ServerRow, type ServiceFigures, parseStats } from './ipvs/table.ts'
import { createLabNetwork } from './network.ts'
import { step } from '../progress.ts'
import { type RealServerInfo, RealServerContainer, servedBy, untilServing } from './realserver.ts'
import { type Plan, planFile } from '../intake/plan.ts'
import { displayPath } from '../settings.ts'
import { record } from '../report/figures.ts'
import { tally } from '../checks/tally.ts'
import { until } from '../wait.ts'

export interface LvsLabInfo {
  network: { name: string; bridge: string; subnet: string; gateway: string }
  vip: string
  director: DirectorInfo
  nodes: RealServerInfo[]
  client: { id: string; address: string; sources: string[] }
  /** The plan's files (ipvs/*.rules …): the rules the suites apply come from here. */
  files: Record<string, string>
}

export interface StartedLvsLab {
  info: LvsLabInfo
  /** How long the director (VM boot, for the vm backend) and the real servers took to be ready. */
  timings: { directorMs: number; realServersMs: number }
  stop(): Promise<void>
}

/** `work`'s value, after reporting how long it took. */
async function timed<T>(work: Promise<T>, took: (ms: number) => void): Promise<T> {
  const started = performance.now()
  const value = await work
  took(performance.now() - started)
  return value
}

const CLIENT_SOURCES = Array.from({ length: 16 }, (_, i) => 160 + i)

/** Brings the whole lab up; on any failure removes what did start and rethrows why it failed. */
export async function startLvsLab(plan: Pick<Plan, 'files'>): Promise<StartedLvsLab> {
  await Promise.all([ensureImage('apache'), ensureImage('director')])
  const network = await step('LVS lab network', () => createLabNetwork('lvs'))
  // Each part's removal is deferred as soon as it has started; removed in reverse, the network last.
  const undo = new AsyncDisposableStack()
  undo.defer(() => network.remove())
  try {
    const vip = network.address(200)
    const timings = { directorMs: 0, realServersMs: 0 }
    const [director, nodes, client] = await allSettled([
      timed(startDirector(network, vip).then((d) => undo.adopt(d, () => d.stop())), (ms) => { timings.directorMs = ms }),
      timed(step('LVS real servers node1–node3', () => allSettled([1, 2, 3].map((n) =>
        new RealServerContainer(n, network.name, network.address(130 + n), planFile(plan, 'httpd/realserver.conf')).start()
          .then((s) => undo.adopt(s, async () => { await s.stop() }))))), (ms) => { timings.realServersMs = ms }),
      startClient(network.name, CLIENT_SOURCES.map(network.address)).then((c) => undo.adopt(c, () => c.remove())),
    ])
    const info: LvsLabInfo = {
      network: { name: network.name, bridge: network.bridge, subnet: network.subnet, gateway: network.gateway },
      vip,
      director: director.info,
      nodes: nodes.map((n) => n.info),
      client: { id: client.id, address: client.address, sources: CLIENT_SOURCES.map(network.address) },
      files: plan.files,
    }
    const owned = undo.move() // the lab owns them now: stop() removes them
    return { info, timings, stop: () => disposeInTurn(owned) }
  } catch (error) {
    // The error that counts is why the lab did not start, not a removal failing after it.
    await undo.disposeAsync().catch(() => undefined)
    throw asSetupError('LVS lab', error)
  }
}

/** Like Promise.all, but throws the first failure only once every part has settled (and registered its removal). */
async function allSettled<T extends readonly unknown[]>(work: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(work)
  const failed = results.find((r) => r.status === 'rejected')
  if (failed) throw failed.reason
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T
}

async function startClient(network: string, sources: string[]): Promise<{ id: string; address: string; remove(): Promise<void> }> {
  const started = await labContainer(imageTag('director'), 'client')
    .withNetworkMode(network).withAddedCapabilities('NET_ADMIN').withCommand(['sleep', 'infinity']).start()
  return startedOrRemoved(started, async () => {
    const client = await controlContainer(started.getId())
    await client.execOk(['sh', '-c', sources.map((a) => `ip addr add ${a}/24 dev eth0`).join(' && ')])
    return { id: client.id, address: started.getIpAddress(network), remove: client.remove }
  })
}

/** The lab as a test file sees it. */
export class LvsLab {
  readonly info: LvsLabInfo
  readonly director: Director
  readonly vip: string
  /** The virtual service of the rules files: TCP VIP:80. */
  readonly service: ServiceKey
  readonly #client: ContainerControl
  #scheduler = 'unknown'

  private constructor(info: LvsLabInfo, director: Director, client: ContainerControl) {
    this.info = info
    this.director = director
    this.vip = info.vip
    this.service = { protocol: 'tcp', address: info.vip, port: 80 }
    this.#client = client
  }

  static async attach(info: LvsLabInfo): Promise<LvsLab> {
    try {
      return new LvsLab(info, await connectDirector(info.director), await controlContainer(info.client.id))
    } catch (error) {
      throw asSetupError(`LVS lab (${info.director.backend} director)`, error)
    }
  }

  node(name: string): RealServerInfo {
    const found = this.info.nodes.find((n) => n.name === name || n.label === name)
    if (!found) throw new LabError(`no real server ${name} in the LVS lab (${this.info.nodes.map((n) => n.name).join(', ')})`)
    return found
  }

  container(name: string): Promise<ContainerControl> {
    return controlContainer(this.node(name).id)
  }

  /** A rules file of the plan (fixtures/ipvs/, or the team's), with VIP and node1… resolved to this lab's addresses. */
  async rules(file: string): Promise<RuleCommand[]> {
    const full = planFile(this.info, `ipvs/${file}`)
    const names = Object.fromEntries([['VIP', this.vip], ...this.info.nodes.map((n) => [n.name, n.address])])
    return resolveRules(parseRules(await readFile(full, 'utf8'), displayPath(full)), names, displayPath(full))
  }

  async apply(file: string): Promise<void> {
    const rules = await this.rules(file)
    await this.director.apply(rules)
    const added = rules.find((r) => r.op === 'add-service')
    if (added?.op === 'add-service') this.#scheduler = `${added.service.scheduler}${added.service.persistence ? ` -p ${added.service.persistence}` : ''} (${file})`
  }

  /** The real servers of the lab's service as the director reports them, by node label. */
  async servers(): Promise<Record<string, ServerRow>> {
    const service = (await this.director.table()).find((s) => serviceId(s) === serviceId(this.service))
    if (!service) throw new LabError(`the director has no service ${serviceId(this.service)}:\n${await this.director.show()}`)
    return Object.fromEntries(service.servers.map((row) => [this.#label(row.address), row]))
  }

  /**
   * Waits until no real server of the lab's service has an active connection. Real servers
   * re-added under the same VIP keep their connection counts (IPVS reuses them from its trash),
   * and a half-open connection to a dead server counts as active until its SYN_RECV timeout
   * (60 s), so a test that weighs connections starts from here.
   */
  async untilNoActiveConnections(): Promise<void> {
    await until('no active connections on the real servers', async () => {
      const rows = await this.servers()
      if (Object.values(rows).some((row) => row.activeConns > 0)) throw new Error(await this.director.show())
    }, { timeoutMs: 75_000, intervalMs: 250 })
  }

  /**
   * Zeroes the service's counters and returns the zeroed `--stats` text once they have stayed at
   * zero for a full estimator period. The kernel folds per-CPU counts into what ipvsadm shows every
   * 2 s, and real servers re-added under the VIP keep the counts of earlier services: a fold that
   * lands after the zero would be counted as this test's traffic, so such a zero is redone.
   */
  async zeroCounters(): Promise<string> {
    await this.director.zero(this.service)
    let zeroedAt = performance.now()
    return until('ipvsadm --stats staying at zero for 2 s', async () => {
      const text = await this.director.show('stats')
      const figures = parseStats(text).find((s) => serviceId(s) === serviceId(this.service))
      const all = figures ? [figures.totals, ...figures.servers] : []
      if (all.some((c) => c.conns || c.inPkts || c.outPkts || c.inBytes || c.outBytes)) {
        await this.director.zero(this.service)
        zeroedAt = performance.now()
        throw new Error(`late counts folded in after zeroing; zeroed again:\n${text}`)
      }
      if (performance.now() - zeroedAt < 2_100) throw new Error('waiting for one estimator period')
      return text
    }, { timeoutMs: 20_000, intervalMs: 300 })
  }

  /** Counters of the lab's service, once they show at least `conns` connections (they lag ~2 s). */
  async statsAfter(conns: number): Promise<{ figures: ServiceFigures<Counters>; text: string }> {
    return until(`ipvsadm --stats showing ${conns} connections`, async () => {
      const text = await this.director.show('stats')
      const figures = parseStats(text).find((s) => serviceId(s) === serviceId(this.service))
      if (!figures || figures.totals.conns < conns) throw new Error(`counters not there yet:\n${text}`)
      return { figures, text }
    }, { timeoutMs: 15_000, intervalMs: 250 })
  }

  #label(address: string): string {
    return this.info.nodes.find((n) => n.address === address)?.label ?? address
  }

  /** `count` sequential requests from the host to the VIP, each a new connection: who served each. */
  async fromHost(count: number, timeoutMs = 3000): Promise<string[]> {
    const served: string[] = []
    for (let i = 0; i < count; i++) {
      try {
        served.push(servedBy((await fetchOnce(`http://${this.vip}/`, { timeoutMs })).body))
      } catch {
        served.push('failed')
      }
    }
    record({ kind: 'distribution', scheduler: this.#scheduler, source: 'host', served, counts: tally(served) })
    return served
  }

  /** `count` sequential requests from the client container, optionally from one of its extra addresses. */
  async fromClient(count: number, source?: string, timeoutS = 3): Promise<string[]> {
    const iface = source ? `--interface ${source}` : ''
    const out = await this.#client.execOk(['sh', '-c',
      `for i in $(seq ${count}); do curl -s -m ${timeoutS} ${iface} http://${this.vip}/ || echo failed; done`])
    const served = out.split('\n').filter(Boolean).map((line) => (line === 'failed' ? 'failed' : servedBy(line)))
    record({ kind: 'distribution', scheduler: this.#scheduler, source: `client ${source ?? this.info.client.address}`, served, counts: tally(served) })
    return served
  }

  /** After each test: remove its services, restart stopped nodes, take the VIP off their loopbacks. */
  async reset(): Promise<void> {
    await this.director.removeOwnServices()
    for (const node of this.info.nodes) {
      const c = await controlContainer(node.id)
      if (!(await c.running())) { await c.start(); await untilServing(node) }
      await c.exec(['ip', 'addr', 'del', `${this.vip}/32`, 'dev', 'lo'])
    }
  }

  async detach(): Promise<void> {
    await this.director.removeOwnServices().catch(() => undefined)
    await this.director.close()
  }
}
