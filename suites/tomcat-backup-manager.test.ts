// BackupManager with three nodes (issue #14): a session lives on the node that made it (its
// primary) and is backed up on exactly one other node; the third holds only a proxy entry saying
// where it lives. Stopping or killing the primary moves the user to a survivor with the session
// whole. Every node says its part itself (ExSession's /cluster?session=, read without side
// effects); which node held the backup is asserted and recorded for the report.
// The configuration is the run's own when its nodes keep sessions with BackupManager (the gate on
// a team's BackupManager files), else examples/corpus/backup-manager-three-nodes taken in as a team's directory: the
// example that fails over whole on every path (examples/corpus/backup-manager, without quick
// failure detection, keeps the dead node's route when the user lands on the proxy node, or not,
// by a race with its membership: verdicts.json; the validator warns of it).
import path from 'node:path'
import { describe, expect, runPlan, test as base } from '../helpers/lab/fixtures.ts'
import { ATTRIBUTES, failOver, letSettle, userWithSession } from '../helpers/checks/failover.ts'
import { expectBackedUpOnce } from '../helpers/checks/backup.ts'
import { expectSessionsSurvived } from '../helpers/checks/replication.ts'
import { type SessionPage, describePlacement, routeOf, sessionKey, sessionPlacement } from '../helpers/lab/exsession.ts'
import { fetchOnce } from '../helpers/lab/http.ts'
import { DISRUPTIONS, TomcatLab } from '../helpers/lab/tomcat-lab.ts'
import { record } from '../helpers/report/figures.ts'
import { repoRoot } from '../helpers/settings.ts'
import { until } from '../helpers/wait.ts'
import { teamPlan } from '../helpers/intake/team-plan.ts'
import { setTimeout as delay } from 'node:timers/promises'

const EXAMPLE = 'examples/corpus/backup-manager-three-nodes'
const run = runPlan()
/** The gate on a team's BackupManager files: their lab. Else the example, in the project's own run only (a team's DeltaManager run has nothing to learn from it). */
const teams = run.nodes['multi-host'].every((n) => n.manager === 'BackupManager')
const own = run.source === 'fixtures'
const title = teams ? run.source : EXAMPLE

const test = base
  // One lab for the file: three nodes start one after another (~8 s each on two cores).
  .extend('backupLab', { scope: 'file' }, async ({ tomcatLabs }, { onCleanup }) => {
    if (teams) return tomcatLabs.get({ topology: 'multi-host' })
    const { plan, remove } = teamPlan(path.join(repoRoot, EXAMPLE), run)
    const lab = await TomcatLab.start(plan, { topology: 'multi-host' }).catch((error: unknown) => { remove(); throw error })
    onCleanup(async () => { await lab.stop(); remove() })
    return lab
  })
  // Each test finds every node running and the cluster formed.
  .extend('lab', async ({ backupLab }) => {
    await backupLab.restore()
    return backupLab
  })

describe.skipIf(!teams && !own)(`BackupManager, three nodes (${title}), multi-host layout${!teams && !own ? ' (not run: the files under test keep sessions with DeltaManager)' : ''}`, () => {
  test('a session lives on its primary and is backed up on exactly one other node; the third only knows where it is', async ({ lab, annotate }) => {
    const staged = await userWithSession(lab, 'user')
    const { sessionId, node: primary } = staged.before
    const placement = await sessionPlacement(Object.values(lab.nodes), sessionId)
    const { backup, others } = expectBackedUpOnce(placement, primary)
    const shown = `where the session lives: ${describePlacement(placement)}`
    // The backup holds the session itself, attributes and all; a proxy holds none of it.
    expect((await lab.node(backup).sessionCopy(sessionId))?.attributes, `${backup}'s copy; ${shown}`).toMatchObject(ATTRIBUTES)
    for (const other of others) expect(await lab.node(other).sessionCopy(sessionId), `${other}'s copy; ${shown}`).toBeNull()
    const said = `BackupManager, 3 nodes: session ${sessionId} made on ${primary} (primary) is backed up on ${backup}; ${others.join(', ')} only ${others.length === 1 ? 'knows' : 'know'} where it lives`
    record({ kind: 'finding', severity: 'info', message: said })
    await annotate(said, 'figure')
  })

  test.for(DISRUPTIONS)('the session survives $what of its primary: the user is moved to a survivor with it whole', async ({ how, what }, { lab, annotate }) => {
    const staged = await userWithSession(lab, 'user')
    const primary = staged.before.node
    const { backup, others } = expectBackedUpOnce(await sessionPlacement(Object.values(lab.nodes), staged.before.sessionId), primary)
    await letSettle(lab, [staged])
    const { verdict, gapMs, failures, cases } = await failOver(lab, [staged], primary, how)
    const after = cases[0]?.after
    const held = `BackupManager, 3 nodes: ${primary}'s session was backed up on ${backup} (${others.join(', ')}: proxy); ` +
      `after ${what} of ${primary}, ${after ? `${after.node} (${after.node === backup ? 'the backup' : 'not the backup'}) served it as ${after.sessionId}` : 'no survivor served it'}`
    record({ kind: 'failover', topology: lab.options.topology, how, config: `BackupManager, backup on ${backup}`, gapMs, failures, before: staged.before, after })
    record({ kind: 'finding', severity: 'info', message: held })
    await annotate(held, 'figure')
    expectSessionsSurvived(lab, verdict, `${what} of the primary ${primary} (its backup on ${backup})`)

    // The survivor that serves it keeps it as primary now, backed up on the other survivor.
    const survivors = lab.others(primary)
    const now = await until(`${after!.node} keeping the session as its primary, backed up on the other survivor`, async () => {
      const p = await sessionPlacement(survivors, after!.sessionId)
      const own = p.roles.find((r) => r.node === after!.node)
      const other = survivors.map((n) => n.route).filter((r) => r !== after!.node)
      if (own?.role !== 'primary' || JSON.stringify(own.backups) !== JSON.stringify(other)) throw new Error(describePlacement(p))
      return p
    }, { timeoutMs: 15_000, intervalMs: 250 })
    expect(now.roles.find((r) => r.node !== after!.node)?.role, describePlacement(now)).toBe('backup')
  })

  // The balancer may send the user of a dead primary to the node that only knew where the session
  // lived: that node fetches it from the backup, becomes its primary and JvmRouteBinderValve
  // rebinds the id to it. Sent there straight (as the balancer would: once its connect to the dead
  // member has timed out, connectiontimeout), so the case is not left to which survivor the
  // balancer happens to pick.
  test('after a SIGKILL of its primary, the node that only knew where the session lived serves it whole, under its own route', async ({ lab, annotate }) => {
    const staged = await userWithSession(lab, 'user')
    const primary = staged.before.node
    const { backup, others } = expectBackedUpOnce(await sessionPlacement(Object.values(lab.nodes), staged.before.sessionId), primary)
    const proxy = lab.node(others[0]!)
    await letSettle(lab, [staged])
    await lab.node(primary).kill()
    await delay(balancerGivesUpMs(lab, primary))
    const since = performance.now()
    const reply = await fetchOnce(`${proxy.url}${lab.plan.exSessionPath}/?format=json`, { headers: { cookie: `JSESSIONID=${staged.before.sessionId}` }, timeoutMs: 30_000 })
    const tookMs = performance.now() - since
    const page = reply.status === 200 ? JSON.parse(reply.body) as SessionPage : undefined
    const said = `BackupManager, 3 nodes: ${primary} killed; ${proxy.route} (proxy; backup on ${backup}) answered ${reply.status} in ${(tookMs / 1000).toFixed(2)} s` +
      `${page ? ` with ${page.sessionId}, attributes ${JSON.stringify(page.attributes)}` : `: ${reply.body.slice(0, 200)}`}`
    await annotate(said, 'figure')
    record({ kind: 'finding', severity: 'info', message: said })
    expect(page, said).toBeDefined()
    expect(sessionKey(page!.sessionId), `the same session; ${said}`).toBe(sessionKey(staged.before.sessionId))
    expect(page!.creationTime, `its creation time; ${said}`).toBe(staged.before.creationTime)
    expect(page!.attributes, `its attributes; ${said}`).toMatchObject(staged.attributes)
    const why = 'the proxy\'s lookup (AbstractReplicatedMap.get) tells every map member, the dead primary included, that it is the primary now; ' +
      'with synchronous mapSendOptions that send times out, the lookup returns nothing and JvmRouteBinderValve has no session to rebind'
    expect(routeOf(page!.sessionId), `the id rebound to ${proxy.route}, which now serves it (JvmRouteBinderValve): else the balancer keeps sending the user to the dead ${primary}; ${said}. Cause, when it still names the dead node: ${why}`).toBe(proxy.route)
  })
})

/**
 * When the balancer, its connect to `route`'s dead member timed out, sends that member's users to
 * a survivor: the member's connectiontimeout (seconds, or milliseconds with "ms"); 0 without one,
 * the strictest case.
 */
function balancerGivesUpMs(lab: TomcatLab, route: string): number {
  const member = lab.plan.balancerPlan.members.find((m) => m.params.route !== undefined && m.params.route === lab.plan.memberRoutes[route])
  const m = /^(\d+)(ms)?$/i.exec(member?.params.connectiontimeout ?? '')
  return m ? Number(m[1]) * (m[2] ? 1 : 1000) : 0
}
