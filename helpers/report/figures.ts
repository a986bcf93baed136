/**
 * Measured figures of a run, for the reports a reviewer reads: each test records what it saw
 * (distributions, counters, sessions before/after failover, gaps) as one JSON line in
 * reports/figures.jsonl. Recording never changes what a test asserts.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'
import { FIGURES_FILE } from '../settings.ts'

export type Figure =
  /** Which IPVS director backend ran, and why (recorded once per run). */
  | { kind: 'ipvs-backend'; backend: string; reason: string }
  /** Which limits held the run (helpers/checks/limits.ts), recorded once per run. */
  | { kind: 'limits'; mode: 'strict' | 'lenient'; description: string }
  /** The plan the run held the labs to (helpers/intake/plan.ts describePlan), recorded once per run. */
  | { kind: 'plan'; source: string; description: string; tomcat?: string }
  /** Who served a series of requests through the VIP, in order. */
  | { kind: 'distribution'; scheduler: string; source: string; served: string[]; counts: Record<string, number> }
  /** `ipvsadm -L -n --exact --stats` text, before (after zeroing) and after the traffic. */
  | { kind: 'ipvs-stats'; before: string; after: string }
  /** A session before and after its sticky node went away. */
  | { kind: 'failover'; topology: string; how: 'stop' | 'kill'; config: string; gapMs: number; failures: string[]; before: unknown; after: unknown }
  /** A free-form finding or warning worth a reviewer's eye. */
  | { kind: 'finding'; severity: 'info' | 'warning'; message: string }
  /** Anything else measured, with its unit. */
  | { kind: 'measure'; name: string; value: number; unit: string }
  /**
   * Every request of a load test across a disruption: `t` ms since the load started, who served it
   * (null: no answer), its HTTP status (null: none), latency, the user that sent it; `disruptionAt`
   * is when the node was stopped or killed, in the same ms.
   */
  /**
   * One backend's run of the LVS project in the runner VM (scripts/test-runner.ts): its JUnit counts,
   * the failed tests' first lines, and the job's exit code (null: it never finished).
   */
  | { kind: 'runner'; backend: string; kernel: string; exitCode: number | null; passed: number; failed: number; skipped: number; durationMs: number; failures: { test: string; message: string }[]; job: string }
  | { kind: 'load-timeline'; topology: string; how: 'stop' | 'kill'; events: { t: number; node: string | null; status: number | null; latencyMs: number; user: number }[]; disruptionAt: number }

// vitest loads each project's globalSetup with its own copy of this module: the guard is per process.
const RESET = Symbol.for('lb-e2e.figures.reset')

/** Starts this run's figures afresh (once per process: vitest's main process, or a script). */
export function resetFigures(): void {
  const state = globalThis as { [RESET]?: boolean }
  if (state[RESET]) return
  state[RESET] = true
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true })
  writeFileSync(FIGURES_FILE, '')
}

export function record(figure: Figure): void {
  mkdirSync(path.dirname(FIGURES_FILE), { recursive: true })
  const test = expect.getState().currentTestName ?? null
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ at: new Date().toISOString(), test, ...figure })}\n`)
}
