// The limits in one place (helpers/checks/limits.ts): the project's own run is strict, a team's files
// lenient unless --strict or a --max-… is given.
import { describe, expect, test } from 'vitest'
import { OWN_LIMITS, describeLimits, gateLimit, limitsMode } from '../../helpers/checks/limits.ts'

describe('limits', () => {
  test("the project's own fixtures (no LAB_FIXTURES): strict, the limits they are known to meet", () => {
    const env = {}
    expect(limitsMode(env)).toBe('strict')
    expect(gateLimit('LAB_MAX_FAILOVER_GAP', env)).toBe(OWN_LIMITS.LAB_MAX_FAILOVER_GAP)
    expect(gateLimit('LAB_MAX_STALE_READS', env)).toBe(0)
    expect(describeLimits(env)).toBe("strict: the project's own fixtures, held to what they are known to meet; --max-failover-gap 10 s, --max-stale-reads 0, --max-rejoin-time 5 s")
  })

  test("a team's files: lenient, no limit, each finding a warning", () => {
    const env = { LAB_FIXTURES: '/team' }
    expect(limitsMode(env)).toBe('lenient')
    expect(gateLimit('LAB_MAX_FAILOVER_GAP', env)).toBeUndefined()
    expect(describeLimits(env)).toMatch(/^lenient: a team's files: measured findings are warnings/)
  })

  test("--strict holds a team's files to the project's limits; an explicit --max-… wins in either mode", () => {
    expect(gateLimit('LAB_MAX_REJOIN_TIME', { LAB_FIXTURES: '/team', LAB_STRICT: 'true' })).toBe(OWN_LIMITS.LAB_MAX_REJOIN_TIME)
    expect(gateLimit('LAB_MAX_STALE_READS', { LAB_FIXTURES: '/team', LAB_MAX_STALE_READS: '3' })).toBe(3)
    expect(gateLimit('LAB_MAX_FAILOVER_GAP', { LAB_MAX_FAILOVER_GAP: '2' })).toBe(2)
    expect(() => gateLimit('LAB_MAX_FAILOVER_GAP', { LAB_MAX_FAILOVER_GAP: 'soon' })).toThrow(/LAB_MAX_FAILOVER_GAP=soon: expected a number ≥ 0/)
  })
})
