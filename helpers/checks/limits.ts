/**
 * The limits that turn a measured finding into a failure, in one place. The project's own
 * fixtures are its claim, so their run is held to the limits they are known to meet (strict);
 * a team's first look at its own files reports the same findings as warnings (lenient) unless
 * the gate is given --strict or a --max-… of its own.
 */
import { LabError } from '../errors.ts'

export type LimitName = 'LAB_MAX_FAILOVER_GAP' | 'LAB_MAX_STALE_READS' | 'LAB_MAX_REJOIN_TIME'

/**
 * What the default fixtures meet, with room for a loaded 2-core machine. Measured: failover gap
 * p95 7.3 s after a SIGKILL on separate hosts (the survivor's synchronous send waits ~5 s for the
 * dead peer), ~1 s after a stop; 0 stale reads (synchronous replication); a restarted node gets
 * new users again 0.04–0.36 s after it serves (retry=5).
 */
export const OWN_LIMITS: Record<LimitName, number> = { LAB_MAX_FAILOVER_GAP: 10, LAB_MAX_STALE_READS: 0, LAB_MAX_REJOIN_TIME: 5 }

const FLAGS: Record<LimitName, string> = { LAB_MAX_FAILOVER_GAP: '--max-failover-gap', LAB_MAX_STALE_READS: '--max-stale-reads', LAB_MAX_REJOIN_TIME: '--max-rejoin-time' }
const UNITS: Record<LimitName, string> = { LAB_MAX_FAILOVER_GAP: ' s', LAB_MAX_STALE_READS: '', LAB_MAX_REJOIN_TIME: ' s' }

/** strict: the project's own fixtures (no LAB_FIXTURES), or LAB_STRICT=true (the gate's --strict). */
export function limitsMode(env: NodeJS.ProcessEnv = process.env): 'strict' | 'lenient' {
  return !env.LAB_FIXTURES || env.LAB_STRICT === 'true' ? 'strict' : 'lenient'
}

/** The limit in force: one given explicitly (--max-…), else the project's own in strict mode, else none (a warning). */
export function gateLimit(name: LimitName, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env[name]
  if (raw !== undefined && raw !== '') {
    const value = Number(raw)
    if (!Number.isFinite(value) || value < 0) throw new LabError(`${name}=${raw}: expected a number ≥ 0`)
    return value
  }
  return limitsMode(env) === 'strict' ? OWN_LIMITS[name] : undefined
}

/** One line for the summary and the gate's closing lines: which mode ran, with which limits. */
export function describeLimits(env: NodeJS.ProcessEnv = process.env): string {
  const names = Object.keys(OWN_LIMITS) as LimitName[]
  const set = names.flatMap((n) => { const v = gateLimit(n, env); return v === undefined ? [] : [`${FLAGS[n]} ${v}${UNITS[n]}`] })
  const why = !env.LAB_FIXTURES ? 'the project\'s own fixtures, held to what they are known to meet'
    : env.LAB_STRICT === 'true' ? '--strict: the project\'s own limits' : 'a team\'s files: measured findings are warnings unless a limit is given (--strict, or --max-…)'
  return `${limitsMode(env)}: ${why}${set.length ? `; ${set.join(', ')}` : ''}`
}
