// The reports' pure parts on hand-written sample data (suites/unit/fixtures): reading figures and
// JUnit, the views derived from them, and what summary.md and index.html say.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, test } from 'vitest'
import { chartData, renderHtml } from '../../helpers/report/html.ts'
import {
  type ReportData, counts, distributions, failovers, gapTable, parseFigures, resultsFromJunit, stats, suites, timelines,
} from '../../helpers/report/model.ts'
import { renderSummary } from '../../helpers/report/summary.ts'
import { reportFromFiles } from '../../helpers/report/write.ts'

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

function sample(withTimeline = false): ReportData {
  const { tests, errors } = resultsFromJunit(fixture('junit-sample.xml'))
  const { figures, problems } = parseFigures(fixture('figures-sample.jsonl') + (withTimeline ? fixture('timeline-sample.jsonl') : ''))
  return { generatedAt: '2026-11-26T12:15:00.000Z', durationMs: 847_312, tests, errors, figures, figureProblems: problems }
}

describe('reading', () => {
  test('figures.jsonl: every sample line is a figure; bad lines are reported, not thrown', () => {
    const { figures, problems } = parseFigures(fixture('figures-sample.jsonl'))
    expect(problems).toEqual([])
    expect(figures).toHaveLength(24)
    const bad = parseFigures('{"kind":"measure","name":"x","value":1,"unit":"s","at":"2026-01-01T00:00:00Z","test":null}\nnot json\n{"kind":"nope"}\n')
    expect(bad.figures).toHaveLength(1)
    expect(bad.problems).toEqual([expect.stringMatching(/^figures.jsonl line 2: /), 'figures.jsonl line 3: unknown figure kind "nope"'])
  })

  test('figures of an earlier run are left out by time', () => {
    const text = fixture('figures-sample.jsonl')
    expect(parseFigures(text, Date.parse('2026-11-26T12:01:00Z')).figures.every((f) => f.at >= '2026-11-26T12:01:00')).toBe(true)
    expect(parseFigures(text, Date.parse('2027-01-01T00:00:00Z')).figures).toEqual([])
  })

  test('JUnit: states, durations, annotations, first line of a failure, unhandled errors', () => {
    const { tests, errors } = resultsFromJunit(fixture('junit-sample.xml'))
    expect(tests).toHaveLength(46)
    const failed = tests.filter((t) => t.state === 'failed')
    expect(failed.map((t) => [t.file, t.error])).toEqual([['suites/balancer-nonsticky.test.ts',
      'server-status Elected per member: expected { node01: 11, node02: 10 } to deeply equal { node01: 10, node02: 10 }']])
    const kill = tests.find((t) => t.name.includes('multi-host') && t.name.endsWith('SIGKILL of its sticky node'))!
    expect(kill).toMatchObject({ state: 'passed', durationMs: 7750, annotations: [{ type: 'figure', message: 'multi-host: failover gap after SIGKILL 7.31 s (2 failed attempts)' }] })
    expect(tests.find((t) => t.name.startsWith('balancer configuration check'))!.name).toContain("httpd's message")
    expect(errors).toEqual([])

    const more = resultsFromJunit(`<testsuites><testsuite name="a">
      <testcase classname="a" name="later"><skipped/></testcase>
      <testcase classname="a" name="x &gt; y" time="0.5"/>
    </testsuite><testsuite name="vitest unhandled errors">
      <testcase classname="vitest unhandled errors" name="Error: boom" time="0"><error message="boom&#10;second line" type="Error">stack</error></testcase>
    </testsuite></testsuites>`)
    expect(more.tests.map((t) => [t.name, t.state, t.durationMs])).toEqual([['later', 'skipped', 0], ['x > y', 'passed', 500]])
    expect(more.errors).toEqual([{ where: 'unhandled', message: 'boom' }])
  })

  test('JUnit read as XML: CDATA, entities, a message with > and quotes or two lines, nested suites, the run time', () => {
    const { tests, errors, durationMs } = resultsFromJunit(fixture('junit-tricky.xml'))
    expect(tests.map((t) => [t.file, t.name, t.state, t.durationMs, t.error, t.errorType])).toEqual([
      ['suites/a & b.test.ts', 'x < y && "quoted" été', 'passed', 250, undefined, undefined],
      ['suites/a & b.test.ts', 'a failure whose message has > and quotes', 'failed', 1500, `expected 'a' > "b"`, 'AssertionError'],
      ['suites/a & b.test.ts', 'later', 'skipped', 0, undefined, undefined],
      // no message attribute: the first line of the text, out of its CDATA
      ['suites/a & b.test.ts', 'a failure in CDATA', 'failed', 500, "Error: <b> & 'c'", undefined],
      // vitest writes a message's line breaks into the attribute: its first line, not the two joined by a space
      ['suites/a & b.test.ts', 'an error with a message of two lines', 'failed', 100, 'first', 'TypeError'],
      ['suites/a & b.test.ts', 'annotated', 'passed', 500, undefined, undefined],
      ['suites/a & b.test.ts', 'nested > passed', 'passed', 1000, undefined, undefined],
      ['suites/a & b.test.ts', 'nested > todo', 'skipped', 0, undefined, undefined],
    ])
    expect(tests[5]!.annotations).toEqual([{ type: 'figure', message: 'gap 1 < 2 s' }])
    expect(errors).toEqual([{ where: 'unhandled', message: 'boom & bust' }])
    expect(durationMs).toBe(12_500)
    expect(counts({ generatedAt: '', tests, errors, figures: [], figureProblems: [] })).toEqual({ passed: 3, failed: 3, skipped: 2, errors: 1, total: 8, ok: false })
  })

  test('JUnit cut short: an error outside tests says so, and the run is no pass', () => {
    const xml = fixture('junit-sample.xml')
    const { tests, errors } = resultsFromJunit(xml.slice(0, xml.length / 2))
    expect(tests.length).toBeGreaterThan(0)
    expect(tests.length).toBeLessThan(46)
    expect(errors).toEqual([{ where: 'unhandled', message: expect.stringMatching(/^the JUnit report is cut short or not well-formed XML at \d+:\d+/) }])
    expect(counts({ generatedAt: '', tests, errors, figures: [], figureProblems: [] }).ok).toBe(false)
  })

  test('a report rebuilt from files takes the run time from the JUnit root', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-report-'))
    try {
      const junit = path.join(dir, 'junit.xml')
      writeFileSync(junit, fixture('junit-tricky.xml'))
      const data = await reportFromFiles(junit, [path.join(dir, 'absent.jsonl')], 'rebuilt')
      expect(data).toMatchObject({ durationMs: 12_500, source: 'rebuilt', figures: [], errors: [{ where: 'unhandled', message: 'boom & bust' }] })
      expect(data.tests).toHaveLength(8)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('views', () => {
  const data = sample(true)

  test('counts and suites', () => {
    expect(counts(data)).toEqual({ passed: 45, failed: 1, skipped: 0, errors: 0, total: 46, ok: false })
    expect(suites(data).find((s) => s.file === 'suites/tomcat-failover.test.ts')).toMatchObject({ passed: 6, failed: 0 })
    expect(counts({ ...data, tests: [] }).ok).toBe(false) // no test ran: not a pass
  })

  test('distributions are grouped per scheduler with nodes in order and `failed` last', () => {
    const views = distributions(data)
    expect(views.map((v) => v.scheduler)).toEqual(['rr (rr.rules)', 'wrr (wrr.rules)', 'lc (lc.rules)', 'sh (sh.rules)', 'rr -p 300 (persistent.rules)'])
    const rr = views[0]!
    expect(rr.nodes).toEqual(['node 1', 'node 2', 'node 3', 'failed'])
    expect(rr.totals).toEqual({ 'node 1': 23, 'node 2': 18, 'node 3': 3, failed: 5 })
    expect(views[1]!.totals).toEqual({ 'node 1': 9, 'node 2': 3 })
  })

  test('stats are parsed from the exact ipvsadm layout', () => {
    const [s] = stats(data)
    expect(s!.parsed!.after[0]!.totals).toEqual({ conns: 10, inPkts: 52, outPkts: 50, inBytes: 3374, outBytes: 5310 })
    expect(s!.parsed!.before[0]!.servers.map((r) => r.conns)).toEqual([0, 0])
  })

  test('failover gaps per topology and stop/kill; the session is recognised as the same', () => {
    const fo = failovers(data)
    expect(gapTable(fo).gaps).toEqual({
      'single-host': { stop: 213.6, kill: 187.2 },
      'multi-host': { stop: 1204.9, kill: 7312.4 },
      'single-host (original post)': { stop: 296.3 },
    })
    expect(fo.every((v) => v.kept?.id && v.kept.creationTime && v.kept.attributes)).toBe(true)
    const changed = failovers({ ...data, figures: [{ ...data.figures.find((f) => f.kind === 'failover')!, after: { sessionId: 'OTHER.node02', creationTime: 1, attributes: {} } } as never] })
    expect(changed[0]!.kept).toEqual({ id: false, creationTime: false, attributes: false })
  })

  test('a load timeline: failures, worst user wait, latency percentiles', () => {
    const [t] = timelines(data)
    expect(t).toMatchObject({ topology: 'multi-host', how: 'kill', users: 4, requests: 163, failed: 1, nodes: ['node01', 'node02'] })
    // user 0: a 503 after 1 s (connectiontimeout=1), then 5 s held by the survivor's send to the dead peer
    expect(t!.worstWaitMs).toBeGreaterThan(6000)
    expect(t!.worstWaitMs).toBeLessThan(7000)
    expect(t!.p50LatencyMs).toBeLessThan(30)
  })
})

describe('summary.md', () => {
  const md = renderSummary(sample(true))

  test('headline, backend and the failed test with its first line', () => {
    expect(md.split('\n')[0]).toBe('## ❌ lb-e2e: 45 passed, 1 failed')
    expect(md).toContain('**IPVS backend:** `vm` — auto: kernel 6.18.44-fc-v782: /proc/net/ip_vs absent')
    expect(md).toContain("| balancer-nonsticky | non-sticky balancing, multi-host layout (fixtures/httpd/balancer-nonsticky.conf) > the balancer's own per-member counts (server-status Elected) agree with what the client saw | server-status Elected per member: expected { node01: 11, node02: 10 } to deeply equal { node01: 10, node02: 10 } |")
  })

  test('distribution per scheduler and node', () => {
    expect(md).toContain('| scheduler | series | requests | node 1 | node 2 | node 3 | failed |')
    expect(md).toContain('| rr (rr.rules) | 5 | 49 | 23 | 18 | 3 | 5 |')
    expect(md).toContain('| wrr (wrr.rules) | 1 | 12 | 9 | 3 | 0 | 0 |')
    expect(md).toContain('| sh (sh.rules) | client 172.29.211.160 | 0 | 3 | 0 | 0 |')
  })

  test('the stats pair as code blocks', () => {
    expect(md).toContain('```\nIP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\nTCP  172.29.211.200:80                  10       52       50     3374     5310\n')
  })

  test('failover gaps and the sessions before/after', () => {
    expect(md).toContain('| single-host | 0.21 s | 0.19 s |')
    expect(md).toContain('| multi-host | 1.20 s | 7.31 s |')
    expect(md).toContain('| single-host (original post) | 0.30 s | — |')
    expect(md).toContain('| multi-host, SIGKILL | before | 0E4B7A2C9D5F4E1A8B3C6D0F2E9A7B45.node02 | node02 | 2026-11-26 12:01:43.972Z | 3 | color=blue, cart=three books |')
    expect(md).toContain('| ✅ same session | after | 0E4B7A2C9D5F4E1A8B3C6D0F2E9A7B45.node01 | node01 | 2026-11-26 12:01:43.972Z | 4 | color=blue, cart=three books |')
  })

  test('findings (warnings first), measures, load timelines', () => {
    const warning = md.indexOf('- ⚠️ **warning:** multi-host, SIGKILL')
    expect(warning).toBeGreaterThan(0)
    expect(md.indexOf('- ℹ️ IPVS has no health check')).toBeGreaterThan(warning)
    expect(md).toContain('| 200 sessions checked across a node stop | 41.3 s |')
    expect(md).toMatch(/\| multi-host \| SIGKILL \| 4 \| 163 \| 1 \| 6\.\d\d s \|/)
  })

  test('a run without figures says so instead of leaving sections out', () => {
    const bare = renderSummary({ generatedAt: '2026-11-26T12:15:00.000Z', tests: [{ project: 'unit', file: 'suites/unit/a.test.ts', name: 'a', state: 'passed', durationMs: 3, annotations: [] }], errors: [], figures: [], figureProblems: [] })
    expect(bare).toContain('## ✅ lb-e2e: 1 passed, 0 failed')
    expect(bare).toContain('**IPVS backend:** not recorded (no IPVS suite ran)')
    expect(bare).toContain('_No distribution recorded._')
    expect(bare).toContain('_No failover recorded._')
  })

  test('the plan the run held the labs to is shown as recorded', () => {
    const data = sample()
    data.figures.push({ at: '2026-11-26T12:10:00Z', test: null, kind: 'plan', source: 'examples/corpus/static-membership', description: 'plan (examples/corpus/static-membership): 3 Tomcat nodes; …\n  node01: app1/server.xml' })
    // As the reporter reads it back from figures.jsonl.
    const read = parseFigures(data.figures.map((f) => JSON.stringify(f)).join('\n'))
    expect(read.problems).toEqual([])
    expect(read.figures.filter((f) => f.kind === 'plan')).toHaveLength(1)
    expect(renderSummary(data)).toContain('**Configuration under test** (examples/corpus/static-membership):\n\n```\nplan (examples/corpus/static-membership): 3 Tomcat nodes; …\n  node01: app1/server.xml\n```')
    expect(renderSummary(data)).not.toContain('**Tomcat:**')
  })

  test('the Tomcat that ran, as its image says, in the summary and the page', () => {
    const data = sample()
    data.figures.push({ at: '2026-11-26T12:10:00Z', test: null, kind: 'plan', source: 'fixtures', description: 'plan (fixtures): 2 Tomcat 11 nodes; …', tomcat: 'Apache Tomcat/11.0.22 (Debian)' })
    expect(renderSummary(data)).toContain('**Tomcat:** Apache Tomcat/11.0.22 (Debian)')
    const html = renderHtml(data)
    expect(html).toContain('Apache Tomcat/11.0.22 (Debian)')
    expect(html).toContain('plan (fixtures): 2 Tomcat 11 nodes; …')
  })

  test('the runner VM\'s runs: a section per backend (the last run of each), and a failed one turns the report red', () => {
    const data = sample()
    data.tests = data.tests.map((t) => ({ ...t, state: t.state === 'failed' ? 'passed' : t.state }))
    data.errors = []
    const run = (backend: string, failed: number, at: string) => ({
      at, test: null, kind: 'runner' as const, backend, kernel: '6.12.117+deb13-amd64', exitCode: failed ? 1 : 0, passed: 40, failed, skipped: 2,
      durationMs: 301_000, failures: failed ? [{ test: 'lvs-stats > counters agree', message: 'expected 5 to be 6' }] : [], job: 'scripts/ci-job.sh',
    })
    data.figures.push(run('host', 1, '2026-11-26T12:20:00Z'), run('host', 0, '2026-11-26T12:30:00Z'), run('container', 0, '2026-11-26T12:30:00Z'))
    expect(counts(data).ok).toBe(true)
    const out = renderSummary(data)
    expect(out).toContain('### Runner VM: the LVS suites on a real IPVS kernel')
    expect(out).toContain('| `host` | 6.12.117+deb13-amd64 | ✅ | 40 | 0 | 2 |')
    expect(out).toContain('| `container` | 6.12.117+deb13-amd64 | ✅ |')
    expect(out).not.toContain('expected 5 to be 6') // the earlier, failed run of host is not the last
    data.figures.push(run('container', 1, '2026-11-26T12:40:00Z'))
    expect(counts(data).ok).toBe(false)
    expect(renderSummary(data)).toContain('| `container` | lvs-stats > counters agree | expected 5 to be 6 |')
    expect(renderHtml(data)).toContain('✗ lvs-stats &#62; counters agree: expected 5 to be 6')
    data.figures.push({ ...run('container', 0, '2026-11-26T12:50:00Z'), exitCode: null })
    expect(counts(data).ok, 'a job that never finished is no pass').toBe(false)
  })

  test('pipes in names do not break tables; backticks in stats do not break the code block', () => {
    const data = sample()
    data.tests[0] = { ...data.tests[0]!, state: 'failed', name: 'stickysession=JSESSIONID|jsessionid', error: 'a | b' }
    data.figures.push({ at: '2026-11-26T12:10:00Z', test: null, kind: 'ipvs-stats', before: 'x ``` y', after: 'z' })
    const out = renderSummary(data)
    expect(out).toContain('stickysession=JSESSIONID\\|jsessionid | a \\| b |')
    expect(out).toContain('````\nx ``` y\n````')
  })
})

describe('index.html', () => {
  test('self-contained: Chart.js and the page script inline, nothing to fetch', () => {
    const html = renderHtml(sample(true))
    expect(html.includes('Chart.js v4'), 'Chart.js inlined').toBe(true)
    // URLs appear only in licence comments (chartjs.org, @kurkle/color's readme), never as a resource
    const loads = html.match(/<script[^>]+src=|<link[^>]+href=|@import|sourceMappingURL|(src|href|action)\s*=\s*["']?(https?:)?\/\//gi)
    expect(loads, 'references to outside resources').toBeNull()
    expect(html.match(/\burl\(/g), 'CSS url()').toBeNull()
    expect(html.match(/<\/script>/g)?.length, 'script elements').toBe(3)
  })

  test('chart data: suites, distribution series, gaps, timelines and one colour per node', () => {
    const c = chartData(sample(true))
    expect(c.suites).toHaveLength(18)
    expect(c.distribution.series).toHaveLength(13)
    expect(c.failover).toEqual({ groups: ['single-host', 'multi-host', 'single-host (original post)'], stop: [213.6, 1204.9, 296.3], kill: [187.2, 7312.4, null] })
    expect(c.timelines[0]!.events).toHaveLength(163)
    expect(c.colors['node 1']).toBe(c.colors.node01)
    expect(c.colors.failed).toBe('#E45756')
  })

  test('names and messages are escaped, and nothing can close a script element early', () => {
    const data = sample()
    data.tests[0] = { ...data.tests[0]!, state: 'failed', name: '<img src=x onerror=alert(1)>', error: '</script><b>' }
    data.figures.push({ at: '2026-11-26T12:10:00Z', test: '</script>', kind: 'distribution', scheduler: '</script>', source: 'host', served: ['a'], counts: { a: 1 } })
    const html = renderHtml(data)
    expect(html.includes('<img src=x'), 'raw <img> in the page').toBe(false)
    expect(html.match(/<\/script>/gi)?.length, 'script elements').toBe(3)
  })

  test('without a timeline, its place says what would be drawn there', () => {
    const html = renderHtml(sample())
    expect(html.includes("No load timeline in this run. A load test that records <code>{ kind: 'load-timeline'"), 'placeholder text').toBe(true)
    expect(html.includes('id="chart-timeline-'), 'a timeline canvas').toBe(false)
  })
})
