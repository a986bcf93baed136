// The team's own webapp (LAB_WAR; without one, the lab's ExSession read as if it were foreign)
// behind the configuration under test: the balancer keeps a user on the node their session cookie
// names, and the session outlives that node. The probe sees only the JSESSIONID cookie
// (helpers/lab/webapp-user.ts); that the attributes inside replicate, the lab's ExSession deployed beside
// the webapp shows (tomcat-failover, tomcat-many-users).
import path from 'node:path'
import { IN_ORDER, describeEachLayout, expect, runPlan, test } from '../helpers/lab/fixtures.ts'
import { record } from '../helpers/report/figures.ts'
import { DISRUPTIONS, type TomcatLab, type TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { until } from '../helpers/wait.ts'
import { webappPagePath } from '../helpers/lab/webapp.ts'
import { type WebappPage, WebappUser } from '../helpers/lab/webapp-user.ts'

const war = runPlan().war
const app = war ? path.basename(war) : 'ExSession (no LAB_WAR: the lab\'s own, read as a foreign app)'

/** The probe: the node is the one the session id's route names, or the balancer's route cookie when it sticks by one. */
function userOf(lab: TomcatLab): WebappUser {
  const s = lab.stickiness
  const routeCookie = s.by === 'route-cookie' ? { name: s.names[0]!, node: (value: string | undefined) => lab.nodeOfRouteCookie(value) } : undefined
  return new WebappUser(lab.balancerUrl, webappPagePath(lab.plan.war, lab.plan.exSessionPath), routeCookie)
}

/**
 * Requests the balancer has sent to each node so far (mod_status's Elected), by route.
 */
async function elected(lab: TomcatLab): Promise<Record<string, number>> {
  const workers = await lab.balancer.workers()
  return Object.fromEntries(lab.routes.map((r) => [r, workers.filter((w) => lab.isWorkerOf(w, r)).reduce((sum, w) => sum + w.elected, 0)]))
}

describeEachLayout(`the team's webapp ${app}, %s layout`, (topology) => {
  const config: TomcatLabOptions = { topology }

  test('its session cookie names a node, and the next requests keep the cookie and land on that node', IN_ORDER, async ({ tomcatLabs }) => {
    const REQUESTS = 10
    const lab = await tomcatLabs.get(config)
    const user = userOf(lab)
    const first = await user.visit()
    expect(lab.routes, `JSESSIONID=${first.sessionId} (GET ${first.url}) ends in "${first.route}", no node's jvmRoute (${lab.routes.join(', ')}): ` +
      'the balancer cannot keep this user on a node').toContain(first.route)

    const before = await elected(lab)
    const pages: WebappPage[] = []
    for (let i = 0; i < REQUESTS; i++) pages.push(await user.visit())
    const served = await until('the balancer counting the requests', async () => {
      const now = await elected(lab)
      const delta = Object.fromEntries(lab.routes.map((r) => [r, now[r]! - before[r]!]))
      if (Object.values(delta).reduce((a, b) => a + b, 0) < REQUESTS) throw new Error(`counted so far: ${JSON.stringify(delta)}`)
      return delta
    }, { timeoutMs: 5000, intervalMs: 100 })
    const shown = `first JSESSIONID ${first.sessionId}; then ${pages.map((p) => p.sessionId).join(', ')}\n` +
      `requests per node while the user sent ${REQUESTS}: ${JSON.stringify(served)}`
    expect(pages.filter((p) => p.sessionId !== first.sessionId), `the cookie changed:\n${shown}`).toEqual([])
    const expected = Object.fromEntries(lab.routes.map((r) => [r, r === first.route ? REQUESTS : 0]))
    expect(served, `every request on ${first.route}, the node the cookie names:\n${shown}`).toEqual(expected)
  })

  test.for(DISRUPTIONS)('its session survives $what of the node its cookie names', IN_ORDER, async ({ how, what }, { tomcatLabs, annotate }) => {
    const lab = await tomcatLabs.get(config)
    const user = userOf(lab)
    await user.visit()
    const before = await user.visit() // the session exists and the browser sends its cookie
    const node = lab.node(before.route)
    const survivors = lab.others(before.route).map((n) => n.route)

    const since = performance.now()
    await (how === 'stop' ? node.shutdown() : node.kill())
    const { page: after, gapMs, failures } = await lab.recover(user, since)
    await annotate(`${topology}: ${app} answered again ${(gapMs / 1000).toFixed(2)} s after ${what} of ${before.route} (${failures.length} failed attempts)`, 'figure')
    record({ kind: 'measure', name: `${topology}: the team's webapp answers again after ${what} of its node`, value: gapMs / 1000, unit: 's' })

    const shown = `JSESSIONID before: ${before.sessionId}\nJSESSIONID after:  ${after.sessionId}` +
      `${after.setCookie ? ' (set by that answer)' : ' (no Set-Cookie in that answer)'}, GET ${after.url} answered ${after.status}`
    expect(after.key, `the session was lost: after ${what} of ${before.route}, ${survivors.join(' or ')} answered with a new session key.\n${shown}\n` +
      'Tomcat replicates a session only when WEB-INF/web.xml says <distributable/> and every attribute in it is Serializable ' +
      '(the survivor\'s log names an attribute that is not); the lab\'s ExSession beside the webapp shows whether the cluster replicates at all.').toBe(before.key)
    expect(after.route, `the session survived, but the cookie still names ${before.route}, which is down: ` +
      `without JvmRouteBinderValve (or when the page does not use the session) the id is not rebound to a survivor (${survivors.join(' or ')}), ` +
      `and every request of this user goes to the dead node first.\n${shown}`).toBeOneOf(survivors)
  })
})
