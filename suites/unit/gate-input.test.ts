// What the gate reads from a team's files before any lab starts: which file each node runs (the
// overlay over fixtures/), the ports, jvmRoutes and layout taken from the files themselves, and
// the input it refuses.
import { copyFileSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { checkInput } from '../../helpers/cli/input.ts'
import { readPlan, runnableLayouts } from '../../helpers/intake/plan.ts'
import { planTomcatLab } from '../../helpers/lab/tomcat-lab.ts'
import { writeWar } from '../../helpers/lab/war.ts'
import { fixturePath, serverXmlPath } from '../../helpers/settings.ts'
import { fixture, teamDirs } from '../support/team-dir.ts'

const BLOG = 'examples/blog-post'
const teamDir = teamDirs()
afterEach(() => { delete process.env.LAB_FIXTURES; delete process.env.LAB_WAR })

describe('the overlay: a team file replaces the default of the same path, the rest stay', () => {
  test('without LAB_FIXTURES every file is fixtures/', () => {
    expect(path.relative(process.cwd(), fixturePath('httpd/balancer-sticky.conf'))).toBe('fixtures/httpd/balancer-sticky.conf')
    expect(path.relative(process.cwd(), serverXmlPath('node02', 'tomcat/server.xml'))).toBe('fixtures/tomcat/server.xml')
  })

  test("a node's own server.xml wins over the shared one, for that node only; the lab's variants are untouched", () => {
    const dir = teamDir({ 'tomcat/node02/server.xml': fixture('tomcat/server.xml') })
    process.env.LAB_FIXTURES = dir
    expect(serverXmlPath('node02', 'tomcat/server.xml')).toBe(path.join(dir, 'tomcat/node02/server.xml'))
    expect(path.relative(process.cwd(), serverXmlPath('node01', 'tomcat/server.xml'))).toBe('fixtures/tomcat/server.xml')
    expect(path.relative(process.cwd(), serverXmlPath('node02', 'tomcat/server-original.xml'))).toBe('fixtures/tomcat/server-original.xml')
    expect(path.relative(process.cwd(), fixturePath('httpd/balancer-sticky.conf'))).toBe('fixtures/httpd/balancer-sticky.conf')
  })
})

describe('ports, jvmRoutes and layout come from the files', () => {
  test("the post's files: one server.xml per node with literal ports, 127.0.0.1 members: single-host only", () => {
    process.env.LAB_FIXTURES = BLOG
    expect(runnableLayouts(readPlan())).toEqual(['single-host'])
    // The layout that does not apply is still there, to be reported as skipped, with its reason.
    expect(readPlan().layouts).toEqual([
      { topology: 'single-host' },
      { topology: 'multi-host', skip: `${path.relative(process.cwd(), path.join(BLOG, 'httpd/balancer-sticky.conf'))} reaches its members on the loopback address: written for one host` },
    ])
    const plan = planTomcatLab(readPlan(), { topology: 'single-host' })
    expect(plan.nodes.map((n) => [n.name, n.route, n.http, n.shutdown, n.asynchronous])).toEqual([
      ['node01', 'node01', 8180, 8105, true], ['node02', 'node02', 8280, 8205, true],
    ])
    expect(() => planTomcatLab(readPlan(), { topology: 'multi-host' })).toThrow(/reaches its members on the loopback address: it was written for one host/)
    expect(plan.war).toBe(path.resolve(BLOG, 'ExSession.war'))
  })

  test('two nodes that listen on the same literal HTTP port need separate hosts: single-host is skipped, saying why', () => {
    const post = readFileSync(path.join(BLOG, 'tomcat/node01/server.xml'), 'utf8').replace('port="8180"', 'port="8080"')
    process.env.LAB_FIXTURES = teamDir({ 'tomcat/node01/server.xml': post, 'tomcat/node02/server.xml': post.replace('jvmRoute="node01"', 'jvmRoute="node02"').replace('port="8105"', 'port="8205"') })
    expect(readPlan().layouts[0]).toMatchObject({ topology: 'single-host', skip: expect.stringMatching(/every node's server\.xml listens on HTTP port 8080 \(.*node01\/server\.xml, .*node02\/server\.xml\): on one host only the first could bind it/) })
    expect(readPlan().layouts[1]).toEqual({ topology: 'multi-host' })
  })

  test('the default fixtures: a shared server.xml gets the lab\'s ports, runs in both layouts, synchronous replication', () => {
    expect(runnableLayouts(readPlan())).toEqual(['single-host', 'multi-host'])
    expect(readPlan().layouts).toEqual([{ topology: 'single-host' }, { topology: 'multi-host' }])
    expect(planTomcatLab(readPlan(), { topology: 'single-host' }).nodes.map((n) => [n.route, n.http, n.shutdown, n.asynchronous]))
      .toEqual([['node01', 8180, 8105, false], ['node02', 8280, 8205, false]])
    expect(planTomcatLab(readPlan(), { topology: 'multi-host' }).nodes.map((n) => [n.route, n.http])).toEqual([['node01', 8080], ['node02', 8080]])
  })

  test('a shared server.xml behind a balancer with literal member ports listens where the balancer sends', () => {
    process.env.LAB_FIXTURES = teamDir({
      'httpd/balancer-sticky.conf': fixture('httpd/balancer-sticky.conf')
        .replace('http://${NODE01_ADDR}:${NODE01_PORT}', 'http://127.0.0.1:9180').replace('http://${NODE02_ADDR}:${NODE02_PORT}', 'http://127.0.0.1:9280'),
    })
    expect(planTomcatLab(readPlan(), { topology: 'single-host' }).nodes.map((n) => [n.route, n.http])).toEqual([['node01', 9180], ['node02', 9280]])
  })

  test('jvmRoutes other than node01/node02 are the routes the lab uses', () => {
    process.env.LAB_FIXTURES = teamDir({
      'tomcat/node01/server.xml': readFileSync(`${BLOG}/tomcat/node01/server.xml`, 'utf8').replace('jvmRoute="node01"', 'jvmRoute="tomcat-a"'),
      'tomcat/node02/server.xml': readFileSync(`${BLOG}/tomcat/node02/server.xml`, 'utf8').replace('jvmRoute="node02"', 'jvmRoute="tomcat-b"'),
    })
    expect(planTomcatLab(readPlan(), { topology: 'multi-host' }).nodes.map((n) => [n.name, n.route, n.http])).toEqual([['node01', 'tomcat-a', 8180], ['node02', 'tomcat-b', 8280]])
  })
})

describe('checkInput', () => {
  test("the post's directory: no error; the warnings name its files, not the lab's own variants", () => {
    const input = checkInput({ fixtures: BLOG })
    expect(input.errors).toEqual([])
    expect(input.files).toEqual(['httpd/balancer-sticky.conf', 'ipvs/rr.rules', 'tomcat/node01/server.xml', 'tomcat/node02/server.xml'])
    expect(input.findings.map((f) => f.file).every((f) => f.startsWith(BLOG))).toBe(true)
    expect(input.findings.length).toBe(10)
  })

  test('the default fixtures: nothing to say', () => {
    expect(checkInput({})).toMatchObject({ errors: [], findings: [] })
  })

  test('a war without <distributable/> is refused with its consequence: replication cannot work', () => {
    const dir = teamDir({})
    writeWar(path.join(dir, 'app.war'), { 'WEB-INF/web.xml': readFileSync('webapp/WEB-INF/web.xml', 'utf8').replace('  <distributable/>\n', '') })
    const input = checkInput({ war: path.join(dir, 'app.war') })
    expect(input.findings).toEqual([])
    expect(input.errors).toEqual([
      `${path.join(dir, 'app.war')}!/WEB-INF/web.xml:3:1: no <distributable/> in <web-app>: Tomcat does not replicate this webapp's sessions ` +
      "(it gets a StandardManager, not the cluster's DeltaManager), so a failover loses them; add <distributable/> under <web-app>",
    ])
  })

  test('a war that is no zip, or has no WEB-INF/web.xml, is refused naming the file', () => {
    const dir = teamDir({})
    writeFileSync(path.join(dir, 'text.war'), 'not a zip\n')
    writeWar(path.join(dir, 'bare.war'), { 'index.jsp': 'hello\n' })
    expect(checkInput({ war: path.join(dir, 'text.war') }).errors).toEqual([
      `${path.join(dir, 'text.war')}: not a readable .war (zip) archive: no zip directory found (not a zip file, or a truncated one)`,
    ])
    expect(checkInput({ war: path.join(dir, 'bare.war') }).errors).toEqual([
      `${path.join(dir, 'bare.war')}: no WEB-INF/web.xml, so no <distributable/>: Tomcat does not replicate this webapp's sessions and a failover loses them; add a web.xml with <distributable/>`,
    ])
  })

  test('a .war beside --war, and a --war that is no .war, are refused', () => {
    const input = checkInput({ fixtures: BLOG, war: 'fixtures/httpd/realserver.conf' })
    expect(input.errors).toEqual([
      `${BLOG}: holds ExSession.war and --war fixtures/httpd/realserver.conf names another: give one`,
      'fixtures/httpd/realserver.conf: expected a .war file (Tomcat deploys webapps/<name>.war at /<name>)',
    ])
  })

  test("--war naming the directory's own war by another path (absolute, relative, a symlink) is that one war; a copy is another", () => {
    const war = path.join(BLOG, 'ExSession.war')
    const link = path.join(teamDir({}), 'link.war')
    symlinkSync(path.resolve(war), link)
    for (const same of [path.resolve(war), `./${war}`, link]) expect(checkInput({ fixtures: BLOG, war: same }).errors, same).toEqual([])
    const copy = path.join(teamDir({}), 'ExSession.war')
    copyFileSync(war, copy)
    expect(checkInput({ fixtures: BLOG, war: copy }).errors).toEqual([`${BLOG}: holds ExSession.war and --war ${copy} names another: give one`])
  })

  test('several unknown files: one error naming them all and the layout', () => {
    const dir = teamDir({ 'httpd/balancer.conf': '', 'server.xml': '' })
    const [error, ...rest] = checkInput({ fixtures: dir }).errors
    expect(rest).toEqual([])
    expect(error).toMatch(/: httpd\/balancer\.conf, server\.xml are not files of the fixtures layout, so no suite would read them; name each after the file it replaces: tomcat\/server\.xml/)
  })
})
