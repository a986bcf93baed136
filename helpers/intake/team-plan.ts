/**
 * A team-shaped directory other than the run's (the corpus's examples) read into a plan of its
 * own, as the gate reads a team's: the smoke of other versions and memberships, the bench.
 */
import { intake, removeIntake } from './intake.ts'
import { type Plan, readPlan } from './plan.ts'

/**
 * A team's directory taken in as the gate takes it (helpers/intake) and read into its plan, for a
 * suite that runs a lab of a configuration other than the run's; `remove` deletes the laid-out
 * copy once that lab is gone. The run's limits hold it, on the run's Tomcat unless `tomcat` names another.
 */
export function teamPlan(dir: string, run: Pick<Plan, 'limits' | 'tomcat'>, tomcat = run.tomcat): { plan: Plan; remove: () => void } {
  const taken = intake(dir)
  const before = { fixtures: process.env.LAB_FIXTURES, war: process.env.LAB_WAR }
  // The plan's readers find the laid-out files (and the jvmRoutes the intake gave) as the gate's
  // own run does, and no webapp but the directory's (not the run's --war).
  process.env.LAB_FIXTURES = taken.overlay
  if (taken.war) process.env.LAB_WAR = taken.war
  else delete process.env.LAB_WAR
  try {
    return { plan: { ...readPlan({}), limits: run.limits, tomcat }, remove: () => removeIntake(taken) }
  } catch (error) {
    removeIntake(taken)
    throw error
  } finally {
    for (const [name, value] of [['LAB_FIXTURES', before.fixtures], ['LAB_WAR', before.war]] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

/**
 * A three-node configuration of the corpus for each membership a team may use, as teams write
 * them: the smoke of every version × membership (suites/matrix-versions.test.ts) and the bench's
 * figures per version and membership run these.
 */
export const MEMBERSHIP_EXAMPLES: { membership: 'multicast' | 'static' | 'dns'; dir: string }[] = [
  { membership: 'multicast', dir: 'examples/corpus/three-nodes-host-named' },
  { membership: 'static', dir: 'examples/corpus/static-membership' },
  { membership: 'dns', dir: 'examples/corpus/dns-membership-three-nodes' },
]
