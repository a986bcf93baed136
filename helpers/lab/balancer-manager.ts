/**
 * httpd's balancer-manager, as an operator drives it during a rolling restart: read the page (each
 * balancer's nonce, each worker's URL, route, status flags and busy count) and set a worker's
 * drain/disabled flags the way the page's own form does.
 *
 * What httpd 2.4's mod_proxy_balancer requires (balancer_handler in mod_proxy_balancer.c, and
 * measured on the lab's 2.4.71): the flags (`w_status_N` drain, `w_status_D` disabled, 1 or 0)
 * are read only from a POSTed form body — a GET's query string may carry only b, w, nonce and xml —;
 * every parameter is ignored unless a Referer names the server's own host ("ignoring params in
 * balancer-manager cross-site access"), and the update is applied only with the balancer's current
 * nonce (`b=mycluster&w=<worker URL>&nonce=<uuid>`). The lab exposes the page on the balancer
 * itself (helpers/lab/images/apache/status.conf, `Require ip` of loopback and the lab's networks).
 */
import { LabError } from '../errors.ts'
import { fetchOnce } from './http.ts'

/** A worker's flags as the page prints them (ap_proxy_parse_wstatus): `Init Ok`, `Init Drn Dis`, `Init Err` … */
export interface WorkerFlags {
  /** Drain mode (N): no new users, sticky ones still sent to it. */
  draining: boolean
  /** Disabled (D): no request at all; its sticky users fail over to a peer. */
  disabled: boolean
  /** In error (Err): httpd could not reach it and skips it for `retry=` seconds. */
  error: boolean
  /** `Ok`: httpd may send it requests (not disabled, stopped or in error). */
  usable: boolean
}

export interface ManagedWorker {
  /** The worker's URL, as the `w=` parameter names it (http://172.29.4.141:8080). */
  url: string
  /** Its route= (a jvmRoute), '' when it has none. */
  route: string
  /** The status cell as printed, trimmed. */
  status: string
  flags: WorkerFlags
  /** Its lbfactor as printed (1.00 unless the file sets one). */
  factor: number
  /**
   * Load: the lbmethod's running balance (lbstatus). byrequests adds each usable member's factor
   * (×100) at every request and takes the sum off the member that served it, sticky requests
   * included: new users go to the highest until the members are even again, within the factors'
   * sum of 0 (measured: -100 and 100 for two members taking turns).
   */
  load: number
  elected: number
  /**
   * Requests httpd has sent it and not finished: its in-flight count. A hint, not a tally: httpd
   * 2.4 counts it up and down outside any lock (mod_proxy_balancer's pre_request and a pool
   * cleanup), so under load it can drift.
   */
  busy: number
  /** Bytes sent to it and read from it, as printed (`1.2M`): they move while it has traffic. */
  to: string
  from: string
}

export interface ManagedBalancer {
  /** Without the balancer:// prefix, as the `b=` parameter names it (mycluster). */
  name: string
  /** What an update must carry to be applied; changes with every httpd start. */
  nonce: string
  workers: ManagedWorker[]
}

/** The drain/disabled flags to set; a flag left out keeps its value. */
export interface FlagChange {
  drain?: boolean
  disabled?: boolean
}

/** The status cell's words → flags. */
export function parseWorkerFlags(status: string): WorkerFlags {
  const words = status.trim().split(/\s+/)
  return { draining: words.includes('Drn'), disabled: words.includes('Dis'), error: words.includes('Err'), usable: words.includes('Ok') }
}

const decode = (text: string) => text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
const cells = (row: string) => [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => decode(m[1]!.replace(/<[^>]+>/g, '')).trim())

/**
 * The balancers of a balancer-manager HTML page, each with its nonce and workers. The page has
 * one `<h3>LoadBalancer Status for <a href="…?b=NAME&amp;nonce=…">` per balancer, then its
 * settings table and its workers' table, whose header row names the columns (Worker URL, Route,
 * Factor, Status, Elected, Busy, Load, To, From): columns are found by name, so a health-check module's extra columns
 * do not shift them.
 */
export function parseBalancerManager(html: string): ManagedBalancer[] {
  const sections = html.split(/<h3>LoadBalancer Status for /).slice(1)
  return sections.map((section) => {
    const head = /href="[^"]*\?b=([^"&]+)&amp;nonce=([^"&]+)"/.exec(section)
    if (!head) throw new LabError(`balancer-manager page: a balancer section without its b= and nonce= link: ${section.slice(0, 200)}`)
    const table = /<table><tr><th>Worker URL<\/th>([\s\S]*?)<\/table>/.exec(section)
    if (!table) throw new LabError(`balancer-manager page: balancer ${head[1]} has no workers' table (Worker URL, Route, Status …)`)
    const [header, ...rows] = table[0].split(/<tr>/).slice(1)
    const names = [...header!.matchAll(/<th>([^<]*)<\/th>/g)].map((m) => m[1]!)
    const column = (name: string) => {
      const i = names.indexOf(name)
      if (i < 0) throw new LabError(`balancer-manager page: balancer ${head[1]}'s workers' table has no ${name} column (${names.join(', ')})`)
      return i
    }
    const [url, route, factor, status, elected, busy, load, to, from] = ['Worker URL', 'Route', 'Factor', 'Status', 'Elected', 'Busy', 'Load', 'To', 'From'].map(column) as number[] as [number, number, number, number, number, number, number, number, number]
    const workers = rows.map((row): ManagedWorker => {
      const c = cells(row)
      // The worker's own name is the w= of its link (the text may be shortened or italic for a socket).
      const w = /[?&]w=([^"&]+)/.exec(decode(row))?.[1] ?? c[url]!
      return {
        url: w, route: c[route] ?? '', status: c[status] ?? '', flags: parseWorkerFlags(c[status] ?? ''), factor: Number(c[factor]), load: Number(c[load]), elected: Number(c[elected]), busy: Number(c[busy]),
        to: c[to] ?? '', from: c[from] ?? '',
      }
    })
    return { name: decode(head[1]!), nonce: head[2]!, workers }
  })
}

/**
 * The workers a fresh start of httpd would not show: in error, or owed requests (or owing them)
 * beyond the sum of their balancer's factors (×100), the most byrequests' turns leave.
 */
export function unsettledWorkers(balancers: ManagedBalancer[]): string[] {
  return balancers.flatMap((b) => {
    const settled = 100 * b.workers.reduce((sum, w) => sum + w.factor, 0)
    return b.workers.filter((w) => w.flags.error || Math.abs(w.load) > settled).map((w) => `${b.name} ${w.url} ${w.status} (Load ${w.load})`)
  })
}

/** Each worker as a failure message shows it: its route, status, Load and elections. */
export function describeWorkers(balancers: ManagedBalancer[]): string {
  return balancers.flatMap((b) => b.workers.map((w) => `${b.name} ${w.url} route ${w.route || '-'}: ${w.status}, Load ${w.load}, elected ${w.elected}`)).join('; ')
}

/** The form body that sets `change` on one worker, as the page's "Edit worker settings" form posts it. */
export function workerUpdateForm(balancer: Pick<ManagedBalancer, 'name' | 'nonce'>, workerUrl: string, change: FlagChange): string {
  const form = new URLSearchParams({ b: balancer.name, w: workerUrl, nonce: balancer.nonce })
  if (change.drain !== undefined) form.set('w_status_N', change.drain ? '1' : '0')
  if (change.disabled !== undefined) form.set('w_status_D', change.disabled ? '1' : '0')
  return form.toString()
}

/** The balancer-manager of the httpd at `baseUrl` (http://address). */
export class BalancerManager {
  readonly url: string

  constructor(baseUrl: string, path = '/balancer-manager') {
    this.url = `${baseUrl}${path}`
  }

  /** The page as it stands: every balancer, its nonce and its workers. */
  async read(): Promise<ManagedBalancer[]> {
    return parseBalancerManager(await this.#request())
  }

  /**
   * Sets `change` on a worker of one balancer with the nonce the page shows now, and returns the
   * page httpd answers with; an update httpd ignored (a stale nonce, no Referer) is an error.
   */
  async set(balancer: string, workerUrl: string, change: FlagChange): Promise<ManagedBalancer[]> {
    const current = (await this.read()).find((b) => b.name === balancer)
    if (!current) throw new LabError(`balancer-manager at ${this.url}: no balancer ${balancer}`)
    const page = parseBalancerManager(await this.#request(workerUpdateForm(current, workerUrl, change)))
    const worker = page.find((b) => b.name === balancer)?.workers.find((w) => w.url === workerUrl)
    if (!worker) throw new LabError(`balancer-manager at ${this.url}: balancer ${balancer} has no worker ${workerUrl}`)
    const applied = (change.drain === undefined || worker.flags.draining === change.drain) && (change.disabled === undefined || worker.flags.disabled === change.disabled)
    if (!applied) throw new LabError(`balancer-manager at ${this.url}: httpd did not apply ${JSON.stringify(change)} to ${workerUrl} (status now "${worker.status}"): see httpd's error log (nonce, Referer)`)
    return page
  }

  /** Takes every drained or disabled worker back into its balancer: what a test leaves behind when it stops half-way. */
  async enableAll(): Promise<void> {
    for (const b of await this.read()) {
      for (const w of b.workers) if (w.flags.draining || w.flags.disabled) await this.set(b.name, w.url, { drain: false, disabled: false })
    }
  }

  // httpd compares the Referer's host with its own server name (the Host header here): the page's own URL passes.
  async #request(form?: string): Promise<string> {
    const reply = await fetchOnce(this.url, {
      timeoutMs: 5000,
      headers: { referer: this.url, ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(form === undefined ? {} : { method: 'POST' as const, body: form }),
    })
    if (reply.status !== 200) throw new LabError(`balancer-manager at ${this.url} answered ${reply.status}: ${reply.body.slice(0, 200)}`)
    return reply.body
  }
}
