// The IPVS director as a small QEMU (TCG) VM on the lab's Docker bridge, for kernels without IPVS.
// Artifacts (vmlinuz + initramfs) come from helpers/lab/images/director/Dockerfile, target `vm`:
// Docker's layer cache keys them by their inputs, and they are extracted once per image id.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa, type ResultPromise } from 'execa'
import { ensureImage, imageId as imageIdOf, imageTag } from '../images.ts'
import { cacheDir } from '../../settings.ts'
import { GiveUp, NotReached, until } from '../../wait.ts'
import { GuestAgent } from './guest-agent.ts'

export interface VmArtifacts {
  kernel: string
  initramfs: string
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
  /** Bound for boot to guest agent ready. Default 90 s. */
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

/** Builds the `vm` image (see helpers/lab/images.ts) and extracts its kernel and initramfs to .cache/vm/<image id>/. */
export async function ensureVmArtifacts(): Promise<VmArtifacts> {
  const imageId = await imageIdOf(await ensureImage('director-vm'))
  const dir = path.join(CACHE_DIR, imageId.replace(/^sha256:/, '').slice(0, 16))
  const artifacts = { kernel: path.join(dir, 'vmlinuz'), initramfs: path.join(dir, 'initramfs.cpio.zst') }
  if (existsSync(artifacts.kernel) && existsSync(artifacts.initramfs)) return artifacts

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
      if (!existsSync(artifacts.kernel)) throw error
    })
  } finally {
    await execa('docker', ['rm', '-f', container], { reject: false })
    await fs.rm(staging, { recursive: true, force: true })
  }
  return artifacts
}

/** Boots the director VM with a leg on `bridge` and resolves once its guest agent answers. */
export async function startDirectorVm(options: DirectorVmOptions): Promise<StartedDirectorVm> {
  const { name, tap, bridge } = options
  if (!name.startsWith('lb-e2e')) throw new Error(`startDirectorVm: name '${name}' must start with 'lb-e2e'`)
  if (!tap.startsWith('lb-e2e') || tap.length > 15) {
    throw new Error(`startDirectorVm: TAP name '${tap}' must start with 'lb-e2e' and have at most 15 characters (use tapName())`)
  }
  await fs.mkdir(RUN_DIR, { recursive: true })
  const consoleLog = path.join(RUN_DIR, `${name}.console.log`)
  let qgaSocket = path.join(RUN_DIR, `${name}.qga`)
  if (Buffer.byteLength(qgaSocket) > UNIX_SOCKET_PATH_MAX) qgaSocket = path.join(os.tmpdir(), `${name}.qga`)
  if (Buffer.byteLength(qgaSocket) > UNIX_SOCKET_PATH_MAX) throw new Error(`startDirectorVm: name '${name}' is too long for a unix socket path`)
  await fs.rm(qgaSocket, { force: true })
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
      await fs.rm(qgaSocket, { force: true })
    })())

  try {
    await execa('ip', ['link', 'set', tap, 'master', bridge, 'up'])
    const append = [
      'console=ttyS0',
      'quiet',
      'panic=-1',
      `lbe2e.ip=${options.address}/${options.prefixLength}`,
      `lbe2e.gw=${options.gateway}`,
      `lbe2e.vip=${options.vip}`,
    ].join(' ')
    // TCG: KVM hangs on these machines (LAB-NOTES); microvm hangs too, and 256 MB is too small.
    qemu = execa(
      'qemu-system-x86_64',
      [
        '-name', name,
        '-machine', 'q35', '-accel', 'tcg,tb-size=64', '-cpu', 'max', '-smp', '1', '-m', '320',
        '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot',
        '-kernel', options.artifacts.kernel, '-initrd', options.artifacts.initramfs, '-append', append,
        '-chardev', `file,id=con,path=${consoleLog}`, '-serial', 'chardev:con',
        '-chardev', `socket,id=qga,path=${qgaSocket},server=on,wait=off`,
        '-device', 'virtio-serial', '-device', 'virtserialport,chardev=qga,name=org.qemu.guest_agent.0',
        '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`,
        '-device', `virtio-net-pci,netdev=n0,mac=${macFor(name)},romfile=`,
      ],
      { reject: false, stdin: 'ignore', forceKillAfterDelay: 3_000 },
    )
    void qemu.then(() => {
      exited = true
    })
    const pid = qemu.pid
    if (pid === undefined) throw new Error(`startDirectorVm: qemu-system-x86_64 did not start: ${(await qemu).stderr}`)

    const readyTimeoutMs = options.readyTimeoutMs ?? 90_000
    await until(`director VM ${name} ready`, async () => {
      if (exited) throw new GiveUp(new Error(`QEMU exited: ${((await qemu)?.stderr ?? '').trim() || '(no stderr)'}`))
      const log = await fs.readFile(consoleLog, 'utf8')
      if (log.includes(FAILED_LINE)) throw new GiveUp(new Error(`the VM's /init reported a failure`))
      if (!log.includes(READY_LINE)) throw new Error('not ready yet')
      const agent = await GuestAgent.connect(qgaSocket, { timeoutMs: 3_000 })
      await agent.close()
    }, { timeoutMs: readyTimeoutMs, intervalMs: 200 }).catch(async (error: unknown) => {
      // NotReached: the bound passed, its cause the last check; anything else is a GiveUp's reason.
      const last = error instanceof NotReached ? error.cause : error
      const reason = last instanceof Error ? last.message : String(last)
      const what = error instanceof NotReached ? `was not ready within ${readyTimeoutMs} ms (last check: ${reason})` : `failed to boot: ${reason}`
      throw new Error(`director VM ${name} ${what}; console ${consoleLog} ends:\n${await tail(consoleLog, 30)}`)
    })
    return { name, tap, qgaSocket, pid, consoleLog, stop }
  } catch (error) {
    await stop()
    throw error
  }
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


