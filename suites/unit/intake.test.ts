// Intake (helpers/intake/): how a team's files are chosen when their content cannot tell, and how a
// line of the laid-out directory leads back to the team's own file and line.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { intake, removeIntake } from '../../helpers/intake/intake.ts'
import { displayPath } from '../../helpers/settings.ts'

const CORPUS = path.resolve('examples/corpus')
const scratch: string[] = []
afterEach(() => { for (const d of scratch.splice(0)) rmSync(d, { recursive: true, force: true }); delete process.env.LAB_FIXTURES })

function copyOf(name: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-intake-test-'))
  scratch.push(dir)
  cpSync(path.join(CORPUS, name), dir, { recursive: true })
  return dir
}

describe('intake', () => {
  test('two sticky balancers: lb-e2e.json names the one to run; the other is listed as not used', () => {
    const dir = copyOf('two-sticky-balancers')
    writeFileSync(path.join(dir, 'lb-e2e.json'), JSON.stringify({ httpd: ['sites/shop.conf'] }))
    const t = intake(dir)
    scratch.push(t.overlay)
    expect(t.mapping[0]).toMatch(/^sites\/shop\.conf: balancer:\/\/mycluster, 2 members, sticky by JSESSIONID route suffix → the lab's sticky balancer$/)
    expect(readFileSync(path.join(t.overlay, 'httpd/balancer-sticky.conf'), 'utf8')).toBe(readFileSync(path.join(dir, 'sites/shop.conf'), 'utf8'))
    expect(t.unused).toContainEqual({ file: 'sites/admin.conf', why: 'httpd configuration not chosen (lb-e2e.json / --httpd names sites/shop.conf)' })
  })

  test('three server.xml: --server-xml picks the two nodes, in order', () => {
    const t = intake(copyOf('three-server-xml'), { serverXml: ['node-c/server.xml', 'node-a/server.xml'] })
    scratch.push(t.overlay)
    expect(t.mapping.slice(0, 2).map((m) => m.replace(/:.*→/, ' →'))).toEqual(['node-c/server.xml → node01', 'node-a/server.xml → node02'])
    expect(t.unused).toContainEqual({ file: 'node-b/server.xml', why: 'a server.xml the lab does not run (its nodes run node-c/server.xml, node-a/server.xml)' })
  })

  test('a lb-e2e.json with an unknown field is refused with the fields it takes', () => {
    const dir = copyOf('two-sticky-balancers')
    writeFileSync(path.join(dir, 'lb-e2e.json'), JSON.stringify({ balancer: 'sites/shop.conf' }))
    expect(() => intake(dir)).toThrow(/lb-e2e\.json: unknown field "balancer"; the fields are httpd, serverXml, war/)
  })

  test('a line cut out of an Included file is shown as that file and line, and its member as a lab node', () => {
    const dir = copyOf('stock-httpd-include')
    const t = intake(dir)
    scratch.push(t.overlay)
    process.env.LAB_FIXTURES = t.overlay
    const laidOut = readFileSync(path.join(t.overlay, 'httpd/balancer-sticky.conf'), 'utf8').split('\n')
    const member = laidOut.findIndex((l) => l.includes('route=node01')) + 1
    expect(laidOut[member - 1]).toContain('"http://${NODE01_ADDR}:${NODE01_PORT}" route=node01')
    expect(displayPath(path.join(t.overlay, 'httpd/balancer-sticky.conf'), member)).toBe(`${displayPath(path.join(dir, 'conf/extra/httpd-load-balancer.conf'))}:3`)
    expect(laidOut.join('\n')).not.toMatch(/Listen|LoadModule|balancer-manager|tomcat-node-1/)
    removeIntake(t)
  })

  test('a misspelt directive is kept for apache2 -t to judge, not dropped as unknown', () => {
    const dir = copyOf('stock-httpd-include')
    const file = path.join(dir, 'conf/extra/httpd-load-balancer.conf')
    writeFileSync(file, readFileSync(file, 'utf8').replace('ProxyPassReverse', 'ProxyPasReverse'))
    const t = intake(dir)
    scratch.push(t.overlay)
    expect(readFileSync(path.join(t.overlay, 'httpd/balancer-sticky.conf'), 'utf8')).toContain('ProxyPasReverse "/ExSession"')
  })
})
