// `npm run bench`: where the time goes and what the stack does under measurement. Prints a table
// and writes reports/bench.json. Options: --trials N (failover trials per case, default 10),
// --skip-cold (no --no-cache image builds), --only images|lvs|tomcat|original|versions|knobs|rolling|levers|npm-test|suites (one part).
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { removeRun, removeRunOnExit } from '../helpers/lab/cleanup.ts'
import { sessionKey } from '../helpers/lab/exsession.ts'
import { fetchOnce } from '../helpers/lab/http.ts'
import { type ImageName, buildImage, ensureImage, tomcatImage } from '../helpers/lab/images.ts'
import { LvsLab, startLvsLab } from '../helpers/lab/lvs-lab.ts'
import { type Topology, readPlan } from '../helpers/intake/plan.ts'
import { MEMBERSHIP_EXAMPLES, teamPlan } from '../helpers/intake/team-plan.ts'
import { TomcatLab, type TomcatLabOptions } from '../helpers/lab/tomcat-lab.ts'
import { loadDuringFailover } from '../helpers/checks/load.ts'
import { say } from '../helpers/progress.ts'
import { UNHANDLED, readJunit } from '../helpers/report/junit.ts'
import { fixtureHeartbeat } from './bench-parts/levers.ts'
import { TOMCAT_VERSIONS, repoRoot } from '../helpers/settings.ts'
import { percentile } from '../helpers/checks/tally.ts'
import { outcome, settle, until } from '../helpers/wait.ts'

const { values: args } = parseArgs({ options: {
  trials: { type: 'string', default: '10' }, 'skip-cold': { type: 'boolean', default: false }, only: { type: 'string' },
} })
const part = (name: 'images' | 'lvs' | 'tomcat' | 'original' | 'versions' | 'knobs' | 'rolling' | 'levers' | 'npm-test' | 'suites') => args.only === undefined || args.only === name
const TRIALS = Number(args.trials)
removeRunOnExit()

interface Row { what: string; value: string; detail?: string }
const rows: Row[] = []
const json: Record<string, unknown> = { at: new Date().toISOString(), trials: TRIALS }
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const ms = (v: number) => `${v.toFixed(1)} ms`
function add(what: string, value: string, detail?: string): void {
  rows.push({ what, value, detail })
  say(`  ${what}: ${value}${detail ? `  (${detail})` : ''}`)
}
function stats(values: number[]): { n: number; p50: number; p95: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  return { n: values.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? Number.NaN }
}
async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  return [await work(), performance.now() - started]
}

// 1. Images: cold (no cache, into throwaway tags) and warm (the normal cached check).
const IMAGES: ImageName[] = ['apache', ...TOMCAT_VERSIONS.map(tomcatImage), 'director-vm']
if (part('images') && !args['skip-cold']) {
  say('▸ cold image builds (docker build --no-cache)')
  const cold: Record<string, number> = {}
  for (const name of IMAGES) {
    const tag = `lb-e2e-bench/${name}:cold`
    const [, took] = await time(() => buildImage(name, { tag, noCache: true }))
    await execa('docker', ['rmi', tag], { reject: false })
    cold[name] = took
    add(`cold build ${name}${name === 'director-vm' ? ' (director + vm artifacts)' : ''}`, s(took))
  }
  json.coldBuildMs = cold
}
const [, warm] = await time(async () => { for (const name of IMAGES) await ensureImage(name); await ensureImage('director') })
if (part('images')) {
  add('warm image check (all images)', s(warm))
  json.warmImageCheckMs = warm
}

// 2. The LVS lab: director ready, throughput and latency through the VIP versus straight to a node.
if (part('lvs')) {
say('▸ LVS lab')
const [lvsStarted, lvsUp] = await time(() => startLvsLab(readPlan()))
try {
  add(`LVS lab up (${lvsStarted.info.director.backend} director)`, s(lvsUp), `director ready ${s(lvsStarted.timings.directorMs)}, real servers ${s(lvsStarted.timings.realServersMs)}`)
  json.lvs = { backend: lvsStarted.info.director.backend, labUpMs: lvsUp, ...lvsStarted.timings }
  const lvs = await LvsLab.attach(lvsStarted.info)
  await lvs.apply('rr.rules')
  const N = 300
  const measure = async (url: string) => {
    const latencies: number[] = []
    const [, took] = await time(async () => { for (let i = 0; i < N; i++) latencies.push((await fetchOnce(url, { timeoutMs: 5000 })).elapsedMs) })
    return { rps: N / (took / 1000), ...stats(latencies) }
  }
  const viaVip = await measure(`http://${lvs.vip}/`)
  const direct = await measure(`http://${lvs.node('node1').address}/`)
  add(`IPVS via VIP, ${N} sequential new connections`, `${viaVip.rps.toFixed(0)} req/s`, `p50 ${ms(viaVip.p50)}, p99 ${ms(viaVip.p99)}`)
  add(`straight to a real server, ${N} sequential new connections`, `${direct.rps.toFixed(0)} req/s`, `p50 ${ms(direct.p50)}, p99 ${ms(direct.p99)}`)
  add('VIP / direct latency ratio (p50)', (viaVip.p50 / direct.p50).toFixed(2), `throughput ratio ${(viaVip.rps / direct.rps).toFixed(2)}`)
  json.ipvs = { requests: N, viaVip, direct, latencyRatioP50: viaVip.p50 / direct.p50 }
  await lvs.detach()
} finally {
  await lvsStarted.stop()
}
}

// 3. Tomcat: labs up, replication latency, failover gaps over many trials, member-drop detection, load.
async function withLab<T>(options: TomcatLabOptions, work: (lab: TomcatLab) => Promise<T>, plan = readPlan(), label = describe(options)): Promise<T> {
  const [lab, took] = await time(() => TomcatLab.start(plan, options))
  add(`Tomcat lab up: ${label}`, s(took), `cluster formed ${s(lab.formationMs)} after the last node started`)
  try { return await work(lab) } finally { await lab.stop() }
}
function describe(o: TomcatLabOptions): string {
  return [o.topology, o.serverXml ?? 'tomcat/server.xml', o.balancer ?? 'httpd/balancer-sticky.conf'].join(', ')
}

/**
 * Write on one node, read on the other (straight to the nodes): time until the value is visible.
 * A write not visible on the other node within 5 s counts as not replicated.
 */
async function replicationLatency(lab: TomcatLab, writes: number): Promise<ReturnType<typeof stats> & { notReplicated: number; sessionsLost: number }> {
  let first = await lab.user().visit()
  let id = first.sessionId
  let sessionsLost = 0
  const latencies: number[] = []
  let notReplicated = 0
  for (let i = 0; i < writes; i++) {
    const writer = lab.node(id.split('.').pop()!)
    const reader = lab.others(writer.route)[0]!
    // Straight to a node with the current id; JvmRouteBinderValve may move the session to that node.
    const get = async (base: string, query: string) => {
      const reply = await fetchOnce(`${base}${lab.plan.exSessionPath}/?format=json${query}`, { headers: { cookie: `JSESSIONID=${id}` }, timeoutMs: 5000 })
      const page = JSON.parse(reply.body) as { sessionId: string; attributes: Record<string, string> }
      if (sessionKey(page.sessionId) !== sessionKey(first.sessionId)) throw new SessionLost(page.sessionId)
      id = page.sessionId
      return page
    }
    try {
      await get(writer.url, `&dataName=bench&dataValue=${i}`)
    } catch (error) {
      if (!(error instanceof SessionLost)) throw error
      sessionsLost++ // the node no longer knows the session: count it and go on with a new one
      first = await lab.user().visit()
      id = first.sessionId
      continue
    }
    const written = performance.now()
    // Reading moves the session to the reader's route (JvmRouteBinderValve): the reader writes next.
    const seen = await until(`write ${i} visible on ${reader.route}`, async () => {
      const page = await get(reader.url, '')
      if (page.attributes.bench !== String(i)) throw new Error(`still ${page.attributes.bench}`)
    }, { timeoutMs: 5_000, intervalMs: 2 }).then(() => true, () => false)
    if (seen) latencies.push(performance.now() - written); else notReplicated++
  }
  return { ...stats(latencies), notReplicated, sessionsLost }
}

class SessionLost extends Error {
  constructor(id: string) { super(`replication bench: the session was lost (now ${id})`) }
}

interface Trial { gapMs: number; failed: number; memberDropMs?: number; sessionLost: boolean }
async function failoverTrials(lab: TomcatLab, how: 'stop' | 'kill', trials: number): Promise<Trial[]> {
  const results: Trial[] = []
  for (let i = 0; i < trials; i++) {
    await lab.restore()
    const user = lab.user()
    await user.visit({ name: 'trial', value: String(i) })
    const before = await user.visit()
    const victim = lab.node(before.node)
    const survivors = lab.others(before.node)
    const survivor = survivors[0]!
    const since = performance.now()
    if (how === 'stop') await victim.shutdown(); else await victim.kill()
    // The survivor's view of membership is watched while the user recovers, not after; settled at
    // once, so its failure waits for the await below instead of going unhandled during recover().
    const memberDrop = how === 'kill'
      ? settle(until('the survivor dropping the dead member', async () => {
        if ((await survivor.members()).length > survivors.length - 1) throw new Error('still a member')
        return performance.now() - since
      }, { timeoutMs: 30_000, intervalMs: 50 }))
      : undefined
    const { page, gapMs, failures } = await lab.recover(user, since, 180_000)
    const sessionLost = sessionKey(page.sessionId) !== sessionKey(before.sessionId) || page.attributes.trial !== String(i)
    const trial: Trial = { gapMs, failed: failures.length, sessionLost, ...(memberDrop ? { memberDropMs: outcome(await memberDrop) } : {}) }
    results.push(trial)
  }
  await lab.restore()
  return results
}

// The member-drop times are read against the fixture's McastService dropTime.
function reportTrials(label: string, trials: Trial[], dropNote = `; configured dropTime ${(fixtureHeartbeat().dropTimeMs / 1000).toFixed(2)} s`): void {
  const gaps = stats(trials.map((t) => t.gapMs))
  add(`failover gap ${label} (${gaps.n} trials)`, `p50 ${s(gaps.p50)}`,
    `p95 ${s(gaps.p95)}, max ${s(gaps.max)}, failed requests ${trials.reduce((a, t) => a + t.failed, 0)}, sessions lost ${trials.filter((t) => t.sessionLost).length}`)
  const drops = trials.flatMap((t) => (t.memberDropMs === undefined ? [] : [t.memberDropMs]))
  if (drops.length) {
    const d = stats(drops)
    add(`dead member dropped by the survivor ${label}`, `p50 ${s(d.p50)}`, `max ${s(d.max)}${dropNote}`)
  }
}

const tomcat: Record<string, unknown> = {}
if (part('tomcat')) say('▸ Tomcat labs')
for (const topology of part('tomcat') ? ['single-host', 'multi-host'] as Topology[] : []) {
  await withLab({ topology }, async (lab) => {
    const replication = await replicationLatency(lab, 100)
    add(`replication latency ${topology} (100 writes)`, `p50 ${ms(replication.p50)}`, `p95 ${ms(replication.p95)}, max ${ms(replication.max)}, not replicated within 5 s: ${replication.notReplicated}`)
    const stop = await failoverTrials(lab, 'stop', TRIALS)
    reportTrials(`after stop, ${topology}`, stop)
    const kill = await failoverTrials(lab, 'kill', TRIALS)
    reportTrials(`after kill, ${topology}`, kill)
    const load: Record<string, unknown> = {}
    if (topology === 'multi-host') {
      for (const how of ['stop', 'kill'] as const) {
        const result = await loadDuringFailover(lab, { how, users: 50, disruptAfterMs: 3_000 })
        const explained = Object.entries(result.failures).map(([m, n]) => `${n} × ${m.slice(0, 60)}`).join('; ')
        const lost = result.outcomes.filter((o) => o.lost).length
        const mixedUp = result.outcomes.filter((o) => o.mixedUp).length
        const stranded = result.outcomes.filter((o) => o.recoveredAfterMs === null).length
        const worst = Math.max(...result.outcomes.map((o) => o.recoveredAfterMs ?? Number.POSITIVE_INFINITY))
        add(`load during ${how}: 50 users`, `${result.sent} sent, ${result.failed} failed, ${lost} lost, ${stranded} never recovered`, `worst wait ${ms(worst)}; ${explained || 'no failures'}`)
        load[how] = { sent: result.sent, failed: result.failed, lost, mixedUp, stranded, worstWaitMs: worst, failures: result.failures }
        await lab.restore()
      }
    }
    tomcat[topology] = { replication, stop, kill, load }
  })
}

if (part('original')) {
  // The original post's values, beside the default fixtures' figures above.
  await withLab({ topology: 'single-host', serverXml: 'tomcat/server-original.xml', balancer: 'httpd/balancer-original.conf' }, async (lab) => {
    const replication = await replicationLatency(lab, 100)
    add('replication latency, original server.xml (channelSendOptions 8), single-host', `p50 ${ms(replication.p50)}`, `p95 ${ms(replication.p95)}, not replicated within 5 s: ${replication.notReplicated} of 100, sessions lost: ${replication.sessionsLost}`)
    const stop = await failoverTrials(lab, 'stop', TRIALS)
    reportTrials('after stop, original configuration, single-host', stop)
    tomcat.originalSingleHost = { replication, stop }
  })
  await withLab({ topology: 'multi-host', balancer: 'httpd/balancer-original.conf' }, async (lab) => {
    const stop = await failoverTrials(lab, 'stop', 1)
    reportTrials('after stop, original balancer (no connectiontimeout), multi-host', stop)
    tomcat.originalBalancerMultiHost = { stop }
  })
}
json.tomcat = tomcat

// Failover figures per Tomcat version and membership: the corpus's three-node configurations
// (the smoke's), each on 9, 10.1 and 11, multi-host.
if (part('versions')) {
  say('▸ Tomcat versions × memberships')
  const versions: Record<string, unknown> = {}
  const run = readPlan()
  for (const version of TOMCAT_VERSIONS) {
    for (const { membership, dir } of MEMBERSHIP_EXAMPLES) {
      const team = teamPlan(path.join(repoRoot, dir), run, version)
      const label = `Tomcat ${version}, ${membership}`
      try {
        await withLab({ topology: 'multi-host', tomcat: version }, async (lab) => {
          const replication = await replicationLatency(lab, 20)
          add(`replication latency, ${label} (20 writes)`, `p50 ${ms(replication.p50)}`, `p95 ${ms(replication.p95)}, not replicated within 5 s: ${replication.notReplicated}`)
          const stop = await failoverTrials(lab, 'stop', TRIALS)
          reportTrials(`after stop, ${label}`, stop, '')
          const kill = await failoverTrials(lab, 'kill', TRIALS)
          reportTrials(`after kill, ${label}`, kill, '')
          versions[`${version} ${membership}`] = { replication, stop, kill, formationMs: lab.formationMs }
        }, team.plan, `${label} (${dir}, 3 nodes, multi-host)`)
      } finally {
        team.remove()
      }
    }
  }
  json.versions = versions
}

// The failover knobs of #16, one at a time (scripts/bench-parts/knobs.ts); BENCH_KNOBS=a,b picks some.
if (part('knobs')) {
  const { benchKnobs, formatKnobTable } = await import('./bench-parts/knobs.ts')
  const knobRows = await benchKnobs(readPlan(), { trials: TRIALS, only: process.env.BENCH_KNOBS?.split(',').filter(Boolean), say,
    onRow: (r) => (r.error ? add(`knob ${r.knob} = ${r.value}, ${r.layout}`, 'not measured', r.error)
      : add(`knob ${r.knob} = ${r.value}, ${r.layout}`, `kill p95 ${s(r.kill.p95)}`, `kill p50 ${s(r.kill.p50)}, stop p50/p95 ${s(r.stop.p50)}/${s(r.stop.p95)}, stale ${r.stale}, lost ${r.lost}`)) })
  json.knobs = knobRows
  console.log(`\n${formatKnobTable(knobRows)}`)
}

// A rolling restart under 50 users, with the drain through balancer-manager and without it (scripts/bench-parts/rolling.ts).
if (part('rolling')) {
  say('▸ rolling restart')
  const { rollingBench } = await import('./bench-parts/rolling.ts')
  const rolling = await rollingBench(readPlan(), TRIALS)
  for (const r of rolling.rows) add(r.what, r.value, r.detail)
  json.rolling = rolling
}

// Start-time levers of #16 (scripts/bench-parts/levers.ts): a Tomcat node with and without its CDS
// archive (BENCH_CDS_IMAGE measures another image), and with the fixture's McastService heartbeat
// against another (BENCH_FREQUENCY, default the post's 500 ms), and with the image's JIT options
// (client compiler only) against C1 + C2. BENCH_LEVERS=cds, =frequency or =jit for one.
if (part('levers')) {
  const { cdsBench, frequencyBench, jitBench } = await import('./bench-parts/levers.ts')
  const chosen = (process.env.BENCH_LEVERS || 'cds,frequency,jit').split(',')
  const levers: Record<string, unknown> = {}
  if (chosen.includes('cds')) {
    say('▸ levers: Tomcat start with and without class-data sharing')
    const cds = await cdsBench({ trials: TRIALS, tomcat: readPlan().tomcat, image: process.env.BENCH_CDS_IMAGE || undefined, say })
    for (const r of cds.rows) add(r.what, r.value, r.detail)
    levers.cds = cds
  }
  if (chosen.includes('frequency')) {
    say('▸ levers: Tomcat start with the fixture\'s McastService frequency and another')
    const frequency = await frequencyBench({ trials: TRIALS, tomcat: readPlan().tomcat, againstMs: Number(process.env.BENCH_FREQUENCY || 500), say })
    for (const r of frequency.rows) add(r.what, r.value, r.detail)
    levers.frequency = frequency
  }
  if (chosen.includes('jit')) {
    say('▸ levers: Tomcat start with the image\'s JIT options (client compiler only) and with C2 as well')
    const jit = await jitBench({ trials: TRIALS, tomcat: readPlan().tomcat, say })
    for (const r of jit.rows) add(r.what, r.value, r.detail)
    levers.jit = jit
  }
  json.levers = levers
}

// 4. The warm npm test itself, timed.
let junitFile = path.join(repoRoot, 'reports/junit.xml')
if (part('npm-test')) {
  const { npmTestBench } = await import('./bench-parts/npm-test.ts')
  const npmTest = await npmTestBench({ say })
  for (const r of npmTest.rows) add(r.what, r.value, r.detail)
  json.npmTest = npmTest.run
  junitFile = path.join(repoRoot, 'reports/bench-npm-test.xml')
}

// 5. Suites, from that run's JUnit file (or the last `npm test`'s).
if (part('suites') && existsSync(junitFile)) {
  // The test files: vitest writes one testsuite per file, and one more for errors outside any test.
  const report = readJunit(await readFile(junitFile, 'utf8'))
  const suites = report.suites
    .filter((x) => !x.within.length && x.name !== UNHANDLED)
    .map((x) => ({ file: x.name, tests: x.tests, seconds: x.time }))
  const total = suites.reduce((a, x) => a + x.seconds, 0)
  say(`▸ suites of ${path.relative(repoRoot, junitFile)} (${statSync(junitFile).mtime.toISOString()})`)
  for (const suite of suites.filter((x) => x.seconds > 0.5)) add(`suite ${suite.file}`, `${suite.seconds.toFixed(1)} s`, `${suite.tests} tests`)
  add('all suites (sum of files)', `${total.toFixed(1)} s`)
  if (report.problem) add('JUnit report', 'incomplete', report.problem)
  json.suites = suites
} else if (part('suites')) {
  add('suites', 'no reports/junit.xml', 'run npm test first')
}

removeRun()
mkdirSync(path.join(repoRoot, 'reports'), { recursive: true })
writeFileSync(path.join(repoRoot, `reports/bench${args.only ? `-${args.only}` : ''}.json`), `${JSON.stringify({ ...json, rows }, null, 2)}\n`)
const width = Math.max(...rows.map((r) => r.what.length))
console.log(`\n${'what'.padEnd(width)}  value                        detail`)
for (const r of rows) console.log(`${r.what.padEnd(width)}  ${r.value.padEnd(28)} ${r.detail ?? ''}`)
console.log(`\nwritten: reports/bench${args.only ? `-${args.only}` : ''}.json`)
