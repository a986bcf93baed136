/**
 * The gate's input, checked before anything starts: a team's fixtures directory (laid over
 * fixtures/ file by file) and their .war. Every problem is collected, each naming its file and
 * line; the gate refuses to start any lab while one remains. Pure: reads files, starts nothing.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { LabError } from '../errors.ts'
import { nodeNamesOf } from '../intake/plan.ts'
import { readWarText, servletReferences } from '../lab/war.ts'
import { type TomcatVersion, displayPath, fixturesDir, repoRoot, sameFile, servletNamespace, tomcatVersion } from '../settings.ts'
import { type Finding, mergeReports } from '../validate/findings.ts'
import { type NodeConfig, validateFixtures } from '../validate/index.ts'
import { checkWebXml, readWebXml } from '../validate/webxml.ts'

/** Files a fixtures directory may hold: the layout of fixtures/ the suites read. */
export const LAYOUT: { pattern: RegExp; what: string }[] = [
  { pattern: /^tomcat\/server\.xml$/, what: 'tomcat/server.xml (every node, per-node values as ${jvmRoute}, ${http.port}, ${shutdown.port})' },
  { pattern: /^tomcat\/setenv\.sh$/, what: "tomcat/setenv.sh (Tomcat's bin/setenv.sh: the -D system properties of CATALINA_OPTS/JAVA_OPTS every node starts with)" },
  { pattern: /^tomcat\/node0[1-4]\/server\.xml$/, what: 'tomcat/node01/server.xml … tomcat/node04/server.xml (one per node, two to four nodes)' },
  { pattern: /^httpd\/balancer-(sticky|nonsticky)\.conf$/, what: 'httpd/balancer-sticky.conf, httpd/balancer-nonsticky.conf' },
  { pattern: /^httpd\/realserver\.conf$/, what: 'httpd/realserver.conf (the IPVS real servers)' },
  { pattern: /^ipvs\/(rr|wrr|lc|sh|persistent|direct-routing)\.rules$/, what: 'ipvs/rr.rules, wrr, lc, sh, persistent, direct-routing (ipvsadm-save syntax)' },
  { pattern: /^webapp\/WEB-INF\/web\.xml$/, what: "webapp/WEB-INF/web.xml (ExSession's descriptor)" },
]
// Besides these, one <name>.war at the top: the team's webapp, as with --war.

/** Files of the lab's own, not under test: the post's originals and the no-cluster control. */
const LAB_OWN = /^(tomcat\/server-(original|no-cluster)\.xml|httpd\/balancer-original\.conf)$/

export interface GateInput {
  /** The team's fixtures directory (LAB_FIXTURES), laid over fixtures/. */
  fixtures?: string
  /** The team's webapp (LAB_WAR). */
  war?: string
  /** The Tomcat the labs run (LAB_TOMCAT; default 9): the war must be written for its servlet API. */
  tomcat?: TomcatVersion
  /** A javax war on Tomcat 10.1/11 is migrated to jakarta (helpers/lab/war-migration.ts) instead of refused. */
  migrateWar?: boolean
}

export interface InputCheck {
  errors: string[]
  findings: Finding[]
  /** The team's files, relative to their directory. */
  files: string[]
  nodes: NodeConfig[]
  /** The war `migrateWar` asks to migrate: a javax war on 10.1/11, let through for that (helpers/lab/war-migration.ts). */
  migrate?: string
}

export function checkInput(input: GateInput): InputCheck {
  const errors: string[] = []
  const files: string[] = []
  const wars: string[] = []
  const overlay = input.fixtures === undefined ? undefined : path.resolve(input.fixtures)
  if (overlay !== undefined) {
    if (!existsSync(overlay) || !statSync(overlay).isDirectory()) {
      return { errors: [`--fixtures ${input.fixtures}: no such directory`], findings: [], files, nodes: [] }
    }
    const unknown: string[] = []
    for (const file of walk(overlay)) {
      if (LAYOUT.some((l) => l.pattern.test(file))) files.push(file)
      else if (/^[^/]+\.war$/.test(file)) wars.push(path.join(overlay, file))
      else unknown.push(file)
    }
    if (unknown.length) {
      errors.push(`${displayPath(overlay)}: ${unknown.join(', ')} ${unknown.length > 1 ? 'are not files' : 'is not a file'} of the fixtures layout, so no suite would read ` +
        `${unknown.length > 1 ? 'them' : 'it'}; name each after the file it replaces: ${LAYOUT.map((l) => l.what).join('; ')}; or <name>.war (the webapp under test)`)
    }
    if (wars.length > 1) errors.push(`${displayPath(overlay)}: ${wars.map((w) => path.basename(w)).join(', ')}: one webapp (.war) at a time`)
    // The directory's war named again by --war (by another path) is still one war.
    const given = input.war
    if (wars.length && given && !wars.some((w) => sameFile(w, given))) errors.push(`${displayPath(overlay)}: holds ${path.basename(wars[0]!)} and --war ${given} names another: give one`)
    if (!files.length && !unknown.length && !wars.length) errors.push(`--fixtures ${input.fixtures}: the directory holds no file; lay it out like fixtures/ (${LAYOUT.map((l) => l.what).join('; ')})`)
  }

  // Validate the files the gate will run: fixtures/ with the team's files laid over it, in a
  // scratch copy; messages name the team's file, or fixtures/'s.
  const merged = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-gate-'))
  try {
    for (const dir of ['tomcat', 'httpd', 'ipvs']) cpSync(path.join(fixturesDir, dir), path.join(merged, dir), { recursive: true })
    mkdirSync(path.join(merged, 'webapp/WEB-INF'), { recursive: true })
    cpSync(path.join(repoRoot, 'webapp/WEB-INF/web.xml'), path.join(merged, 'webapp/WEB-INF/web.xml'))
    for (const file of files) cpSync(path.join(overlay!, file), path.join(merged, file))
    const source = (file: string) => (files.includes(file) ? path.join(overlay!, file) : file.startsWith('webapp/') ? path.join(repoRoot, file) : path.join(fixturesDir, file))
    // file[:line[:column]] of the scratch copy → the file as the user knows it (the intake's origins: their own file and line).
    const scratch = new RegExp(`${merged.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/([^\\s:,)]+)(?::(\\d+)(?::(\\d+))?)?`, 'g')
    const named = (text: string) => text.replaceAll(scratch, (_, file: string, line?: string, column?: string) => displayPath(source(file), line ? Number(line) : undefined, column ? Number(column) : undefined))
    let v: ReturnType<typeof validateFixtures>
    try {
      v = validateFixtures(merged, { nodes: nodeNamesOf(merged), tomcat: input.tomcat ?? tomcatVersion() })
    } catch (error) {
      if (!(error instanceof LabError)) throw error
      return { errors: [...errors, named(error.message)], findings: [], files, nodes: [] }
    }
    errors.push(...v.errors.map((e) => named(e.message)))
    const relative = (f: Finding) => path.relative(merged, f.file)
    const findings = v.findings.filter((f) => !LAB_OWN.test(relative(f)))
      .map((f) => ({ ...f, file: displayPath(source(relative(f))), message: named(f.message) }))
    const warFile = input.war ?? wars[0]
    const war = warFile === undefined ? { errors: [], findings: [], migrate: false } : checkWar(warFile, input.tomcat ?? tomcatVersion(), input.migrateWar ?? false)
    if (input.migrateWar && warFile === undefined) errors.push('--migrate-war: there is no war to migrate (give --war <file.war>, or put one in the --fixtures directory)')
    const all = mergeReports({ errors: [], findings }, war)
    return {
      errors: [...errors, ...war.errors.map((e) => e.message)], findings: all.findings, files, nodes: v.nodes.map((n) => ({ ...n, file: named(n.file) })),
      ...(war.migrate ? { migrate: path.resolve(warFile!) } : {}),
    }
  } finally {
    rmSync(merged, { recursive: true, force: true })
  }
}

/** What the war check found; `migrate`: a javax war let through because --migrate-war asks for a jakarta copy. */
interface WarCheck { errors: LabError[]; findings: Finding[]; migrate: boolean }

/**
 * The team's .war: a zip Tomcat can deploy, written for the servlet API of the Tomcat the labs run
 * (or migrated to it, `migrate`), whose WEB-INF/web.xml says <distributable/>.
 */
function checkWar(war: string, tomcat: TomcatVersion, migrate: boolean): WarCheck {
  const file = path.resolve(war)
  const shown = displayPath(file)
  if (!existsSync(file) || !statSync(file).isFile()) return { errors: [new LabError(`--war ${war}: no such file`)], findings: [], migrate: false }
  if (!file.endsWith('.war')) return { errors: [new LabError(`${shown}: expected a .war file (Tomcat deploys webapps/<name>.war at /<name>)`)], findings: [], migrate: false }
  try {
    const text = readWarText(file, 'WEB-INF/web.xml')
    if (text === undefined) {
      return { errors: [new LabError(`${shown}: no WEB-INF/web.xml, so no <distributable/>: Tomcat does not replicate this webapp's sessions and a failover loses them; add a web.xml with <distributable/>`)], findings: [], migrate: false }
    }
    const api = checkServletApi(file, tomcat, migrate)
    const descriptor = checkWebXml(readWebXml(text, `${shown}!/WEB-INF/web.xml`))
    return { errors: [...api.errors, ...descriptor.errors], findings: [...api.findings, ...descriptor.findings], migrate: api.migrate }
  } catch (error) {
    if (error instanceof LabError) return { errors: [error], findings: [], migrate: false }
    throw error
  }
}

/**
 * javax.servlet up to Tomcat 9, jakarta.servlet from 10.1: the servlets of a war of the other API
 * are never loaded (measured: the lab's javax ExSession answers 404 on 10.1), so it is refused
 * before any lab starts, with the entries that show it. Only javax → jakarta can be migrated.
 */
function checkServletApi(war: string, tomcat: TomcatVersion, migrate: boolean): WarCheck {
  const shown = displayPath(war)
  const wants = servletNamespace(tomcat)
  const other = wants === 'javax' ? 'jakarta' : 'javax'
  const refs = servletReferences(war)
  const sample = (names: string[]) => `${names.slice(0, 3).join(', ')}${names.length > 3 ? ` and ${names.length - 3} more` : ''}`
  const errors: LabError[] = []
  const findings: Finding[] = []
  if (migrate && wants === 'javax') {
    errors.push(new LabError('--migrate-war: Tomcat 9 runs javax.servlet wars as they are; the migration (javax → jakarta) is for --tomcat 10.1 and 11'))
  } else if (refs[other].length && !refs[wants].length && !(migrate && other === 'javax')) {
    errors.push(new LabError(wants === 'jakarta'
      ? `${shown}: written for javax.servlet (${sample(refs.javax)}), which Tomcat ${tomcat} does not have: the servlet API moved to jakarta.servlet in Tomcat 10, ` +
        'so its javax servlets are never loaded and their pages answer 404 (as the lab\'s own ExSession, compiled for javax, does on 10.1); run it with --tomcat 9, rebuild it against jakarta.servlet, ' +
        "or add --migrate-war to have the gate migrate a copy with Debian's tomcat-jakartaee-migration (javax2jakarta) first"
      : `${shown}: written for jakarta.servlet (${sample(refs.jakarta)}), which Tomcat 9 does not have (it implements javax.servlet): run it with --tomcat 10.1 or --tomcat 11`))
  } else if (refs[other].length && refs[wants].length) {
    findings.push({
      severity: 'warning', file: shown,
      message: `names both servlet APIs: ${wants}.servlet as Tomcat ${tomcat} needs, and ${other}.servlet in ${sample(refs[other])}; ` +
        `code that reaches the ${other} classes fails on this Tomcat with NoClassDefFoundError: update or drop what still uses ${other}.servlet`,
    })
  }
  return { errors, findings, migrate: migrate && wants === 'jakarta' && refs.javax.length > 0 }
}

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((entry) => {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name
    if (entry.name.startsWith('.')) return []
    return entry.isDirectory() ? walk(path.join(dir, entry.name), relative) : [relative]
  })
}
