/** Small pure summaries of who served a series of requests. */

/** Counts of each value: ['node 1', 'node 2', 'node 1'] → { 'node 1': 2, 'node 2': 1 }. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1
  return counts
}

/** True when no value follows itself: strict alternation between two or more servers. */
export function alternates(values: readonly string[]): boolean {
  return values.length > 1 && values.every((v, i) => i === 0 || v !== values[i - 1])
}

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
