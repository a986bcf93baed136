// The post's claim: stop the node a user is stuck to, and the same session — id with its route
// suffix rewritten by JvmRouteBinderValve, creation time, attributes — is served by the survivor.
import { IN_ORDER, describeEachLayout, expect, runPlan, test } from '../helpers/lab/fixtures.ts'
import { failoverAdvice, rejoinAdvice } from '../helpers/checks/advice.ts'
import { record } from '../helpers/report/figures.ts'
import { failOver, letSettle, userWithSession, writeNow } from '../helpers/checks/failover.ts'
import { describeWindow, expectSessionsSurvived } from '../helpers/checks/replication.ts'
import { DISRUPTIONS, type TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { until } from '../helpers/wait.ts'

/** `node01 ×3, node02, node01 ×70`: who served a series of requests, in order, compactly. */
function runs(nodes: string[]): string {
  const out: [string, number][] = []
  for (const n of nodes) {
    const last = out.at(-1)
    if (last?.[0] === n) last[1]++
    else out.push([n, 1])
  }
  return out.map(([n, k]) => (k > 1 ? `${n} ×${k}` : n)).join(', ')
}

describeEachLayout('failover, %s layout (fixtures/tomcat/server.xml, fixtures/httpd/balancer-sticky.conf)', (topology) => {
  const config: TomcatLabOptions = { topology }

  // Two users stuck to the same node: one whose session settled (written longer ago than the
  // lab's replication window) must come back whole in every configuration; one who writes just
  // before the failure may miss that write only under asynchronous replication.
  test.for(DISRUPTIONS)('session survives $what of its sticky node', IN_ORDER, async ({ how, what }, { tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const settled = await userWithSession(lab, 'settled user')
    const victim = settled.before.node
    const hurried = await userWithSession(lab, 'user who writes just before the failure', victim)
    await letSettle(lab, [settled, hurried])
    await writeNow(hurried, 'last', 'written just before the failure')
    const { verdict, gapMs, failures, cases } = await failOver(lab, [settled, hurried], victim, how)
    await annotate(`${topology}: failover gap after ${what} ${(gapMs / 1000).toFixed(2)} s (${failures.length} failed attempts); ${describeWindow(verdict.window)}`, 'figure')
    record({ kind: 'failover', topology, how, config: 'default fixtures', gapMs, failures, before: cases[0]?.before, after: cases[0]?.after })
    expectSessionsSurvived(lab, verdict, `${what} of ${victim}`)
    // The gap is a finding (a warning with its cause and fix) unless a limit is set (--max-failover-gap, or the project's own run).
    const limit = lab.plan.limits.failoverGap
    if (limit !== undefined) expect(gapMs / 1000, `failover gap (--max-failover-gap ${limit}): ${failoverAdvice(lab.plan, how, gapMs)}`).toBeLessThanOrEqual(limit)
    else if (gapMs > 3000) record({ kind: 'finding', severity: 'warning', message: failoverAdvice(lab.plan, how, gapMs) })
  })

  test('failback: the stopped node rejoins, receives the sessions, and carries them when the other stops', IN_ORDER, async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const user = await userWithSession(lab, 'settled user')
    const first = user.before.node

    await letSettle(lab, [user])
    const away = await failOver(lab, [user], first, 'stop')
    expectSessionsSurvived(lab, away.verdict, `a graceful stop of ${first}`)

    // The survivor that took the user over is the next to go.
    const second = away.cases[0]!.after!.node
    await lab.node(first).startAgain()
    await lab.untilClustered() // DeltaManager state transfer happens as the node joins
    user.before = away.cases[0]!.after!
    user.lastWriteAt = performance.now()
    await letSettle(lab, [user])
    const back = await failOver(lab, [user], second, 'stop')
    expectSessionsSurvived(lab, back.verdict, `a graceful stop of ${second}, after ${first} rejoined`)
  })

  // mod_proxy_balancer puts a member it cannot connect to in error and skips it for `retry`
  // seconds: retry=5 (the fixture) lets a restarted node take new users again at once, the default
  // retry=60 leaves one node carrying every new user for a minute.
  // How long that takes is a finding (with its cause and fix) unless the gate sets --max-rejoin-time.
  test('a node that comes back gets new users again', IN_ORDER, async ({ tomcatLabs, annotate }) => {
    const limit = runPlan().limits.rejoinTime
    const BACK_WITHIN_MS = (limit ?? 20) * 1000
    const lab = await tomcatLabs.get(config)
    const node = lab.node(lab.routes[1]!)
    const route = node.route
    try {
      await node.shutdown()
      // New users while it is down: each is failed over to the peer, and httpd marks the member in error.
      const whileDown: string[] = []
      await until(`the balancer marking ${route} in error`, async () => {
        if (whileDown.length < 30) {
          whileDown.push(await lab.user().visit(undefined, 5000).then((p) => p.node, (e: Error) => `error: ${e.message.slice(0, 80)}`))
        }
        const worker = (await lab.balancer.workers()).find((w) => lab.isWorkerOf(w, route))
        if (!worker?.status.includes('Err')) throw new Error(`${node.url} is ${worker?.status}; new users saw ${runs(whileDown)}`)
      }, { timeoutMs: 15_000, intervalMs: 200 })
      const up = lab.others(route).map((n) => n.route)
      expect(whileDown.filter((n) => !up.includes(n)), `new users while ${route} was down: ${runs(whileDown)}`).toEqual([])

      await node.startAgain()
      await lab.untilClustered()
      const backAt = performance.now()
      // New users, one at a time, until one lands on the restarted node: at most ~80, for at most 20 s.
      const served: string[] = []
      const landed = await until(`a new user served by ${route}`, async () => {
        const page = await lab.user().visit(undefined, 5000).then((p) => p.node, (e: Error) => `error: ${e.message.slice(0, 80)}`)
        served.push(page)
        if (page !== route) throw new Error(`served by ${page}`)
        return performance.now() - backAt
      }, { timeoutMs: BACK_WITHIN_MS, intervalMs: 250 }).catch(() => null)
      const workers = JSON.stringify(await lab.balancer.workers())
      const shown = `${served.length} new users after ${route} was serving again, in order: ${runs(served)}\nbalancer workers: ${workers}`
      if (landed !== null) {
        await annotate(`${topology}: ${route} got new users again ${(landed / 1000).toFixed(2)} s after it was back (${served.length} new users)`, 'figure')
        record({ kind: 'measure', name: `${topology}: restarted node gets new users again after`, value: landed / 1000, unit: 's' })
      }
      const advice = `${topology}: no new user reached ${route} within ${BACK_WITHIN_MS / 1000} s of it serving again. ${rejoinAdvice(lab.plan)}`
      if (limit !== undefined) expect(landed, `--max-rejoin-time ${limit}: ${advice}\n${shown}`).not.toBeNull()
      else if (landed === null) record({ kind: 'finding', severity: 'warning', message: advice })
    } finally {
      if (!(await node.running())) await node.startAgain()
    }
  })
})
