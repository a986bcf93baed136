// The control: with a server.xml that cannot replicate (no <Cluster>), the very helpers the
// failover suites judge with must fail the same failover. Proof that those verdicts can fail —
// the failover suites pass because replication works, not because the judge is lenient.
import { describe, expect, oneLayout, runPlan, test } from '../helpers/lab/fixtures.ts'
import { failOver, letSettle, userWithSession } from '../helpers/checks/failover.ts'
import type { TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { expectSessionsSurvived } from '../helpers/checks/replication.ts'

// The control's server.xml has an HTTP connector only: behind a balancer whose members are ajp:// it cannot run.
const ajp = runPlan().balancers.sticky?.members.find((m) => /^ajp:/i.test(m.url))
const title = 'control: no replication (fixtures/tomcat/server-no-cluster.xml)'

describe.skipIf(ajp !== undefined)(ajp ? `${title} (skipped: the balancer under test reaches its nodes over AJP, ${ajp.url}; the control's server.xml has no AJP connector)` : title, () => {
  const config: TomcatLabOptions = { topology: oneLayout(), serverXml: 'tomcat/server-no-cluster.xml' }

  test('stopping the sticky node loses the session, and the failover verdict says so', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = await userWithSession(lab, 'settled user')
    await letSettle(lab, [user])
    const { verdict } = await failOver(lab, [user], user.before.node, 'stop')
    expect(() => expectSessionsSurvived(lab, verdict, 'a graceful stop')).toThrow(/1 of 1 users lost their session[\s\S]*another session/)
    expect(verdict.lost.map((l) => l.c.user)).toEqual(['settled user'])
  })
})
