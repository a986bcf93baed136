// until, the project's one way to poll: "not yet" is retried within the bounds (time, and attempts
// when asked), past them NotReached says what was awaited; GiveUp ends the wait at once with its reason.
import { describe, expect, test } from 'vitest'
import { LabError } from '../../helpers/errors.ts'
import { GiveUp, NotReached, until } from '../../helpers/wait.ts'

describe('until', () => {
  test("retries a probe's \"not yet\" and returns its value", async () => {
    let calls = 0
    const value = await until('the third call', async () => {
      if (++calls < 3) throw new Error('not yet')
      return calls
    }, { intervalMs: 1 })
    expect(value).toBe(3)
  })

  test('past its time: NotReached, a LabError naming what and the last attempt, that attempt its cause', async () => {
    const last = new Error('still starting')
    const error = await until('the server', async () => { throw last }, { timeoutMs: 50, intervalMs: 10 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NotReached)
    expect(error).toBeInstanceOf(LabError)
    expect((error as NotReached).name).toBe('LabError')
    expect((error as NotReached).message).toMatch(/^the server: not reached after 0\.\d s; last attempt: still starting$/)
    expect((error as NotReached).cause).toBe(last)
  })

  test('attempts bound it by count as well, whatever the time left', async () => {
    let calls = 0
    const error = await until('the pid exiting', async () => { calls++; throw new Error('still running') },
      { timeoutMs: Infinity, intervalMs: 1, attempts: 5 }).catch((e: unknown) => e)
    expect(calls).toBe(5)
    expect(error).toBeInstanceOf(NotReached)
    expect((error as Error).message).toMatch(/^the pid exiting: not reached after \d+\.\d s and 5 attempts; last attempt: still running$/)
  })

  test('GiveUp ends the wait at once: its reason is thrown as it is, not retried, not wrapped', async () => {
    let calls = 0
    const reason = new LabError('QEMU exited: no such device')
    const error = await until('the VM booting', async () => {
      if (++calls === 2) throw new GiveUp(reason)
      throw new Error('not yet')
    }, { timeoutMs: 10_000, intervalMs: 1 }).catch((e: unknown) => e)
    expect(error).toBe(reason)
    expect(calls).toBe(2)
  })
})
