// The post's claim: stop the node a user is stuck to, and the same session — id with its route
// suffix rewritten by JvmRouteBinderValve, creation time, attributes — is served by the survivor.
import { describe, expect, test } from '../helpers/fixtures.ts'
import type { ExSessionUser, SessionPage } from '../helpers/exsession.ts'
import { failoverAdvice, rejoinAdvice } from '../helpers/advice.ts'
import { record } from '../helpers/figures.ts'
import { expectSameSession } from '../helpers/replication.ts'
import { gateLimit } from '../helpers/settings.ts'
import { DISRUPTIONS, type TomcatLab, type TomcatLabOptions, layoutsFor } from '../helpers/labs/tomcat.ts'
import { until } from '../helpers/wait.ts'

const ATTRIBUTES = { color: 'blue', cart: 'three books' }

/** A user with a session of a few requests and two attributes, stuck to one node. */
async function userWithSession(lab: TomcatLab): Promise<{ user: ExSessionUser; before: SessionPage }> {
  const user = lab.user()
  for (const [name, value] of Object.entries(ATTRIBUTES)) await user.visit({ name, value })
  const before = await user.visit()
  return { user, before }
}

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

describe.each(layoutsFor())('failover, %s layout (fixtures/tomcat/server.xml, fixtures/httpd/balancer-sticky.conf)', (topology) => {
  const config: TomcatLabOptions = { topology }

  test.for(DISRUPTIONS)('session survives $what of its sticky node', async ({ how, what }, { tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const { user, before } = await userWithSession(lab)
    const survivor = lab.peer(before.node).route
    const since = performance.now()
    await (how === 'stop' ? lab.node(before.node).shutdown() : lab.node(before.node).kill())
    const { page, gapMs, failures } = await lab.recover(user, since)
    await annotate(`${topology}: failover gap after ${what} ${(gapMs / 1000).toFixed(2)} s (${failures.length} failed attempts)`, 'figure')
    record({ kind: 'failover', topology, how, config: 'default fixtures', gapMs, failures, before, after: page })
    expectSameSession(lab, page, before, survivor, await user.cookie(), ATTRIBUTES)
    // The gap is a finding (a warning with its cause and fix) unless the gate sets a limit.
    const limit = gateLimit('LAB_MAX_FAILOVER_GAP')
    if (limit !== undefined) expect(gapMs / 1000, `failover gap (--max-failover-gap ${limit}): ${failoverAdvice(lab.plan, how, gapMs)}`).toBeLessThanOrEqual(limit)
    else if (gapMs > 3000) record({ kind: 'finding', severity: 'warning', message: failoverAdvice(lab.plan, how, gapMs) })
  })

  test('failback: the stopped node rejoins, receives the sessions, and carries them when the other stops', async ({ tomcatLabs }) => {
    const lab = await tomcatLabs.get(config)
    const { user, before } = await userWithSession(lab)
    const first = lab.node(before.node)
    const second = lab.peer(before.node)

    await first.shutdown()
    const onSecond = (await lab.recover(user, performance.now())).page
    expectSameSession(lab, onSecond, before, second.route, await user.cookie(), ATTRIBUTES)

    await first.startAgain()
    await lab.untilClustered() // DeltaManager state transfer happens as the node joins
    await second.shutdown()
    const back = (await lab.recover(user, performance.now())).page
    expectSameSession(lab, back, onSecond, first.route, await user.cookie(), ATTRIBUTES)
  })

  // mod_proxy_balancer puts a member it cannot connect to in error and skips it for `retry`
  // seconds: retry=5 (the fixture) lets a restarted node take new users again at once, the default
  // retry=60 leaves one node carrying every new user for a minute.
  // How long that takes is a finding (with its cause and fix) unless the gate sets --max-rejoin-time.
  test('a node that comes back gets new users again', async ({ tomcatLabs, annotate }) => {
    const limit = gateLimit('LAB_MAX_REJOIN_TIME')
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
      expect(whileDown.filter((n) => n !== lab.peer(route).route), `new users while ${route} was down: ${runs(whileDown)}`).toEqual([])

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
