/**
 * Readiness: poll a real signal with p-retry, bounded in time (and in attempts when asked), never a
 * fixed sleep: the project's one way to poll. And work watched while other awaits run (settle),
 * whose failure must not go unhandled meanwhile.
 */
import pRetry, { AbortError } from 'p-retry'
import { LabError } from './errors.ts'

export interface PollOptions {
  /** Give up after this long (default 60 s; Infinity when `attempts` alone bounds the poll). */
  timeoutMs?: number
  /** Delay between attempts (default 200 ms). */
  intervalMs?: number
  /** Give up after this many attempts too, whichever bound comes first (default: only the time bounds it). */
  attempts?: number
}

/**
 * Thrown by a probe for "stop now, waiting longer cannot help" (the process waited for has exited,
 * a request failed for good): `until` throws `reason` at once, as it is, neither retried nor wrapped.
 */
export class GiveUp extends Error {
  override name = 'GiveUp'
  readonly reason: Error
  constructor(reason: Error) {
    super(reason.message, { cause: reason })
    this.reason = reason
  }
}

/** `until`'s error when its bound passed: what was awaited, for how long; `cause` is the last attempt's error. */
export class NotReached extends LabError {}

/**
 * Retries `probe` until it resolves; it signals "not yet" by throwing, "never" by throwing GiveUp.
 * Returns its value; past the bound, throws NotReached.
 */
export async function until<T>(what: string, probe: () => Promise<T>, options: PollOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000
  const intervalMs = options.intervalMs ?? 200
  const started = performance.now()
  let attempts = 0
  try {
    return await pRetry(async () => {
      attempts++
      try {
        return await probe()
      } catch (error) {
        throw error instanceof GiveUp ? new AbortError(error) : error
      }
    }, {
      retries: Math.min(Math.ceil(timeoutMs / intervalMs) + 1, (options.attempts ?? Infinity) - 1),
      minTimeout: intervalMs,
      maxTimeout: intervalMs,
      factor: 1,
      randomize: false,
      maxRetryTime: timeoutMs,
    })
  } catch (error) {
    if (error instanceof GiveUp) throw error.reason
    const waited = ((performance.now() - started) / 1000).toFixed(1)
    const counted = options.attempts !== undefined && attempts >= options.attempts ? ` and ${attempts} attempts` : ''
    throw new NotReached(`${what}: not reached after ${waited} s${counted}; last attempt: ${(error as Error).message}`, { cause: error })
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
