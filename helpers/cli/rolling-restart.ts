/**
 * `lb-e2e rolling-restart`: the Tomcat lab of the configuration under test, users clicking
 * throughout, and every node restarted in turn through balancer-manager (helpers/checks/
 * rolling-restart.ts), as an operator would run it by hand. Prints each node's steps as they happen
 * and the tally; 0 when no request failed and no session was lost, 1 otherwise. Everything it
 * started is removed at the end, on Ctrl-C too (the run's sweep).
 */
import path from 'node:path'
import { removeRunOnExit } from '../lab/cleanup.ts'
import { LabError } from '../errors.ts'
import { loadThroughout } from '../checks/load.ts'
import { type Topology, readPlan, runnableLayouts } from '../intake/plan.ts'
import { say } from '../progress.ts'
import { describeRollingRestart, rollingRestart } from '../checks/rolling-restart.ts'
import { runId } from '../settings.ts'
import { TomcatLab, planTomcatLab } from '../lab/tomcat-lab.ts'

export interface RollingRestartCommand {
  users: number
  /** The new version of the webapp, deployed on each node as it restarts. */
  war?: string
  layout?: Topology
  /** false: the same restart without the drain (to see what it prevents). */
  drain: boolean
}

/**
 * Why the new war cannot be rolled out in this lab, before anything starts: deployed at its own
 * name when the lab has no war, it must not take a context the lab's ExSession holds.
 */
export function newWarProblem(war: string, layout?: Topology): string | undefined {
  const plan = readPlan()
  if (plan.war) return undefined // it replaces the lab's war, at its name
  const context = `/${path.basename(war, '.war')}`
  const lab = planTomcatLab(plan, { topology: layout ?? runnableLayouts(plan)[0] ?? 'single-host' })
  return lab.exSessionContexts.includes(context)
    ? `--war ${war}: it would deploy at ${context}, where the lab's ExSession runs; name it otherwise, or put your current war in --fixtures so this one replaces it`
    : undefined
}

export async function rollingRestartCommand(options: RollingRestartCommand): Promise<0 | 1> {
  removeRunOnExit()
  const plan = readPlan()
  const topology = options.layout ?? runnableLayouts(plan)[0]!
  const skip = plan.layouts.find((l) => l.topology === topology)?.skip
  if (skip) throw new LabError(`the ${topology} layout cannot run this configuration: ${skip}; use --layout ${runnableLayouts(plan)[0] ?? 'single-host'}`)
  say(`rolling restart (run ${runId()}): ${options.drain ? 'each node drained through balancer-manager' : 'WITHOUT the drain'}, ${options.users} users clicking` +
    `${options.war ? `, deploying ${path.basename(options.war)}` : ''}`)
  const lab = await TomcatLab.start(plan, { topology })
  try {
    const started = performance.now()
    const at = () => `${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s`
    let result
    try {
      result = await loadThroughout(lab, (load) => rollingRestart(lab, {
        drain: options.drain, ...(options.war ? { war: options.war } : {}), sessions: load.sessionIds,
        onStep: (node, step) => { load.mark(`${node}: ${step}`); say(`${at()}  ${node}: ${step}`) },
      }), { users: options.users })
    } catch (error) {
      // A node that never drained, came back or rejoined is the restart's failure, not the lab's.
      say(`\nrolling restart failed: ${(error as Error).message}`)
      return 1
    }
    const passed = result.failed === 0 && result.lost === 0 && result.mixedUp === 0 && !result.truncated
    process.stdout.write(`\n${describeRollingRestart(result)}\n\nrolling restart ${passed ? 'passed' : 'FAILED'}: ${result.sent} requests, ` +
      `${result.failed} failed, ${result.lost} sessions lost${result.truncated ? ' (the request cap ended the load early)' : ''}\n`)
    return passed ? 0 : 1
  } finally {
    await lab.stop()
  }
}
