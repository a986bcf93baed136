/** Counts of a JUnit XML report (vitest's junit reporter), from its testcase elements. */
export interface JunitCounts { passed: number; failed: number; skipped: number }

export function summarizeJunit(xml: string): JunitCounts {
  // Each chunk runs from one <testcase to the next; what a testcase holds comes first in it.
  const cases = xml.split(/<testcase\b/).slice(1).map((chunk) => chunk.split(/<\/testsuite>/)[0]!)
  const failed = cases.filter((c) => /<(failure|error)\b/.test(c)).length
  const skipped = cases.filter((c) => !/<(failure|error)\b/.test(c) && /<skipped\b/.test(c)).length
  return { passed: cases.length - failed - skipped, failed, skipped }
}
