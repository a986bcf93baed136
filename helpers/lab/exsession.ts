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

/**
 * A node's part in keeping one session, as ExSession's /cluster?session=ID reports it: under
 * BackupManager its replicated map's entry (`primary`, `backup`, `proxy`: it only knows where the
 * session lives; `copy`: ReplicatedMap's), under any other Manager `replica` (it holds its own
 * copy, as every DeltaManager node does); `none` when it holds nothing of it; `unknown` when the
 * page could not read Tomcat's internals (`error` says why).
 */
export type SessionRoleName = 'primary' | 'backup' | 'proxy' | 'copy' | 'replica' | 'none' | 'unknown'

/** One node's report, members as the page names them (host:port of their Receiver, like `members`). */
export interface SessionRoleReport {
  /** jvmRoute of the node that answered. */
  node: string
  /** Its own member address, as its cluster view gives it: what the others' reports name it by. */
  localMember: string | null
  /** The context's session Manager class (BackupManager, DeltaManager …). */
  manager: string | null
  role: SessionRoleName
  /** The session's primary member as this node's entry records it. */
  primary: string | null
  /** The backup members this node's entry names (on the primary: where it sends the session). */
  backups: string[]
  error?: string
}

/** The same, members named by the lab's nodes (their jvmRoutes); an address of no node stays as it is. */
export interface SessionRole {
  node: string
  manager: string | null
  role: SessionRoleName
  primary: string | null
  backups: string[]
}

/** Where one session lives across the lab. */
export interface SessionPlacement {
  roles: SessionRole[]
  /** Each role and the nodes that report it, in node order. */
  byRole: Partial<Record<SessionRoleName, string[]>>
}

/** Names the members of every node's report by the node whose local member they are (pure). */
export function placeSession(reports: SessionRoleReport[]): SessionPlacement {
  const byAddress = new Map(reports.flatMap((r) => (r.localMember ? [[r.localMember, r.node] as const] : [])))
  const name = (address: string) => byAddress.get(address) ?? address
  const roles = reports.map((r): SessionRole => ({ node: r.node, manager: r.manager, role: r.role, primary: r.primary === null ? null : name(r.primary), backups: r.backups.map(name) }))
  const byRole: SessionPlacement['byRole'] = {}
  for (const r of roles) (byRole[r.role] ??= []).push(r.node)
  return { roles, byRole }
}

/** `tomcat1 primary (backups: tomcat3), tomcat2 proxy, tomcat3 backup`: for messages and figures. */
export function describePlacement(p: SessionPlacement): string {
  return p.roles.map((r) => `${r.node} ${r.role}${r.role === 'primary' ? ` (backups: ${r.backups.join(', ') || 'none'})` : ''}${r.manager ? ` [${r.manager}]` : ''}`).join(', ')
}

/** Every node's report on session `id` (read without side effects), named: where it lives now. */
export async function sessionPlacement(nodes: { sessionRole(id: string): Promise<SessionRoleReport> }[], id: string): Promise<SessionPlacement> {
  return placeSession(await Promise.all(nodes.map((n) => n.sessionRole(id))))
}
