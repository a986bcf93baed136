import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { formatFinding } from '../../helpers/validate/findings.ts'
import { type HttpdCheckOptions, checkHttpdConfig, readHttpdConfig } from '../../helpers/validate/httpd.ts'

const STICKY = readFileSync('fixtures/httpd/balancer-sticky.conf', 'utf8')
const POST = readFileSync('examples/blog-post/httpd/balancer-sticky.conf', 'utf8')
const LAB: HttpdCheckOptions = { jvmRoutes: ['node01', 'node02'], variables: ['NODE01_ADDR', 'NODE01_PORT', 'NODE02_ADDR', 'NODE02_PORT'] }

function check(text: string, options: HttpdCheckOptions = LAB, file = 'balancer.conf') {
  const report = checkHttpdConfig(readHttpdConfig(text, file), options)
  return { errors: report.errors.map((e) => e.message), findings: report.findings.map(formatFinding) }
}

describe('balancer configuration: what is read', () => {
  test('the sticky fixture: one balancer, two members with their parameters, ProxyPass with stickysession, ${VAR}s', () => {
    const config = readHttpdConfig(STICKY, 'fixtures/httpd/balancer-sticky.conf')
    expect(config.balancers).toEqual([{
      name: 'mycluster', line: 6, column: 1, params: {},
      members: [
        { balancer: 'mycluster', url: 'http://${NODE01_ADDR}:${NODE01_PORT}', host: '${NODE01_ADDR}', port: '${NODE01_PORT}',
          params: { route: 'node01', connectiontimeout: '1', retry: '5' }, line: 9, column: 5 },
        { balancer: 'mycluster', url: 'http://${NODE02_ADDR}:${NODE02_PORT}', host: '${NODE02_ADDR}', port: '${NODE02_PORT}',
          params: { route: 'node02', connectiontimeout: '1', retry: '5' }, line: 10, column: 5 },
      ],
    }])
    expect(config.proxyPasses).toEqual([
      { path: '/ExSession', balancer: 'mycluster', target: '/ExSession', params: { stickysession: 'JSESSIONID|jsessionid' }, line: 12, column: 1 },
    ])
    expect(config.variables.map((v) => `${v.name}@${v.line}:${v.column}`)).toEqual([
      'NODE01_ADDR@9:27', 'NODE01_PORT@9:42', 'NODE02_ADDR@10:27', 'NODE02_PORT@10:42',
    ])
  })

  test('parameters on the <Proxy> line, a route cookie the balancer sets, a ProxyPass to the root', () => {
    const config = readHttpdConfig([
      'Header add Set-Cookie "ROUTEID=.%{BALANCER_WORKER_ROUTE}e; path=/" env=BALANCER_ROUTE_CHANGED',
      '<Proxy "balancer://app/" stickysession=ROUTEID lbmethod=bytraffic>',
      '  BalancerMember http://10.0.0.1:8080 route=1',
      '</Proxy>',
      'ProxyPass / balancer://app/',
    ].join('\n'), 'app.conf')
    expect(config.balancers[0]).toMatchObject({ name: 'app', params: { stickysession: 'ROUTEID', lbmethod: 'bytraffic' } })
    expect(config.routeCookies).toEqual([{ name: 'ROUTEID', line: 1, column: 1 }])
    expect(config.proxyPasses).toMatchObject([{ path: '/', balancer: 'app', target: '/' }])
  })

  test("the post's block: literal loopback members, ports 8180/8280", () => {
    const config = readHttpdConfig(POST, 'balancer-post.conf')
    expect(config.balancers[0]!.members.map((m) => [m.host, m.port, m.params.route])).toEqual([['127.0.0.1', '8180', 'node01'], ['127.0.0.1', '8280', 'node02']])
  })

  test('other ways users write it: quoted names, continuation lines, members outside <Proxy>, ProxySet, ProxyPass inside <Location>', () => {
    const config = readHttpdConfig([
      '<Proxy "balancer://app">',
      '  BalancerMember http://10.0.0.1:8080 \\',
      '      route=node01 connectiontimeout=500ms',
      '  ProxySet lbmethod=bybusyness stickysession=JSESSIONID',
      '</Proxy>',
      'BalancerMember balancer://app http://10.0.0.2:8080 route=node02',
      '<Location /shop>',
      '  ProxyPass balancer://app/shop',
      '</Location>',
      '# ProxyPass /old balancer://gone/',
    ].join('\n'), 'app.conf')
    expect(config.balancers).toMatchObject([{
      name: 'app', params: { lbmethod: 'bybusyness', stickysession: 'JSESSIONID' },
      members: [{ host: '10.0.0.1', params: { route: 'node01', connectiontimeout: '500ms' }, line: 2 }, { host: '10.0.0.2', line: 6 }],
    }])
    expect(config.proxyPasses).toEqual([{ path: '/shop', balancer: 'app', target: '/shop', params: {}, line: 8, column: 3 }])
    expect(check([
      '<Proxy "balancer://app">',
      '  BalancerMember http://10.0.0.1:8080 route=node01 connectiontimeout=500ms retry=5',
      '  BalancerMember http://10.0.0.2:8080 route=node02 connectiontimeout=1 retry=5',
      '  ProxySet stickysession=JSESSIONID',
      '</Proxy>',
    ].join('\n'))).toEqual({ errors: [], findings: [] })
  })
})

describe('balancer configuration: errors', () => {
  test('a <Proxy> never closed, and a close tag that closes something else', () => {
    expect(() => readHttpdConfig(STICKY.replace('</Proxy>\n', ''), 'fixtures/httpd/balancer-sticky.conf')).toThrow(
      'fixtures/httpd/balancer-sticky.conf:6:1: <Proxy balancer://mycluster> is never closed: add </Proxy> at the end of the section (httpd -t refuses the file)')
    expect(() => readHttpdConfig(`${STICKY}<Location /status>\n</Proxy>\n`, 'fixtures/httpd/balancer-sticky.conf')).toThrow(
      'fixtures/httpd/balancer-sticky.conf:15:1: </Proxy> found where <Location> (opened at 14:1) must be closed first: add </Location> before it')
    expect(() => readHttpdConfig('</Proxy>\n', 'x.conf')).toThrow('x.conf:1:1: </Proxy> closes no section')
  })

  test('an unknown ${VAR} names the variables the lab defines', () => {
    expect(check(STICKY.replace('${NODE02_ADDR}', '${NODE03_ADDR}'), LAB, 'fixtures/httpd/balancer-sticky.conf').errors).toEqual([
      'fixtures/httpd/balancer-sticky.conf:10:27: ${NODE03_ADDR} is not defined: httpd would use the text as it is and the address would not work; use one of NODE01_ADDR, NODE01_PORT, NODE02_ADDR, NODE02_PORT, Define it, or write the value',
    ])
    expect(check(`Define NODE03_ADDR 10.0.0.3\n${STICKY.replace('${NODE02_ADDR}', '${NODE03_ADDR}')}`).errors).toEqual([])
  })

  test('routes that do not match the jvmRoutes of a sticky balancer', () => {
    const text = STICKY.replace('route=node01', 'route=tomcat1')
    expect(check(text, LAB, 'fixtures/httpd/balancer-sticky.conf').errors).toEqual([
      'fixtures/httpd/balancer-sticky.conf:9:5: route=tomcat1 matches no Tomcat jvmRoute (node01, node02): session ids end in .node01 or .node02, so no user sticks to this member; set route= to the node\'s jvmRoute',
    ])
  })

  test("a node's member missing from a sticky balancer", () => {
    const text = STICKY.replace(/^ {4}BalancerMember .*route=node02.*\n/m, '')
    expect(check(text, LAB, 'fixtures/httpd/balancer-sticky.conf').errors).toEqual([
      'fixtures/httpd/balancer-sticky.conf:6:1: balancer://mycluster has no BalancerMember with route=node02: users whose session id ends in .node02 are not kept on that node, and it takes no part in the balancing; add its member line',
    ])
  })

  test('two members with one route, a ProxyPass to a balancer nobody defines, a balancer without members', () => {
    expect(check(STICKY.replace('route=node02', 'route=node01')).errors).toContain(
      'balancer.conf:10:5: route=node01 is also the route of the member at line 9: a session can stick to only one; give each member its node\'s jvmRoute')
    expect(check(STICKY.replace('ProxyPass /ExSession balancer://mycluster/', 'ProxyPass /ExSession balancer://mycluster2/')).errors).toEqual([
      'balancer.conf:12:1: ProxyPass /ExSession sends to balancer://mycluster2, which no <Proxy balancer://mycluster2> defines: httpd would answer 503 for every request; fix the name or define the balancer',
    ])
    expect(check('<Proxy balancer://empty>\n</Proxy>\n').errors).toEqual([
      'balancer.conf:1:1: balancer://empty has no BalancerMember: httpd would answer 503 for every request; add one line per Tomcat node',
    ])
  })
})

describe('balancer configuration: findings', () => {
  test('the sticky and non-sticky fixtures have none', () => {
    expect(check(STICKY)).toEqual({ errors: [], findings: [] })
    expect(check(readFileSync('fixtures/httpd/balancer-nonsticky.conf', 'utf8'))).toEqual({ errors: [], findings: [] })
  })

  test("the post's block: no connectiontimeout, the default retry, members on the loopback address", () => {
    expect(check(POST, LAB, 'balancer-post.conf')).toEqual({
      errors: [],
      findings: [
        'warning balancer-post.conf:3: BalancerMember http://127.0.0.1:8180 has no connectiontimeout: when its node stops, each request waits for the TCP connect timeout (39–134 s measured) before failing over; add connectiontimeout=1 (~1 s measured)',
        'warning balancer-post.conf:3: BalancerMember http://127.0.0.1:8180 has no retry (default 60 s): after an error its node stays out of the balancer that long, even once it is back; retry=5 measured',
        'warning balancer-post.conf:3: BalancerMember http://127.0.0.1:8180 is on the loopback address: this works only when httpd and every Tomcat share one host (the single-host layout); on separate hosts each node needs its own address',
        'warning balancer-post.conf:4: BalancerMember http://127.0.0.1:8280 has no connectiontimeout: when its node stops, each request waits for the TCP connect timeout (39–134 s measured) before failing over; add connectiontimeout=1 (~1 s measured)',
        'warning balancer-post.conf:4: BalancerMember http://127.0.0.1:8280 has no retry (default 60 s): after an error its node stays out of the balancer that long, even once it is back; retry=5 measured',
        'warning balancer-post.conf:4: BalancerMember http://127.0.0.1:8280 is on the loopback address: this works only when httpd and every Tomcat share one host (the single-host layout); on separate hosts each node needs its own address',
      ],
    })
  })

  test('a long connectiontimeout, retry ≥ 60, a sticky cookie Tomcat does not set, a misspelt parameter', () => {
    const text = STICKY.replace('connectiontimeout=1 retry=5', 'connectiontimeout=30 retry=120')
      .replace('route=node02 connectiontimeout=1', 'route=node02 connectiontimout=1')
      .replace('stickysession=JSESSIONID|jsessionid', 'stickysession=SESSIONID')
    expect(check(text).findings).toEqual([
      'warning balancer.conf:12: stickysession=SESSIONID names neither Tomcat\'s session cookie JSESSIONID nor its URL parameter jsessionid: no request carries a route, so users are not kept on their node; use stickysession=JSESSIONID|jsessionid (unless the webapp renames its cookie)',
      'warning balancer.conf:9: BalancerMember http://${NODE01_ADDR}:${NODE01_PORT} has connectiontimeout=30: when its node stops, each request can wait that long before failing over; connectiontimeout=1 measured ~1 s',
      'warning balancer.conf:9: BalancerMember http://${NODE01_ADDR}:${NODE01_PORT} has retry=120: after an error its node stays out of the balancer that long, even once it is back; retry=5 measured',
      'warning balancer.conf:10: BalancerMember http://${NODE02_ADDR}:${NODE02_PORT} has no connectiontimeout: when its node stops, each request waits for the TCP connect timeout (39–134 s measured) before failing over; add connectiontimeout=1 (~1 s measured)',
      'warning balancer.conf:10: BalancerMember http://${NODE02_ADDR}:${NODE02_PORT}: unknown parameter connectiontimout= (did you mean connectiontimeout?): httpd -t rejects it',
    ])
  })

  test('a non-sticky balancer with fewer members than nodes', () => {
    const text = readFileSync('fixtures/httpd/balancer-nonsticky.conf', 'utf8').replace(/^ {4}BalancerMember .*NODE02.*\n/m, '')
    expect(check(text, LAB, 'fixtures/httpd/balancer-nonsticky.conf').findings).toEqual([
      'warning fixtures/httpd/balancer-nonsticky.conf:5: balancer://mycluster has 1 member(s) for 2 Tomcat nodes (node01, node02): a node without a member gets no traffic and cannot take over; add its member line',
    ])
  })
})
