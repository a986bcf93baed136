/** Where things are and what the lab is called: one place for names, labels and environment knobs. */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { LabError } from './errors.ts'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const cacheDir = path.join(repoRoot, '.cache')
/**
 * Node's compile cache (module.enableCompileCache, NODE_COMPILE_CACHE for child processes): the
 * CLI's start (0.9-2.0 s without it, 0.1-0.4 s with it and lazy imports) and vitest's workers
 * (the unit project, a fork a file: 57.2-59.4 s -> 56.4-56.7 s) compile once, not at every start.
 */
export const compileCacheDir = path.join(cacheDir, 'node-compile')
/** `npm test` as the bench and the soak run it: scripts/test.ts under this Node (the project's Node 24). */
export const npmTestCommand: [string, string[]] = [process.execPath, [path.join(repoRoot, 'scripts', 'test.ts')]]
export const fixturesDir = path.join(repoRoot, 'fixtures')
/**
 * The figures the tests record (helpers/report/figures.ts), one JSON line each, read by the reports.
 * A lane of `npm test` (scripts/test.ts) writes its own file (LB_E2E_FIGURES), joined into this one before the merge.
 */
export const FIGURES_FILE = process.env.LB_E2E_FIGURES ? path.resolve(process.env.LB_E2E_FIGURES) : path.join(repoRoot, 'reports', 'figures.jsonl')

/** Every container, network, VM and TAP device of the lab carries this label and name prefix. */
export const LABEL = 'lb-e2e'

// Testcontainers would otherwise pull Ryuk and (because these machines have /.dockerenv) alpine
// from Docker Hub, which is unreachable here: the lab removes what it creates itself.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost'

/**
 * One id per test run, shared by vitest's main process and its workers through the environment:
 * minted in vitest.config.ts, before any worker starts. Empty counts as unset.
 */
export function runId(): string {
  if (!process.env.LB_E2E_RUN) process.env.LB_E2E_RUN = randomBytes(3).toString('hex')
  return process.env.LB_E2E_RUN
}

/**
 * The process that owns this run: `npm run clean` leaves resources of a live owner alone. Empty
 * counts as unset (this process), never as pid 0, which no live process has.
 */
export function ownerPid(): number {
  if (!process.env.LB_E2E_OWNER_PID) process.env.LB_E2E_OWNER_PID = String(process.pid)
  const pid = Number(process.env.LB_E2E_OWNER_PID)
  if (!Number.isInteger(pid) || pid <= 0) throw new LabError(`LB_E2E_OWNER_PID=${process.env.LB_E2E_OWNER_PID}: expected the pid of the process that owns the run`)
  return pid
}

export function labels(): Record<string, string> {
  return { [LABEL]: 'true', [`${LABEL}.run`]: runId(), [`${LABEL}.owner-pid`]: String(ownerPid()) }
}

/** A resource name: `lb-e2e-<run>-<what>`. */
export function resourceName(what: string): string {
  return `${LABEL}-${runId()}-${what}`
}

/** The Debian release the lab's images are built on: Debian 13, current stable. */
export const DEBIAN_SUITE = 'trixie'

/** The Debian base every image is built from: a registry image where one is reachable (CI). */
export function baseImage(): string {
  return process.env.LAB_BASE_IMAGE || `lb-e2e/base:${DEBIAN_SUITE}`
}

/**
 * The Tomcat the lab runs (LAB_TOMCAT, `--tomcat`): 9, the original's, by default; 10.1 and 11
 * (jakarta.servlet) as most teams run them now. Each is Debian's package of that major on the
 * lab's Debian release: libtomcat9-java, libtomcat10-java (10.1), libtomcat11-java.
 */
export const TOMCAT_VERSIONS = ['9', '10.1', '11'] as const
export type TomcatVersion = (typeof TOMCAT_VERSIONS)[number]

export function tomcatVersion(env: NodeJS.ProcessEnv = process.env): TomcatVersion {
  const value = env.LAB_TOMCAT || '9'
  const version = TOMCAT_VERSIONS.find((v) => v === value || (v === '10.1' && value === '10'))
  if (!version) throw new LabError(`Tomcat ${value}: expected one of ${TOMCAT_VERSIONS.join(', ')} (--tomcat or LAB_TOMCAT: the Tomcat the lab runs)`)
  return version
}

/** The servlet API a Tomcat implements: javax.servlet up to 9, jakarta.servlet from 10. */
export function servletNamespace(version: TomcatVersion): 'javax' | 'jakarta' {
  return version === '9' ? 'javax' : 'jakarta'
}

export type IpvsBackendChoice = 'auto' | 'vm' | 'host' | 'container'

export function ipvsBackendChoice(): IpvsBackendChoice {
  const value = process.env.LAB_IPVS_BACKEND || 'auto'
  if (value === 'auto' || value === 'vm' || value === 'host' || value === 'container') return value
  throw new LabError(`LAB_IPVS_BACKEND=${value}: expected one of auto, vm, host, container`)
}

/**
 * A team's own configuration (LAB_FIXTURES=<dir>), laid over fixtures/ file by file: a file the
 * directory holds replaces the default one of the same relative path; the rest stay the lab's.
 */
export function fixturesOverlay(): string | undefined {
  const dir = process.env.LAB_FIXTURES
  if (!dir) return undefined
  const full = path.resolve(dir)
  if (!existsSync(full) || !statSync(full).isDirectory()) throw new LabError(`LAB_FIXTURES=${dir}: no such directory`)
  return full
}

/** The file the lab uses for `relative` (e.g. httpd/balancer-sticky.conf): the overlay's, else fixtures/'s. */
export function fixturePath(relative: string): string {
  const overlay = fixturesOverlay()
  const own = overlay && path.join(overlay, relative)
  return own && isFile(own) ? own : path.join(fixturesDir, relative)
}

/**
 * A node's server.xml for the configuration `relative` names: for tomcat/server.xml a node's own
 * tomcat/<node>/server.xml wins over the shared file (overlay first, then fixtures/).
 */
export function serverXmlPath(node: string, relative: string): string {
  if (relative === 'tomcat/server.xml') {
    const overlay = fixturesOverlay()
    for (const dir of [overlay, fixturesDir]) {
      if (!dir) continue
      for (const candidate of [path.join(dir, 'tomcat', node, 'server.xml'), path.join(dir, relative)]) if (isFile(candidate)) return candidate
    }
  }
  return fixturePath(relative)
}

/** Written by the intake beside the directory it lays out: which team file (and line) each of its files came from. */
export const ORIGINS_FILE = '.lb-e2e-origins.json'

type Origins = Record<string, { file: string; lines?: { file: string; line?: number }[] }>
interface IntakeRecord { dir: string; origins: Origins; jvmRoutes?: Record<string, string> }
const originsCache = new Map<string, IntakeRecord | null>()

/** The jvmRoute the intake gave each node whose server.xml reads it as ${jvmRoute} (node → route). */
export function intakeJvmRoutes(): Record<string, string> {
  return intakeOrigins()?.jvmRoutes ?? {}
}

/** The intake's record of where the overlay's files came from, when LAB_FIXTURES is one it laid out. */
function intakeOrigins(): ({ overlay: string } & IntakeRecord) | undefined {
  const overlay = process.env.LAB_FIXTURES
  if (!overlay) return undefined
  if (!originsCache.has(overlay)) {
    const file = path.join(overlay, ORIGINS_FILE)
    originsCache.set(overlay, existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as IntakeRecord : null)
  }
  const found = originsCache.get(overlay)
  return found ? { overlay: path.resolve(overlay), ...found } : undefined
}

/**
 * Shown in names and messages: fixtures/…, the overlay's path, or — for a file the intake laid
 * out from a team's directory — the team's own file, and its line where one is given.
 */
export function displayPath(file: string, line?: number, column?: number): string {
  const show = (p: string) => {
    const relative = path.relative(process.cwd(), path.resolve(p))
    return relative === '' || relative.startsWith('..') ? path.resolve(p) : relative
  }
  const taken = intakeOrigins()
  if (taken && path.resolve(file) === taken.overlay) return show(taken.dir)
  const inOverlay = taken && path.resolve(file).startsWith(`${taken.overlay}${path.sep}`) ? path.relative(taken.overlay, path.resolve(file)).split(path.sep).join('/') : undefined
  const origin = inOverlay !== undefined ? taken!.origins[inOverlay] : undefined
  const col = column === undefined ? '' : `:${column}`
  if (!origin) return line === undefined ? show(file) : `${show(file)}:${line}${col}`
  // A file cut out of the team's (origin.lines) keeps their lines, not their columns.
  const at = line === undefined ? { file: origin.file } : origin.lines ? origin.lines[line - 1] ?? { file: origin.file } : { file: origin.file, line }
  const shown = show(path.join(taken!.dir, at.file))
  return at.line === undefined ? shown : `${shown}:${at.line}${origin.lines ? '' : col}`
}

/** A team's own webapp under test (LAB_WAR=<file.war>, or the .war of the LAB_FIXTURES directory), deployed beside ExSession. */
export function labWar(): string | undefined {
  const overlay = fixturesOverlay()
  const war = process.env.LAB_WAR || (overlay && readdirSync(overlay).filter((n) => n.endsWith('.war')).map((n) => path.join(overlay, n))[0])
  if (!war) return undefined
  const full = path.resolve(war)
  if (!isFile(full)) throw new LabError(`LAB_WAR=${war}: no such file`)
  if (!full.endsWith('.war')) throw new LabError(`LAB_WAR=${war}: expected a .war file (Tomcat deploys webapps/<name>.war at /<name>)`)
  return full
}

export function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile()
}

/** Whether two paths name one file (relative or absolute, through symlinks); a missing file is no match. */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b)
  } catch {
    return false
  }
}
