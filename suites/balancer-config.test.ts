// A balancer configuration httpd rejects never reaches a container: the lab checks it first with
// `apache2 -t` and fails with httpd's own message and the file's name.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { checkBalancerConfig } from '../helpers/lab/balancer.ts'
import { findLeftovers } from '../helpers/lab/cleanup.ts'
import { fixturesDir } from '../helpers/settings.ts'

const members = { NODE01_ADDR: '127.0.0.1', NODE01_PORT: '8180', NODE02_ADDR: '127.0.0.1', NODE02_PORT: '8280' }

describe('balancer configuration check (apache2 -t)', () => {
  let dir = ''
  afterAll(async () => { if (dir) await rm(dir, { recursive: true, force: true }) })

  // The three checks side by side (a container each, mostly waiting on Docker); the rejection after them, alone, so its leftover check sees only its own.
  test.concurrent.each(['balancer-sticky.conf', 'balancer-nonsticky.conf', 'balancer-original.conf'])('fixtures/httpd/%s passes', async (file) => {
    await expect(checkBalancerConfig(path.join(fixturesDir, 'httpd', file), members)).resolves.toBeUndefined()
  })

  test('a misspelt directive is rejected with the file, the line and httpd\'s message; no container is left', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-conf-'))
    const broken = path.join(dir, 'broken.conf')
    const text = await readFile(path.join(fixturesDir, 'httpd/balancer-sticky.conf'), 'utf8')
    await writeFile(broken, text.replace('ProxyPass /ExSession', 'ProxyPas /ExSession'))
    await expect(checkBalancerConfig(broken, members)).rejects.toThrow(
      /broken\.conf: httpd rejects this configuration \(apache2 -t\):\n.*Invalid command 'ProxyPas'/s)
    expect(findLeftovers().containers.filter((name) => name.includes('configtest'))).toEqual([])
  })

  test('a member address the environment does not define is rejected', async () => {
    await expect(checkBalancerConfig(path.join(fixturesDir, 'httpd/balancer-sticky.conf'), { ...members, NODE02_ADDR: '' }))
      .rejects.toThrow(/balancer-sticky\.conf: httpd rejects this configuration/)
  })
})
