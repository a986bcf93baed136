/**
 * What each file of a team's directory is, told by its content, not its name: httpd
 * configuration (following Include/IncludeOptional relative to the directory), a Tomcat
 * server.xml (root <Server>), a web.xml (root <web-app>), a .war, ipvsadm-save rules. Anything
 * else — READMEs, docker-compose files, scripts — is listed as not used, never refused. Pure:
 * reads files, starts nothing.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { LabError } from '../errors.ts'

export type FileKind = 'httpd' | 'server.xml' | 'web.xml' | 'war' | 'ipvs-rules' | 'setenv' | 'unused'

export interface Classified {
  /** Relative to the directory, with forward slashes. */
  file: string
  kind: FileKind
  /** For `unused`: why the lab does not run it. */
  why?: string
  /** For httpd files reached through an Include: which file and line include it. */
  includedBy?: { file: string; line: number }
}

/** A line of httpd configuration as assembled from its Includes: its text and where it was written. */
export interface SourceLine {
  text: string
  file: string
  line: number
}

const MAX_BYTES = 1 << 20

/** Every file under `dir` (dotfiles and node_modules aside), classified. */
export function classify(dir: string): Classified[] {
  const files = walk(dir)
  const out = files.map((file): Classified => ({ file, ...kindOf(path.join(dir, file)) }))
  // A file another one includes is httpd configuration whatever it looks like (an Include need not end in .conf).
  for (const c of out.filter((x) => x.kind === 'httpd')) {
    for (const inc of includesOf(dir, c.file)) {
      for (const target of inc.targets) {
        const hit = out.find((x) => x.file === target)
        if (hit && !hit.includedBy) { hit.kind = 'httpd'; delete hit.why; hit.includedBy = { file: c.file, line: inc.line } }
      }
    }
  }
  return out
}

function kindOf(full: string): { kind: FileKind; why?: string } {
  if (full.endsWith('.war')) return { kind: 'war' }
  if (statSync(full).size > MAX_BYTES) return { kind: 'unused', why: 'larger than 1 MiB: no configuration file' }
  const bytes = readFileSync(full)
  if (bytes.includes(0)) return { kind: 'unused', why: 'a binary file' }
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '')
  const root = /^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--[\s\S]*?-->\s*|<!DOCTYPE[^>]*>\s*)*<([A-Za-z_][\w:.-]*)/.exec(text)?.[1]
  if (root !== undefined) {
    const local = root.replace(/^.*:/, '')
    if (local === 'Server') return { kind: 'server.xml' }
    if (local === 'web-app') return { kind: 'web.xml' }
    if (!/^(Proxy|VirtualHost|Location|IfModule|Directory)$/i.test(local)) return { kind: 'unused', why: `XML whose root is <${root}>: neither a Tomcat server.xml nor a web.xml` }
  }
  if (/^\s*(<Proxy\s+"?balancer:|<VirtualHost\b|BalancerMember\s|ProxyPass(Reverse)?\s|ProxySet\s|Include(Optional)?\s|LoadModule\s|ServerRoot\s|Listen\s)/im.test(text)) return { kind: 'httpd' }
  if (/^\s*-[Aa]\s+-[tuf]\s/m.test(text)) return { kind: 'ipvs-rules' }
  // Tomcat's bin/setenv.sh: the JVM options every node starts with.
  if (path.basename(full) === 'setenv.sh' && /^\s*(export\s+)?(CATALINA_OPTS|JAVA_OPTS)=/m.test(text)) return { kind: 'setenv' }
  return { kind: 'unused', why: 'not httpd, Tomcat or ipvsadm configuration' }
}

/** The Include/IncludeOptional lines of an httpd file, each with the directory's files it names. */
export function includesOf(dir: string, file: string): { line: number; pattern: string; optional: boolean; targets: string[] }[] {
  const lines = readFileSync(path.join(dir, file), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)
  const out: { line: number; pattern: string; optional: boolean; targets: string[] }[] = []
  for (const [i, text] of lines.entries()) {
    const m = /^\s*Include(Optional)?\s+"?([^"\s]+)"?\s*$/i.exec(text)
    if (m) out.push({ line: i + 1, pattern: m[2]!, optional: m[1] !== undefined, targets: resolveInclude(dir, file, m[2]!) })
  }
  return out
}

/**
 * The directory's files an Include names: relative to the directory (httpd's ServerRoot, or the
 * conf/ folder under it) or to the including file; `*` and `?` in the last part match as httpd's do.
 */
export function resolveInclude(dir: string, from: string, pattern: string): string[] {
  const bare = pattern.replace(/^\/+/, '')
  const bases = new Set([bare, bare.replace(/^conf\//, ''), path.posix.join(path.posix.dirname(from), bare)])
  for (const b of [...bases]) {
    // An absolute path of the machine it came from (/etc/httpd/conf.d/x.conf): its tail inside the directory.
    const parts = b.split('/')
    for (let k = 1; k < parts.length; k++) bases.add(parts.slice(k).join('/'))
  }
  for (const candidate of bases) {
    const folder = path.posix.dirname(candidate)
    const name = path.posix.basename(candidate)
    const full = path.join(dir, folder)
    if (!existsSync(full) || !statSync(full).isDirectory()) continue
    const glob = new RegExp(`^${name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`)
    const hits = readdirSync(full).filter((n) => glob.test(n) && statSync(path.join(full, n)).isFile()).sort()
      .map((n) => (folder === '.' ? n : `${folder}/${n}`))
    if (hits.length) return hits
  }
  return []
}

/**
 * An httpd file with its Includes inlined, line by line, each line keeping where it was written.
 * An Include of a file that is not there is one error naming the line (IncludeOptional may find none).
 */
export function assemble(dir: string, file: string, seen: string[] = []): SourceLine[] {
  if (seen.includes(file)) throw new LabError(`${[...seen, file].join(' → ')}: the Includes form a loop; remove one`)
  const text = readFileSync(path.join(dir, file), 'utf8').replace(/^\uFEFF/, '')
  const includes = new Map(includesOf(dir, file).map((i) => [i.line, i]))
  const out: SourceLine[] = []
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const inc = includes.get(i + 1)
    if (!inc) { out.push({ text: line, file, line: i + 1 }); continue }
    if (!inc.targets.length && !inc.optional) {
      throw new LabError(`${file}:${i + 1}: Include ${inc.pattern}: no such file in the directory; the lab resolves Includes relative to it ` +
        '(or to its conf/ folder): add the file, or use IncludeOptional if it may be absent')
    }
    for (const target of inc.targets) out.push(...assemble(dir, target, [...seen, file]))
  }
  return out
}

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((entry) => {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') return []
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name
    return entry.isDirectory() ? walk(dir, relative) : entry.isFile() ? [relative] : []
  })
}
