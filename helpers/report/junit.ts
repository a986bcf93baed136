/** Counts of a JUnit XML report (vitest's junit reporter), read with the reports' own parser. */
import { resultsFromJunit } from './model.ts'

export interface JunitCounts { passed: number; failed: number; skipped: number }

/** Unhandled errors (vitest's own testcases for them) count as failures: the run did not pass. */
export function summarizeJunit(xml: string): JunitCounts {
  const { tests, errors } = resultsFromJunit(xml)
  const count = (state: string) => tests.filter((t) => t.state === state).length
  return { passed: count('passed'), failed: count('failed') + errors.length, skipped: count('skipped') }
}
