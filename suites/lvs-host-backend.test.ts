/**
 * The host backend's promises on a real IPVS kernel (the fakes of suites/unit/ipvs-host-safety.test.ts
 * prove the same code paths against pretend tools): with a virtual service and a NAT rule of someone
 * else's already on the host, a `host` run refuses their VIP:port, never clears the table, and leaves
 * the host as it found it after a normal stop, Ctrl-C, SIGTERM and a crash; after a SIGKILL its service
 * and NAT rule stay, and `npm run clean` removes exactly those. It runs where the lab's own director is
 * `host` (LAB_IPVS_BACKEND=host on a kernel with IPVS: the runner VM, `npm run test:runner`, or a
 * GitHub runner); elsewhere its tests are reported skipped, with that reason in their names.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, afterEach, beforeAll, describe, expect, inject, test } from 'vitest'
import { LEDGER_NAME } from '../helpers/lab/ipvs/host.ts'
import { repoRoot } from '../helpers/settings.ts'
import { until } from '../helpers/wait.ts'
import type { DriverConfig } from './support/host-director-driver.ts'

const onHost = inject('lvs').director.backend === 'host'
const DRIVER = path.join(import.meta.dirname, 'support', 'host-director-driver.ts')
// Documentation ranges (RFC 5737), on a dummy link of the test's own: never routed anywhere.
const LINK = `lb-e2e-hs${process.pid % 100_000}`
const VIP = '198.51.100.200'
const NAMES = { VIP, node1: '198.51.100.11', node2: '198.51.100.12', node3: '198.51.100.13' }
const FOREIGN = { service: '192.0.2.10:443', server: '192.0.2.11:443', nat: ['-s', '192.0.2.0/24', '-o', LINK, '-j', 'MASQUERADE'] }
const CONNTRACK = '/proc/sys/net/ipv4/vs/conntrack'

const sh = async (file: string, args: string[]) => (await execa(file, args)).stdout
/** What a run may change, as the kernel reports it. */
async function hostState() {
  return {
    services: (await sh('ipvsadm', ['-S', '-n'])).split('\n').filter(Boolean).sort(),
    nat: (await sh('iptables', ['-t', 'nat', '-S', 'POSTROUTING'])).split('\n').filter(Boolean),
    addresses: (await sh('ip', ['-o', '-4', 'addr', 'show', 'dev', LINK])).split('\n').filter(Boolean).map((l) => l.split(/\s+/).slice(1, 4).join(' ')),
    conntrack: (await readFile(CONNTRACK, 'utf8')).trim(),
  }
}

describe.skipIf(!onHost)(`host backend on a real IPVS kernel (runs where the lab's director is host: npm run test:runner)`, () => {
  let tmp: string
  let before: Awaited<ReturnType<typeof hostState>>
  const children: ChildProcess[] = []

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-host-backend-'))
    await execa('ip', ['link', 'add', LINK, 'type', 'dummy'])
    await execa('ip', ['link', 'set', LINK, 'up'])
    // Someone else's: a virtual service with a real server, and a NAT rule.
    await execa('ipvsadm', ['-A', '-t', FOREIGN.service, '-s', 'wlc', '-p', '600'])
    await execa('ipvsadm', ['-a', '-t', FOREIGN.service, '-r', FOREIGN.server, '-m', '-w', '2'])
    await execa('iptables', ['-t', 'nat', '-A', 'POSTROUTING', ...FOREIGN.nat])
    before = await hostState()
  })

  afterAll(async () => {
    for (const child of children) if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
    await execa('ipvsadm', ['-D', '-t', FOREIGN.service], { reject: false })
    await execa('ipvsadm', ['-D', '-t', `${VIP}:80`], { reject: false })
    await execa('iptables', ['-t', 'nat', '-D', 'POSTROUTING', ...FOREIGN.nat], { reject: false })
    await execa('ip', ['link', 'del', LINK], { reject: false })
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  /** The driver (suites/support/host-director-driver.ts) as its own process group, like a terminal job. */
  async function startRun(then: DriverConfig['then'], run: string) {
    const config: DriverConfig = {
      bridge: LINK, vip: VIP, conntrack: CONNTRACK, rules: path.join(repoRoot, 'fixtures/ipvs/rr.rules'), names: NAMES,
      ready: path.join(tmp, `${run}.ready.json`), then,
    }
    const env: NodeJS.ProcessEnv = { ...process.env, LB_E2E_HOST_DRIVER: 'real', LB_E2E_RUN: run, LB_E2E_OWNER_PID: '', TMPDIR: tmp, NO_COLOR: '1' }
    delete env.FAKE_IPVS_DIR
    const child = spawn(process.execPath, [DRIVER, 'main', JSON.stringify(config)], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let output = ''
    child.stdout!.on('data', (d: Buffer) => { output += d })
    child.stderr!.on('data', (d: Buffer) => { output += d })
    const exited = () => child.exitCode !== null || child.signalCode !== null
    const finished = async () => {
      await until('the driver has exited', async () => { if (!exited()) throw new Error(`still running:\n${output}`) }, { timeoutMs: 120_000, intervalMs: 200 })
      return { code: child.exitCode, signal: child.signalCode, output }
    }
    const ready = async () => until('the driver has applied its rules', async () => {
      if (exited()) throw new Error(`driver exited (${child.exitCode ?? child.signalCode}):\n${output}`)
      return JSON.parse(await readFile(config.ready, 'utf8')) as { main: number; worker: number }
    }, { timeoutMs: 180_000, intervalMs: 200 })
    return { child, ready, finished, output: () => output }
  }

  /** While a run is up: its rr service with both real servers, its NAT rule first, its VIP, conntrack on. */
  async function expectRunInPlace(main: number) {
    const now = await hostState()
    expect(now.services).toEqual([...before.services, `-A -t ${VIP}:80 -s rr`,
      `-a -t ${VIP}:80 -r ${NAMES.node1}:80 -m -w 1`, `-a -t ${VIP}:80 -r ${NAMES.node2}:80 -m -w 1`].sort())
    expect(now.nat[1]).toMatch(new RegExp(`^-A POSTROUTING -m ipvs --vaddr ${VIP} --vdir ORIGINAL --vmethod MASQ -m comment --comment lb-e2e-\\w+-${main} -j MASQUERADE$`))
    expect(now.addresses).toContain(`${LINK} inet ${VIP}/32`)
    expect(now.conntrack).toBe('1')
  }

  const ledgers = async () => (await readdir(tmp)).filter((f) => LEDGER_NAME.test(f))

  // A failed case must not leave its run for the next: its process group, then what its runs added
  // (the VIP's service, NAT rules tagged lb-e2e-hb…, the VIP), none of which is someone else's.
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
    }
    await execa('ipvsadm', ['-D', '-t', `${VIP}:80`], { reject: false })
    for (const rule of (await sh('iptables', ['-t', 'nat', '-S', 'POSTROUTING'])).split('\n')) {
      if (/--comment lb-e2e-hb\w+-\d+/.test(rule)) await execa('iptables', ['-t', 'nat', ...rule.replace(/^-A /, '-D ').split(' ')], { reject: false })
    }
    await execa('ip', ['addr', 'del', `${VIP}/32`, 'dev', LINK], { reject: false })
    for (const file of await ledgers()) await rm(path.join(tmp, file), { force: true })
  })

  // Under TCG a driver (Node, then its forked worker) takes 10-25 s to start: room beyond the default.
  const TIMEOUT = 360_000

  test('a service already on the VIP is refused, and the host is left as it was', { timeout: TIMEOUT }, async () => {
    await execa('ipvsadm', ['-A', '-t', `${VIP}:80`, '-s', 'sh'])
    try {
      const theirs = await hostState()
      const run = await startRun('stop', 'hb0001')
      const { code, output } = await run.finished()
      expect(code, output).not.toBe(0)
      expect(output).toContain(`virtual service TCP ${VIP}:80 already exists on this host at the lab's VIP`)
      expect(await hostState()).toEqual(theirs)
    } finally {
      await execa('ipvsadm', ['-D', '-t', `${VIP}:80`])
    }
  })

  test.for([
    ['a normal stop', 'stop', undefined, 0, 'hbstop'],
    ['Ctrl-C (SIGINT to the process group)', 'wait', 'SIGINT', 130, 'hbint'],
    ['SIGTERM to the main process (a CI cancel)', 'wait', 'SIGTERM', 143, 'hbterm'],
    ['an uncaught error after the rules were applied', 'throw', undefined, 1, 'hbthrow'],
  ] as const)('after %s the host is as it found it: services, NAT rules, addresses, conntrack', { timeout: TIMEOUT }, async ([, then, signal, exitCode, id]) => {
    const run = await startRun(then, id)
    if (signal) {
      const ready = await run.ready()
      await expectRunInPlace(ready.main)
      process.kill(signal === 'SIGINT' ? -run.child.pid! : run.child.pid!, signal)
    }
    const { code, output } = await run.finished()
    expect(code, output).toBe(exitCode)
    await until('the host is as it was', async () => expect(await hostState()).toEqual(before), { timeoutMs: 30_000, intervalMs: 200 })
    expect(await ledgers()).toEqual([])
  })

  test('after a SIGKILL its service and NAT rule stay, and `npm run clean` removes exactly those', { timeout: TIMEOUT }, async () => {
    const run = await startRun('wait', 'hb0kil')
    const ready = await run.ready()
    await expectRunInPlace(ready.main)
    process.kill(-run.child.pid!, 'SIGKILL')
    expect((await run.finished()).signal).toBe('SIGKILL')
    expect((await hostState()).services).toContain(`-A -t ${VIP}:80 -s rr`)
    expect(await ledgers()).toHaveLength(1)
    const clean = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/clean.ts')], {
      env: { ...process.env, TMPDIR: tmp, LB_E2E_RUN: '', NO_COLOR: '1' }, encoding: 'utf8', timeout: 120_000,
    })
    expect(clean.status, `${clean.stdout}${clean.stderr}`).toBe(0)
    const after = await hostState()
    expect(after.services).toEqual(before.services)
    expect(after.nat).toEqual(before.nat)
    expect(await ledgers()).toEqual([])
    // The VIP stays on the link until the link goes: in a lab, the link is the lab network's bridge,
    // which `npm run clean` removes with the network.
    expect(after.addresses).toContain(`${LINK} inet ${VIP}/32`)
    await execa('ip', ['addr', 'del', `${VIP}/32`, 'dev', LINK])
  })
})
