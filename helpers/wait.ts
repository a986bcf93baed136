/**
 * Readiness: poll a real signal with p-retry, bounded in time, never a fixed sleep. And work
 * watched while other awaits run (settle), whose failure must not go unhandled meanwhile.
 */
import pRetry from 'p-retry'
import { LabError } from './errors.ts'

export interface PollOptions {
  /** Give up after this long (default 60 s). */
  timeoutMs?: number
  /** Delay between attempts (default 200 ms). */
  intervalMs?: number
}

/** Retries `probe` until it resolves; it signals "not yet" by throwing. Returns its value. */
export async function until<T>(what: string, probe: () => Promise<T>, options: PollOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const intervalMs = options.intervalMs ?? 200
  const started = performance.now()
  try {
    return await pRetry(probe, {
      retries: Math.ceil(timeoutMs / intervalMs) + 1,
      minTimeout: intervalMs,
      maxTimeout: intervalMs,
      factor: 1,
      randomize: false,
      maxRetryTime: timeoutMs,
    })
  } catch (error) {
    const waited = ((performance.now() - started) / 1000).toFixed(1)
    throw new LabError(`${what}: not reached after ${waited} s; last attempt: ${(error as Error).message}`, { cause: error })
  }
}

/** A promise's outcome as a value: what it resolved to, or why it failed. */
export type Settled<T> = { value: T } | { error: unknown }

/**
 * Handles `promise` from the moment it is started, so a rejection while other awaits run is held,
 * not unhandled (which kills the process); `await` the result where the outcome is needed, and
 * `outcome()` it to get the value or the error thrown there.
 */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then((value) => ({ value }), (error: unknown) => ({ error }))
}

/** A settled promise's value, or its error thrown (here, where it is awaited). */
export function outcome<T>(settled: Settled<T>): T {
  if ('error' in settled) throw settled.error
  return settled.value
}
