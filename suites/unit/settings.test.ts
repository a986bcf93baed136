// Who owns the lab's resources and under which run id: what `npm run clean`, `lb-e2e down` and the
// Ctrl-C sweep decide by. A resource labelled with a dead owner (pid 0) is removed while in use; a
// worker with a run id of its own is missed by the sweep.
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { afterEach, describe, expect, inject, test } from 'vitest'
import { upFile } from '../../helpers/cli/up.ts'
import { LABEL, cacheDir, labels, ownerPid, repoRoot, runId } from '../../helpers/settings.ts'

const saved = { ...process.env }
afterEach(() => {
  for (const key of ['LB_E2E_OWNER_PID', 'LB_E2E_RUN', 'LB_E2E_UP_FILE'] as const) {
    if (saved[key] === undefined) delete process.env[key]
    else process.env[key] = saved[key]
  }
})

/** labels() as a fresh process with this environment computes them. */
async function childLabels(env: Record<string, string>): Promise<{ pid: number; labels: Record<string, string> }> {
  const settings = pathToFileURL(path.join(repoRoot, 'helpers/settings.ts')).href
  const { stdout } = await execa(process.execPath, ['--input-type=module', '-e',
    `const s = await import(${JSON.stringify(settings)}); console.log(JSON.stringify({ pid: process.pid, labels: s.labels() }))`], { env })
  return JSON.parse(stdout) as { pid: number; labels: Record<string, string> }
}

describe('the owner of a run', () => {
  test('an empty LB_E2E_OWNER_PID is unset: this process owns what it labels, never pid 0', () => {
    process.env.LB_E2E_OWNER_PID = ''
    expect(ownerPid()).toBe(process.pid)
    expect(labels()[`${LABEL}.owner-pid`]).toBe(String(process.pid))
  })

  test('a child given LB_E2E_OWNER_PID= (as the gate tests once did) labels its resources with its own pid', async () => {
    const child = await childLabels({ LB_E2E_OWNER_PID: '', LB_E2E_RUN: 'abc123' })
    expect(child.labels).toEqual({ [LABEL]: 'true', [`${LABEL}.run`]: 'abc123', [`${LABEL}.owner-pid`]: String(child.pid) })
  })

  test('an owner pid that is no pid is refused, not labelled', () => {
    process.env.LB_E2E_OWNER_PID = 'abc'
    expect(() => ownerPid()).toThrow('LB_E2E_OWNER_PID=abc: expected the pid of the process that owns the run')
  })
})

describe('one run id per run', () => {
  test("a worker runs under the id vitest's main process minted before it started (vitest.config.ts)", () => {
    expect(inject('run')).toMatch(/^[0-9a-z]+$/)
    expect(runId()).toBe(inject('run'))
  })

  test('an empty LB_E2E_RUN is unset: a run id is minted, not the empty one', () => {
    process.env.LB_E2E_RUN = ''
    expect(runId()).toMatch(/^[0-9a-f]{6}$/)
  })
})

describe("the up-file (where `lb-e2e up` describes the lab for `down` and `ipvsadm`)", () => {
  test('is .cache/up.json unless LB_E2E_UP_FILE names another (the gate tests use a scratch one)', () => {
    delete process.env.LB_E2E_UP_FILE
    expect(upFile()).toBe(path.join(cacheDir, 'up.json'))
    process.env.LB_E2E_UP_FILE = '/tmp/lb-e2e-scratch/up.json'
    expect(upFile()).toBe('/tmp/lb-e2e-scratch/up.json')
  })
})
