// The load that runs through an operation (a rolling restart) against a fake lab: every request
// is counted, failed ones with the step that was under way, a lost session is a lost user, and an
// operation that fails stops the users and is thrown.
import { describe, expect, test } from 'vitest'
import type { SessionPage } from '../../helpers/lab/exsession.ts'
import { loadThroughout } from '../../helpers/checks/load.ts'

/** Users on one node; while `trouble` says so, requests fail with a 502, or come back with a new session. */
function fakeLab(trouble: { now: 'none' | 'fail' | 'forget' }) {
  let next = 0
  return {
    user: () => {
      const id = `S${++next}`
      let owner: string | undefined
      return {
        visit: async (set?: { name: string; value: string }): Promise<SessionPage> => {
          // Decided as the request is sent: its answer follows a moment later.
          const now = trouble.now
          await new Promise((resolve) => setTimeout(resolve, 2))
          if (set) owner = set.value
          if (now === 'fail') throw new Error('ExSession answered 502: Bad Gateway')
          const forgot = now === 'forget'
          return { status: 200, node: 'node01', sessionId: forgot ? `NEW${id}.node01` : `${id}.node01`, isNew: forgot, creationTime: 1, lastAccessedTime: 1, requestCount: 1,
            attributes: forgot || owner === undefined ? {} : { owner } }
        },
      }
    },
  } as never
}

const until = (check: () => boolean) => new Promise<void>((resolve) => { const t = setInterval(() => { if (check()) { clearInterval(t); resolve() } }, 2) })

describe('load throughout an operation', () => {
  test('failed requests are counted among all sent, each with the phase the operation marked', async () => {
    const trouble = { now: 'none' as 'none' | 'fail' | 'forget' }
    const result = await loadThroughout(fakeLab(trouble), async (load) => {
      load.mark('node01: stop')
      trouble.now = 'fail'
      await until(() => load.elapsed() > 30)
      trouble.now = 'none'
      load.mark('node01: usable')
      await until(() => load.elapsed() > 60)
      return 'done'
    }, { users: 3, afterWork: 2 })
    expect(result.work).toBe('done')
    expect(result.failed).toBeGreaterThan(0)
    expect(result.failed).toBe(result.events.filter((e) => e.error).length)
    expect(result.sent).toBe(result.events.length)
    expect(result.sent).toBeGreaterThan(result.failed)
    expect(new Set(result.events.filter((e) => e.error).map((e) => e.phase))).toEqual(new Set(['node01: stop']))
    expect(result.lost).toBe(0)
    expect(result.truncated).toBe(false)
    // Every user clicked on after the operation ended.
    expect(result.outcomes.every((o) => result.events.some((e) => e.user === o.user && e.phase === 'after'))).toBe(true)
  })

  test('a user answered with a new session is lost, with where and when', async () => {
    const trouble = { now: 'none' as 'none' | 'fail' | 'forget' }
    const result = await loadThroughout(fakeLab(trouble), async (load) => {
      load.mark('node01: rejoin')
      trouble.now = 'forget'
      await until(() => load.elapsed() > 20)
    }, { users: 2 })
    expect(result.lost).toBe(2)
    expect(result.outcomes.every((o) => o.lost?.startsWith('another session') && o.lost.includes('node01: rejoin'))).toBe(true)
  })

  test('the users see the sessions as last served, and an operation that fails is thrown once they stopped', async () => {
    let seen: string[] = []
    await expect(loadThroughout(fakeLab({ now: 'none' }), async (load) => {
      seen = load.sessionIds()
      throw new Error('node01 never rejoined')
    }, { users: 2 })).rejects.toThrow('node01 never rejoined')
    expect(seen).toEqual(['S1.node01', 'S2.node01'])
  })

  test('the request cap ends the load early, and says so', async () => {
    const result = await loadThroughout(fakeLab({ now: 'none' }), async (load) => { await until(() => load.elapsed() > 200) }, { users: 2, maxRequests: 10 })
    expect(result.sent).toBe(10)
    expect(result.truncated).toBe(true)
  })
})
