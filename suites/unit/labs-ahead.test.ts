// Labs used one after another, each started while the one before is in use (the matrix's rows):
// one start at a time, the next begun once this one is up, a failed start thrown where its lab is
// taken (not as an unhandled rejection), and labs started ahead but never taken stopped.
import { describe, expect, test } from 'vitest'
import { LabsAhead } from '../../helpers/lab/labs-ahead.ts'

function fakeLabs(failing: string[] = []) {
  const events: string[] = []
  let starting = 0
  let mostStarting = 0
  const start = async (key: string) => {
    events.push(`start ${key}`)
    mostStarting = Math.max(mostStarting, ++starting)
    await new Promise((resolve) => setTimeout(resolve, 5))
    starting--
    if (failing.includes(key)) throw new Error(`lab ${key} did not start`)
    events.push(`up ${key}`)
    return { key, stop: async () => { events.push(`stop ${key}`) } }
  }
  return { events, start, mostStarting: () => mostStarting }
}

describe('labs one ahead', () => {
  test("taking a lab begins the next one's start once it is up; one start at a time", async () => {
    const fake = fakeLabs()
    const labs = new LabsAhead(['a', 'b', 'c'], fake.start)
    const a = await labs.take('a')
    expect(fake.events).toEqual(['start a', 'up a', 'start b'])
    await a.stop()
    const b = await labs.take('b')
    expect(b.key).toBe('b')
    await labs.take('c')
    expect(fake.events).toEqual(['start a', 'up a', 'start b', 'stop a', 'up b', 'start c', 'up c'])
    expect(fake.mostStarting()).toBe(1)
  })

  test('a lab that fails to start fails where it is taken, and the one after it still starts', async () => {
    const fake = fakeLabs(['b'])
    const labs = new LabsAhead(['a', 'b', 'c'], fake.start)
    await labs.take('a')
    await expect(labs.take('b')).rejects.toThrow('lab b did not start')
    expect((await labs.take('c')).key).toBe('c')
  })

  test('a lab started ahead and never taken is stopped at the end', async () => {
    const fake = fakeLabs()
    const labs = new LabsAhead(['a', 'b'], fake.start)
    await labs.take('a')
    await labs.stopUntaken()
    expect(fake.events).toEqual(['start a', 'up a', 'start b', 'up b', 'stop b'])
  })
})
