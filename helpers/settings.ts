/** Where things are and what the lab is called: one place for names, labels and environment knobs. */
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { LabError } from './errors.ts'

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const cacheDir = path.join(repoRoot, '.cache')
export const fixturesDir = path.join(repoRoot, 'fixtures')

/** Every container, network, VM and TAP device of the lab carries this label and name prefix. */
export const LABEL = 'lb-e2e'

// Testcontainers would otherwise pull Ryuk and (because these machines have /.dockerenv) alpine
// from Docker Hub, which is unreachable here: the lab removes what it creates itself.
process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= 'localhost'

/** One id per test run, shared by vitest's main process and its workers through the environment. */
export function runId(): string {
  process.env.LB_E2E_RUN ??= randomBytes(3).toString('hex')
  return process.env.LB_E2E_RUN
}

/** The process that owns this run: `npm run clean` leaves resources of a live owner alone. */
export function ownerPid(): number {
  process.env.LB_E2E_OWNER_PID ??= String(process.pid)
  return Number(process.env.LB_E2E_OWNER_PID)
}

export function labels(): Record<string, string> {
  return { [LABEL]: 'true', [`${LABEL}.run`]: runId(), [`${LABEL}.owner-pid`]: String(ownerPid()) }
}

/** A resource name: `lb-e2e-<run>-<what>`. */
export function resourceName(what: string): string {
  return `${LABEL}-${runId()}-${what}`
}

/** The Debian base every image is built from: a registry image where one is reachable (CI). */
export function baseImage(): string {
  return process.env.LAB_BASE_IMAGE || 'lb-e2e/base:bookworm'
}

export type IpvsBackendChoice = 'auto' | 'vm' | 'host' | 'container'

export function ipvsBackendChoice(): IpvsBackendChoice {
  const value = process.env.LAB_IPVS_BACKEND || 'auto'
  if (value === 'auto' || value === 'vm' || value === 'host' || value === 'container') return value
  throw new LabError(`LAB_IPVS_BACKEND=${value}: expected one of auto, vm, host, container`)
}
