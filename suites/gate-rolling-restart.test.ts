// `npx lb-e2e rolling-restart` refuses bad input before any lab starts: one clear error, exit code
// 2, not one container left behind. (The restart itself is suites/tomcat-rolling-restart.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { execa } from 'execa'
import { afterAll, describe, expect, test } from 'vitest'
import { findLeftovers } from '../helpers/lab/cleanup.ts'
import { repoRoot } from '../helpers/settings.ts'

const CLI = path.join(repoRoot, 'bin/lb-e2e.ts')
const scratch = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-rr-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const notAZip = path.join(scratch, 'shop.war')
writeFileSync(notAZip, 'not a zip')

/** The CLI under its own run id, so what it leaves behind (nothing, we expect) can be found. */
async function rollingRestart(args: string[]): Promise<{ exitCode: number; output: string; leftovers: string[] }> {
  const run = randomBytes(3).toString('hex')
  const result = await execa(process.execPath, [CLI, 'rolling-restart', ...args], {
    cwd: repoRoot, reject: false, all: true, timeout: 120_000, env: { LB_E2E_RUN: run, LB_E2E_OWNER_PID: undefined },
  })
  const left = findLeftovers({ run })
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '', leftovers: [...left.containers, ...left.networks] }
}

// Each refusal is a child process of its own under its own run id: they run side by side.
describe('lb-e2e rolling-restart refuses bad input before any lab starts (exit 2, nothing left behind)', () => {
  test.concurrent.for([
    { what: 'no users', args: ['--users', '0'], message: '--users 0: expected a whole number from 1 to 500' },
    { what: 'users that are not a number', args: ['--users', 'many'], message: '--users many: expected a whole number from 1 to 500' },
    { what: 'a new war that does not exist', args: ['--war', '/nonexistent/shop.war'], message: '--war /nonexistent/shop.war: no such .war file' },
    { what: 'a new war that is not a zip', args: ['--war', notAZip], message: 'not a readable .war (zip) archive' },
    { what: "a new war that would take the lab's ExSession's context", args: ['--war', path.join(repoRoot, 'examples/blog-post/ExSession.war')], message: "it would deploy at /ExSession, where the lab's ExSession runs" },
    { what: 'a layout that does not exist', args: ['--layout', 'cloud'], message: '--layout cloud: expected single-host or multi-host' },
    { what: 'an argument', args: ['now'], message: 'rolling-restart takes no arguments (got now)' },
  ])('$what', async ({ args, message }, { expect }) => {
    const { exitCode, output, leftovers } = await rollingRestart(args)
    expect(output).toContain(message)
    expect(exitCode, output).toBe(2)
    expect(leftovers, output).toEqual([])
  })
})
