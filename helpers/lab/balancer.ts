/**
 * Apache httpd with mod_proxy_balancer in front of the Tomcat nodes, configured from a file of
 * fixtures/httpd/ dropped into conf-enabled. Member addresses reach the file as environment
 * variables (NODE01_ADDR, NODE01_PORT, …), which httpd expands when it reads its configuration.
 * The configuration is checked with `apache2 -t` in a throwaway container before the balancer is
 * used, so a broken file fails with httpd's own message.
 */
import path from 'node:path'
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer } from 'testcontainers'
import { BalancerManager, unsettledWorkers } from './balancer-manager.ts'
import { type ContainerControl, controlContainer, runCheck, startedOrRemoved, withStaticAddress } from './containers.ts'
import { LabError } from '../errors.ts'
import { fetchOnce } from './http.ts'
import { imageTag } from './images.ts'
import { displayPath, labels, resourceName } from '../settings.ts'
import { step } from '../progress.ts'
import { until } from '../wait.ts'

const CONF_TARGET = '/etc/apache2/conf-enabled/balancer.conf'

export interface WorkerStatus {
  /** The member URL, e.g. http://172.29.4.141:8080 */
  name: string
  route: string
  status: string
  elected: number
}

export class BalancerContainer extends GenericContainer {
  readonly #conf: string
  readonly #members: Record<string, string>
  #address = ''

  /**
   * `conf`: path of a balancer configuration file; `members`: NODE01_ADDR… values it refers to;
   * `lab`: the lab it belongs to, so several labs can run side by side.
   */
  constructor(conf: string, members: Record<string, string>, lab: string) {
    super(imageTag('apache'))
    this.#conf = conf
    this.#members = members
    this.withName(resourceName(`${lab}-balancer`)).withLabels(labels()).withEnvironment(members)
      .withCopyFilesToContainer([{ source: conf, target: CONF_TARGET }])
  }

  onNetwork(network: string, address: string): this {
    this.#address = address
    return withStaticAddress(this, network, address)
  }

  override async start(): Promise<StartedBalancer> {
    await checkBalancerConfig(this.#conf, this.#members)
    const started = await super.start()
    return startedOrRemoved(started, async () => {
      const balancer = new StartedBalancer(started, `http://${this.#address}`, await controlContainer(started.getId()))
      await until(`balancer at ${balancer.url} serving /server-status`, () => balancer.workers(), { timeoutMs: 30_000, intervalMs: 100 })
      return balancer
    })
  }
}

/** `apache2 -t` with the file and member variables, in a throwaway container: httpd's verdict. */
export async function checkBalancerConfig(conf: string, members: Record<string, string>): Promise<void> {
  const { exitCode, output } = await runCheck(imageTag('apache'), 'httpd-configtest', {
    env: members, files: [{ source: conf, target: CONF_TARGET }], command: 'httpd-foreground -t',
  })
  if (exitCode !== 0) throw new LabError(`${displayPath(conf)}: httpd rejects this configuration (apache2 -t):\n${output}`)
}

export class StartedBalancer extends AbstractStartedContainer {
  /** http://address (port 80) */
  readonly url: string
  readonly #control: ContainerControl

  constructor(started: StartedTestContainer, url: string, control: ContainerControl) {
    super(started)
    this.url = url
    this.#control = control
  }

  remove(): Promise<void> { return this.#control.remove() }

  /** Its balancer-manager page (the lab's status.conf exposes it): members drained, disabled and enabled by hand, as in a rolling restart. */
  get manager(): BalancerManager { return new BalancerManager(this.url) }

  /**
   * Brings httpd's balancers back to how a fresh start leaves them, by a graceful restart, when an
   * earlier test left them otherwise: a member held in error (for `retry=` seconds, 60 by default),
   * or byrequests owing a member requests (its Load, the running balance, beyond the factors' sum).
   * byrequests balances requests, sticky ones included, so new users go to the member behind until
   * it has caught up. Measured on the lab: after one user's 21 sticky requests, Loads of -2100 and
   * 2100 (at 100 a request, the next 21 new users go to the other node); after a SIGKILL under 50
   * clicking users, 17400 and -17400 (the next 20 new users, all that were sent, went to one node).
   * In one CI run 200 new users, two tests after such a kill, all landed on one node. A graceful
   * restart sets every count to 0 (0.1–1.1 s here).
   */
  async reset(): Promise<void> {
    const unsettled = unsettledWorkers(await this.manager.read())
    if (!unsettled.length) return
    await step(`balancer reset by a graceful restart (${unsettled.join('; ')})`, async () => {
      await this.#control.execOk(['apache2ctl', 'graceful'])
      await until(`balancer at ${this.url} as freshly started after a graceful restart (no member in error, every Load settled)`, async () => {
        const left = unsettledWorkers(await this.manager.read())
        if (left.length) throw new Error(left.join('; '))
      }, { timeoutMs: 15_000, intervalMs: 100 })
    })
  }

  /** The balancer's workers as `/server-status?auto` reports them. */
  async workers(): Promise<WorkerStatus[]> {
    const reply = await fetchOnce(`${this.url}/server-status?auto`, { timeoutMs: 3000 })
    if (reply.status !== 200) throw new Error(`/server-status answered ${reply.status}`)
    return parseBalancerStatus(reply.body)
  }
}

/** `ProxyBalancer[0]Worker[1]Name: http://…` lines of mod_status's machine-readable page. */
export function parseBalancerStatus(text: string): WorkerStatus[] {
  const workers = new Map<string, Record<string, string>>()
  for (const m of text.matchAll(/^ProxyBalancer\[\d+\]Worker\[(\d+)\](\w+): (.*)$/gm)) {
    const fields = workers.get(m[1]!) ?? {}
    fields[m[2]!] = m[3]!.trim()
    workers.set(m[1]!, fields)
  }
  return [...workers.values()].map((f) => ({
    name: f.Name ?? '', route: f.Route ?? '', status: f.Status ?? '', elected: Number(f.Elected ?? 0),
  }))
}
