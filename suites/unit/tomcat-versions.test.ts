// The Tomcat the labs run (--tomcat 9|10.1|11): which one the plan says, the war's servlet API
// checked against it before any lab starts, and what a later Tomcat removed or changed in a
// server.xml. No container: the wars are made here, the classes stand for theirs by the package
// names a class file's constant pool holds.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { checkInput } from '../../helpers/cli/input.ts'
import { describePlan, readPlan } from '../../helpers/intake/plan.ts'
import { servletReferences, writeWar } from '../../helpers/lab/war.ts'
import { tomcatVersion } from '../../helpers/settings.ts'
import { formatFinding } from '../../helpers/validate/findings.ts'
import { checkServerXml, readServerXml } from '../../helpers/validate/tomcat.ts'
import { fixture, teamDirs } from '../support/team-dir.ts'

const teamDir = teamDirs()
const WEB_XML = fixture('../webapp/WEB-INF/web.xml')
afterEach(() => { delete process.env.LAB_TOMCAT })

/** A class file's bytes as far as the check reads them: the constant pool's class names. */
const classNaming = (...names: string[]) => Buffer.from(`\xca\xfe\xba\xbe${names.join('\x01')}`, 'latin1')

/** A war in `dir` with a servlet compiled against `api` (or only a JSP page with no imports). */
function warFor(api: 'javax' | 'jakarta' | 'none', name = 'shop.war'): string {
  const war = path.join(teamDir({ 'README.txt': 'wars\n' }), name)
  writeWar(war, {
    'WEB-INF/web.xml': WEB_XML,
    'index.jsp': '<%= session.getId() %>\n',
    ...(api === 'none' ? {} : { 'WEB-INF/classes/shop/Cart.class': classNaming(`${api}/servlet/http/HttpServlet`, 'java/lang/String') }),
  })
  return war
}

describe('which Tomcat: --tomcat / LAB_TOMCAT, into the plan', () => {
  test('9 by default (the original post\'s); 10.1 (or 10) and 11 by name; anything else refused with the choices', () => {
    expect(tomcatVersion({})).toBe('9')
    expect(tomcatVersion({ LAB_TOMCAT: '10.1' })).toBe('10.1')
    expect(tomcatVersion({ LAB_TOMCAT: '10' })).toBe('10.1')
    expect(tomcatVersion({ LAB_TOMCAT: '11' })).toBe('11')
    expect(() => tomcatVersion({ LAB_TOMCAT: '8.5' })).toThrow('Tomcat 8.5: expected one of 9, 10.1, 11 (--tomcat or LAB_TOMCAT: the Tomcat the lab runs)')
  })

  test('the plan says which Tomcat its nodes run', () => {
    process.env.LAB_TOMCAT = '11'
    const plan = readPlan()
    expect(plan.tomcat).toBe('11')
    expect(describePlan(plan)).toMatch(/^plan \(fixtures\): 2 Tomcat 11 nodes;/)
  })
})

describe("the war's servlet API, before any lab starts", () => {
  test('class files name the API they were compiled against, in the war and in its jars; a JSP page by its imports', () => {
    expect(servletReferences(warFor('javax'))).toEqual({ javax: ['WEB-INF/classes/shop/Cart.class'], jakarta: [] })
    expect(servletReferences(warFor('jakarta'))).toEqual({ javax: [], jakarta: ['WEB-INF/classes/shop/Cart.class'] })
    expect(servletReferences(warFor('none'))).toEqual({ javax: [], jakarta: [] })
    const dir = teamDir({ 'README.txt': 'wars\n' })
    const lib = path.join(dir, 'lib.jar')
    writeWar(lib, { 'acme/Filter.class': classNaming('javax/servlet/Filter') })
    const war = path.join(dir, 'app.war')
    writeWar(war, { 'WEB-INF/web.xml': WEB_XML, 'WEB-INF/lib/acme.jar': readFileSync(lib), 'page.jsp': '<%@ page import="jakarta.servlet.http.Cookie" %>\n' })
    expect(servletReferences(war)).toEqual({ javax: ['WEB-INF/lib/acme.jar!/acme/Filter.class'], jakarta: ['page.jsp'] })
  })

  test('a javax war on 10.1 or 11 is refused with the reason and the three ways out', () => {
    const war = warFor('javax')
    for (const tomcat of ['10.1', '11'] as const) {
      const [error, ...rest] = checkInput({ war, tomcat }).errors
      expect(rest).toEqual([])
      expect(error).toContain(`shop.war: written for javax.servlet (WEB-INF/classes/shop/Cart.class), which Tomcat ${tomcat} does not have: the servlet API moved to jakarta.servlet in Tomcat 10`)
      expect(error).toContain('run it with --tomcat 9, rebuild it against jakarta.servlet, or add --migrate-war')
    }
    expect(checkInput({ war, tomcat: '9' }).errors).toEqual([])
    const migrated = checkInput({ war, tomcat: '11', migrateWar: true })
    expect(migrated.errors).toEqual([])
    expect(migrated.migrate, 'the war the gate then migrates').toBe(war)
    expect(checkInput({ war, tomcat: '11' }).migrate).toBeUndefined()
    const jakarta = checkInput({ war: warFor('jakarta'), tomcat: '11', migrateWar: true })
    expect(jakarta.errors).toEqual([])
    expect(jakarta.migrate, 'a jakarta war needs no migration').toBeUndefined()
  })

  test('a jakarta war on 9 is refused; a war that names neither API runs on every version', () => {
    expect(checkInput({ war: warFor('jakarta'), tomcat: '9' }).errors).toEqual([
      expect.stringContaining('shop.war: written for jakarta.servlet (WEB-INF/classes/shop/Cart.class), which Tomcat 9 does not have (it implements javax.servlet): run it with --tomcat 10.1 or --tomcat 11'),
    ])
    expect(checkInput({ war: warFor('jakarta'), tomcat: '10.1' }).errors).toEqual([])
    for (const tomcat of ['9', '10.1', '11'] as const) expect(checkInput({ war: warFor('none'), tomcat }).errors, tomcat).toEqual([])
  })

  test('--migrate-war: only for 10.1 and 11, and only with a war', () => {
    expect(checkInput({ war: warFor('javax'), tomcat: '9', migrateWar: true }).errors).toEqual([
      '--migrate-war: Tomcat 9 runs javax.servlet wars as they are; the migration (javax → jakarta) is for --tomcat 10.1 and 11',
    ])
    expect(checkInput({ tomcat: '11', migrateWar: true }).errors).toEqual([
      '--migrate-war: there is no war to migrate (give --war <file.war>, or put one in the --fixtures directory)',
    ])
  })
})

describe('server.xml per version: what 10.1 removed, what changed its default', () => {
  const bio = fixture('tomcat/server.xml')
    .replace('org.apache.catalina.tribes.transport.nio.NioReceiver', 'org.apache.catalina.tribes.transport.bio.BioReceiver')
  const check = (text: string, tomcat: '9' | '10.1' | '11') => {
    const report = checkServerXml(readServerXml(text, 'server.xml', { jvmRoute: 'node01', 'http.port': '8080', 'shutdown.port': '8005' }), { tomcat })
    return { errors: report.errors.map((e) => e.message), findings: report.findings.map(formatFinding) }
  }

  test('the blocking transport.bio is an error on 10.1 and 11, a warning on 9 (where it still runs)', () => {
    expect(bio).not.toBe(fixture('tomcat/server.xml'))
    for (const tomcat of ['10.1', '11'] as const) {
      expect(check(bio, tomcat).errors).toEqual([expect.stringMatching(new RegExp(`^server.xml:\\d+:\\d+: className="org.apache.catalina.tribes.transport.bio.BioReceiver" was removed in Tomcat 10: Tomcat ${tomcat.replace('.', '\\.')} cannot load it \\(ClassNotFoundException at start\\); the blocking transport.bio classes are gone since Tomcat 10: use the NIO ones: org.apache.catalina.tribes.transport.nio.NioReceiver$`))])
    }
    const nine = check(bio, '9')
    expect(nine.errors).toEqual([])
    expect(nine.findings).toEqual([expect.stringContaining('BioReceiver" was removed in Tomcat 10: this file runs on Tomcat 9 only, and fails to start on 10.1 and 11')])
    expect(check(fixture('tomcat/server.xml'), '11')).toEqual({ errors: [], findings: [] })
  })

  test("an EncryptInterceptor without encryptionAlgorithm: the default differs by version (10.1's is GCM), named", () => {
    const encrypted = fixture('tomcat/server.xml').replace(/(<Interceptor className="org\.apache\.catalina\.tribes\.group\.interceptors\.TcpFailureDetector")/,
      '<Interceptor className="org.apache.catalina.tribes.group.interceptors.EncryptInterceptor" encryptionKey="cafebabedeadbeefcafebabedeadbeef"/>\n          $1')
    expect(encrypted).toContain('EncryptInterceptor')
    expect(check(encrypted, '10.1').findings).toEqual([expect.stringContaining("sets no encryptionAlgorithm: Tomcat 10.1's default is AES/GCM/NoPadding, other versions' differ (9: AES/CBC/PKCS5Padding, 11: AES/CBC/PKCS5Padding)")])
    expect(check(encrypted, '9').findings).toEqual([expect.stringContaining("Tomcat 9's default is AES/CBC/PKCS5Padding, other versions' differ (10.1: AES/GCM/NoPadding)")])
    const explicit = encrypted.replace('encryptionKey=', 'encryptionAlgorithm="AES/GCM/NoPadding" encryptionKey=')
    expect(check(explicit, '10.1').findings).toEqual([])
  })
})
