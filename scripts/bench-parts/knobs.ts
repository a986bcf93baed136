/**
 * `npm run bench -- --only knobs` (BENCH_KNOBS=a,b for some): the failover knobs of issue #16, one
 * at a time. Each knob value is the fixtures as they were before #16 with a few exact text edits
 * (server.xml, the sticky balancer); then today's defaults and a combination. Each is laid over
 * fixtures/ as a team's directory is (LAB_FIXTURES), started as a lab, and N graceful stops and N
 * SIGKILLs of a user's node are measured: the gap until the user's next page, whether the session
 * came back (lost), whether the write made just before the failure was there (stale).
 *
 * Why these knobs (tribes' source, 9.0.x to 11): after a SIGKILL the survivor's first request that
 * changes a session sends it synchronously to every member it still lists, the dead one included;
 * ParallelNioSender waits for the ack in select(5000) whatever the Transport's `timeout`, so the
 * request blocks ~5 s unless the dead member has left the list before the request arrives. It
 * leaves when McastService misses its heartbeats for dropTime, or when TcpFailureDetector's TCP
 * check (connectTimeout) fails, which TcpPingInterceptor runs every `interval` when it stands
 * before the detector. The balancer's side is its connect timeout to the dead member.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sessionKey } from '../../helpers/lab/exsession.ts'
import { type Plan, type Topology, readPlan } from '../../helpers/intake/plan.ts'
import { TomcatLab } from '../../helpers/lab/tomcat-lab.ts'
import { percentile } from '../../helpers/checks/tally.ts'
import { LabError } from '../../helpers/errors.ts'
import { fixturesDir } from '../../helpers/settings.ts'

/** One exact edit of a fixture file: every occurrence of `from` becomes `to` (a `from` that is gone is an error). */
export interface Edit { file: 'tomcat/server.xml' | 'httpd/balancer-sticky.conf'; from: string; to: string }

export interface Knob {
  knob: string
  value: string
  edits: Edit[]
  /** Layouts measured (default multi-host: the single-host layout's dead member refuses connections at once). */
  layouts?: Topology[]
}

export interface Gaps { n: number; p50: number; p95: number; max: number }

export interface KnobRow {
  knob: string
  value: string
  layout: Topology
  stop: Gaps
  kill: Gaps
  /** Failovers where the write made just before the disruption was missing afterwards. */
  stale: number
  /** Failovers where the session did not come back (another id, another creation time, an earlier write missing). */
  lost: number
  /** Failed attempts (errors, non-200) the user saw during all trials before the survivor's page. */
  failedRequests: number
  /** Why this knob value could not be measured (its lab did not start, a setting did not take): no figures then. */
  error?: string
}

/** What the default fixtures have since #16 (a quick ping ahead of a quick failure detector), and the detector as it stood before. */
const QUICK_DETECTION = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="100"/>\n' +
  '            <Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector" connectTimeout="250"/>'
const SENDER = '<Transport className="org.apache.catalina.tribes.transport.nio.PooledParallelSender"/>'
const DETECTOR = '<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpFailureDetector"/>'
const MCAST = 'frequency="500"\n                        dropTime="3000"/>'
const MEMBER_PARAMS = 'connectiontimeout=1 retry=5'
const PING = (interval: number) => `<Interceptor className="org.apache.catalina.tribes.group.interceptors.TcpPingInterceptor" useThread="true" interval="${interval}"/>`
const xml = (from: string, to: string): Edit => ({ file: 'tomcat/server.xml', from, to })
const httpd = (from: string, to: string): Edit => ({ file: 'httpd/balancer-sticky.conf', from, to })
const detector = (attributes: string) => DETECTOR.replace('/>', ` ${attributes}/>`)
const ping = (interval: number, detectorAttributes = '') =>
  xml(DETECTOR, `${PING(interval)}\n            ${detectorAttributes ? detector(detectorAttributes) : DETECTOR}`)
const HCHECK = '<IfModule !proxy_hcheck_module>\n    LoadModule proxy_hcheck_module /usr/lib/apache2/modules/mod_proxy_hcheck.so\n</IfModule>\n<Proxy balancer://mycluster>'

/** The fixtures as they were before #16 (and before the quicker heartbeat and drop): every single knob is one change from these. */
const POST_HEARTBEAT = [xml('frequency="100"', 'frequency="500"'), xml('dropTime="1000"', 'dropTime="3000"')]
const BEFORE = [xml(QUICK_DETECTION, DETECTOR), ...POST_HEARTBEAT]
const one = (knob: string, value: string, ...edits: Edit[]): Knob => ({ knob, value, edits: [...BEFORE, ...edits] })

/** The knobs, one change at a time from the fixtures before #16, then the defaults and the combinations they suggest. */
export const KNOBS: Knob[] = [
  { knob: 'baseline', value: 'fixtures before #16 (no ping, detector defaults)', edits: BEFORE, layouts: ['single-host', 'multi-host'] },
  one('Transport timeout', '1000 ms', xml(SENDER, SENDER.replace('/>', ' timeout="1000"/>'))),
  one('TcpFailureDetector connectTimeout', '500 ms', xml(DETECTOR, detector('connectTimeout="500"'))),
  one('TcpFailureDetector performReadTest', 'true, readTestTimeout 500 ms', xml(DETECTOR, detector('performReadTest="true" readTestTimeout="500"'))),
  one('McastService frequency/dropTime', '250 / 1500 ms', xml(MCAST, 'frequency="250"\n                        dropTime="1500"/>')),
  one('TcpPingInterceptor', 'useThread, interval 250 ms', ping(250)),
  one('TcpPingInterceptor + connectTimeout', '250 ms + 500 ms', ping(250, 'connectTimeout="500"')),
  one('TcpPingInterceptor + connectTimeout', '100 ms + 250 ms', ping(100, 'connectTimeout="250"')),
  one('mod_proxy connectiontimeout', '500ms', httpd(MEMBER_PARAMS, 'connectiontimeout=500ms retry=5')),
  one('mod_proxy ping', '500ms', httpd(MEMBER_PARAMS, `${MEMBER_PARAMS} ping=500ms`)),
  one('mod_proxy_hcheck', 'hcmethod=TCP hcinterval=1', httpd('<Proxy balancer://mycluster>', HCHECK), httpd(MEMBER_PARAMS, `${MEMBER_PARAMS} hcmethod=TCP hcinterval=1`)),
  { knob: 'default fixtures', value: 'ping 100 + connectTimeout 250, heartbeat 100 / drop 1000 (since #16)', edits: [], layouts: ['single-host', 'multi-host'] },
  // Today's defaults with the post's heartbeat and drop time (the start-time lever, bench --only levers, and the drop).
  { knob: 'McastService frequency/dropTime', value: "the post's 500 / 3000 ms on today's defaults", edits: POST_HEARTBEAT },
  // The dead member must leave the survivor's list (ping interval + connectTimeout) before the
  // balancer gives up on it (connectiontimeout) and sends the user there.
  { knob: 'combination', value: 'default fixtures + connectiontimeout 500ms', edits: [httpd(MEMBER_PARAMS, 'connectiontimeout=500ms retry=5')], layouts: ['single-host', 'multi-host'] },
]

export interface KnobOptions {
  trials: number
  /** Only the knobs whose name or value contains one of these (default: all). */
  only?: string[]
  /** Each row as soon as it is measured. */
  onRow?: (row: KnobRow) => void
  /** Progress lines. */
  say?: (line: string) => void
}

/** Measures every knob (or the chosen ones) in its layouts: one row each. */
export async function benchKnobs(run: Plan, options: KnobOptions): Promise<KnobRow[]> {
  const rows: KnobRow[] = []
  const chosen = KNOBS.filter((k) => !options.only?.length || options.only.some((o) => `${k.knob} ${k.value}`.toLowerCase().includes(o.toLowerCase())))
  for (const knob of chosen) {
    const variant = knobVariant(knob, run)
    try {
      for (const layout of knob.layouts ?? ['multi-host']) {
        options.say?.(`▸ knob ${knob.knob} = ${knob.value}, ${layout}`)
        // One knob that cannot run (httpd refusing a module, Tomcat ignoring a setting) is a row saying why, not the end of the table.
        const lab = await TomcatLab.start(variant.plan, { topology: layout }).catch((error: Error) => error)
        if (lab instanceof Error) {
          const none: Gaps = { n: 0, p50: Number.NaN, p95: Number.NaN, max: Number.NaN }
          const row: KnobRow = { knob: knob.knob, value: knob.value, layout, stop: none, kill: none, stale: 0, lost: 0, failedRequests: 0, error: lab.message.split('\n')[0]! }
          rows.push(row)
          options.onRow?.(row)
          continue
        }
        try {
          await expectApplied(lab, knob)
          const stop = await trials(lab, 'stop', options.trials)
          const kill = await trials(lab, 'kill', options.trials)
          const all = [...stop, ...kill]
          const row: KnobRow = {
            knob: knob.knob, value: knob.value, layout, stop: gaps(stop), kill: gaps(kill),
            stale: all.filter((t) => t.stale).length, lost: all.filter((t) => t.lost).length,
            failedRequests: all.reduce((a, t) => a + t.failed, 0),
          }
          rows.push(row)
          options.onRow?.(row)
        } finally {
          await lab.stop()
        }
      }
    } finally {
      variant.remove()
    }
  }
  return rows
}

/** The default fixtures with the knob's edits, as an overlay directory read into a plan of its own. */
export function knobVariant(knob: Knob, run: Pick<Plan, 'limits' | 'tomcat'>): { plan: Plan; dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-knob-'))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    for (const [file, text] of Object.entries(applyEdits(knob))) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      writeFileSync(path.join(dir, file), text)
    }
    const before = process.env.LAB_FIXTURES
    process.env.LAB_FIXTURES = dir
    try {
      return { plan: { ...readPlan(), limits: run.limits, tomcat: run.tomcat }, dir, remove }
    } finally {
      if (before === undefined) delete process.env.LAB_FIXTURES
      else process.env.LAB_FIXTURES = before
    }
  } catch (error) {
    remove()
    throw error
  }
}

/** The changed files' texts; an edit whose `from` no longer occurs is stale (the fixture changed), an error. */
export function applyEdits(knob: Knob, base = fixturesDir): Record<string, string> {
  const texts: Record<string, string> = {}
  for (const edit of knob.edits) {
    const text = texts[edit.file] ?? readFileSync(path.join(base, edit.file), 'utf8')
    if (!text.includes(edit.from)) throw new LabError(`knob ${knob.knob} = ${knob.value}: fixtures/${edit.file} no longer holds ${JSON.stringify(edit.from)}: update the knob`)
    texts[edit.file] = text.replaceAll(edit.from, edit.to)
  }
  return texts
}

/** Tomcat ignores an attribute it cannot set, and httpd a module it cannot load would stop it: a knob that did not take is an error, not a figure. */
async function expectApplied(lab: TomcatLab, knob: Knob): Promise<void> {
  for (const node of Object.values(lab.nodes)) {
    const ignored = (await node.allLogs()).split('\n').filter((l) => /failed to set property/.test(l))
    if (ignored.length) throw new LabError(`knob ${knob.knob} = ${knob.value}: ${node.route} ignored a setting: ${ignored[0]!.trim()}`)
  }
}

interface Trial { gapMs: number; failed: number; lost: boolean; stale: boolean }

/**
 * `count` failovers of one user's node: a write that settles (the session's first request), a
 * write just before the disruption, then the user's next page from a survivor.
 */
async function trials(lab: TomcatLab, how: 'stop' | 'kill', count: number): Promise<Trial[]> {
  const results: Trial[] = []
  for (let i = 0; i < count; i++) {
    await lab.restore()
    const user = lab.user()
    const first = await user.visit({ name: 'settled', value: String(i) })
    const before = await user.visit({ name: 'recent', value: String(i) })
    const victim = lab.node(before.node)
    const since = performance.now()
    await (how === 'stop' ? victim.shutdown() : victim.kill())
    const { page, gapMs, failures } = await lab.recover(user, since, 60_000)
    const lost = sessionKey(page.sessionId) !== sessionKey(first.sessionId) || page.creationTime !== first.creationTime || page.attributes.settled !== String(i)
    results.push({ gapMs, failed: failures.length, lost, stale: !lost && page.attributes.recent !== String(i) })
  }
  await lab.restore()
  return results
}

function gaps(trials: Trial[]): Gaps {
  const sorted = trials.map((t) => t.gapMs).sort((a, b) => a - b)
  return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1) ?? Number.NaN }
}

/** The table as the bench prints it and the fixtures' comments cite it. */
export function formatKnobTable(rows: KnobRow[]): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const lines = ['| knob | value | layout | stop p50 | stop p95 | kill p50 | kill p95 | stale | lost | failed requests |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|']
  for (const r of rows) {
    if (r.error) { lines.push(`| ${r.knob} | ${r.value} | ${r.layout} | not measured: ${r.error} | | | | | | |`); continue }
    lines.push(`| ${r.knob} | ${r.value} | ${r.layout} | ${s(r.stop.p50)} | ${s(r.stop.p95)} | ${s(r.kill.p50)} | ${s(r.kill.p95)} | ${r.stale} | ${r.lost} | ${r.failedRequests} |`)
  }
  return lines.join('\n')
}
