// The bench's `--only rolling` part: a rolling restart of every node under 50 clicking users, with
// the drain through balancer-manager and without it, `trials` times each on one lab, alternating so
// that both see the same machine load. Figures only: failed requests, lost sessions, time per node.
import { type ThroughoutResult, loadThroughout } from '../../helpers/checks/load.ts'
import { type NodeRestart, rollingRestart } from '../../helpers/checks/rolling-restart.ts'
import { percentile } from '../../helpers/checks/tally.ts'
import { type Plan, preferredLayout } from '../../helpers/intake/plan.ts'
import { TomcatLab } from '../../helpers/lab/tomcat-lab.ts'

export interface RollingTrial {
  drain: boolean
  sent: number
  failed: number
  lost: number
  /** ms per node, from its first step to usable again (without the drain: back in the cluster). */
  perNodeMs: Record<string, number>
  /** Requests httpd had in flight to each node when it was taken out (drain) or stopped (without). */
  busyAtDrain: Record<string, number>
  /** The restart did not complete (a node that never rejoined …): why. */
  error?: string
}

export interface BenchRow { what: string; value: string; detail?: string }

const USERS = 50

export async function rollingBench(plan: Plan, trials: number): Promise<{ rows: BenchRow[]; trials: RollingTrial[]; layout: string }> {
  const layout = preferredLayout(plan)
  const lab = await TomcatLab.start(plan, { topology: layout })
  const results: RollingTrial[] = []
  try {
    for (let i = 0; i < trials; i++) {
      for (const drain of [true, false]) {
        await lab.restore() // nodes up, cluster formed, no member left in error by the last trial
        results.push(await trial(lab, drain))
      }
    }
  } finally {
    await lab.stop()
  }
  const rows = [true, false].map((drain) => summary(results.filter((t) => t.drain === drain), drain, layout))
  return { rows, trials: results, layout }
}

async function trial(lab: TomcatLab, drain: boolean): Promise<RollingTrial> {
  let result: ThroughoutResult<NodeRestart[]>
  try {
    result = await loadThroughout(lab, (load) => rollingRestart(lab, { drain, sessions: load.sessionIds, onStep: (node, step) => load.mark(`${node}: ${step}`) }), { users: USERS })
  } catch (error) {
    return { drain, sent: 0, failed: 0, lost: 0, perNodeMs: {}, busyAtDrain: {}, error: (error as Error).message.slice(0, 200) }
  }
  return {
    drain, sent: result.sent, failed: result.failed, lost: result.lost,
    perNodeMs: Object.fromEntries(result.work.map((r) => [r.node, r.ms])),
    busyAtDrain: Object.fromEntries(result.work.map((r) => [r.node, r.busyAtDrain])),
  }
}

function summary(trials: RollingTrial[], drain: boolean, layout: string): BenchRow {
  const done = trials.filter((t) => !t.error)
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b)
  const failed = sorted(done.map((t) => t.failed))
  const perNode = sorted(done.flatMap((t) => Object.values(t.perNodeMs)))
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
  const errors = trials.filter((t) => t.error)
  return {
    what: `rolling restart ${drain ? 'with the drain' : 'without the drain'}, ${USERS} users, ${layout} (${trials.length} trials)`,
    value: `failed ${failed[0] ?? '–'}–${failed.at(-1) ?? '–'} (p50 ${percentile(failed, 50)}), lost ${done.reduce((n, t) => n + t.lost, 0)}`,
    detail: `per node p50 ${s(percentile(perNode, 50))}, max ${s(perNode.at(-1) ?? Number.NaN)}; requests ${done.reduce((n, t) => n + t.sent, 0)}` +
      (errors.length ? `; ${errors.length} did not complete: ${errors[0]!.error}` : ''),
  }
}
