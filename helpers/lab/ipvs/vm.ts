// The IPVS director as a small QEMU (TCG) VM on the lab's Docker bridge, for kernels without IPVS,
// restored from a saved state rather than booted.
// Artifacts (vmlinuz + initramfs) come from helpers/lab/images/director/Dockerfile, target `vm`:
// Docker's layer cache keys them by their inputs, and they are extracted once per image id.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { ensureImage, imageId as imageIdOf, imageTag } from '../images.ts'
import { GiveUp, NotReached, until } from '../../wait.ts'
import { step } from '../../progress.ts'
import { GuestAgent } from './guest-agent.ts'
import { Qmp } from './qmp.ts'
import { alive, tapName } from '../cleanup.ts'
import { cacheDir, resourceName } from '../../settings.ts'

export interface VmArtifacts {
  kernel: string
  initramfs: string
  /** The booted, address-less VM saved by QEMU (a migration stream): what every director restores. */
  state: string
}

export interface DirectorVmOptions {
  /** QEMU's -name; must start with `lb-e2e`. Also names the console log and the guest agent socket. */
  name: string
  /** Linux bridge of the lab's Docker network (its com.docker.network.bridge.name). */
  bridge: string
  /** TAP device to create on that bridge: ≤ 15 characters, starts with `lb-e2e` (see tapName). */
  tap: string
  /** The director's own address on the bridge, e.g. 172.29.3.250. */
  address: string
  prefixLength: number
  /** Default gateway of the VM (the bridge's address, e.g. 172.29.3.1). */
  gateway: string
  /** Virtual IP the director answers for; added to the VM's eth0 as /32. */
  vip: string
  artifacts: VmArtifacts
  /** Bound for each step of the restore (loading the state, the guest agent answering). Default 90 s. */
  readyTimeoutMs?: number
}

export interface StartedDirectorVm {
  readonly name: string
  readonly tap: string
  /** Unix socket of the guest agent: GuestAgent.connect(qgaSocket). */
  readonly qgaSocket: string
  readonly pid: number
  /** File receiving the VM's serial console. */
  readonly consoleLog: string
  /** Kills QEMU (SIGTERM, SIGKILL after 3 s), waits for it, deletes the TAP and the socket. Idempotent. */
  stop(): Promise<void>
}

const CACHE_DIR = path.join(cacheDir, 'vm')
const RUN_DIR = path.join(CACHE_DIR, 'run')
const READY_LINE = 'lb-e2e director ready'
const FAILED_LINE = 'lb-e2e director FAILED'
const UNIX_SOCKET_PATH_MAX = 107

/**
 * Builds the `vm` image (see helpers/lab/images.ts), extracts its kernel and initramfs to
 * .cache/vm/<image id>/ and saves the booted, address-less VM there once (saveVmState): every
 * director is then a restore of that state, 1.6 s instead of a 17–24 s TCG boot.
 */
export async function ensureVmArtifacts(): Promise<VmArtifacts> {
  const imageId = await imageIdOf(await ensureImage('director-vm'))
  const dir = path.join(CACHE_DIR, imageId.replace(/^sha256:/, '').slice(0, 16))
  const kernel = path.join(dir, 'vmlinuz')
  const initramfs = path.join(dir, 'initramfs.cpio.zst')
  if (!existsSync(kernel) || !existsSync(initramfs)) await extract(dir, kernel)
  // A migration stream loads only into the same QEMU with the same machine: both are in the key.
  const { stdout: qemuVersion } = await execa('qemu-system-x86_64', ['--version'])
  const key = createHash('sha256').update(`${qemuVersion}\n${MACHINE.join(' ')}\n${DEVICES.join(' ')}`).digest('hex').slice(0, 12)
  const artifacts = { kernel, initramfs, state: path.join(dir, `state-${key}`) }
  if (!existsSync(artifacts.state)) await step('director VM state (boot once, address-less, and save)', () => saveVmState(artifacts))
  await pruneVmCache(dir, artifacts.state)
  return artifacts
}

/**
 * What of .cache/vm no run needs any more, as paths relative to it: the directories of earlier
 * director-vm images (a kernel, an initramfs and a 200 MB state each, left by every rebuild of the
 * image), states saved for another QEMU or machine, and the staging copies of extractions and
 * bakes whose process is gone (killed half-way; a live one is another run's, still writing).
 */
export function staleVmCache(top: string[], inCurrent: string[], keep: { dir: string; state: string }, alive: (pid: number) => boolean): string[] {
  const orphan = (name: string) => {
    const pid = /\.tmp-(\d+)-[0-9a-f]+$/.exec(name)?.[1]
    return pid !== undefined && !alive(Number(pid))
  }
  return [
    ...top.filter((name) => (/^[0-9a-f]{16}$/.test(name) && name !== keep.dir) || (/^[0-9a-f]{16}\.tmp-/.test(name) && orphan(name))),
    ...inCurrent.filter((name) => (/^state-[0-9a-f]{12}$/.test(name) && name !== keep.state) || (name.startsWith('state-') && orphan(name)))
      .map((name) => path.join(keep.dir, name)),
  ]
}

async function pruneVmCache(dir: string, state: string): Promise<void> {
  const stale = staleVmCache(await fs.readdir(CACHE_DIR), await fs.readdir(dir), { dir: path.basename(dir), state: path.basename(state) }, alive)
  for (const entry of stale) await fs.rm(path.join(CACHE_DIR, entry), { recursive: true, force: true })
}

async function extract(dir: string, kernel: string): Promise<void> {
  // Extract next to the target and rename, so a concurrent or interrupted run never sees half a copy.
  const staging = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`
  const container = `lb-e2e-vmx-${randomBytes(4).toString('hex')}`
  await fs.mkdir(staging, { recursive: true })
  try {
    // A FROM-scratch image has no command; docker create needs one, and it is never run.
    await execa('docker', ['create', '--name', container, '--label', 'lb-e2e=true', imageTag('director-vm'), '/none'])
    await execa('docker', ['cp', `${container}:/out/.`, staging])
    await fs.rename(staging, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another run won the race: its copy is the same image's.
      if (!existsSync(kernel)) throw error
    })
  } finally {
    await execa('docker', ['rm', '-f', container], { reject: false })
    await fs.rm(staging, { recursive: true, force: true })
  }
}

// TCG: KVM hangs on these machines (LAB-NOTES); microvm hangs too, and 256 MB is too small.
const MACHINE = ['-machine', 'q35', '-accel', 'tcg,tb-size=64', '-cpu', 'max', '-smp', '1', '-m', '320',
  '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot']
// virtio-net restores the MAC it was saved with, whatever -device says: one MAC for the state, and
// lb-e2e-director-net gives each director its own (macFor) after the restore.
const DEVICES = ['-device', 'virtio-serial', '-device', 'virtserialport,chardev=qga,name=org.qemu.guest_agent.0',
  '-device', `virtio-net-pci,netdev=n0,mac=${macFor('lb-e2e-director-state')},romfile=`]

interface Qemu {
  readonly pid: number
  readonly exited: () => boolean
  readonly consoleLog: string
  readonly qgaSocket: string
  readonly qmpSocket: string
  /** Kills QEMU (SIGTERM, SIGKILL after 3 s), waits for it, deletes the TAP and the sockets. Idempotent. */
  stop(): Promise<void>
  /** The console's last lines, for errors. */
  tail(): Promise<string>
  stderr(): Promise<string>
}

/** Starts QEMU on a new TAP (on `bridge`, if given); with `incoming`, loading that saved state. */
async function launch(artifacts: VmArtifacts, name: string, tap: string, bridge?: string, incoming?: string): Promise<Qemu> {
  if (!name.startsWith('lb-e2e')) throw new Error(`startDirectorVm: name '${name}' must start with 'lb-e2e'`)
  if (!tap.startsWith('lb-e2e') || tap.length > 15) {
    throw new Error(`startDirectorVm: TAP name '${tap}' must start with 'lb-e2e' and have at most 15 characters (use tapName())`)
  }
  await fs.mkdir(RUN_DIR, { recursive: true })
  const consoleLog = path.join(RUN_DIR, `${name}.console.log`)
  const socketDir = Buffer.byteLength(path.join(RUN_DIR, `${name}.qga`)) > UNIX_SOCKET_PATH_MAX ? os.tmpdir() : RUN_DIR
  const qgaSocket = path.join(socketDir, `${name}.qga`)
  const qmpSocket = path.join(socketDir, `${name}.qmp`)
  if (Buffer.byteLength(qgaSocket) > UNIX_SOCKET_PATH_MAX) throw new Error(`startDirectorVm: name '${name}' is too long for a unix socket path`)
  await Promise.all([qgaSocket, qmpSocket].map((socket) => fs.rm(socket, { force: true })))
  await fs.writeFile(consoleLog, '')

  await execa('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap'])
  let qemu: ResultPromise<{ reject: false; stdin: 'ignore'; forceKillAfterDelay: number }> | undefined
  let exited = false
  let stopping: Promise<void> | undefined
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (qemu && !exited) {
        qemu.kill('SIGTERM')
        await qemu
      }
      await execa('ip', ['link', 'del', tap], { reject: false })
      await Promise.all([qgaSocket, qmpSocket].map((socket) => fs.rm(socket, { force: true })))
    })())
  try {
    await execa('ip', ['link', 'set', tap, ...(bridge ? ['master', bridge] : []), 'up'])
    qemu = execa(
      'qemu-system-x86_64',
      [
        '-name', name, ...MACHINE,
        '-kernel', artifacts.kernel, '-initrd', artifacts.initramfs, '-append', 'console=ttyS0 quiet panic=-1',
        '-chardev', `file,id=con,path=${consoleLog}`, '-serial', 'chardev:con',
        '-chardev', `socket,id=qga,path=${qgaSocket},server=on,wait=off`,
        '-qmp', `unix:${qmpSocket},server=on,wait=off`,
        '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, ...DEVICES,
        ...(incoming ? ['-incoming', `exec:cat ${shellQuote(incoming)}`] : []),
      ],
      { reject: false, stdin: 'ignore', forceKillAfterDelay: 3_000 },
    )
    void qemu.then(() => {
      exited = true
    })
    const pid = qemu.pid
    if (pid === undefined) throw new Error(`startDirectorVm: qemu-system-x86_64 did not start: ${(await qemu).stderr}`)
    const started = qemu
    return {
      pid, consoleLog, qgaSocket, qmpSocket, stop,
      exited: () => exited,
      tail: () => tail(consoleLog, 30),
      stderr: async () => (exited ? (await started).stderr.trim() : '') || '(no stderr)',
    }
  } catch (error) {
    await stop()
    throw error
  }
}

/** Polls `probe` within the bound; a QEMU exit ends the wait at once; the error shows the console. */
async function waitFor<T>(vm: Qemu, what: string, timeoutMs: number, probe: () => Promise<T>): Promise<T> {
  return until(what, async () => {
    if (vm.exited()) throw new GiveUp(new Error(`QEMU exited: ${await vm.stderr()}`))
    return probe()
  }, { timeoutMs, intervalMs: 200 }).catch(async (error: unknown) => {
    // NotReached: the bound passed, its cause the last check; anything else is a GiveUp's reason.
    const last = error instanceof NotReached ? error.cause : error
    const reason = last instanceof Error ? last.message : String(last)
    const how = error instanceof NotReached ? `not done within ${timeoutMs} ms (last check: ${reason})` : `failed: ${reason}`
    throw new Error(`${what}: ${how}; console ${vm.consoleLog} ends:\n${await vm.tail()}`)
  })
}

/**
 * Boots the VM once, address-less, on a TAP of its own, and saves it (QMP stop, then migrate to a
 * file, renamed into place so a concurrent run never loads half a state).
 */
async function saveVmState(artifacts: VmArtifacts): Promise<void> {
  const staging = `${artifacts.state}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`
  const vm = await launch(artifacts, resourceName('director-state'), tapName())
  try {
    await waitFor(vm, 'director VM boot (to save its state)', 120_000, async () => {
      const log = await fs.readFile(vm.consoleLog, 'utf8')
      if (log.includes(FAILED_LINE)) throw new GiveUp(new Error(`the VM's /init reported a failure`))
      if (!log.includes(READY_LINE)) throw new Error('not ready yet')
      const agent = await GuestAgent.connect(vm.qgaSocket, { timeoutMs: 3_000 })
      await agent.close()
    })
    const qmp = await Qmp.connect(vm.qmpSocket)
    try {
      await qmp.execute('stop')
      await qmp.execute('migrate', { uri: `exec:cat > ${shellQuote(staging)}` })
      await waitFor(vm, 'director VM state saved', 60_000, async () => {
        const { status, 'error-desc': desc } = (await qmp.execute('query-migrate')) as { status?: string; 'error-desc'?: string }
        if (status === 'failed' || status === 'cancelled') throw new GiveUp(new Error(`migration ${status}: ${desc ?? ''}`))
        if (status !== 'completed') throw new Error(`migration ${status ?? 'not started'}`)
      })
    } finally {
      qmp.close()
    }
    await fs.rename(staging, artifacts.state)
  } finally {
    await vm.stop()
    await fs.rm(staging, { force: true })
  }
}

/** Restores the director VM with a leg on `bridge`, gives it its MAC, address and VIP, and resolves once its guest agent answers. */
export async function startDirectorVm(options: DirectorVmOptions): Promise<StartedDirectorVm> {
  const { name, tap, bridge, artifacts } = options
  const vm = await launch(artifacts, name, tap, bridge, artifacts.state)
  try {
    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000
    // The state was saved paused, so the restore waits paused until `cont`.
    await waitFor(vm, `director VM ${name} restored`, readyTimeoutMs, async () => {
      const qmp = await Qmp.connect(vm.qmpSocket, 3_000)
      try {
        const { status } = (await qmp.execute('query-status')) as { status: string }
        if (status === 'inmigrate') throw new Error('still loading the state')
        if (status !== 'paused' && status !== 'running') throw new GiveUp(new Error(`VM status ${status} after loading the state`))
        if (status === 'paused') await qmp.execute('cont')
      } finally {
        qmp.close()
      }
    })
    const agent = await waitFor(vm, `director VM ${name} guest agent`, readyTimeoutMs,
      () => GuestAgent.connect(vm.qgaSocket, { timeoutMs: 3_000 }))
    try {
      await agent.run(['/usr/local/sbin/lb-e2e-director-net', macFor(name), `${options.address}/${options.prefixLength}`, options.gateway, options.vip])
    } finally {
      await agent.close()
    }
    return { name, tap, qgaSocket: vm.qgaSocket, pid: vm.pid, consoleLog: vm.consoleLog, stop: vm.stop }
  } catch (error) {
    await vm.stop()
    throw error
  }
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}

/** A locally administered unicast MAC derived from the VM's name, so VMs on one bridge differ. */
function macFor(name: string): string {
  const h = createHash('sha256').update(name).digest()
  return ['52', '54', '00', h[0], h[1], h[2]].map((b) => (typeof b === 'number' ? b.toString(16).padStart(2, '0') : b)).join(':')
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await fs.readFile(file, 'utf8').catch(() => '(no console log)')
  return text.split('\n').slice(-lines).join('\n')
}


