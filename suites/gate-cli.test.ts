// The gate as a team runs it: `npx lb-e2e verify --fixtures <dir>`. Bad input is refused before
// any lab starts — one clear error per problem naming the file (and line), exit code 2, and not
// one container left behind — and `up` hands a person a working lab that Ctrl-C removes.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { afterAll, describe, expect, test } from 'vitest'
import { findLeftovers } from '../helpers/lab/cleanup.ts'
import { fetchOnce } from '../helpers/lab/http.ts'
import { repoRoot } from '../helpers/settings.ts'
import { until } from '../helpers/wait.ts'
import { fixture, teamDirs } from './support/team-dir.ts'

const CLI = path.join(repoRoot, 'bin/lb-e2e.ts')
const scratch: string[] = []
afterAll(() => { for (const dir of scratch) rmSync(dir, { recursive: true, force: true }) })

// An up-file of these tests' own: `down` here must never stop a person's `lb-e2e up` (.cache/up.json).
const UP_FILE = path.join(mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-up-')), 'up.json')
scratch.push(path.dirname(UP_FILE))

/**
 * A child's environment: its own run id and the tests' up-file. No owner pid is passed on, so the
 * child labels what it creates with its own, live pid (never one `npm run clean` takes for dead).
 */
function childEnv(run: string): Record<string, string | undefined> {
  return { LB_E2E_RUN: run, LB_E2E_UP_FILE: UP_FILE, LB_E2E_OWNER_PID: undefined }
}

const teamDir = teamDirs()

/** The CLI under its own run id, so what it leaves behind (nothing, we expect) can be found. */
async function gate(args: string[]): Promise<{ exitCode: number; output: string; leftovers: string[] }> {
  const run = randomBytes(3).toString('hex')
  const result = await execa(process.execPath, [CLI, ...args], {
    cwd: repoRoot, reject: false, all: true, timeout: 120_000, env: childEnv(run),
  })
  const left = findLeftovers({ run })
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '', leftovers: [...left.containers, ...left.networks] }
}

describe('lb-e2e verify refuses bad input before any lab starts (exit 2, nothing left behind)', () => {
  const refused = [
    {
      what: 'a fixtures directory that does not exist',
      args: () => ['verify', '--fixtures', '/nonexistent/team-config'],
      message: '--fixtures /nonexistent/team-config: no such directory',
    },
    {
      what: 'a directory whose files the intake cannot tell apart: five server.xml, for a lab of two to four nodes',
      args: () => ['verify', '--fixtures', teamDir(Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((n) => [`${n}/server.xml`, fixture('tomcat/server.xml')])))],
      message: /5 Tomcat server\.xml files \(a\/server\.xml, b\/server\.xml, c\/server\.xml, d\/server\.xml, e\/server\.xml\), and the lab runs 2 to 4 nodes: name the server\.xml to run/,
    },
    {
      what: 'a member a deploy tool never filled in, in a file of its own name (found by content)',
      args: () => ['verify', '--fixtures', teamDir({ 'lb/cluster.conf': fixture('httpd/balancer-sticky.conf').replace('${NODE01_ADDR}:${NODE01_PORT}', 'Node-1_IP:8080') })],
      message: /lb\/cluster\.conf:9: BalancerMember http:\/\/Node-1_IP:8080: "Node-1_IP" is a placeholder a deploy tool never filled/,
    },
    {
      what: 'a server.xml that is not well-formed: file, line, column and the element left open',
      args: () => ['verify', '--fixtures', teamDir({ 'tomcat/server.xml': fixture('tomcat/server.xml').replace('</Host>', '</host>') })],
      message: /tomcat\/server\.xml:\d+:\d+: not well-formed XML: <\/host> found where <Host> \(opened at \d+:\d+\) must be closed first/,
    },
    {
      what: "balancer routes that match no Tomcat's jvmRoute",
      args: () => ['verify', '--fixtures', teamDir({ 'httpd/balancer-sticky.conf': fixture('httpd/balancer-sticky.conf').replaceAll('route=node0', 'route=tomcat') })],
      message: /httpd\/balancer-sticky\.conf:\d+:\d+: route=tomcat1 matches no Tomcat jvmRoute \(node01, node02\)/,
    },
    {
      what: 'nodes on different multicast ports',
      args: () => ['verify', '--fixtures', teamDir({ 'tomcat/node02/server.xml': fixture('tomcat/server.xml').replace('port="45564"', 'port="45565"') })],
      message: /tomcat\/node02\/server\.xml:\d+:\d+: McastService port 45565 differs from node01's 45564/,
    },
    {
      what: 'an ipvs rules file with an unknown scheduler',
      args: () => ['verify', '--only', 'lvs', '--fixtures', teamDir({ 'ipvs/rr.rules': fixture('ipvs/rr.rules').replace('-s rr', '-s fastest') })],
      message: /ipvs\/rr\.rules:\d+(:\d+)?: .*fastest/,
    },
    {
      what: 'a .war that is not a zip archive',
      args: () => ['verify', '--war', path.join(teamDir({ 'app.war': 'not a zip' }), 'app.war')],
      message: /app\.war: not a readable \.war \(zip\) archive/,
    },
    {
      what: 'a balancer file httpd rejects (apache2 -t): its own message',
      args: () => ['verify', '--only', 'balancer', '--fixtures', teamDir({ 'httpd/balancer-sticky.conf': fixture('httpd/balancer-sticky.conf').replace('ProxyPass /ExSession', 'ProxyPas /ExSession') })],
      message: /httpd\/balancer-sticky\.conf: httpd rejects this configuration \(apache2 -t\):\n.*Invalid command 'ProxyPas'/s,
    },
    {
      what: "an attribute Tomcat's configtest does not know (a misspelt one keeps the default silently)",
      args: () => ['verify', '--only', 'tomcat', '--fixtures', teamDir({ 'tomcat/server.xml': fixture('tomcat/server.xml').replace('expireSessionsOnShutdown=', 'expireSessionOnShutdown=') })],
      message: /tomcat\/server\.xml: Tomcat ignores <Manager> expireSessionOnShutdown="false" \(configtest: "failed to set property"\)/,
    },
    {
      what: 'an unknown --only area',
      args: () => ['verify', '--only', 'haproxy'],
      message: '--only haproxy: expected one of lvs, tomcat, balancer',
    },
    {
      what: 'a limit that is not a number',
      args: () => ['verify', '--max-failover-gap', 'soon'],
      message: '--max-failover-gap soon: expected a number ≥ 0',
    },
  ]

  // Each refusal is a child process of its own under its own run id: they run side by side.
  test.concurrent.for(refused)('$what', async ({ args, message }, { expect }) => {
    const { exitCode, output, leftovers } = await gate(args())
    expect(exitCode, output).toBe(2)
    if (typeof message === 'string') expect(output).toContain(message)
    else expect(output).toMatch(message)
    expect(output, 'no lab was started').not.toMatch(/Tomcat lab|LVS lab|vitest run/)
    expect(leftovers, 'containers or networks left behind').toEqual([])
  })

  test('--help documents every option', async () => {
    const { exitCode, output } = await gate(['--help'])
    expect(exitCode).toBe(0)
    const source = readFileSync(path.join(repoRoot, 'helpers/cli/main.ts'), 'utf8')
    const declared = [...source.matchAll(/^ {6}'?([a-z-]+)'?: \{ type:/gm)].map((m) => m[1]!).filter((o) => o !== 'help')
    expect(declared.length).toBeGreaterThan(8)
    for (const option of declared) expect(output, `--${option} in --help`).toContain(`--${option}`)
  })
})

/**
 * `lb-e2e up <lab>` in a child process under its own run id, until it prints what `pattern`
 * captures; `stop()` is the Ctrl-C, and `leftovers()` what the run left (nothing, we expect).
 */
async function up(lab: string, pattern: RegExp, timeoutMs: number) {
  const run = randomBytes(3).toString('hex')
  const child = execa(process.execPath, [CLI, 'up', lab], { cwd: repoRoot, reject: false, all: true, env: childEnv(run) })
  let output = ''
  child.all?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const stop = async () => {
    child.kill('SIGINT')
    return (await child).exitCode
  }
  try {
    const printed = await until(`up ${lab} to print ${pattern}`, async () => {
      const m = pattern.exec(output)
      if (!m) throw new Error(`not yet:\n${output.slice(-500)}`)
      return m[1]!
    }, { timeoutMs, intervalMs: 250 })
    return { printed, run, output: () => output, stop, leftovers: () => findLeftovers({ run }) }
  } catch (error) {
    await stop()
    throw error
  }
}

describe('lb-e2e up and down', () => {
  test('up tomcat prints a balancer URL that serves ExSession; Ctrl-C removes the lab', async () => {
    const lab = await up('tomcat', /open\s+(http:\/\/\S+\/ExSession\/)/, 120_000)
    try {
      const page = await fetchOnce(lab.printed)
      expect(page.status, page.body.slice(0, 300)).toBe(200)
      expect(page.body).toMatch(/node0[12]/)
      expect(lab.leftovers().containers.length, 'balancer and two nodes').toBe(3)
    } finally {
      expect(await lab.stop(), lab.output()).toBe(0)
    }
    const left = lab.leftovers()
    expect([...left.containers, ...left.networks], lab.output()).toEqual([])
  })

  test('up lvs prints a VIP that alternates node 1 / node 2; `ipvsadm --stats` from another process counts it; down removes the lab', async () => {
    const lab = await up('lvs', /curl -s (http:\/\/[\d.]+\/)/, 180_000)
    try {
      const pages: string[] = []
      for (let i = 0; i < 4; i++) pages.push((await fetchOnce(lab.printed)).body.trim())
      expect(new Set(pages), lab.output()).toEqual(new Set(['It works! node 1', 'It works! node 2']))
      expect([pages[2], pages[3]], `round robin alternates: ${pages.join(', ')}`).toEqual([pages[0], pages[1]])
      // The kernel folds its per-CPU counters into --stats every 2 s (the estimator): poll, bounded.
      const service = new RegExp(`TCP\\s+${new URL(lab.printed).hostname}:80\\s+4\\s`)
      await until('ipvsadm --stats counting the 4 connections', async () => {
        const stats = await gate(['ipvsadm', '--stats'])
        if (stats.exitCode !== 0 || !service.test(stats.output)) throw new Error(`exit ${stats.exitCode}:\n${stats.output}`)
      }, { timeoutMs: 15_000, intervalMs: 500 })
      const down = await gate(['down'])
      expect(down.output).toContain('stopped the lab of process')
    } finally {
      await lab.stop()
    }
    const left = lab.leftovers()
    expect([...left.containers, ...left.networks, ...left.vms.map(String), ...left.taps], lab.output()).toEqual([])
  })

  test('down with no lab up says so and removes nothing of a live run', async () => {
    const { exitCode, output } = await gate(['down'])
    expect(exitCode).toBe(0)
    expect(output).toMatch(/no lab was up|removed leftovers of earlier runs/)
  })
})
