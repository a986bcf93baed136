/**
 * Intake: a team's directory as they keep it, turned into the layout the lab reads (fixtures/'s),
 * once, with a mapping a person can check. Files are found by content (classify.ts); a layout
 * name (tomcat/node01/server.xml, httpd/balancer-sticky.conf …) still decides a file's role.
 * A balancer block reached through a stock httpd.conf's Includes is cut out with the directives
 * the lab runs, every line keeping where it was written; members on hosts the lab does not have
 * (`http://tomcat-node-1:8080`, `http://10.0.0.64:8080`) are mapped onto the lab's nodes, so no
 * packet goes to the team's real addresses. Real ambiguity is one error saying how to choose
 * (lb-e2e.json in the directory, or --httpd / --server-xml).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LabError } from '../errors.ts'
import { ORIGINS_FILE, displayPath, fixturesDir, sameFile } from '../settings.ts'
import { isLoopback, readHttpdConfig } from '../validate/httpd.ts'
import { type TomcatServer, readServerXml } from '../validate/tomcat.ts'
import { type Classified, type SourceLine, assemble, classify } from './classify.ts'
import { MAX_NODES, MIN_NODES, addressProperty, labProperties, nodeName, nodeNames } from './plan.ts'


/** Which file is which, where the content alone cannot tell (lb-e2e.json, or the CLI's options). */
export interface IntakeChoice {
  /** The httpd file(s) holding the balancer(s). */
  httpd?: string[]
  /** One server.xml for every node, or one per node in node order. */
  serverXml?: string[]
  war?: string
}

/** Where a line of the laid-out directory was written: the team's file and line. */
export interface Origin { file: string; line?: number }

export interface Intake {
  /** The team's directory. */
  dir: string
  /** The directory laid out as the lab reads it (a scratch folder: removeIntake). */
  overlay: string
  /** One line a file: what it was taken as. */
  mapping: string[]
  unused: { file: string; why: string }[]
  /** Per laid-out file (relative): the team's file, and per line (index = line - 1) where it was written. */
  origins: Record<string, { file: string; lines?: Origin[] }>
  war?: string
}

const CHOICE_FILE = 'lb-e2e.json'
const LAYOUT_NAMES = /^(tomcat\/setenv\.sh|tomcat\/server\.xml|tomcat\/node0[1-4]\/server\.xml|httpd\/balancer-(sticky|nonsticky)\.conf|httpd\/realserver\.conf|ipvs\/[\w.-]+\.rules|webapp\/WEB-INF\/web\.xml)$/

export function intake(dir: string, given: IntakeChoice = {}): Intake {
  try {
    return take(dir, given)
  } catch (error) {
    if (!(error instanceof LabError)) throw error
    // `file:line: …` of the directory's files, named as the user would open them.
    const shown = (f: string) => (existsSync(path.join(dir, f)) ? displayPath(path.join(dir, f)) : f)
    throw new LabError(error.message.split('\n').map((l) => l.replace(/^[^\s:]+(?=:\d)/, shown)).join('\n'), { cause: error })
  }
}

function take(dir: string, given: IntakeChoice): Intake {
  const classified = classify(dir)
  const pasted = classified.filter((c) => c.kind !== 'unused' && c.kind !== 'war').flatMap((c) => pastedCharacters(dir, c.file))
  if (pasted.length) throw new LabError(pasted.join('\n'))
  const choice = { ...readChoice(dir), ...definedOnly(given) }
  const mapping: string[] = []
  const unused: { file: string; why: string }[] = []
  const origins: Intake['origins'] = {}
  const files: Record<string, string> = {}
  const put = (target: string, from: string, text: string, lines?: Origin[]) => {
    files[target] = text.replace(/^\uFEFF/, '') // accepted, as Tomcat accepts it; httpd would not
    origins[target] = lines ? { file: from, lines } : { file: from }
  }
  const of = (kind: Classified['kind']) => classified.filter((c) => c.kind === kind)
  const chosen = (list: string[] | undefined, what: string) => (list ?? []).map((f) => {
    const rel = path.relative(dir, path.resolve(dir, f)).split(path.sep).join('/')
    if (!classified.some((c) => c.file === rel)) throw new LabError(`${CHOICE_FILE} / --${what}: ${f} is not a file of ${dir}`)
    return rel
  })

  // How many members the team's balancer has (its first with members): the node count for one
  // shared server.xml, and the check on one server.xml a node.
  const httpd = of('httpd')
  const tops = choice.httpd?.length ? chosen(choice.httpd, 'httpd') : httpd.filter((c) => !c.includedBy && c.file !== 'httpd/realserver.conf').map((c) => c.file)
  const assembled = new Map(tops.map((file) => [file, assemble(dir, file)]))
  const firstBalancer = tops.map((file) => ({ file, b: readHttpdConfig(assembled.get(file)!.map((l) => l.text).join('\n'), file).balancers.find((b) => b.members.length) }))
    .find((x) => x.b !== undefined)
  const memberCount = firstBalancer?.b?.members.length

  // Tomcat: layout names first, else the choice, else by count.
  const servers = of('server.xml').map((c) => c.file)
  const layoutServers = servers.filter((f) => LAYOUT_NAMES.test(f))
  const count = (files: number) => {
    const n = files === 1 ? memberCount ?? MIN_NODES : files
    if (n < MIN_NODES || n > MAX_NODES) {
      throw new LabError(`${files === 1 && firstBalancer ? `${firstBalancer.file}: balancer://${firstBalancer.b!.name} has ${n} members` : `${displayPath(dir)}: ${n} Tomcat server.xml files`}; ` +
        `the lab runs ${MIN_NODES} to ${MAX_NODES} Tomcat nodes`)
    }
    return n
  }
  let nodeFiles: Record<string, string> = {}
  if (choice.serverXml?.length) {
    const picked = chosen(choice.serverXml, 'server-xml')
    nodeFiles = Object.fromEntries(nodeNames(count(picked.length)).map((n, i) => [n, picked[picked.length === 1 ? 0 : i]!]))
  } else if (layoutServers.length) {
    // Laid out like fixtures/: a node without a file of its own keeps the shared one, or the lab's default.
    const perNode = layoutServers.filter((f) => f !== 'tomcat/server.xml').map((f) => f.split('/')[1]!).sort()
    const names = nodeNames(perNode.length ? nodeNames(MAX_NODES).indexOf(perNode.at(-1)!) + 1 : count(1))
    for (const n of names) {
      const own = layoutServers.find((f) => f === `tomcat/${n}/server.xml`) ?? layoutServers.find((f) => f === 'tomcat/server.xml')
      if (own) nodeFiles[n] = own
      else mapping.push(`${n}: no server.xml of yours → the lab's fixtures/tomcat/server.xml`)
    }
  } else if (servers.length === 1) {
    nodeFiles = Object.fromEntries(nodeNames(count(1)).map((n) => [n, servers[0]!]))
  } else if (servers.length > 1) {
    if (servers.length > MAX_NODES || (memberCount !== undefined && memberCount !== servers.length)) {
      const runs = memberCount !== undefined ? `${firstBalancer!.file}'s balancer://${firstBalancer!.b!.name} has ${memberCount} members` : `the lab runs ${MIN_NODES} to ${MAX_NODES} nodes`
      throw new LabError(`${displayPath(dir)}: ${servers.length} Tomcat server.xml files (${servers.join(', ')}), and ${runs}: ` +
        `name the server.xml to run, one per member, in node order, in ${CHOICE_FILE} ({ "serverXml": ["a/server.xml", "b/server.xml"] }) or with --server-xml (once per node)`)
    }
    nodeFiles = Object.fromEntries(nodeNames(count(servers.length)).map((n, i) => [n, servers[i]!]))
  }
  const routes: Record<string, string | undefined> = {}
  const propertyRoute = new Set<string>()
  const memberHosts: Record<string, string> = {}
  const jvmRoutes: Record<string, string> = {}
  for (const [node, file] of Object.entries(nodeFiles)) {
    const text = readFileSync(path.join(dir, file), 'utf8')
    const shared = Object.values(nodeFiles).filter((f) => f === file).length > 1 || file === 'tomcat/server.xml'
    const target = shared ? 'tomcat/server.xml' : `tomcat/${node}/server.xml`
    put(target, file, text)
    const read = readNode(text, path.join(dir, file), node)
    routes[node] = read.server?.engine?.jvmRoute?.value
    if (read.server?.engine?.jvmRoute?.raw === '${jvmRoute}') propertyRoute.add(node)
    const runBy = Object.entries(nodeFiles).filter(([, f]) => f === file).map(([n]) => n)
    if (!mapping.some((m) => m.startsWith(`${file}:`))) mapping.push(`${file}: ${describeServer(read)} → ${runBy.join(', ')}`)
  }
  for (const f of servers.filter((s) => !Object.values(nodeFiles).includes(s))) unused.push({ file: f, why: `a server.xml the lab does not run (its nodes run ${[...new Set(Object.values(nodeFiles))].join(', ')})` })

  // httpd: each top-level file with a balancer, sticky or not.
  for (const c of httpd.filter((x) => !x.includedBy && !tops.includes(x.file) && x.file !== 'httpd/realserver.conf')) {
    unused.push({ file: c.file, why: `httpd configuration not chosen (${CHOICE_FILE} / --httpd names ${tops.join(', ')})` })
  }
  const roles: Record<'sticky' | 'nonsticky', string[]> = { sticky: [], nonsticky: [] }
  for (const file of tops) {
    const lines = assembled.get(file)!
    const config = readHttpdConfig(lines.map((l) => l.text).join('\n'), file)
    if (!config.balancers.some((b) => b.members.length)) {
      unused.push({ file, why: 'httpd configuration without a balancer (no BalancerMember in it or its Includes)' })
      assembled.delete(file)
      continue
    }
    const named = /^httpd\/balancer-(sticky|nonsticky)\.conf$/.exec(file)?.[1] as 'sticky' | 'nonsticky' | undefined
    roles[named ?? (/stickysession\s*=/i.test(lines.map((l) => l.text).join('\n')) ? 'sticky' : 'nonsticky')].push(file)
  }
  for (const role of ['sticky', 'nonsticky'] as const) {
    const list = roles[role]
    const layout = list.find((f) => f === `httpd/balancer-${role}.conf`)
    const others = list.filter((f) => f !== layout)
    if (!layout && others.length > 1) {
      throw new LabError(`${displayPath(dir)}: ${others.length} ${role === 'sticky' ? 'sticky' : 'non-sticky'} balancer configurations (${others.join(', ')}): the lab runs one of each; ` +
        `name the one to run in ${CHOICE_FILE} ({ "httpd": ["${others[0]}"] }) or with --httpd`)
    }
    const file = layout ?? others[0]
    for (const f of others.filter((x) => x !== file)) unused.push({ file: f, why: `another ${role} balancer: ${file} is the one the lab runs` })
    if (!file) continue
    const source = assembled.get(file)!
    const { text, lines, members, dropped, routed, hosts } = balancerFile(source, file, routes)
    Object.assign(memberHosts, hosts)
    // A server.xml that leaves jvmRoute to ${jvmRoute}: each host passes its own, the one its member's route= names.
    if (role === 'sticky') {
      for (const [node, route] of Object.entries(routed)) {
        if (!propertyRoute.has(node) || route === node) continue
        jvmRoutes[node] = route
        routes[node] = route
        mapping.push(`${node}: jvmRoute="\${jvmRoute}" → ${route}, its member's route= (as its host passes -DjvmRoute=${route})`)
      }
    }
    const target = `httpd/balancer-${role}.conf`
    // One file with nothing dropped: kept whole, every line and column where it was written.
    const whole = !dropped && source.every((l) => l.file === file)
    put(target, file, text, whole ? undefined : lines)
    const config = readHttpdConfig(text, file)
    const count = config.balancers.reduce((n, b) => n + b.members.length, 0)
    mapping.push(`${file}: ${config.balancers.map((b) => `balancer://${b.name}`).join(', ')}, ${count} members, ${role === 'sticky' ? stickiness(text) : 'not sticky'} → the lab's ${role} balancer`)
    for (const m of members) mapping.push(`  ${m}`)
    if (dropped) mapping.push(`  ${dropped} lines of server configuration (Listen, LoadModule, <Directory> …) left to the lab's httpd`)
  }
  for (const c of httpd.filter((x) => x.includedBy && !tops.includes(x.file))) {
    if (![...assembled.values()].some((ls) => ls.some((l) => l.file === c.file))) unused.push({ file: c.file, why: `included by ${c.includedBy!.file}:${c.includedBy!.line}, which holds no balancer the lab runs` })
  }

  // A balancer the team's files do not bring (only Tomcat files: their balancer is nginx or a
  // cloud's; or no non-sticky one): the lab's own fronts as many nodes as the files describe, each
  // sticky member routed to its node's jvmRoute. The fixture as it is when it fits (two nodes, node01/node02).
  const nodeList = Object.keys(nodeFiles)
  const ownRoutes = nodeList.map((n) => routes[n])
  const fits = { sticky: nodeList.length === MIN_NODES && ownRoutes.every((r, i) => r === nodeList[i]), nonsticky: nodeList.length === MIN_NODES }
  for (const role of ['sticky', 'nonsticky'] as const) {
    if (roles[role].length || !nodeList.length || fits[role]) continue
    if (role === 'sticky' && ownRoutes.some((r) => r === undefined)) {
      mapping.push(`no sticky balancer of yours, and ${nodeList.filter((_, i) => ownRoutes[i] === undefined).join(', ')} set no jvmRoute: the lab's sticky balancer cannot stick to them by route`)
      continue
    }
    const fixture = path.join(fixturesDir, `httpd/balancer-${role}.conf`)
    files[`httpd/balancer-${role}.conf`] = labBalancer(readFileSync(fixture, 'utf8'), nodeList.map((n, i) => ownRoutes[i] ?? n))
    origins[`httpd/balancer-${role}.conf`] = { file: path.relative(dir, fixture) }
    mapping.push(`no ${role === 'sticky' ? 'sticky' : 'non-sticky'} balancer of yours: the lab's own (fixtures/httpd/balancer-${role}.conf) fronts the ${nodeList.length} nodes` +
      (role === 'sticky' ? `, sticky by JSESSIONID route suffix, routes ${ownRoutes.join(', ')}` : ', not sticky'))
  }

  // The webapp, the web.xml, the rules.
  const wars = of('war').map((c) => c.file)
  const warChoice = choice.war ? sameFileIn(dir, choice.war, wars) : undefined
  if (choice.war && !warChoice && wars.length) throw new LabError(`${displayPath(dir)}: holds ${wars.join(', ')} and --war ${choice.war} names another: give one`)
  if (!warChoice && wars.length > 1) throw new LabError(`${displayPath(dir)}: ${wars.length} webapps (${wars.join(', ')}): one at a time; name it in ${CHOICE_FILE} ({ "war": "${wars[0]}" }) or with --war`)
  const war = warChoice ?? wars[0]
  if (war) mapping.push(`${war}: the webapp under test, deployed at /${path.basename(war, '.war')}`)
  else if (choice.war) mapping.push(`--war ${choice.war}: the webapp under test, deployed at /${path.basename(choice.war, '.war')}`)
  const warFile = war ? path.join(dir, war) : choice.war
  for (const w of wars.filter((x) => x !== war)) unused.push({ file: w, why: `another webapp: ${war} is the one under test` })
  for (const c of of('web.xml')) {
    if (c.file === 'webapp/WEB-INF/web.xml') { put(c.file, c.file, readFileSync(path.join(dir, c.file), 'utf8')); mapping.push(`${c.file}: the lab's ExSession deployed with this descriptor`); continue }
    unused.push({ file: c.file, why: war ? `a web.xml beside ${war}: the war deploys the WEB-INF/web.xml inside it, which the gate checks` : 'a web.xml with no webapp to deploy it: give --war, or put it at webapp/WEB-INF/web.xml for the lab\'s ExSession' })
  }
  const setenvs = of('setenv')
  if (setenvs.length) {
    const c = setenvs[0]!
    put('tomcat/setenv.sh', c.file, readFileSync(path.join(dir, c.file), 'utf8'))
    mapping.push(`${c.file}: the JVM options every node starts with (its -D system properties; the lab's own heap and GC)`)
    for (const other of setenvs.slice(1)) unused.push({ file: other.file, why: `another setenv.sh: ${c.file} is the one every node starts with` })
  }
  for (const c of of('ipvs-rules')) {
    if (LAYOUT_NAMES.test(c.file) || c.file === 'httpd/realserver.conf') { put(c.file, c.file, readFileSync(path.join(dir, c.file), 'utf8')); mapping.push(`${c.file}: ipvsadm rules for the scenario of that name`); continue }
    unused.push({ file: c.file, why: 'ipvsadm rules under a name no scenario has: the suites run ipvs/rr.rules, wrr, lc, sh, persistent, direct-routing' })
  }
  if (classified.some((c) => c.file === 'httpd/realserver.conf') && !files['httpd/realserver.conf']) {
    put('httpd/realserver.conf', 'httpd/realserver.conf', readFileSync(path.join(dir, 'httpd/realserver.conf'), 'utf8'))
    mapping.push('httpd/realserver.conf: the IPVS real servers\' httpd configuration')
  }
  for (const c of of('unused')) if (c.file !== CHOICE_FILE) unused.push({ file: c.file, why: c.why ?? 'not used' })
  if (!Object.keys(files).length && !warFile) {
    throw new LabError(`${displayPath(dir)}: no file the lab can run: no Tomcat server.xml (root <Server>), no httpd balancer (BalancerMember), no ipvsadm rules, no .war ` +
      `(${unused.length} files read: ${unused.slice(0, 5).map((u) => u.file).join(', ')}${unused.length > 5 ? ', …' : ''})`)
  }

  // Static cluster members on the team's hosts (<Member host="tomcat-node-2" …>) are mapped onto the
  // lab's nodes as balancer members are: by the host the balancer names, else by their order.
  for (const target of Object.keys(files).filter((f) => /^tomcat\/(node0\d\/)?server\.xml$/.test(f))) {
    const { text, mapped } = staticMembers(files[target]!, origins[target]!.file, memberHosts, Object.keys(nodeFiles))
    files[target] = text
    for (const m of mapped) mapping.push(`  ${origins[target]!.file}:${m.line}: static member ${m.host} → ${m.node} (${m.how}): a lab address; nothing is sent to ${m.host}`)
  }

  const overlay = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-intake-'))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(overlay, file)), { recursive: true })
    writeFileSync(path.join(overlay, file), text)
  }
  writeFileSync(path.join(overlay, ORIGINS_FILE), JSON.stringify({ dir, origins, ...(Object.keys(jvmRoutes).length ? { jvmRoutes } : {}) }))
  return { dir, overlay, mapping, unused, origins, ...(warFile ? { war: warFile } : {}) }
}

export function removeIntake(taken: Pick<Intake, 'overlay'>): void {
  rmSync(taken.overlay, { recursive: true, force: true })
}

/** The printed intake: the mapping, then the files not used. */
export function describeIntake(taken: Intake): string {
  return [`intake of ${displayPath(taken.dir)}:`, ...taken.mapping.map((m) => `  ${m}`),
    ...(taken.unused.length ? ['  not used:', ...taken.unused.map((u) => `    ${u.file}: ${u.why}`)] : [])].join('\n')
}

/**
 * The lines of an assembled httpd configuration the lab runs: everything but the server's own
 * configuration, which the lab's httpd has (Listen, LoadModule, ServerRoot, logs, <Directory> and
 * <Location> blocks, the <VirtualHost> and <IfModule> wrappers). Whatever else is there, a typo
 * included, is kept for `apache2 -t` to judge. A file with nothing to drop is kept whole (its lines
 * and columns as written). Members on hosts the lab does not have are mapped onto its nodes.
 */
function balancerFile(lines: SourceLine[], file: string, routes: Record<string, string | undefined>): { text: string; lines: Origin[]; members: string[]; dropped: number; routed: Record<string, string>; hosts: Record<string, string> } {
  const kept: SourceLine[] = []
  const members: string[] = []
  const routed: Record<string, string> = {}
  /** The team's host of each member → the lab's node it became. */
  const hosts: Record<string, string> = {}
  let dropped = 0
  let inProxy = false
  let skipDepth = 0
  let order = 0
  const nodes = Object.keys(routes)
  for (const l of lines) {
    const t = l.text.trim()
    if (skipDepth) {
      dropped++
      if (SKIPPED_BLOCK_END.test(t)) skipDepth--
      else if (SKIPPED_BLOCK.test(t)) skipDepth++
      continue
    }
    if (!inProxy && (SKIPPED_BLOCK.test(t) || (/^<Proxy\b/i.test(t) && !/^<Proxy\s+"?balancer:/i.test(t)))) { skipDepth = 1; dropped++; continue }
    if (!inProxy && (WRAPPER.test(t) || SERVER_DIRECTIVE.test(t))) { dropped++; continue }
    if (/^<Proxy\s+"?balancer:/i.test(t)) { inProxy = true; order = 0; kept.push(l); continue }
    if (inProxy && /^<\/Proxy>/i.test(t)) inProxy = false
    const member = inProxy ? /^(\s*BalancerMember\s+)("?)(\w+):\/\/([^/:"\s]+)(?::(\d+|\$\{\w+\}))?([^"\s]*)("?)(.*)$/i.exec(l.text) : null
    if (member) {
      const [, lead, q1, scheme, host, port, rest, q2, params] = member
      const route = /\broute=(\S+)/i.exec(params!)?.[1]
      const node = nodes.find((n) => route !== undefined && routes[n] === route) ?? nodes[order]
      order++
      if (!host!.startsWith('${') && PLACEHOLDER.test(host!)) {
        throw new LabError(`${l.file}:${l.line}: BalancerMember ${scheme}://${host}${port ? `:${port}` : ''}: "${host}" is a placeholder a deploy tool never filled; ` +
          'write the node\'s host name or address (the lab maps it onto its nodes)')
      }
      if (!host!.startsWith('${') && !isLoopback(host!)) {
        if (!node) throw new LabError(`${l.file}:${l.line}: BalancerMember ${scheme}://${host}${port ? `:${port}` : ''} is member ${order} of its balancer, but the lab runs ${nodes.length} Tomcat nodes: give it as many members as nodes`)
        const upper = node.toUpperCase()
        // An ajp:// member reaches the node's AJP connector, an http:// one its HTTP connector.
        const portVariable = scheme!.toLowerCase() === 'ajp' ? `${upper}_AJP_PORT` : `${upper}_PORT`
        kept.push({ ...l, text: `${lead}${q1}${scheme}://\${${upper}_ADDR}:\${${portVariable}}${rest}${q2}${params}` })
        if (route !== undefined) routed[node] = route
        hosts[host!.toLowerCase()] = node
        members.push(`${l.file}:${l.line}: member ${scheme}://${host}${port ? `:${port}` : ''} → ${node}${route ? ` (route=${route})` : ' (by order)'}: a lab address; nothing is sent to ${host}`)
        continue
      }
    }
    kept.push(l)
  }
  const joined = kept.map((k) => k.text).join('\n')
  return { text: joined.endsWith('\n') || kept.at(-1)?.text === '' ? joined : `${joined}\n`, lines: kept.map((k) => ({ file: k.file, line: k.line })), members, dropped, routed, hosts }
}

/**
 * The lab's balancer file (the fixture) for these nodes: its member line once a node, the node's
 * variables and route in it, everything else (comments, timeouts, ProxyPass) as the fixture has it.
 */
function labBalancer(fixture: string, routes: string[]): string {
  const lines = fixture.split('\n')
  const member = lines.find((l) => /^\s*BalancerMember\b/.test(l))!
  const members = routes.map((route, i) => member.replaceAll('NODE01', nodeName(i).toUpperCase()).replace(/\broute=\S+/, `route=${route}`))
  const first = lines.indexOf(member)
  return [...lines.slice(0, first), ...members, ...lines.slice(first).filter((l) => !/^\s*BalancerMember\b/.test(l))].join('\n')
}

/**
 * A server.xml's static cluster members (<Member host="…">, of StaticMembershipService or
 * StaticMembershipInterceptor) with each host a lab node's address property; hosts already a
 * ${property} stay. Lines stay where they were: only the host values change.
 */
function staticMembers(text: string, file: string, hosts: Record<string, string>, nodes: string[]): { text: string; mapped: { line: number; host: string; node: string; how: string }[] } {
  const mapped: { line: number; host: string; node: string; how: string }[] = []
  let order = 0
  const out = text.replace(/(<Member\b[^>]*?\bhost\s*=\s*)(["'])([^"']*)\2/g, (whole, lead: string, quote: string, host: string, offset: number) => {
    const index = order++
    if (host.startsWith('${')) return whole
    const byHost = hosts[host.toLowerCase()]
    const node = byHost ?? nodes[index]
    if (!node) throw new LabError(`${file}:${text.slice(0, offset).split('\n').length}: <Member host="${host}"> is static member ${index + 1}, but the lab runs ${nodes.length} Tomcat nodes: list one <Member> a node`)
    mapped.push({ line: text.slice(0, offset).split('\n').length, host, node, how: byHost ? 'the balancer\'s member on that host' : 'by order' })
    return `${lead}${quote}\${${addressProperty(node)}}${quote}`
  })
  return { text: out, mapped }
}

/** Blocks of the server's own configuration, dropped whole: the lab's httpd has its own. */
const SKIPPED_BLOCK = /^<(Location|LocationMatch|Directory|DirectoryMatch|Files|FilesMatch)\b/i
const SKIPPED_BLOCK_END = /^<\/(Location|LocationMatch|Directory|DirectoryMatch|Files|FilesMatch)>/i
/** Wrapper lines whose content the lab runs: a VirtualHost's balancer, a module guard's directives. */
const WRAPPER = /^<\/?(VirtualHost|IfModule|IfDefine)\b/i
/** Directives of the server itself (the lab's httpd sets its own). */
const SERVER_DIRECTIVE = /^(ServerRoot|Listen|LoadModule|User|Group|ServerAdmin|ServerName|ServerAlias|DocumentRoot|ErrorLog|CustomLog|LogLevel|LogFormat|TransferLog|PidFile|Mutex|TypesConfig|AddType|AddEncoding|AddHandler|AddOutputFilter|DirectoryIndex|Timeout|KeepAlive|KeepAliveTimeout|MaxKeepAliveRequests|HostnameLookups|AccessFileName|EnableSendfile|EnableMMAP|ServerTokens|ServerSignature|TraceEnable|AddDefaultCharset|StartServers|MinSpareServers|MaxSpareServers|MinSpareThreads|MaxSpareThreads|ThreadsPerChild|MaxRequestWorkers|MaxConnectionsPerChild|ThreadLimit|ServerLimit|UseCanonicalName|Options|AllowOverride|Require|Order|Allow|Deny|Alias|ScriptAlias|SSL\w*|SetEnvIf|BrowserMatch|MIMEMagicFile|EnableExceptionHook|GracefulShutdownTimeout|DefaultRuntimeDir|ScoreBoardFile)\b/i

/** A host that is a template's slot, not a name: Node-1_IP, TOMCAT1_HOST, {{ node1 }}, @NODE1@, %NODE1%. */
const PLACEHOLDER = /[-_](IP|HOST|ADDR|ADDRESS|HOSTNAME)$|^[@%{<]|[}>@%]$/

/**
 * Characters a web page gives text that is pasted from it: httpd and Tomcat read them as part of a
 * word, and httpd's own message (Invalid command '\xc2\xa0…') does not say what happened. A byte
 * order mark and CRLF line ends are simply accepted.
 */
function pastedCharacters(dir: string, file: string): string[] {
  const out: string[] = []
  const names: Record<string, string> = { '\u00a0': 'a non-breaking space (U+00A0)', '\u2018': 'a typographic quote ‘ (U+2018)', '\u2019': 'a typographic quote ’ (U+2019)',
    '\u201c': 'a typographic quote “ (U+201C)', '\u201d': 'a typographic quote ” (U+201D)' }
  for (const [i, line] of readFileSync(path.join(dir, file), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).entries()) {
    const m = /[\u00a0\u2018\u2019\u201c\u201d]/.exec(line)
    if (!m) continue
    const plain = m[0] === '\u00a0' ? 'a plain space' : /[\u2018\u2019]/.test(m[0]) ? "a plain quote '" : 'a plain quote "'
    out.push(`${file}:${i + 1}:${m.index + 1}: ${names[m[0]]}, as text pasted from a web page has: ${m[0] === '\u00a0' ? "httpd reports it only as Invalid command '\\xc2\\xa0…', Tomcat reads it as part of a value" : 'httpd and Tomcat read it as part of the value, not as a quote'}; replace it with ${plain} (and check the rest of the line)`)
  }
  return out
}

function stickiness(text: string): string {
  const cookie = /stickysession\s*=\s*"?([^\s"|]+)/i.exec(text)?.[1] ?? ''
  if (/BALANCER_WORKER_ROUTE/.test(text)) return `sticky by route cookie ${cookie}`
  return /^j?sessionid$/i.test(cookie) ? `sticky by ${cookie} route suffix` : `sticky by ${cookie}`
}

/** A node's server.xml read with the properties the lab gives it (as validation reads it); undefined when it is not readable. */
function readNode(text: string, file: string, node: string): { server?: TomcatServer; problem?: string } {
  try {
    return { server: readServerXml(text, file, labProperties(node)) }
  } catch (error) {
    return { problem: (error as Error).message.split('\n')[0]! }
  }
}

function describeServer({ server: s, problem }: ReturnType<typeof readNode>): string {
  if (!s) return `not readable (${problem})`
  const route = s.engine?.jvmRoute?.raw ?? '(none)'
  const http = s.httpPorts[0]?.raw ?? '(none)'
  const receiver = s.cluster?.receiver.port.raw
  const ajp = s.ajpConnectors[0]?.port.raw
  return `jvmRoute ${route}, HTTP ${http}${ajp ? `, AJP ${ajp}` : ''}, shutdown ${s.shutdownPort.raw ?? '(default)'}${s.cluster ? `, cluster under <${s.cluster.parent}>${membership(s.cluster.membership)}${receiver ? `, receiver ${receiver}` : ''}` : ', no <Cluster>'}`
}

/** The membership named in the mapping when it is not multicast, Tomcat's default. */
function membership(m: NonNullable<TomcatServer['cluster']>['membership']): string {
  if (m.kind === 'multicast') return ''
  return m.kind === 'static' || m.kind === 'static-interceptor' ? `, static membership (${m.members.length} members)` : `, ${m.kind} membership`
}

function readChoice(dir: string): IntakeChoice {
  const file = path.join(dir, CHOICE_FILE)
  if (!existsSync(file)) return {}
  let data: unknown
  try {
    data = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new LabError(`${file}: not valid JSON (${(error as Error).message}); it names which file is which: { "httpd": [...], "serverXml": [...], "war": "..." }`)
  }
  const d = data as Record<string, unknown>
  const list = (key: string): string[] | undefined => {
    const v = d[key]
    if (v === undefined) return undefined
    if (typeof v === 'string') return [v]
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[]
    throw new LabError(`${file}: "${key}" must be a file name or a list of them`)
  }
  for (const key of Object.keys(d)) if (!['httpd', 'serverXml', 'war'].includes(key)) throw new LabError(`${file}: unknown field "${key}"; the fields are httpd, serverXml, war`)
  const war = list('war')
  return { ...(list('httpd') ? { httpd: list('httpd')! } : {}), ...(list('serverXml') ? { serverXml: list('serverXml')! } : {}), ...(war ? { war: war[0]! } : {}) }
}

function definedOnly(c: IntakeChoice): IntakeChoice {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined && !(Array.isArray(v) && !v.length))) as IntakeChoice
}

/** A --war (or lb-e2e.json's war, relative to the directory) naming one of the directory's wars, by whatever path: that war (relative), else undefined. */
function sameFileIn(dir: string, war: string, wars: string[]): string | undefined {
  return wars.find((w) => sameFile(path.resolve(dir, war), path.join(dir, w)))
}
