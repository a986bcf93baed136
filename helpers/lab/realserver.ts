/**
 * An IPVS real server: Apache httpd serving "It works! node N", configured from
 * fixtures/httpd/realserver.conf. It may take the VIP on its loopback for direct routing (-g), so
 * it gets NET_ADMIN and the ARP sysctls LVS-DR needs (harmless for masquerading).
 */
import path from 'node:path'
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers'
import { startedOrRemoved, withStaticAddress, withSysctls } from './containers.ts'
import { fetchOnce } from './http.ts'
import { imageTag } from './images.ts'
import { labels, resourceName } from '../settings.ts'
import { until } from '../wait.ts'

/** What a test worker needs to know of a real server started elsewhere (plain data). */
export interface RealServerInfo {
  /** Symbolic name used in rules files: node1, node2 … */
  name: string
  /** What its page says after "It works! ": node 1, node 2 … */
  label: string
  id: string
  address: string
}

export class RealServerContainer extends GenericContainer {
  readonly #n: number
  readonly #network: string

  /** Real server `n` on the lab network at a fixed address (kept across stop/start). */
  constructor(n: number, network: string, address: string, config: string) {
    super(imageTag('apache'))
    this.#n = n
    this.#network = network
    withStaticAddress(this, network, address)
    this.withName(resourceName(`node${n}`))
      .withLabels(labels())
      .withAddedCapabilities('NET_ADMIN')
      .withCopyFilesToContainer([{ source: config, target: '/etc/apache2/sites-enabled/realserver.conf' }])
      .withCopyContentToContainer([{ content: `It works! node ${n}\n`, target: '/var/www/html/index.html' }])
    withSysctls(this, { 'net.ipv4.conf.all.arp_ignore': '1', 'net.ipv4.conf.all.arp_announce': '2' })
  }

  override async start(): Promise<StartedRealServer> {
    const started = await super.start()
    return startedOrRemoved(started, async () => {
      const server = new StartedRealServer(started, { name: `node${this.#n}`, label: `node ${this.#n}`, id: '', address: '' }, this.#network)
      await untilServing(server.info)
      return server
    })
  }
}

export class StartedRealServer extends AbstractStartedContainer {
  readonly info: RealServerInfo

  constructor(started: StartedTestContainer, info: RealServerInfo, network: string) {
    super(started)
    this.info = { ...info, id: started.getId(), address: started.getIpAddress(network) }
  }
}

/** Polls the page until the server answers as itself (after a start or a restart). */
export async function untilServing(server: RealServerInfo): Promise<void> {
  await until(`real server ${server.name} (${server.address}) serving`, async () => {
    const reply = await fetchOnce(`http://${server.address}/`, { timeoutMs: 1000 })
    if (!reply.body.includes(`It works! ${server.label}`)) throw new Error(`answered ${reply.status} ${reply.body.slice(0, 80)}`)
  }, { timeoutMs: 30_000, intervalMs: 100 })
}

/** The node a reply came from: "It works! node 2" → "node 2". */
export function servedBy(body: string): string {
  return /It works! (node \d+)/.exec(body)?.[1] ?? `unexpected page: ${body.slice(0, 60)}`
}
