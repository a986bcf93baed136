// The control: with a server.xml that cannot replicate (no <Cluster>), the very helpers the
// failover suites judge with must fail the same failover. Proof that those verdicts can fail —
// the failover suites pass because replication works, not because the judge is lenient.
import { describe, expect, test } from '../helpers/lab/fixtures.ts'
import { failOver, letSettle, userWithSession } from '../helpers/checks/failover.ts'
import { type TomcatLabOptions, preferredLayout } from '../helpers/lab/tomcat-lab.ts'
import { expectSessionsSurvived } from '../helpers/checks/replication.ts'

describe('control: no replication (fixtures/tomcat/server-no-cluster.xml)', () => {
  const config: TomcatLabOptions = { topology: preferredLayout(), serverXml: 'tomcat/server-no-cluster.xml' }

  test('stopping the sticky node loses the session, and the failover verdict says so', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = await userWithSession(lab, 'settled user')
    await letSettle(lab, [user])
    const { verdict } = await failOver(lab, [user], user.before.node, 'stop')
    expect(() => expectSessionsSurvived(lab, verdict, 'a graceful stop')).toThrow(/1 of 1 users lost their session[\s\S]*another session/)
    expect(verdict.lost.map((l) => l.c.user)).toEqual(['settled user'])
  })
})
