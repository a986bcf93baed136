import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { readHttpdConfig } from '../../helpers/validate/httpd.ts'
import { readWarText, warEntries, writeWar } from '../../helpers/lab/war.ts'
import { contextDescriptorDir, exSessionPathBeside, exSessionProxyConf, warContextPath, webappPagePath } from '../../helpers/lab/webapp.ts'

const POST = `<Proxy balancer://mycluster>
    BalancerMember http://127.0.0.1:8180  route=node01
    BalancerMember http://127.0.0.1:8280  route=node02
</Proxy>
ProxyPass /ExSession balancer://mycluster/ExSession stickysession=JSESSIONID|jsessionid
ProxyPassReverse /ExSession balancer://mycluster/ExSession stickysession=JSESSIONID|jsessionid
`
const SHOP = `<Proxy "balancer://shop">
    BalancerMember http://\${NODE01_ADDR}:\${NODE01_PORT} route=node01
    BalancerMember http://\${NODE02_ADDR}:\${NODE02_PORT} route=node02
</Proxy>
<Location /shop/>
    ProxyPass balancer://shop/shop/ stickysession=JSESSIONID "timeout=5"
</Location>
`
const config = (text: string) => readHttpdConfig(text, '/team/httpd/balancer-sticky.conf')

describe("the team's webapp beside the lab's ExSession", () => {
  test('a war takes the context path Tomcat gives webapps/<name>.war', () => {
    expect(warContextPath('/x/ExSession.war')).toBe('/ExSession')
    expect(warContextPath('/x/shop#v2.war')).toBe('/shop/v2')
    expect(warContextPath('/x/ROOT.war')).toBe('')
  })

  test("the lab's ExSession moves aside only for a war deployed at /ExSession", () => {
    expect(exSessionPathBeside(undefined)).toBe('/ExSession')
    expect(exSessionPathBeside('/x/shop.war')).toBe('/ExSession')
    expect(exSessionPathBeside('/x/ExSession.war')).toBe('/lb-e2e-ExSession')
  })

  test("the post's ExSession.war: the lab's ExSession routed as the post's file routes /ExSession, that file untouched", () => {
    expect(exSessionProxyConf(config(POST), '/lb-e2e-ExSession', '/x/ExSession.war')).toBe([
      "# The lab's ExSession at /lb-e2e-ExSession, beside the team's webapp: routed as balancer-sticky.conf:5 routes /ExSession.",
      'ProxyPass /lb-e2e-ExSession balancer://mycluster/lb-e2e-ExSession stickysession=JSESSIONID|jsessionid',
      'ProxyPassReverse /lb-e2e-ExSession balancer://mycluster/lb-e2e-ExSession',
      '',
    ].join('\n'))
  })

  test('a file that already routes the path needs nothing; one for another webapp lends its ProxyPass (in a <Location>, trailing slash, quoted parameter)', () => {
    expect(exSessionProxyConf(config(POST), '/ExSession')).toBeUndefined()
    expect(exSessionProxyConf(config(`${POST}ProxyPass / balancer://mycluster/\n`), '/lb-e2e-ExSession', '/x/ExSession.war')).toBeUndefined()
    expect(exSessionProxyConf(config(SHOP), '/ExSession', '/x/shop.war')?.split('\n').slice(1)).toEqual([
      'ProxyPass /ExSession/ balancer://shop/ExSession/ stickysession=JSESSIONID timeout=5',
      'ProxyPassReverse /ExSession/ balancer://shop/ExSession/',
      '',
    ])
    expect(exSessionProxyConf(config('<Proxy balancer://x>\n</Proxy>\n'), '/ExSession')).toBeUndefined()
  })

  test("ExSession's context descriptor goes where the server.xml's Host reads them", () => {
    const server = (engine: string, hosts: string) => `<Server><Service name="Catalina"><Engine ${engine}>${hosts}</Engine></Service></Server>`
    expect(contextDescriptorDir(server('name="Catalina" defaultHost="localhost"', '<Host name="localhost" appBase="webapps"/>'), 'server.xml'))
      .toBe('conf/Catalina/localhost')
    expect(contextDescriptorDir(server('name="Shop" defaultHost="www"', '<Host name="static"/><Host name="www"/>'), 'server.xml')).toBe('conf/Shop/www')
    expect(contextDescriptorDir(server('name="Shop" defaultHost="www"', '<Host name="www" xmlBase="/srv/contexts"/>'), 'server.xml')).toBe('/srv/contexts')
  })

  test('the probe visits LAB_WAR_PATH, else the front page of the war, else ExSession', () => {
    const saved = process.env.LAB_WAR_PATH
    try {
      delete process.env.LAB_WAR_PATH
      expect(webappPagePath('/x/shop.war', '/ExSession')).toBe('/shop/')
      expect(webappPagePath('/x/ROOT.war', '/ExSession')).toBe('/')
      expect(webappPagePath(undefined, '/ExSession')).toBe('/ExSession/')
      process.env.LAB_WAR_PATH = '/shop/login'
      expect(webappPagePath('/x/shop.war', '/ExSession')).toBe('/shop/login')
      process.env.LAB_WAR_PATH = 'shop/login'
      expect(() => webappPagePath('/x/shop.war', '/ExSession')).toThrow('LAB_WAR_PATH=shop/login: expected a path on the balancer starting with /')
    } finally {
      if (saved === undefined) delete process.env.LAB_WAR_PATH
      else process.env.LAB_WAR_PATH = saved
    }
  })
})

describe("the post's ExSession example", () => {
  // The committed war must be what its source packs to (node scripts/wars.ts makes it again).
  test('examples/blog-post/ExSession.war holds exactly the files of examples/src/blog-post-ExSession/', () => {
    const war = 'examples/blog-post/ExSession.war'
    const source = (readdirSync('examples/src/blog-post-ExSession', { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((e) => e.isFile()).map((e) => `${e.parentPath}/${e.name}`.replace('examples/src/blog-post-ExSession/', '')).sort()
    expect(warEntries(war).sort(), 'run node scripts/wars.ts after changing the source').toEqual(source)
    for (const file of source) {
      expect(readWarText(war, file), `${file}: run node scripts/wars.ts`).toBe(readFileSync(`examples/src/blog-post-ExSession/${file}`, 'utf8'))
    }
  })
})

describe('a war read and written in-process, no unzip on the host', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-war-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  test('written: entries in byte order, their text as given (a BOM kept), the same bytes for the same files', () => {
    const files = { 'index.jsp': '<%= 1 %>\n', 'WEB-INF/web.xml': '\uFEFF<web-app/>\r\n', 'WEB-INF/lib/a.jar': new Uint8Array([0, 1, 2]) }
    writeWar(path.join(dir, 'a.war'), files)
    expect(warEntries(path.join(dir, 'a.war'))).toEqual(['WEB-INF/lib/a.jar', 'WEB-INF/web.xml', 'index.jsp'])
    expect(readWarText(path.join(dir, 'a.war'), 'WEB-INF/web.xml')).toBe('\uFEFF<web-app/>\r\n')
    expect(readWarText(path.join(dir, 'a.war'), 'index.jsp')).toBe('<%= 1 %>\n')
    expect(readWarText(path.join(dir, 'a.war'), 'missing.txt')).toBeUndefined()
    writeWar(path.join(dir, 'b.war'), Object.fromEntries(Object.entries(files).reverse()))
    expect(readFileSync(path.join(dir, 'b.war')).equals(readFileSync(path.join(dir, 'a.war')))).toBe(true)
  })

  test('a file that is no zip, a truncated war and a missing one: errors naming the file and what is wrong', () => {
    const text = path.join(dir, 'text.war')
    writeFileSync(text, 'not a zip\n')
    expect(() => warEntries(text)).toThrow(`${text}: not a readable .war (zip) archive: no zip directory found (not a zip file, or a truncated one)`)
    const cut = path.join(dir, 'cut.war')
    writeFileSync(cut, readFileSync('examples/blog-post/ExSession.war').subarray(0, 1000))
    expect(() => readWarText(cut, 'WEB-INF/web.xml')).toThrow(`${cut}: not a readable .war (zip) archive: no zip directory found`)
    expect(() => warEntries(path.join(dir, 'none.war'))).toThrow(`${path.join(dir, 'none.war')}: cannot read the war: ENOENT`)
  })

  test('an entry whose compressed data is corrupt: the error names the war and the entry', () => {
    const war = path.join(dir, 'corrupt.war')
    writeWar(war, { 'WEB-INF/web.xml': `<web-app>${'<distributable/>'.repeat(50)}</web-app>` })
    const bytes = readFileSync(war)
    const data = 30 + 'WEB-INF/web.xml'.length
    bytes.fill(0xff, data, data + 4)
    writeFileSync(war, bytes)
    expect(warEntries(war)).toEqual(['WEB-INF/web.xml'])
    expect(() => readWarText(war, 'WEB-INF/web.xml')).toThrow(`${war}: not a readable .war (zip) archive: WEB-INF/web.xml: corrupt compressed data (invalid block type)`)
  })
})
