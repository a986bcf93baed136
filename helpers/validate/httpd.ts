/**
 * A mod_proxy_balancer configuration as users write it: `<Proxy balancer://NAME>` blocks with
 * their BalancerMember lines, `ProxyPass PATH balancer://NAME/… stickysession=…`, `${VAR}`
 * references. httpd's own `-t` stays the authority on syntax (helpers/lab/balancer.ts runs it in a
 * container); this reader exists for what `-t` cannot know: whether the routes match the Tomcats'
 * jvmRoutes, and what a user loses with the timeouts, the cookie name or the member addresses.
 */
import type { LabError } from '../errors.ts'
import { type Finding, type Position, type Report, finding, labError } from './findings.ts'

export interface BalancerMember {
  /** The balancer's name, as in balancer://NAME. */
  balancer: string
  url: string
  /** As written: may be a `${VAR}`. */
  host: string
  port?: string
  /** Worker parameters (route, connectiontimeout, retry …), names in lower case. */
  params: Record<string, string>
  line: number
  column: number
}

export interface Balancer {
  name: string
  line: number
  column: number
  members: BalancerMember[]
  /** ProxySet parameters of the balancer (lbmethod, stickysession …). */
  params: Record<string, string>
}

export interface ProxyPassRule {
  path: string
  balancer: string
  /** The path on the nodes, after balancer://name ('/ExSession', '/' or ''). */
  target: string
  params: Record<string, string>
  line: number
  column: number
}

export interface HttpdConfig {
  file: string
  balancers: Balancer[]
  proxyPasses: ProxyPassRule[]
  /** Every `${VAR}` outside comments. */
  variables: { name: string; line: number; column: number }[]
  /** Names given a value by `Define` in the file itself. */
  defined: string[]
  /**
   * Cookies the balancer sets itself from the member it chose (`Header add Set-Cookie
   * "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/"`): a stickysession naming one sticks by it.
   */
  routeCookies: { name: string; line: number; column: number }[]
}

export interface HttpdCheckOptions {
  /** The Tomcat nodes' jvmRoutes: the routes a sticky balancer's members must carry. */
  jvmRoutes?: string[]
  /** Variables httpd's environment defines (the lab: NODE01_ADDR, NODE01_PORT …). */
  variables?: string[]
}

/** Worker parameters of httpd 2.4 (mod_proxy, mod_proxy_hcheck). */
const WORKER_PARAMS = new Set(['min', 'max', 'smax', 'acquire', 'connectiontimeout', 'disablereuse', 'enablereuse', 'flushpackets',
  'flushwait', 'iobuffersize', 'keepalive', 'lbset', 'ping', 'receivebuffersize', 'redirect', 'retry', 'route', 'status', 'timeout',
  'ttl', 'responsefieldsize', 'secret', 'upgrade', 'mapping', 'addressttl',
  'hcmethod', 'hcexpr', 'hcinterval', 'hcpasses', 'hcfails', 'hcuri', 'hctemplate'])
const TOMCAT_COOKIE = 'JSESSIONID'
const TOMCAT_PARAMETER = 'jsessionid'
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/i

/** A member on the loopback address shares the balancer's host: the single-host layout. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host)
}

interface Token { text: string; line: number; column: number }
interface Section { name: string; args: Token[]; line: number; column: number; balancer?: Balancer }

/** Reads the balancer configuration; sections that are not closed (or closed twice) are a LabError. */
export function readHttpdConfig(text: string, file: string): HttpdConfig {
  const config: HttpdConfig = { file, balancers: [], proxyPasses: [], variables: [], defined: [], routeCookies: [] }
  const sections: Section[] = []
  const balancer = (name: string, at: Position): Balancer => {
    const key = name.toLowerCase()
    let found = config.balancers.find((b) => b.name.toLowerCase() === key)
    if (!found) {
      found = { name, line: at.line, column: at.column ?? 1, members: [], params: {} }
      config.balancers.push(found)
    }
    return found
  }

  for (const directive of logicalLines(text)) {
    const [head, ...args] = directive
    if (!head) continue
    for (const token of directive) {
      for (const m of token.text.matchAll(/\$\{([^}]*)\}/g)) {
        config.variables.push({ name: m[1]!, line: token.line, column: token.column + m.index })
      }
    }
    const name = head.text.toLowerCase()
    if (name.startsWith('</')) {
      const closing = name.slice(2).replace(/>$/, '')
      const open = sections.pop()
      if (!open) throw labError(file, head, `${head.text} closes no section: remove it, or open the section it belongs to (httpd -t refuses the file)`)
      if (open.name.toLowerCase() !== closing) {
        throw labError(file, head, `${head.text} found where <${open.name}> (opened at ${open.line}:${open.column}) must be closed first: add </${open.name}> before it`)
      }
      continue
    }
    if (name.startsWith('<')) {
      const sectionArgs = unquoteAll(args.map((a, i) => (i === args.length - 1 ? { ...a, text: a.text.replace(/>$/, '') } : a)))
      const section: Section = { name: head.text.slice(1).replace(/>$/, ''), args: sectionArgs, line: head.line, column: head.column }
      const target = balancerName(sectionArgs[0]?.text)
      if (section.name.toLowerCase() === 'proxy' && target) {
        section.balancer = balancer(target, head)
        // <Proxy "balancer://app" stickysession=… lbmethod=…>: the Proxy line's parameters, as ProxySet's.
        Object.assign(section.balancer.params, params(sectionArgs.slice(1)))
      }
      sections.push(section)
      continue
    }
    const values = unquoteAll(args)
    const inBalancer = [...sections].reverse().find((s) => s.balancer)?.balancer
    if (name === 'define' && values[0]) config.defined.push(values[0].text)
    if (name === 'header') {
      const at = values.findIndex((v) => v.text.toLowerCase() === 'set-cookie')
      const cookie = at >= 0 ? values[at + 1] : undefined
      const named = cookie && /BALANCER_WORKER_ROUTE/.test(cookie.text) ? /^([^=;\s]+)=/.exec(cookie.text)?.[1] : undefined
      if (named) config.routeCookies.push({ name: named, line: head.line, column: head.column })
    }
    if (name === 'balancermember') {
      const explicit = balancerName(values[0]?.text)
      const owner = explicit ? balancer(explicit, head) : inBalancer
      const [url, ...rest] = explicit ? values.slice(1) : values
      if (!owner || !url) continue // httpd -t reports a member outside any balancer
      const { host, port } = hostAndPort(url.text)
      owner.members.push({ balancer: owner.name, url: url.text, host, ...(port !== undefined ? { port } : {}), params: params(rest), line: head.line, column: head.column })
    } else if (name === 'proxyset') {
      const explicit = balancerName(values[0]?.text)
      const owner = explicit ? balancer(explicit, head) : inBalancer
      if (owner) Object.assign(owner.params, params(explicit ? values.slice(1) : values))
    } else if (name === 'proxypass' || name === 'proxypassmatch') {
      const location = [...sections].reverse().find((s) => /^location(match)?$/i.test(s.name))
      const inLocation = values[0] !== undefined && (values[0].text.includes('://') || values[0].text === '!')
      const locationPath = location?.args[0]
      const words = inLocation ? (locationPath ? [locationPath, ...values] : []) : values
      const [path, url, ...rest] = words
      const target = balancerName(url?.text)
      if (path && target) {
        const backend = /^balancer:\/\/[^/\s]+(\/[^\s]*)?/i.exec(url!.text)?.[1] ?? ''
        config.proxyPasses.push({ path: path.text, balancer: target, target: backend, params: params(rest), line: head.line, column: head.column })
      }
    }
  }
  const open = sections.at(-1)
  if (open) {
    const args = open.args.map((a) => a.text).join(' ')
    throw labError(file, open, `<${open.name}${args ? ` ${args}` : ''}> is never closed: add </${open.name}> at the end of the section (httpd -t refuses the file)`)
  }
  return config
}

/** Errors (a balancer that cannot route as meant) and findings (what a user loses). */
export function checkHttpdConfig(config: HttpdConfig, options: HttpdCheckOptions = {}): Report {
  const { file } = config
  const errors: LabError[] = []
  const findings: Finding[] = []

  if (options.variables) {
    const known = new Set([...options.variables, ...config.defined])
    for (const v of config.variables.filter((v) => !known.has(v.name))) {
      errors.push(labError(file, v, `\${${v.name}} is not defined: httpd would use the text as it is and the address would not work; ` +
        `use one of ${[...known].join(', ') || '(none)'}, Define it, or write the value`))
    }
  }

  for (const pass of config.proxyPasses) {
    if (!config.balancers.some((b) => b.name.toLowerCase() === pass.balancer.toLowerCase())) {
      errors.push(labError(file, pass, `ProxyPass ${pass.path} sends to balancer://${pass.balancer}, which no <Proxy balancer://${pass.balancer}> defines: ` +
        'httpd would answer 503 for every request; fix the name or define the balancer'))
    }
  }

  for (const b of config.balancers) {
    const passes = config.proxyPasses.filter((p) => p.balancer.toLowerCase() === b.name.toLowerCase())
    const sticky = [b.params.stickysession, ...passes.map((p) => p.params.stickysession)].filter((s): s is string => s !== undefined)
    if (b.members.length === 0) {
      errors.push(labError(file, b, `balancer://${b.name} has no BalancerMember: httpd would answer 503 for every request; add one line per Tomcat node`))
      continue
    }
    const byCookie = sticky.some((stick) => stick.split('|').some((n) => config.routeCookies.some((c) => c.name === n)))
    for (const stick of new Set(sticky)) {
      const names = stick.split('|')
      if (!names.includes(TOMCAT_COOKIE) && !names.includes(TOMCAT_PARAMETER) && !byCookie) {
        const at = passes.find((p) => p.params.stickysession === stick) ?? b
        findings.push(finding('warning', file, at, `stickysession=${stick} names neither Tomcat's session cookie ${TOMCAT_COOKIE} nor its URL parameter ${TOMCAT_PARAMETER}: ` +
          `no request carries a route, so users are not kept on their node; use stickysession=${TOMCAT_COOKIE}|${TOMCAT_PARAMETER} (unless the webapp renames its cookie)`))
      }
    }
    for (const m of b.members) findings.push(...memberFindings(file, m))
    // A route cookie names the member, not Tomcat's jvmRoute: the routes need not be jvmRoutes.
    errors.push(...routeErrors(file, b, sticky.length > 0, byCookie ? undefined : options.jvmRoutes, findings))
  }
  return { errors, findings }
}

function memberFindings(file: string, m: BalancerMember): Finding[] {
  const out: Finding[] = []
  const timeout = m.params.connectiontimeout
  const timeoutMs = timeout === undefined ? undefined : milliseconds(timeout)
  if (timeout === undefined) {
    out.push(finding('warning', file, m, `BalancerMember ${m.url} has no connectiontimeout: when its node stops, each request waits for the TCP connect timeout ` +
      '(39–134 s measured) before failing over; add connectiontimeout=1 (~1 s measured)'))
  } else if (timeoutMs !== undefined && timeoutMs >= 5000) {
    out.push(finding('warning', file, m, `BalancerMember ${m.url} has connectiontimeout=${timeout}: when its node stops, each request can wait that long before failing over; connectiontimeout=1 measured ~1 s`))
  }
  const retry = m.params.retry === undefined ? 60 : Number(m.params.retry)
  if (retry >= 60) {
    const said = m.params.retry === undefined ? 'has no retry (default 60 s)' : `has retry=${m.params.retry}`
    out.push(finding('warning', file, m, `BalancerMember ${m.url} ${said}: after an error its node stays out of the balancer that long, even once it is back; retry=5 measured`))
  }
  if (isLoopback(m.host)) {
    out.push(finding('warning', file, m, `BalancerMember ${m.url} is on the loopback address: this works only when httpd and every Tomcat share one host (the single-host layout); ` +
      'on separate hosts each node needs its own address'))
  }
  for (const name of Object.keys(m.params).filter((p) => !WORKER_PARAMS.has(p))) {
    const near = [...WORKER_PARAMS].find((p) => distance(p, name) <= 2)
    out.push(finding('warning', file, m, `BalancerMember ${m.url}: unknown parameter ${name}=${near ? ` (did you mean ${near}?)` : ''}: httpd -t rejects it`))
  }
  return out
}

function routeErrors(file: string, b: Balancer, sticky: boolean, jvmRoutes: string[] | undefined, findings: Finding[]): LabError[] {
  const errors: LabError[] = []
  const routed = b.members.filter((m) => m.params.route !== undefined)
  const seen = new Map<string, BalancerMember>()
  for (const m of routed) {
    const first = seen.get(m.params.route!)
    if (first) errors.push(labError(file, m, `route=${m.params.route} is also the route of the member at line ${first.line}: a session can stick to only one; give each member its node's jvmRoute`))
    else seen.set(m.params.route!, m)
  }
  if (sticky && b.members.length && routed.length === 0) {
    // Not one member can be named by a session id or a route cookie: stickiness cannot work at all.
    errors.push(labError(file, b, `balancer://${b.name} is sticky (stickysession=) but none of its members has route=: no session id or route cookie can name a member, ` +
      'so nothing sticks; give each BalancerMember route= with its node\'s jvmRoute (or the value your route cookie carries)'))
  } else if (sticky) {
    for (const m of b.members.filter((x) => x.params.route === undefined)) {
      findings.push(finding('warning', file, m, `BalancerMember ${m.url} has no route= in a sticky balancer: no session id can name it, so its users are not kept on it; add route= with its node's jvmRoute`))
    }
  }
  if (!jvmRoutes?.length) return errors
  const list = jvmRoutes.join(', ')
  const foreign = routed.filter((x) => !jvmRoutes.includes(x.params.route!))
  for (const m of foreign) {
    const problem = `route=${m.params.route} matches no Tomcat jvmRoute (${list}): session ids end in ${jvmRoutes.map((r) => `.${r}`).join(' or ')}, so `
    if (sticky) errors.push(labError(file, m, `${problem}no user sticks to this member; set route= to the node's jvmRoute`))
    else findings.push(finding('info', file, m, `${problem}stickiness would never find this member (this balancer is not sticky now); set route= to the node's jvmRoute`))
  }
  // A member with a foreign route already explains why its node's route is missing.
  if (sticky && routed.length > 0 && foreign.length === 0) {
    for (const route of jvmRoutes.filter((r) => !routed.some((m) => m.params.route === r))) {
      errors.push(labError(file, b, `balancer://${b.name} has no BalancerMember with route=${route}: users whose session id ends in .${route} are not kept on that node, ` +
        'and it takes no part in the balancing; add its member line'))
    }
  } else if (b.members.length < jvmRoutes.length) {
    findings.push(finding('warning', file, b, `balancer://${b.name} has ${b.members.length} member(s) for ${jvmRoutes.length} Tomcat nodes (${list}): a node without a member gets no traffic and cannot take over; add its member line`))
  }
  return errors
}

/** Physical lines joined where one ends in `\`; each token keeps the line and column it starts at. */
function logicalLines(text: string): Token[][] {
  const lines = text.split('\n')
  const out: Token[][] = []
  let current: Token[] = []
  let comment = false
  lines.forEach((raw, index) => {
    const line = raw.replace(/\r$/, '')
    const continued = /\\$/.test(line)
    const body = continued ? line.slice(0, -1) : line
    if (current.length === 0 && !comment && /^\s*#/.test(body)) comment = true
    if (!comment) current.push(...tokens(body, index + 1))
    if (!continued) {
      if (current.length) out.push(current)
      current = []
      comment = false
    }
  })
  if (current.length) out.push(current)
  return out
}

function tokens(text: string, line: number): Token[] {
  return [...text.matchAll(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\S+/g)].map((m) => ({ text: m[0], line, column: m.index + 1 }))
}

function unquoteAll(list: Token[]): Token[] {
  return list.map((t) => (/^(["']).*\1$/s.test(t.text) ? { ...t, text: t.text.slice(1, -1) } : t))
}

function balancerName(url: string | undefined): string | undefined {
  return /^balancer:\/\/([^/\s]+)/i.exec(url ?? '')?.[1]
}

function hostAndPort(url: string): { host: string; port?: string } {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(\[[^\]]*\]|[^:/]*)(?::([^/]*))?/i.exec(url)
  if (!m) return { host: url }
  return m[2] !== undefined ? { host: m[1]!, port: m[2] } : { host: m[1]! }
}

function params(list: Token[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const t of list) {
    const eq = t.text.indexOf('=')
    if (eq > 0) out[t.text.slice(0, eq).toLowerCase()] = t.text.slice(eq + 1)
  }
  return out
}

/** connectiontimeout and timeout are seconds, or milliseconds with `ms`. */
function milliseconds(text: string): number | undefined {
  const m = /^(\d+)(ms)?$/i.exec(text)
  if (!m) return undefined
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1))
      previous = current
    }
  }
  return row[b.length]!
}
