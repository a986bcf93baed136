/**
 * The lab's Docker network: a bridge with a known name and a /24 chosen free at run time, so the
 * director VM can join it through a TAP device and every address the lab uses is its own.
 *
 * Address plan inside the /24: .1 the host (bridge), .2–.127 containers (Docker assigns them),
 * .128–.159 containers with fixed addresses (they keep them across stop/start),
 * .160–.191 extra client source addresses, .200 the VIP, .250 the director VM.
 */
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { getContainerRuntimeClient } from 'testcontainers'
import { LabError } from '../errors.ts'
import { labels, resourceName } from '../settings.ts'

export interface LabNetwork {
  readonly name: string
  readonly id: string
  /** Linux bridge device on the host (≤ 15 characters). */
  readonly bridge: string
  /** e.g. 172.29.7.0 */
  readonly subnet: string
  readonly prefixLength: 24
  /** The host's own address on the bridge, .1. */
  readonly gateway: string
  /** Address `.n` of this network. */
  address(n: number): string
  remove(): Promise<void>
}

// 172.29.0.0/16 is a private range Docker does not use by default; /24s of it are tried in turn.
const CANDIDATES = Array.from({ length: 256 }, (_, i) => `172.29.${i}.0`)

export async function createLabNetwork(purpose: string): Promise<LabNetwork> {
  const client = await getContainerRuntimeClient()
  const name = resourceName(purpose)
  const bridge = `lb-e2e-${randomBytes(4).toString('hex')}` // Linux allows 15 characters
  const used = await usedPrefixes()
  const start = Math.floor(Math.random() * CANDIDATES.length)
  for (let i = 0; i < CANDIDATES.length; i++) {
    const subnet = CANDIDATES[(start + i) % CANDIDATES.length]!
    const prefix = subnet.split('.').slice(0, 3).join('.')
    if (used.has(prefix)) continue
    try {
      const network = await client.network.create({
        Name: name,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: { ...labels(), 'lb-e2e.bridge': bridge },
        Options: { 'com.docker.network.bridge.name': bridge },
        IPAM: { Config: [{ Subnet: `${subnet}/24`, IPRange: `${prefix}.0/25`, Gateway: `${prefix}.1` }] },
      })
      return {
        name, id: network.id, bridge, subnet, prefixLength: 24, gateway: `${prefix}.1`,
        address: (n) => `${prefix}.${n}`,
        remove: async () => { await network.remove().catch(ignoreMissing) },
      }
    } catch (error) {
      if (/overlap/i.test(String(error))) continue // another network holds this /24: try the next
      throw new LabError(`docker network create ${name} (${subnet}/24) failed: ${String(error)}`, { cause: error })
    }
  }
  throw new LabError('no free /24 left in 172.29.0.0/16 for the lab network: run `npm run clean` to remove leftovers')
}

/** /24 prefixes (a.b.c) already routed on this host, from the kernel's own table. */
async function usedPrefixes(): Promise<Set<string>> {
  const { stdout } = await execa('ip', ['-4', '-j', 'route', 'show', 'table', 'all'], { reject: false })
  const routes = JSON.parse(stdout || '[]') as { dst?: string }[]
  const used = new Set<string>()
  for (const { dst } of routes) {
    const m = /^(172\.29\.(\d+))\.\d+(?:\/(\d+))?$/.exec(dst ?? '')
    if (!m) continue
    const bits = Number(m[3] ?? 32)
    if (bits >= 24) used.add(m[1]!)
    else for (let i = 0; i < 256; i++) used.add(`172.29.${i}`) // a wider route covers them all
  }
  return used
}

export function ignoreMissing(error: unknown): void {
  if (!/no such|not found|404/i.test(String(error))) throw error
}
