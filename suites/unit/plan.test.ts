// The run's plan (helpers/intake/plan.ts): the configuration read once, node count, ports and
// stickiness from the files, handed to vitest as a file the gate saved.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { PLAN_ENV, loadPlan, readPlan, savePlan } from '../../helpers/intake/plan.ts'
import { intake, removeIntake } from '../../helpers/intake/intake.ts'
import { checkInput } from '../../helpers/cli/input.ts'
import { fixture, teamDirs } from '../support/team-dir.ts'

const teamDir = teamDirs('lb-e2e-plan-')
afterEach(() => { delete process.env.LAB_FIXTURES })
const POST = 'examples/blog-post'

describe('the plan', () => {
  test("the project's fixtures: two nodes, both layouts, strict limits, sticky by the session id's route suffix", () => {
    const plan = readPlan({})
    expect(plan.nodes['single-host'].map((n) => [n.name, n.route, n.http, n.shutdown])).toEqual([['node01', 'node01', 8180, 8105], ['node02', 'node02', 8280, 8205]])
    expect(plan.layouts).toEqual([{ topology: 'single-host' }, { topology: 'multi-host' }])
    expect(plan.limits).toMatchObject({ mode: 'strict', failoverGap: 10, staleReads: 0, rejoinTime: 5 })
    expect(plan.balancers.sticky?.stickiness).toEqual({ by: 'route-suffix', names: ['JSESSIONID', 'jsessionid'] })
    expect(plan.balancers.nonsticky?.stickiness).toEqual({ by: 'none' })
    expect(plan.files['ipvs/rr.rules']).toBe(path.resolve('fixtures/ipvs/rr.rules'))
  })

  test('three per-node files are three nodes, each with its own ports on one host', () => {
    const node = (i: number) => readFileSync(`${POST}/tomcat/node01/server.xml`, 'utf8')
      .replace('jvmRoute="node01"', `jvmRoute="node0${i}"`).replace('port="8180"', `port="8${i}80"`).replace('port="8105"', `port="8${i}05"`)
    const balancer = readFileSync(`${POST}/httpd/balancer-sticky.conf`, 'utf8')
      .replace(/(BalancerMember http:\/\/127\.0\.0\.1:8280[^\n]*\n)/, (line) => `${line}${line.replace('8280', '8380').replace('node02', 'node03')}`)
    process.env.LAB_FIXTURES = teamDir({ 'tomcat/node01/server.xml': node(1), 'tomcat/node02/server.xml': node(2), 'tomcat/node03/server.xml': node(3), 'httpd/balancer-sticky.conf': balancer })
    const plan = readPlan({ LAB_FIXTURES: process.env.LAB_FIXTURES })
    expect(plan.nodes['single-host'].map((n) => [n.name, n.route, n.http, n.shutdown])).toEqual([
      ['node01', 'node01', 8180, 8105], ['node02', 'node02', 8280, 8205], ['node03', 'node03', 8380, 8305]])
    expect(plan.balancers.sticky?.members).toHaveLength(3)
    expect(plan.limits.mode).toBe('lenient')
  })

  test('a shared server.xml runs on as many nodes as the balancer has members; five are refused at the fifth member', () => {
    const members = (n: number) => Array.from({ length: n }, (_, i) => `    BalancerMember http://\${NODE0${i + 1}_ADDR}:\${NODE0${i + 1}_PORT} route=node0${i + 1} connectiontimeout=1 retry=5`).join('\n')
    const balancer = (n: number) => fixture('httpd/balancer-sticky.conf').replace(/( {4}BalancerMember[^\n]*\n)+/, `${members(n)}\n`)
    process.env.LAB_FIXTURES = teamDir({ 'httpd/balancer-sticky.conf': balancer(4) })
    expect(readPlan().nodes['multi-host'].map((n) => n.name)).toEqual(['node01', 'node02', 'node03', 'node04'])
    process.env.LAB_FIXTURES = teamDir({ 'httpd/balancer-sticky.conf': balancer(5) })
    expect(() => readPlan()).toThrow(/balancer-sticky\.conf:\d+: balancer:\/\/mycluster has 5 members; the lab runs 2 to 4 Tomcat nodes/)
  })

  test('a team\'s shared server.xml with jvmRoute="${jvmRoute}" runs each node under its member\'s route=, as their hosts pass -DjvmRoute', () => {
    const balancer = fixture('httpd/balancer-sticky.conf')
      .replace('http://${NODE01_ADDR}:${NODE01_PORT} route=node01', 'http://app-a.internal:8080 route=app-a')
      .replace('http://${NODE02_ADDR}:${NODE02_PORT} route=node02', 'http://app-b.internal:8080 route=app-b')
    const taken = intake(teamDir({ 'conf/server.xml': fixture('tomcat/server.xml'), 'lb/cluster.conf': balancer }))
    try {
      process.env.LAB_FIXTURES = taken.overlay
      expect(taken.mapping).toContain('node01: jvmRoute="${jvmRoute}" → app-a, its member\'s route= (as its host passes -DjvmRoute=app-a)')
      expect(readPlan().nodes['multi-host'].map((n) => [n.name, n.jvmRoute])).toEqual([['node01', 'app-a'], ['node02', 'app-b']])
      expect(checkInput({ fixtures: taken.overlay }).errors).toEqual([])
    } finally {
      removeIntake(taken)
    }
  })

  test('the project\'s own fixtures pass -DjvmRoute=nodeNN: a balancer route that is not one stays a mismatch', () => {
    process.env.LAB_FIXTURES = teamDir({ 'httpd/balancer-sticky.conf': fixture('httpd/balancer-sticky.conf').replace('route=node01', 'route=app-a') })
    expect(checkInput({ fixtures: process.env.LAB_FIXTURES }).errors.join('\n')).toMatch(/route=app-a matches no Tomcat jvmRoute \(node01, node02\)/)
  })

  test('a route cookie set from BALANCER_WORKER_ROUTE is the stickiness the plan names', () => {
    const cookie = fixture('httpd/balancer-sticky.conf')
      .replace('<Proxy balancer://mycluster>', 'Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED\n<Proxy balancer://mycluster>')
      .replace('</Proxy>', '    ProxySet stickysession=ROUTEID\n</Proxy>').replace(' stickysession=JSESSIONID|jsessionid', '')
    process.env.LAB_FIXTURES = teamDir({ 'httpd/balancer-sticky.conf': cookie })
    expect(readPlan().balancers.sticky?.stickiness).toEqual({ by: 'route-cookie', names: ['ROUTEID'] })
  })

  test("only Tomcat files for four nodes: the lab's own balancer fronts all four, routed to their jvmRoutes", () => {
    const taken = intake(path.resolve('examples/corpus/four-nodes-tomcat-only'))
    try {
      process.env.LAB_FIXTURES = taken.overlay
      const plan = readPlan()
      expect(plan.nodes['multi-host'].map((n) => n.route)).toEqual(['app1', 'app2', 'app3', 'app4'])
      expect(plan.balancers.sticky?.members.map((m) => m.params.route)).toEqual(['app1', 'app2', 'app3', 'app4'])
      expect(plan.balancers.nonsticky?.members).toHaveLength(4)
      expect(plan.layouts[0]?.skip).toMatch(/listens on HTTP port 8080/)
    } finally {
      removeIntake(taken)
    }
  })

  test('vitest takes the plan the gate saved, not a new reading of the files', () => {
    const file = path.join(teamDir({}), 'plan.json')
    const saved = { ...readPlan({}), source: 'the gate\'s reading' }
    savePlan(saved, file)
    expect(loadPlan({ [PLAN_ENV]: file }).source).toBe('the gate\'s reading')
  })
})
