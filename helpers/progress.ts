/** Progress lines for long steps (image builds, VM boot, cluster formation), with elapsed time. */
import { asSetupError } from './errors.ts'

const tty = process.stderr.isTTY === true

/**
 * One step of setting up the lab, timed. Every step is setup, so its failure is a LabSetupError
 * (see asSetupError): the gate reports it as "could not be set up" (exit 3), not as a verdict.
 */
export async function step<T>(title: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now()
  if (tty) process.stderr.write(`▸ ${title} …\n`)
  try {
    const result = await work()
    process.stderr.write(`✓ ${title} (${seconds(started)})\n`)
    return result
  } catch (error) {
    process.stderr.write(`✗ ${title} failed after ${seconds(started)}\n`)
    throw asSetupError(title, error)
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
