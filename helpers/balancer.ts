/**
 * Apache httpd with mod_proxy_balancer in front of the Tomcat nodes, configured from a file of
 * fixtures/httpd/ dropped into conf-enabled. Member addresses reach the file as environment
 * variables (NODE01_ADDR, NODE01_PORT, …), which httpd expands when it reads its configuration.
 * The configuration is checked with `apache2 -t` in a throwaway container before the balancer is
 * used, so a broken file fails with httpd's own message.
 */
import path from 'node:path'
import { AbstractStartedContainer, GenericContainer, type StartedTestContainer, Wait } from 'testcontainers'
import { type ContainerControl, controlContainer, labContainer, withStaticAddress } from './containers.ts'
import { LabError } from './errors.ts'
import { fetchOnce } from './http.ts'
import { imageTag } from './images.ts'
import { labels, repoRoot, resourceName } from './settings.ts'
import { until } from './wait.ts'

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
    const balancer = new StartedBalancer(started, `http://${this.#address}`, await controlContainer(started.getId()))
    await until(`balancer at ${balancer.url} serving /server-status`, () => balancer.workers(), { timeoutMs: 30_000, intervalMs: 100 })
    return balancer
  }
}

/** `apache2 -t` with the file and member variables, in a throwaway container: httpd's verdict. */
export async function checkBalancerConfig(conf: string, members: Record<string, string>): Promise<void> {
  const check = await labContainer(imageTag('apache'), 'httpd-configtest')
    .withEnvironment(members)
    .withCopyFilesToContainer([{ source: conf, target: CONF_TARGET }])
    .withNetworkMode('none')
    .withCommand(['sh', '-c', 'httpd-foreground -t 2>&1; echo "exit=$?"'])
    .withWaitStrategy(Wait.forOneShotStartup())
    .start()
  const control = await controlContainer(check.getId())
  try {
    const output = await control.logs()
    if (!/exit=0\s*$/.test(output)) {
      throw new LabError(`${path.relative(repoRoot, conf)}: httpd rejects this configuration (apache2 -t):\n${output.replace(/exit=\d+\s*$/, '').trim()}`)
    }
  } finally {
    await control.remove()
  }
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
