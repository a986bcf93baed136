/**
 * Labs used in a given order, in `lanes` at once, each next one started while the ones before it
 * are in use: a Tomcat lab takes 8–11 s to start and mostly waits once up, so the start of the
 * next overlaps the tests of these. At most `lanes` labs are in use (taken, not yet released),
 * and one more is started ahead of them.
 *
 * A start that fails is that lab's failure, thrown where it is taken (its describe block's
 * beforeAll), never an unhandled rejection; labs started ahead and never taken (a bail, a
 * failure before them) are stopped by `stopUntaken()`.
 */
import { removeInTurn } from './cleanup.ts'

export interface Stoppable {
  stop(): Promise<void>
}

export class LabsAhead<Key, Lab extends Stoppable> {
  readonly #keys: readonly Key[]
  readonly #start: (key: Key) => Promise<Lab>
  readonly #lanes: number
  /** Started ahead, not taken yet. */
  readonly #pending = new Map<Key, Promise<Lab>>()
  readonly #begun = new Set<Key>()
  /** Takers waiting for a lane, first come first served. */
  readonly #queue: (() => void)[] = []
  #inUse = 0

  constructor(keys: readonly Key[], start: (key: Key) => Promise<Lab>, { lanes = 1 }: { lanes?: number } = {}) {
    this.#keys = keys
    this.#start = start
    this.#lanes = lanes
  }

  /**
   * The lab of `key`, once a lane is free and the lab started (now, if it was not ahead); then the
   * next lab's start begins. Hand it back with `release`, which frees the lane.
   */
  async take(key: Key): Promise<Lab> {
    if (this.#inUse >= this.#lanes) await new Promise<void>((resolve) => this.#queue.push(resolve))
    this.#inUse++
    const lab = this.#pending.get(key) ?? this.#begin(key)
    this.#pending.delete(key)
    try {
      return await lab
    } catch (error) {
      this.#free()
      throw error
    } finally {
      const next = this.#keys.find((k) => !this.#begun.has(k))
      if (next !== undefined && !this.#pending.size) {
        const started = this.#begin(next)
        started.catch(() => undefined) // thrown by take(next), where it belongs
        this.#pending.set(next, started)
      }
    }
  }

  /** Stops a lab `take` handed out and gives its lane to the next taker, even when the stop fails. */
  async release(lab: Lab): Promise<void> {
    try {
      await lab.stop()
    } finally {
      this.#free()
    }
  }

  /** Stops the labs started ahead that no one took; the first failure is thrown after every stop was tried. */
  async stopUntaken(): Promise<void> {
    const labs = await Promise.allSettled(this.#pending.values())
    this.#pending.clear()
    await removeInTurn(labs.flatMap((lab) => (lab.status === 'fulfilled' ? [() => lab.value.stop()] : [])))
  }

  #begin(key: Key): Promise<Lab> {
    this.#begun.add(key)
    return this.#start(key)
  }

  #free(): void {
    this.#inUse--
    this.#queue.shift()?.()
  }
}
