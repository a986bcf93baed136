import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { formatFinding } from '../../helpers/validate/findings.ts'
import { checkWebXml, readWebXml } from '../../helpers/validate/webxml.ts'

const EXSESSION = readFileSync('webapp/WEB-INF/web.xml', 'utf8')
const findings = (text: string, file = 'WEB-INF/web.xml') => checkWebXml(readWebXml(text, file)).findings.map(formatFinding)

describe('web.xml', () => {
  test("ExSession's web.xml is distributable: nothing to report", () => {
    expect(readWebXml(EXSESSION, 'webapp/WEB-INF/web.xml')).toEqual({ file: 'webapp/WEB-INF/web.xml', line: 3, column: 1, distributable: { line: 8, column: 3 } })
    expect(findings(EXSESSION)).toEqual([])
  })

  test('without <distributable/>: refused, replication cannot work; the consequence, at <web-app>', () => {
    const web = EXSESSION.replace('  <distributable/>\n', '')
    expect(findings(web, 'webapp/WEB-INF/web.xml')).toEqual([])
    expect(checkWebXml(readWebXml(web, 'webapp/WEB-INF/web.xml')).errors.map((e) => e.message)).toEqual([
      'webapp/WEB-INF/web.xml:3:1: no <distributable/> in <web-app>: Tomcat does not replicate this webapp\'s sessions (it gets a StandardManager, not the cluster\'s DeltaManager), so a failover loses them; add <distributable/> under <web-app>',
    ])
  })

  test('a Servlet 2.3 descriptor with its DOCTYPE, and a namespace prefix, are read too', () => {
    const old = '<?xml version="1.0"?>\n<!DOCTYPE web-app PUBLIC "-//Sun Microsystems, Inc.//DTD Web Application 2.3//EN" "http://java.sun.com/dtd/web-app_2_3.dtd">\n<web-app>\n  <distributable/>\n</web-app>\n'
    expect(findings(old)).toEqual([])
    expect(findings('<j:web-app xmlns:j="http://xmlns.jcp.org/xml/ns/javaee"><j:distributable/></j:web-app>')).toEqual([])
  })

  test('not well-formed: line and column', () => {
    expect(() => readWebXml(EXSESSION.replace('</servlet-mapping>', '</servlet-maping>'), 'webapp/WEB-INF/web.xml')).toThrow(
      'webapp/WEB-INF/web.xml:20:19: not well-formed XML: </servlet-maping> found where <servlet-mapping> (opened at 16:3) must be closed first. Fix the markup there: Tomcat cannot read this file')
  })

  test('a file that is not a web.xml', () => {
    expect(() => readWebXml('<Server/>', 'WEB-INF/web.xml')).toThrow(
      'WEB-INF/web.xml:1:1: the root element is <Server>, not <web-app>: Tomcat cannot deploy the webapp with this WEB-INF/web.xml')
  })
})
