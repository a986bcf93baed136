/**
 * ExSession as a user sees it through the balancer: one page per request, read in its JSON form
 * (`?format=json`) so suites never scrape HTML. A `Browser` keeps the user's cookies.
 */
import { Browser, type Reply } from './http.ts'

export interface SessionPage {
  status: number
  /** jvmRoute of the Tomcat that served the request. */
  node: string
  sessionId: string
  isNew: boolean
  creationTime: number
  lastAccessedTime: number
  requestCount: number
  attributes: Record<string, string>
}

/** The id without its `.nodeNN` route suffix: what must survive a failover unchanged. */
export function sessionKey(sessionId: string): string {
  return sessionId.replace(/\.[^.]+$/, '')
}

export function routeOf(sessionId: string): string {
  return /\.([^.]+)$/.exec(sessionId)?.[1] ?? ''
}

/** A simulated user of ExSession behind the balancer at `baseUrl`, at its context path (default /ExSession). */
export class ExSessionUser {
  readonly browser = new Browser()
  readonly #url: string

  constructor(baseUrl: string, contextPath = '/ExSession') {
    this.#url = `${baseUrl}${contextPath}/`
  }

  /** One page; `set` stores an attribute (`?dataName=…&dataValue=…`). Throws on a non-200 answer. */
  async visit(set?: { name: string; value: string }, timeoutMs = 10_000): Promise<SessionPage> {
    const reply = await this.browser.get(this.#pageUrl(set), { timeoutMs })
    if (reply.status !== 200) throw new Error(`ExSession answered ${reply.status}: ${reply.body.slice(0, 300)}`)
    return parsePage(reply)
  }

  /** The browser's cookie of that name for the page (Tomcat's JSESSIONID unless another is named, e.g. a balancer's ROUTEID). */
  cookie(name = 'JSESSIONID'): Promise<string | undefined> {
    return this.browser.cookie(this.#url, name)
  }

  #pageUrl(set?: { name: string; value: string }): string {
    const query = new URLSearchParams({ format: 'json' })
    if (set) { query.set('dataName', set.name); query.set('dataValue', set.value) }
    return `${this.#url}?${query}`
  }
}

function parsePage(reply: Reply): SessionPage {
  const page = JSON.parse(reply.body) as Omit<SessionPage, 'status'>
  return { status: reply.status, ...page }
}
