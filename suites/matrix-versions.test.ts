// The smoke of every Tomcat version × membership the lab runs, beside the full run of one: the
// cluster forms with every node and only them, and a user's session survives a graceful stop of
// its node and then a SIGKILL of the next one, whole (id, creation time, attributes). Three nodes,
// so both happen without a restart. The full run (`npm test`) covers its own version (LAB_TOMCAT,
// default 9) with multicast, the default fixtures' membership: that pair is not repeated here.
// The rows run in two lanes, each next row's lab started while the rows before it run their tests
// (helpers/lab/labs-ahead.ts: two labs in use, one more starting). In one lane the 8 rows took
// 103 s, the machine's two cores 55 % busy. Three lanes (measured before the labs were started
// ahead) once left a Tomcat 10.1 node of three-nodes-host-named never serving ExSession within
// 151 s (its requests timed out: stuck deploying), in one of two fresh-clone runs; not taken
// until that is understood (its error now carries the node's output).
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { failOver, letSettle, userWithSession } from '../helpers/checks/failover.ts'
import { expectSessionsSurvived } from '../helpers/checks/replication.ts'
import { IN_ORDER, runPlan } from '../helpers/lab/fixtures.ts'
import { LabsAhead } from '../helpers/lab/labs-ahead.ts'
import { TomcatLab, untilClustered } from '../helpers/lab/tomcat-lab.ts'
import { record } from '../helpers/report/figures.ts'
import { TOMCAT_VERSIONS, repoRoot } from '../helpers/settings.ts'
import { MEMBERSHIP_EXAMPLES, teamPlan } from '../helpers/intake/team-plan.ts'

const run = runPlan()
const matrix = TOMCAT_VERSIONS.flatMap((tomcat) => MEMBERSHIP_EXAMPLES.map((m) => ({ tomcat, ...m })))
  .filter((c) => !(c.tomcat === run.tomcat && c.membership === 'multicast'))

const rowKey = (row: { tomcat: string; membership: string }) => `${row.tomcat} ${row.membership}`
/** Each row's lab, on the laid-out copy of its corpus directory, which goes with it. */
const labs = new LabsAhead(matrix.map(rowKey), async (key) => {
  const { tomcat, dir } = matrix.find((row) => rowKey(row) === key)!
  const team = teamPlan(path.join(repoRoot, dir), run, tomcat)
  try {
    const lab = await TomcatLab.start(team.plan, { topology: 'multi-host', tomcat })
    return { lab, stop: async () => { try { await lab.stop() } finally { team.remove() } } }
  } catch (error) {
    team.remove()
    throw error
  }
}, { lanes: 2 })
afterAll(() => labs.stopUntaken())

// Rows side by side (their labs' lanes limit how many), each row's tests in order on its lab.
describe.concurrent.each(matrix)('Tomcat $tomcat, $membership membership ($dir)', ({ tomcat, membership, dir }) => {
  let taken: { lab: TomcatLab; stop(): Promise<void> } | undefined
  let lab: TomcatLab | undefined

  beforeAll(async () => {
    taken = await labs.take(rowKey({ tomcat, membership }))
    lab = taken.lab
  })
  afterAll(async () => {
    if (taken) await labs.release(taken)
  })

  test('the cluster forms: each of the three nodes lists the other two, and only them', IN_ORDER, async () => {
    expect(lab!.plan.tomcat).toBe(tomcat)
    // The corpus directory is what the row says it is: the plan read that membership from its files.
    expect(lab!.plan.nodes.map((n) => n.membership), `${dir}: the membership its server.xml files declare`).toEqual([membership, membership, membership])
    await untilClustered(lab!.plan, Object.values(lab!.nodes))
    record({ kind: 'measure', name: `Tomcat ${tomcat}, ${membership}: cluster formed after the last node started`, value: lab!.formationMs / 1000, unit: 's' })
  })

  test('a session survives a stop of its node, then a SIGKILL of the node that took it over', IN_ORDER, async () => {
    const user = await userWithSession(lab!, 'smoke user')
    await letSettle(lab!, [user])
    const first = user.before.node
    const stopped = await failOver(lab!, [user], first, 'stop')
    expectSessionsSurvived(lab!, stopped.verdict, `Tomcat ${tomcat} (${membership}): a graceful stop of ${first}`)

    const second = stopped.cases[0]!.after!.node
    user.before = stopped.cases[0]!.after!
    user.lastWriteAt = performance.now()
    await letSettle(lab!, [user])
    const killed = await failOver(lab!, [user], second, 'kill')
    expectSessionsSurvived(lab!, killed.verdict, `Tomcat ${tomcat} (${membership}): a SIGKILL of ${second}, after ${first} stopped`)
    for (const [how, result] of [['stop', stopped], ['kill', killed]] as const) {
      record({ kind: 'measure', name: `Tomcat ${tomcat}, ${membership}: failover gap after ${how}`, value: result.gapMs / 1000, unit: 's' })
    }
  })
})
