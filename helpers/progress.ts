/** Progress lines for long steps (image builds, VM boot, cluster formation), with elapsed time. */
const tty = process.stderr.isTTY === true

export async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now()
  if (tty) process.stderr.write(`▸ ${title} …\n`)
  try {
    const result = await work()
    process.stderr.write(`✓ ${title} (${seconds(started)})\n`)
    return result
  } catch (error) {
    process.stderr.write(`✗ ${title} failed after ${seconds(started)}\n`)
    throw error
  }
}

/** A detail line inside a step: shown on a terminal, dropped in CI logs. */
export function detail(line: string): void {
  if (tty) process.stderr.write(`    ${line}\n`)
}

/** A line that must always be seen (which backend ran, a finding). */
export function say(line: string): void {
  process.stderr.write(`${line}\n`)
}

export function seconds(startedAt: number): string {
  return `${((performance.now() - startedAt) / 1000).toFixed(1)} s`
}
