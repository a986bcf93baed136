/**
 * Labs used one after another, each started while the one before it is in use: a Tomcat lab takes
 * 10–13 s to start (its nodes one after the other) and mostly waits once up, so the start of the
 * next overlaps the tests of this one. Only one lab is ever starting, and at most two are up.
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
  readonly #pending = new Map<Key, Promise<Lab>>()

  constructor(keys: readonly Key[], start: (key: Key) => Promise<Lab>) {
    this.#keys = keys
    this.#start = start
  }

  /** The lab of `key`, once started (started now if it was not ahead); then the next one's start begins. */
  async take(key: Key): Promise<Lab> {
    const lab = this.#pending.get(key) ?? this.#start(key)
    this.#pending.delete(key)
    try {
      return await lab
    } finally {
      const next = this.#keys[this.#keys.indexOf(key) + 1]
      if (next !== undefined && !this.#pending.has(next)) {
        const started = this.#start(next)
        started.catch(() => undefined) // thrown by take(next), where it belongs
        this.#pending.set(next, started)
      }
    }
  }

  /** Stops the labs started ahead that no one took; the first failure is thrown after every stop was tried. */
  async stopUntaken(): Promise<void> {
    const labs = await Promise.allSettled(this.#pending.values())
    this.#pending.clear()
    await removeInTurn(labs.flatMap((lab) => (lab.status === 'fulfilled' ? [() => lab.value.stop()] : [])))
  }
}
