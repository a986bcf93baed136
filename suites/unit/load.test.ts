// The load helper against a fake lab: every user ends with an outcome, so users who never get
// their session back, or lose it, are counted — not dropped because only successes were looked at.
import { describe, expect, test } from 'vitest'
import type { SessionPage } from '../../helpers/lab/exsession.ts'
import { loadDuringFailover } from '../../helpers/checks/load.ts'

/** Two nodes; after the victim goes down its users get errors, or (`survivorLoses`) a new session from the peer. */
function fakeLab(behaviour: 'recovers' | 'stranded' | 'survivorLoses') {
  let down = false
  let next = 0
  const node = (route: string) => ({ route, shutdown: async () => { down = true }, kill: async () => { down = true } })
  const nodes = { node01: node('node01'), node02: node('node02') }
  return {
    routes: ['node01', 'node02'],
    node: (route: string) => nodes[route as keyof typeof nodes],
    user: () => {
      const home = next++ % 2 === 0 ? 'node01' : 'node02'
      let owner: string | undefined
      const id = `S${next}`
      return {
        visit: async (set?: { name: string; value: string }): Promise<SessionPage> => {
          await new Promise((resolve) => setTimeout(resolve, 5))
          if (set) owner = set.value
          const failedOver = down && home === 'node01'
          if (failedOver && behaviour === 'stranded') throw new Error('ExSession answered 502: Bad Gateway')
          const lost = failedOver && behaviour === 'survivorLoses'
          const node = failedOver ? 'node02' : home
          return { status: 200, node, sessionId: lost ? `NEW${id}.${node}` : `${id}.${node}`, isNew: lost, creationTime: 1, lastAccessedTime: 1, requestCount: 1,
            attributes: lost || owner === undefined ? {} : { owner } }
        },
      }
    },
  } as never
}

const options = { how: 'kill', users: 4, disruptAfterMs: 50, recoverWithinMs: 300, afterRecovery: 2, requestTimeoutMs: 100 } as const

describe('load during failover, every user counted', () => {
  test('users that fail over with their session: recovered, nothing lost', async () => {
    const result = await loadDuringFailover(fakeLab('recovers'), { ...options, victim: 'node01' })
    expect(result.outcomes.every((o) => o.recoveredAfterMs !== null && !o.lost && o.failedOutside === 0)).toBe(true)
  })

  test('users whose every request fails after the kill: never recovered, failing after the node was gone', async () => {
    const result = await loadDuringFailover(fakeLab('stranded'), { ...options, victim: 'node01' })
    const onVictim = result.outcomes.filter((o) => o.node === 'node01')
    expect(onVictim.length).toBe(2)
    expect(onVictim.every((o) => o.recoveredAfterMs === null && o.failedOutside > 1)).toBe(true)
    expect(Number.isFinite(result.goneAt), "the kill returned, and when").toBe(true)
    expect(result.outcomes.filter((o) => o.node === 'node02').every((o) => o.recoveredAfterMs !== null)).toBe(true)
  })

  test('users the survivor answers with a new session: lost, and not recovered', async () => {
    const result = await loadDuringFailover(fakeLab('survivorLoses'), { ...options, victim: 'node01' })
    const onVictim = result.outcomes.filter((o) => o.node === 'node01')
    expect(onVictim.every((o) => o.lost?.startsWith('another session') && o.recoveredAfterMs === null)).toBe(true)
  })
})
