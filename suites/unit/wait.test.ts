// Work watched while other awaits run (bench's member drop, load's disruption): its failure must be
// held until it is awaited, never surface as an unhandled rejection in between.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { outcome, settle } from '../../helpers/wait.ts'

const unhandled: unknown[] = []
const record = (reason: unknown) => { unhandled.push(reason) }
beforeEach(() => { unhandled.length = 0; process.on('unhandledRejection', record) })
afterEach(() => { process.off('unhandledRejection', record) })

/** Lets the event loop turn, as other awaits do, so an unhandled rejection would be reported. */
const otherAwaits = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('settle', () => {
  test('a rejection while other awaits run is held, not unhandled, and thrown where it is awaited', async () => {
    const failure = new Error('the survivor kept the dead member')
    const watched = settle(new Promise((_, reject) => setTimeout(() => reject(failure), 1)))
    await otherAwaits()
    expect(unhandled).toEqual([])
    const settled = await watched
    expect(settled).toEqual({ error: failure })
    expect(() => outcome(settled)).toThrow(failure)
  })

  test('a value is kept as it resolved', async () => {
    const settled = await settle(Promise.resolve(42))
    expect(settled).toEqual({ value: 42 })
    expect(outcome(settled)).toBe(42)
  })
})
