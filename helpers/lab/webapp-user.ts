/**
 * A user of a team's own webapp (LAB_WAR) through the balancer, seen only through its JSESSIONID
 * cookie (or the balancer's route cookie): where that webapp lives and how it is routed is
 * webapp.ts. Apart from it so that reading a plan does not load an HTTP client.
 */
import { LabError } from '../errors.ts'
import { routeOf, sessionKey } from './exsession.ts'
import { Browser } from './http.ts'

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
