/**
 * Choosing and starting the director. `LAB_IPVS_BACKEND=auto` (the default) probes the kernel —
 * `/proc/net/ip_vs`, never by adding a rule — and picks: `host` where the kernel has IPVS and
 * ipvsadm is installed, `container` where it has IPVS but no ipvsadm, `vm` where it has none.
 * The run always says which backend it used and why; if none can work it fails, naming what it probed.
 */
import { access } from 'node:fs/promises'
import os from 'node:os'
import { execa } from 'execa'
import { controlContainer } from '../containers.ts'
import { LabError } from '../../errors.ts'
import { ensureImage } from '../images.ts'
import type { LabNetwork } from '../network.ts'
import { say, step } from '../../progress.ts'
import { ipvsBackendChoice, resourceName } from '../../settings.ts'
import { tapName } from '../cleanup.ts'
import { containerRunner, startDirectorContainer } from './container.ts'
import { type Backend, type Director, IpvsDirector } from './director.ts'
import { GuestAgent } from './guest-agent.ts'
import { localRunner, setUpHostDirector } from './host.ts'
import { ensureVmArtifacts, startDirectorVm } from './vm.ts'

/** Plain data a test worker needs to reach the director started in vitest's main process. */
export type DirectorInfo =
  | { backend: 'vm'; reason: string; qgaSocket: string }
  | { backend: 'container'; reason: string; containerId: string }
  | { backend: 'host'; reason: string }

export interface Probe { kernel: string; ipvs: boolean; ipvsadm: boolean; qemu: boolean }

export async function probe(): Promise<Probe> {
  const exists = (p: string) => access(p).then(() => true, () => false)
  const which = async (cmd: string) => (await execa('sh', ['-c', `command -v ${cmd}`], { reject: false })).exitCode === 0
  const [ipvs, ipvsadm, qemu] = await Promise.all([exists('/proc/net/ip_vs'), which('ipvsadm'), which('qemu-system-x86_64')])
  return { kernel: os.release(), ipvs, ipvsadm, qemu }
}

/** The backend to use and why, or a LabError naming everything probed. */
export function choose(found: Probe, wanted = ipvsBackendChoice()): { backend: Backend; reason: string } {
  const facts = `kernel ${found.kernel}: /proc/net/ip_vs ${found.ipvs ? 'present' : 'absent'}, ` +
    `ipvsadm ${found.ipvsadm ? 'installed' : 'not installed'}, qemu-system-x86_64 ${found.qemu ? 'installed' : 'not installed'}`
  const needs: Record<Backend, [boolean, string]> = {
    host: [found.ipvs && found.ipvsadm, 'a kernel with IPVS (modprobe ip_vs) and ipvsadm on the host'],
    container: [found.ipvs, 'a kernel with IPVS (modprobe ip_vs); ipvsadm runs in the director image'],
    vm: [found.qemu, 'qemu-system-x86_64 (apt-get install qemu-system-x86, or run the README setup)'],
  }
  if (wanted !== 'auto') {
    const [ok, need] = needs[wanted]
    if (!ok) throw new LabError(`LAB_IPVS_BACKEND=${wanted} cannot run here: it needs ${need}; probed ${facts}`)
    return { backend: wanted, reason: `LAB_IPVS_BACKEND=${wanted} (${facts})` }
  }
  const order: Backend[] = ['host', 'container', 'vm']
  const backend = order.find((b) => needs[b][0])
  if (!backend) {
    throw new LabError(`no IPVS director can run here; probed ${facts}. Tried, in order: ` +
      order.map((b) => `${b} (needs ${needs[b][1]})`).join('; '))
  }
  return { backend, reason: `auto: ${facts}` }
}

export interface StartedDirector { info: DirectorInfo; stop(): Promise<void> }

/** Starts the director for the lab network with the VIP at `.200`; the VM takes `.250`. */
export async function startDirector(network: LabNetwork, vip: string): Promise<StartedDirector> {
  const { backend, reason } = choose(await probe())
  say(`IPVS director backend: ${backend} — ${reason}`)
  if (backend === 'host') {
    const setup = await setUpHostDirector({ bridge: network.bridge, vip })
    return { info: { backend, reason }, stop: setup.stop }
  }
  if (backend === 'container') {
    await ensureImage('director')
    const director = await step('director container', () => startDirectorContainer({ network: network.name, vip }))
    return { info: { backend, reason, containerId: director.id }, stop: director.remove }
  }
  const artifacts = await ensureVmArtifacts()
  const vm = await step('director VM restore (QEMU, TCG)', () => startDirectorVm({
    name: resourceName('director'), bridge: network.bridge, tap: tapName(),
    address: network.address(250), prefixLength: network.prefixLength, gateway: network.gateway, vip, artifacts,
  }))
  return { info: { backend, reason, qgaSocket: vm.qgaSocket }, stop: vm.stop }
}

/** A Director for the one started elsewhere (in this or another process of the run). */
export async function connectDirector(info: DirectorInfo): Promise<Director> {
  if (info.backend === 'host') return new IpvsDirector('host', localRunner)
  if (info.backend === 'container') return new IpvsDirector('container', containerRunner(await controlContainer(info.containerId)))
  const agent = await GuestAgent.connect(info.qgaSocket)
  return new IpvsDirector('vm', {
    run: (argv, input) => agent.exec(argv, { input, timeoutMs: 30_000 }),
    close: () => agent.close(),
  })
}
