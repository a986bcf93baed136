/**
 * A team's own webapp under test (LAB_WAR) and the lab's ExSession beside it.
 *
 * A foreign app rarely shows its session, so its probe (webapp-user.ts) reads the session only from the JSESSIONID
 * cookie: the id, and the route after its last '.' (the jvmRoute of the node that made it, which
 * JvmRouteBinderValve rewrites on failover while the key before it stays). ExSession, which does
 * show its session, proves attribute replication beside it in the same Tomcats: at /ExSession, or
 * at /lb-e2e-ExSession when the team's own war is an ExSession.war (the post's), routed by the
 * balancer as the team's file routes their webapp.
 */
import path from 'node:path'
import { LabError } from '../errors.ts'
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
