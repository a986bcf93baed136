/**
 * A team's own webapp under test (LAB_WAR) and the lab's ExSession beside it.
 *
 * A foreign app rarely shows its session, so its probe reads the session only from the JSESSIONID
 * cookie: the id, and the route after its last '.' (the jvmRoute of the node that made it, which
 * JvmRouteBinderValve rewrites on failover while the key before it stays). ExSession, which does
 * show its session, proves attribute replication beside it in the same Tomcats: at /ExSession, or
 * at /lb-e2e-ExSession when the team's own war is an ExSession.war (the post's), routed by the
 * balancer as the team's file routes their webapp.
 */
import path from 'node:path'
import { LabError } from '../errors.ts'
import { routeOf, sessionKey } from './exsession.ts'
import { Browser } from './http.ts'
import type { HttpdConfig, ProxyPassRule } from '../validate/httpd.ts'
import { readXml } from '../validate/xml.ts'

/** Where the lab's ExSession moves when a team's war takes /ExSession. */
export const EXSESSION_ASIDE = '/lb-e2e-ExSession'

/** The conf-enabled file of the lab's own that routes ExSession's path when the team's file does not. */
export const EXSESSION_PROXY_CONF = 'lb-e2e-exsession.conf'

/** The context path Tomcat gives webapps/<name>.war: /<name>, `#` for `/`, '' for ROOT.war. */
export function warContextPath(war: string): string {
  const name = path.basename(war).replace(/\.war$/i, '')
  return name === 'ROOT' ? '' : `/${name.replaceAll('#', '/')}`
}

/** The lab's ExSession's context path: /ExSession, unless the team's war is deployed there. */
export function exSessionPathBeside(war: string | undefined): string {
  return war !== undefined && warContextPath(war) === '/ExSession' ? EXSESSION_ASIDE : '/ExSession'
}

/**
 * The page the probe visits: LAB_WAR_PATH (a path on the balancer, e.g. /shop/login) when set,
 * else the front page of the team's war, else the lab's ExSession read as if it were foreign.
 */
export function webappPagePath(war: string | undefined, exSessionPath: string): string {
  const own = process.env.LAB_WAR_PATH
  if (own) {
    if (!own.startsWith('/')) throw new LabError(`LAB_WAR_PATH=${own}: expected a path on the balancer starting with / (e.g. /shop/login)`)
    return own
  }
  return `${war === undefined ? exSessionPath : warContextPath(war)}/`
}

/** A path as Tomcat names a context: no trailing slash, '' for the root. */
function contextPath(urlPath: string): string {
  return urlPath.replace(/\/+$/, '')
}

/**
 * Where the lab's ExSession is deployed on the nodes and where its users visit it through the
 * balancer. Beside a team's war: /ExSession (or aside, exSessionPathBeside). With no war: at every
 * context the team's ProxyPass lines send to a balancer (`ProxyPass /app balancer://c/session-replication`
 * → /session-replication; `ProxyPass / balancer://c/` → the root), visited at the first line's
 * path, so the team's balancer is exercised exactly as written; /ExSession when no line routes one.
 */
export function exSessionContexts(config: HttpdConfig, war: string | undefined): { contexts: string[]; front: string } {
  const rules = war === undefined ? config.proxyPasses.filter((r) => config.balancers.some((b) => b.name.toLowerCase() === r.balancer.toLowerCase() && b.members.length)) : []
  if (!rules.length) {
    const path = exSessionPathBeside(war)
    return { contexts: [path], front: path }
  }
  return { contexts: [...new Set(rules.map((r) => contextPath(r.target)))], front: contextPath(rules[0]!.path) }
}

/** The first ProxyPass (httpd's order) whose path covers `urlPath`: a prefix of it, as httpd matches. */
export function proxyPassFor(config: HttpdConfig, urlPath: string): ProxyPassRule | undefined {
  return config.proxyPasses.find((rule) => urlPath.startsWith(rule.path))
}

/**
 * The lab's file that routes ExSession's path when the configuration under test does not: it
 * mirrors the ProxyPass that routes the team's webapp (or the file's first one), same balancer,
 * same parameters. Nothing when the file already routes the path.
 */
export function exSessionProxyConf(config: HttpdConfig, exSessionPath: string, war?: string): string | undefined {
  if (proxyPassFor(config, `${exSessionPath}/`)) return undefined
  const template = (war !== undefined ? proxyPassFor(config, `${warContextPath(war)}/`) : undefined) ?? config.proxyPasses[0]
  if (!template) return undefined
  const slash = template.path.endsWith('/') ? '/' : ''
  const params = Object.entries(template.params).map(([k, v]) => (/\s/.test(v) ? ` "${k}=${v}"` : ` ${k}=${v}`)).join('')
  return [
    `# The lab's ExSession at ${exSessionPath}, beside the team's webapp: routed as ${path.basename(config.file)}:${template.line} routes ${template.path}.`,
    `ProxyPass ${exSessionPath}${slash} balancer://${template.balancer}${exSessionPath}${slash}${params}`,
    `ProxyPassReverse ${exSessionPath}${slash} balancer://${template.balancer}${exSessionPath}${slash}`,
    '',
  ].join('\n')
}

/**
 * Where the Host of this server.xml reads context descriptors, relative to CATALINA_BASE: its
 * xmlBase, else conf/<Engine name>/<Host name> (the Engine's defaultHost, else its first Host).
 */
export function contextDescriptorDir(serverXml: string, file: string): string {
  const root = readXml(serverXml, file)
  const engine = root.children.filter((c) => c.localName === 'Service').flatMap((s) => s.children).find((c) => c.localName === 'Engine')
  const hosts = engine?.children.filter((c) => c.localName === 'Host') ?? []
  const host = hosts.find((h) => h.attributes.name === engine?.attributes.defaultHost) ?? hosts[0]
  return host?.attributes.xmlBase ?? `conf/${engine?.attributes.name ?? 'Catalina'}/${host?.attributes.name ?? 'localhost'}`
}

/** What the probe saw of one page: the session as its JSESSIONID cookie names it. */
export interface WebappPage {
  url: string
  status: number
  /** The JSESSIONID the browser holds after this answer (and will send next). */
  sessionId: string
  /** The id without its route: what must survive a failover unchanged. */
  key: string
  /**
   * The node the balancer binds the user to: the route after the session id's last '.' (the
   * jvmRoute of the node that made or last rebound it), or the node its route cookie names.
   */
  route: string
  /** This answer set the cookie (a new session, or JvmRouteBinderValve rebinding it). */
  setCookie: boolean
}

/** A balancer's route cookie (ROUTEID=.<member route>) and the node (jvmRoute) each value names. */
export interface RouteCookie {
  name: string
  node(value: string | undefined): string
}

/** A user of the team's webapp through the balancer: a browser that keeps its cookies, one new connection a request. */
export class WebappUser {
  readonly browser = new Browser()
  readonly url: string

  readonly #routeCookie: RouteCookie | undefined

  /**
   * `pagePath`: e.g. /shop/ or /shop/login (webappPagePath). `routeCookie`: the balancer's own
   * cookie that names the node (ROUTEID), read instead of the session id's route suffix.
   */
  constructor(baseUrl: string, pagePath: string, routeCookie?: RouteCookie) {
    this.url = `${baseUrl}${pagePath}`
    this.#routeCookie = routeCookie
  }

  /** One page; an error answer (4xx, 5xx) or a page that leaves no JSESSIONID throws. */
  async visit(timeoutMs = 10_000): Promise<WebappPage> {
    const reply = await this.browser.get(this.url, { timeoutMs })
    if (reply.status >= 400) throw new Error(`GET ${this.url} answered ${reply.status}: ${snippet(reply.body)}`)
    const sessionId = await this.cookie()
    if (sessionId === undefined) {
      throw new LabError(`the page set no JSESSIONID cookie: GET ${this.url} answered ${reply.status} (${snippet(reply.body)}); ` +
        'the probe reads the session only from that cookie: set LAB_WAR_PATH to a page of the webapp that creates a session')
    }
    const setCookie = [reply.headers['set-cookie'] ?? []].flat().some((h) => /^\s*JSESSIONID=/i.test(h))
    const rc = this.#routeCookie
    const route = rc ? rc.node(await this.browser.cookie(this.url, rc.name)) : routeOf(sessionId)
    return { url: this.url, status: reply.status, sessionId, key: sessionKey(sessionId), route, setCookie }
  }

  /** The JSESSIONID the browser would send next. */
  cookie(): Promise<string | undefined> {
    return this.browser.cookie(this.url, 'JSESSIONID')
  }
}

/** The start of a body as a person reads it: tags dropped, whitespace collapsed. */
function snippet(body: string, max = 200): string {
  const text = body.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim()
  if (!text) return 'empty body'
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)
}
