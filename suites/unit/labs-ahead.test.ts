// Labs used in order, in lanes, each next one started while the ones before are in use (the
// matrix's rows): the next begun once a taken one is up, never more in use than lanes, a failed
// start thrown where its lab is taken (not as an unhandled rejection) and its lane freed, and labs
// started ahead but never taken stopped.
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
    await labs.release(a)
    const b = await labs.take('b')
    expect(b.key).toBe('b')
    await labs.release(b)
    await labs.take('c')
    expect(fake.events).toEqual(['start a', 'up a', 'start b', 'stop a', 'up b', 'start c', 'stop b', 'up c'])
    expect(fake.mostStarting()).toBe(1)
  })

  test('in two lanes: two labs in use at most, a third taker waits for a release, and one more is started ahead', async () => {
    const fake = fakeLabs()
    const labs = new LabsAhead(['a', 'b', 'c', 'd'], fake.start, { lanes: 2 })
    const [a, b] = await Promise.all([labs.take('a'), labs.take('b')])
    let cTaken = false
    const c = labs.take('c').then((lab) => { cTaken = true; return lab })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(cTaken, 'c is taken only once a lane is free').toBe(false)
    expect(fake.events.filter((e) => e.startsWith('start'))).toEqual(['start a', 'start b', 'start c'])
    await labs.release(a)
    expect((await c).key).toBe('c')
    expect(fake.events.slice(-2)).toEqual(['stop a', 'start d'])
    await labs.release(b)
    await labs.stopUntaken()
    expect(fake.events.slice(-2)).toEqual(['up d', 'stop d'])
  })

  test('a lab that fails to start fails where it is taken, and the one after it still starts', async () => {
    const fake = fakeLabs(['b'])
    const labs = new LabsAhead(['a', 'b', 'c'], fake.start)
    await labs.release(await labs.take('a'))
    await expect(labs.take('b')).rejects.toThrow('lab b did not start')
    // b's lane was freed by its failure: with one lane, c would wait forever otherwise.
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
