/**
 * The host backend changes nothing it did not create: it refuses to touch a virtual service that is
 * not its own, never runs `ipvsadm -C`, and removes its own services, NAT rule, VIP and conntrack
 * setting on exit, failure and Ctrl-C. This kernel has no IPVS, so the real host-backend code runs
 * against fake `ipvsadm`, `iptables`, `ip` and `docker` (fixtures/fake-ipvs/fake-tools.ts) that are
 * the only commands on PATH: nothing here can reach the real host's networking.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { setUpHostDirector } from '../../helpers/lab/ipvs/host.ts'
import { connectDirector } from '../../helpers/lab/ipvs/pick.ts'
import { parseRules, resolveRules } from '../../helpers/lab/ipvs/rules.ts'
import { compileCacheDir, fixturesDir, repoRoot } from '../../helpers/settings.ts'
import { until } from '../../helpers/wait.ts'
import type { DriverConfig } from '../support/host-director-driver.ts'
import type { FakeService, FakeState, LogEntry } from './fixtures/fake-ipvs/fake-tools.ts'

const FAKES = path.join(import.meta.dirname, 'fixtures', 'fake-ipvs')
const DRIVER = path.join(import.meta.dirname, '..', 'support', 'host-director-driver.ts')
const TOOLS = ['ipvsadm', 'iptables', 'ip', 'docker']
const BRIDGE = 'br-lbe2e-fake'
const VIP = '10.77.0.200'
const NAMES = { VIP, node1: '10.77.0.131', node2: '10.77.0.132', node3: '10.77.0.133' }
const RUN = 'c0ffee'

/** Someone else's: a service, a NAT rule, another live lab run's NAT rule, an address. */
const FOREIGN_SERVICE: FakeService = {
  protocol: 'TCP', address: '192.0.2.10', port: 443, scheduler: 'wlc', persistence: 600,
  servers: [{ address: '192.0.2.11', port: 443, forward: 'Masq', weight: 2 }],
}
const FOREIGN_NAT = [
  '-A POSTROUTING -s 192.0.2.0/24 ! -o eth0 -j MASQUERADE',
  `-A POSTROUTING -m ipvs --vaddr 198.51.100.200 -m comment --comment lb-e2e-beef00-${process.pid} -j MASQUERADE`,
]
const HOST: FakeState = {
  services: [FOREIGN_SERVICE], nat: FOREIGN_NAT, addresses: ['192.0.2.1/24 dev eth0'], links: ['lo', 'eth0', BRIDGE],
}

/**
 * The run's NAT rule as `iptables -S` prints it: only connections IPVS forwards by masquerading (-m)
 * to the VIP, so direct-routing and tunnelled traffic to it is never SNATed.
 */
const natRule = (owner: number) =>
  `-A POSTROUTING -m ipvs --vaddr ${VIP} --vdir ORIGINAL --vmethod MASQ -m comment --comment lb-e2e-${RUN}-${owner} -j MASQUERADE`

interface Sandbox { dir: string; bin: string; conntrack: string; initial: FakeState }

/** A temp dir with the fakes as the only commands in bin/, their state, and a conntrack "sysctl" at 0. */
async function sandbox(initial: FakeState): Promise<Sandbox> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-host-safety-'))
  const bin = path.join(dir, 'bin')
  await mkdir(bin)
  for (const tool of TOOLS) {
    const wrapper = path.join(bin, tool)
    await writeFile(wrapper, `#!/bin/sh\nexec '${process.execPath}' '${path.join(FAKES, 'fake-tools.ts')}' ${tool} "$@"\n`)
    await chmod(wrapper, 0o755)
  }
  await writeFile(path.join(dir, 'state.json'), JSON.stringify(initial, null, 2))
  const conntrack = path.join(dir, 'conntrack')
  await writeFile(conntrack, '0\n')
  return { dir, bin, conntrack, initial: structuredClone(initial) }
}

const state = async (sb: Sandbox) => JSON.parse(await readFile(path.join(sb.dir, 'state.json'), 'utf8')) as FakeState
const log = async (sb: Sandbox): Promise<LogEntry[]> => {
  const file = path.join(sb.dir, 'log.jsonl')
  return existsSync(file) ? (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LogEntry) : []
}
const shown = (entries: LogEntry[]) => entries.map((e) => `${e.tool} ${e.args.join(' ')} → ${e.exitCode}${e.stdin ? ` <<< ${JSON.stringify(e.stdin)}` : ''}`).join('\n')

/** What must hold of every log: no clear, no flush, nothing the fakes do not know. */
async function expectNothingForbidden(sb: Sandbox): Promise<LogEntry[]> {
  const entries = await log(sb)
  const ipvsWords = entries.filter((e) => e.tool === 'ipvsadm')
    .flatMap((e) => [e.args, ...(e.stdin ?? '').split('\n').map((l) => l.trim().split(/\s+/))])
  expect(ipvsWords.filter((w) => w.includes('-C') || w.includes('--clear')), shown(entries)).toEqual([])
  expect(entries.filter((e) => e.tool === 'iptables' && e.args.some((a) => ['-F', '--flush', '-X', '-P'].includes(a))), shown(entries)).toEqual([])
  expect(entries.filter((e) => e.unsupported), shown(entries)).toEqual([])
  return entries
}

const ruleFile = (name: string) => path.join(fixturesDir, 'ipvs', name)
const rules = async (text: string) => resolveRules(parseRules(text, 'test.rules'), NAMES, 'test.rules')
/** The run's ledgers of owned services (`lb-e2e-<run>-<owner pid>-ipvs-services`) in the sandbox's TMPDIR. */
const ledgers = async (sb: Sandbox) => (await readdir(sb.dir)).filter((name) => name.startsWith(`lb-e2e-${RUN}-`) && name.endsWith('-ipvs-services'))

describe('host backend: it refuses to touch what it did not create', () => {
  let sb: Sandbox
  const saved = { ...process.env }

  // In this process: PATH holds only the fakes (so an unfaked command fails instead of reaching the
  // host), the run id is fixed, temp files of the run go to the sandbox.
  async function inProcess(initial: FakeState): Promise<Sandbox> {
    sb = await sandbox(initial)
    Object.assign(process.env, { PATH: sb.bin, FAKE_IPVS_DIR: sb.dir, TMPDIR: sb.dir, LB_E2E_RUN: RUN, LB_E2E_OWNER_PID: String(process.pid) })
    return sb
  }
  afterEach(async () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
    await rm(sb.dir, { recursive: true, force: true })
  })

  const onVip: FakeService = { protocol: 'TCP', address: VIP, port: 80, scheduler: 'rr', servers: [{ address: '10.77.0.9', port: 8080, forward: 'Masq', weight: 1 }] }

  test('starting the director on a VIP that already has a virtual service is refused, and nothing changes', async () => {
    const sb = await inProcess({ ...HOST, services: [FOREIGN_SERVICE, onVip] })
    const exitHooks = process.listenerCount('exit')
    await expect(setUpHostDirector({ bridge: BRIDGE, vip: VIP, conntrack: sb.conntrack })).rejects.toThrow(
      `virtual service TCP ${VIP}:80 already exists on this host`)
    expect(await state(sb)).toEqual(sb.initial)
    expect((await readFile(sb.conntrack, 'utf8')).trim()).toBe('0')
    expect(process.listenerCount('exit')).toBe(exitHooks)
    const entries = await expectNothingForbidden(sb)
    expect(entries.map((e) => `${e.tool} ${e.args.join(' ')}`)).toEqual(['ipvsadm -L -n --exact'])
  })

  test('applying a rules file that adds an existing VIP:port is refused, and the service is untouched', async () => {
    const sb = await inProcess({ ...HOST, services: [FOREIGN_SERVICE, onVip] })
    const director = await connectDirector({ backend: 'host', reason: 'test' })
    const rr = await rules(await readFile(ruleFile('rr.rules'), 'utf8'))
    await expect(director.apply(rr)).rejects.toThrow(
      `virtual service -t ${VIP}:80 already exists on the host director; the lab never edits a service it did not create`)
    expect(await state(sb)).toEqual(sb.initial)
    const entries = await expectNothingForbidden(sb)
    expect(entries.filter((e) => e.args[0] !== '-L'), shown(entries)).toEqual([])
  })

  // Rules that do not add the service are not caught by the add check: the host runner refuses them.
  test.each([
    ['adding a real server', `-a -t VIP:80 -r node1:80 -m -w 1`],
    ['changing its scheduler', '-E -t VIP:80 -s wrr'],
    ['editing its real server', '-e -t VIP:80 -r 10.77.0.9:8080 -m -w 0'],
    ['removing its real server', '-d -t VIP:80 -r 10.77.0.9:8080'],
    ['deleting it', '-D -t VIP:80'],
    ['a service of ours, then one of theirs', '-A -t VIP:81 -s rr\n-e -t VIP:80 -r 10.77.0.9:8080 -m -w 0'],
  ])('a rules file %s on an existing service is refused, and nothing changes', async (_, text) => {
    const sb = await inProcess({ ...HOST, services: [FOREIGN_SERVICE, onVip] })
    const director = await connectDirector({ backend: 'host', reason: 'test' })
    await expect(director.apply(await rules(text))).rejects.toThrow(
      `ipvsadm: TCP ${VIP}:80 is not a virtual service this lab run created; the lab never touches one it did not create`)
    expect(await state(sb)).toEqual(sb.initial)
    const entries = await expectNothingForbidden(sb)
    expect(entries.filter((e) => e.args[0] !== '-L'), shown(entries)).toEqual([])
  })

  test('zeroing the counters of a service it did not create is refused', async () => {
    const sb = await inProcess(HOST)
    const director = await connectDirector({ backend: 'host', reason: 'test' })
    await expect(director.zero({ protocol: 'tcp', address: '192.0.2.10', port: 443 })).rejects.toThrow('TCP 192.0.2.10:443 is not a virtual service this lab run created')
    expect(await log(sb)).toEqual([])
  })

  test.each([[['-C']], [['--clear']], [['-R'], '-A -t 10.77.0.200:81 -s rr\n-C\n']] as const)(
    'the host runner never passes %j to ipvsadm', async (args, input?: string) => {
      const sb = await inProcess(HOST)
      const { localRunner } = await import('../../helpers/lab/ipvs/host.ts')
      await expect(localRunner.run(['ipvsadm', ...args], input)).rejects.toThrow('would clear every virtual service')
      expect(await log(sb)).toEqual([])
      expect(await state(sb)).toEqual(sb.initial)
    })

  test('its NAT rule masquerades only IPVS masquerading (-m) traffic to the VIP, and stop() removes exactly that rule', async () => {
    const sb = await inProcess(HOST)
    const director = await setUpHostDirector({ bridge: BRIDGE, vip: VIP, conntrack: sb.conntrack })
    expect((await state(sb)).nat).toEqual([natRule(process.pid), ...FOREIGN_NAT])
    await director.stop()
    expect(await state(sb)).toEqual(sb.initial)
    const entries = await expectNothingForbidden(sb)
    const spec = natRule(process.pid).replace('-A POSTROUTING ', '')
    expect(entries.filter((e) => e.tool === 'iptables').map((e) => e.args.join(' ')), shown(entries)).toEqual([
      `-t nat -I POSTROUTING 1 ${spec}`, `-t nat -D POSTROUTING ${spec}`,
    ])
  })

  test('a failure while setting up undoes what was done, and leaves no exit hook behind', async () => {
    const sb = await inProcess({ ...HOST, fail: ['iptables -t nat -I'] })
    const exitHooks = process.listenerCount('exit')
    await expect(setUpHostDirector({ bridge: BRIDGE, vip: VIP, conntrack: sb.conntrack })).rejects.toThrow(
      'host director: iptables -t nat -I POSTROUTING 1 -m ipvs')
    expect(await state(sb)).toEqual(sb.initial)
    expect((await readFile(sb.conntrack, 'utf8')).trim()).toBe('0')
    expect(process.listenerCount('exit')).toBe(exitHooks)
    const entries = await expectNothingForbidden(sb)
    expect(entries.map((e) => `${e.tool} ${e.args.slice(0, 3).join(' ')}`)).toEqual([
      'ipvsadm -L -n --exact', `ip addr add ${VIP}/32`, 'iptables -t nat -I', `ip addr del ${VIP}/32`,
    ])
  })
})

// Each case has a sandbox of its own (its fake host, TMPDIR and driver processes), so the cases run
// side by side: each spends most of its time waiting for child processes.
const alive = (pid: number) => { try { process.kill(pid, 0); return true } catch { return false } }

type Harness = ReturnType<typeof harness>

const hostRun = test.extend<{ h: Harness }>({
  h: async ({}, use) => {
    const h = harness(await sandbox(HOST))
    await use(h)
    await h.dispose()
  },
})

/** A run of the driver against its own fake host, and what to check of that host. */
function harness(sb: Sandbox) {
  let child: ChildProcess | undefined

  /** Starts the driver (its own process group, like a terminal job) and waits for its rules to be in place. */
  async function startRun(then: DriverConfig['then']) {
    const config: DriverConfig = {
      bridge: BRIDGE, vip: VIP, conntrack: sb.conntrack, rules: ruleFile('rr.rules'), names: NAMES,
      ready: path.join(sb.dir, 'ready.json'), then,
    }
    // A fresh environment: nothing of this process's (its PATH above all) reaches the driver. Only
    // Node's compile cache (helpers/settings.ts), for the driver and every fake tool it runs: the
    // file's eight runs and their fake ipvsadm/iptables calls each start Node on TypeScript.
    const env = { PATH: sb.bin, FAKE_IPVS_DIR: sb.dir, TMPDIR: sb.dir, LB_E2E_RUN: RUN, NO_COLOR: '1', NODE_COMPILE_CACHE: compileCacheDir }
    child = spawn(process.execPath, [DRIVER, 'main', JSON.stringify(config)], {
      env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout!.on('data', (d: Buffer) => { output += d })
    child.stderr!.on('data', (d: Buffer) => { output += d })
    const exited = () => child!.exitCode !== null || child!.signalCode !== null
    const ready = then === 'wait' ? await until('the driver has applied its rules', async () => {
      if (exited()) throw new Error(`driver exited (${child!.exitCode ?? child!.signalCode}):\n${output}`)
      return JSON.parse(await readFile(config.ready, 'utf8')) as { main: number; worker: number }
    }, { timeoutMs: 60_000, intervalMs: 100 }) : undefined
    const finished = async () => {
      await until('the driver has exited', async () => { if (!exited()) throw new Error(`still running:\n${output}`) },
        { timeoutMs: 60_000, intervalMs: 100 })
      return { code: child!.exitCode, signal: child!.signalCode, output }
    }
    return { ready, finished, child: child!, config }
  }

  /** The fake host after a run: exactly as before it, and the run's own ledger gone. */
  async function expectHostAsBefore() {
    expect(await state(sb)).toEqual(sb.initial)
    expect((await readFile(sb.conntrack, 'utf8')).trim()).toBe('0')
    expect(await ledgers(sb)).toEqual([])
    return expectNothingForbidden(sb)
  }

  /** While the run is up, its service, NAT rule, VIP and conntrack setting are really there. */
  async function expectRunInPlace(main: number) {
    const now = await state(sb)
    expect(now.services).toEqual([FOREIGN_SERVICE, {
      protocol: 'TCP', address: VIP, port: 80, scheduler: 'rr', servers: [
        { address: NAMES.node2, port: 80, forward: 'Masq', weight: 1 }, { address: NAMES.node1, port: 80, forward: 'Masq', weight: 1 },
      ],
    }])
    expect(now.nat).toEqual([natRule(main), ...FOREIGN_NAT])
    expect(now.addresses).toEqual([...HOST.addresses, `${VIP}/32 dev ${BRIDGE}`])
    expect((await readFile(sb.conntrack, 'utf8')).trim()).toBe('1')
  }

  const dispose = async () => {
    if (child?.pid && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
    await rm(sb.dir, { recursive: true, force: true })
  }
  return { sb, startRun, expectHostAsBefore, expectRunInPlace, dispose }
}

describe.concurrent('host backend: it removes its own rules on exit, failure and Ctrl-C', () => {
  hostRun.for([
    ['Ctrl-C (SIGINT to the whole process group, as a terminal sends it)', 'SIGINT', -1, 130],
    ['SIGTERM to the main process only (a CI cancel)', 'SIGTERM', 1, 143],
    ['SIGHUP to the main process only (the terminal closed)', 'SIGHUP', 1, 143],
  ] as const)('interrupted by %s, the run leaves the host as it found it', async ([, signal, target, exitCode], { h }) => {
    const run = await h.startRun('wait')
    await h.expectRunInPlace(run.ready!.main)
    process.kill(target * run.child.pid!, signal)
    const { code, output } = await run.finished()
    expect(code, output).toBe(exitCode)
    await until('the worker has exited', async () => { if (alive(run.ready!.worker)) throw new Error('alive') }, { timeoutMs: 30_000, intervalMs: 100 })
    const entries = await h.expectHostAsBefore()
    // Its own service was deleted by name, nothing else was.
    const deletes = entries.filter((e) => e.tool === 'ipvsadm' && (e.args[0] === '-D' || /^-D /m.test(e.stdin ?? '')))
    expect(deletes.map((e) => [...e.args, e.stdin ?? ''].join(' ').trim())).toEqual([`-D -t ${VIP}:80`])
  })

  hostRun.for([
    ['an uncaught error after the rules were applied', 'throw', 1],
    ['process.exit without any teardown', 'exit', 3],
    ['a normal teardown (stop) after the worker died without removing its service', 'stop', 0],
  ] as const)('after %s, the run leaves the host as it found it', async ([, then, exitCode], { h }) => {
    const run = await h.startRun(then)
    const { code, output } = await run.finished()
    expect(code, output).toBe(exitCode)
    const ready = JSON.parse(await readFile(run.config.ready, 'utf8')) as { main: number; worker: number }
    await until('the worker has exited', async () => { if (alive(ready.worker)) throw new Error('alive') }, { timeoutMs: 30_000, intervalMs: 100 })
    const entries = await h.expectHostAsBefore()
    // The rules really were applied before the failure: an -R with the rules file's service.
    expect(entries.some((e) => e.args[0] === '-R' && e.stdin?.startsWith(`-A -t ${VIP}:80 -s rr`))).toBe(true)
    if (then === 'throw') expect(output).toContain('driver: a failure after the rules were applied')
  })

  hostRun('after a SIGKILL (no handler runs) the service stays, and `npm run clean` removes it from the ledger, nothing else', async ({ h }) => {
    const run = await h.startRun('wait')
    await h.expectRunInPlace(run.ready!.main)
    process.kill(-run.child.pid!, 'SIGKILL')
    expect((await run.finished()).signal).toBe('SIGKILL')
    await until('the worker has exited', async () => { if (alive(run.ready!.worker)) throw new Error('alive') }, { timeoutMs: 30_000, intervalMs: 100 })
    expect((await state(h.sb)).services.map((x) => `${x.address}:${x.port}`)).toEqual([`${FOREIGN_SERVICE.address}:${FOREIGN_SERVICE.port}`, `${VIP}:80`])
    expect(await ledgers(h.sb)).toHaveLength(1)
    // `npm run clean` itself, with the sandbox's tools and temporary directory.
    const clean = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/clean.ts')], {
      env: { PATH: h.sb.bin, FAKE_IPVS_DIR: h.sb.dir, TMPDIR: h.sb.dir, NO_COLOR: '1', NODE_COMPILE_CACHE: compileCacheDir }, encoding: 'utf8', timeout: 60_000,
    })
    expect(clean.status, `${clean.stdout}${clean.stderr}`).toBe(0)
    expect(clean.stdout).toMatch(/IPVS services listed in .*lb-e2e-c0ffee-\d+-ipvs-services/)
    expect((await state(h.sb)).services).toEqual([FOREIGN_SERVICE])
    expect(await ledgers(h.sb)).toEqual([])
    await expectNothingForbidden(h.sb)
  })

  hostRun('a service someone else adds on the VIP during the run is not removed with the run\'s own', async ({ h }) => {
    const run = await h.startRun('wait')
    const now = await state(h.sb)
    const theirs: FakeService = { protocol: 'TCP', address: VIP, port: 8443, scheduler: 'sh', servers: [] }
    await writeFile(path.join(h.sb.dir, 'state.json'), JSON.stringify({ ...now, services: [...now.services, theirs] }, null, 2))
    process.kill(-run.child.pid!, 'SIGINT')
    expect((await run.finished()).code).toBe(130)
    expect((await state(h.sb)).services).toEqual([FOREIGN_SERVICE, theirs])
    await expectNothingForbidden(h.sb)
  })
})

