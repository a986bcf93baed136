/**
 * reports/index.html: one self-contained page (no network: Chart.js, the page's script and styles
 * are inlined) with charts of distribution per scheduler, failover gaps, load timelines and
 * pass/fail per suite, and the tables behind them. `renderHtml` is a pure function of the report
 * data and the two scripts it inlines (read once from node_modules and helpers/report/client.js).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Counters, ServiceFigures } from '../lab/ipvs/table.ts'
import {
  type FailoverView, type ReportData, type SessionView, attributesText, backends, counts, distributionNodes,
  distributions, duration, failovers, gapTable, measureValue, ofKind, runnerPassed, runners, seconds, shortFile, stats,
  suites, timelines, timestamp,
} from './model.ts'

export interface HtmlAssets {
  /** Chart.js's UMD build (defines the global `Chart`). */
  chartJs: string
  chartJsVersion: string
  /** helpers/report/client.js: draws the charts from the embedded data. */
  client: string
}

let assets: HtmlAssets | undefined

/** Chart.js from node_modules and the page script, read once. */
export function loadAssets(): HtmlAssets {
  if (assets) return assets
  const dist = path.dirname(createRequire(import.meta.url).resolve('chart.js'))
  const pkg = JSON.parse(readFileSync(path.join(dist, '..', 'package.json'), 'utf8')) as { version: string }
  assets = {
    chartJs: readFileSync(path.join(dist, 'chart.umd.min.js'), 'utf8').replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n'),
    chartJsVersion: pkg.version,
    client: readFileSync(fileURLToPath(new URL('./client.js', import.meta.url)), 'utf8'),
  }
  return assets
}

const esc = (value: unknown) => String(value ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** Text safe inside <script>: no `</script`, `<!--` or `<script` can end or confuse the element. */
function scriptText(text: string): string {
  return text.replace(/<(\/?script|!--)/gi, '\\u003c$1')
}

/** JSON for a <script type="application/json"> element. */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
}

const NODE_COLORS = ['#4C78A8', '#F58518', '#54A24B', '#B279A2', '#72B7B2', '#EECA3B', '#9D755D', '#FF9DA6']

/** One colour per node everywhere: `node 1` and `node01` alike (by their number); `failed` red. */
export function nodeColor(node: string): string {
  if (node === 'failed' || node === 'no answer') return '#E45756'
  const n = /(\d+)\s*$/.exec(node)
  if (n) return NODE_COLORS[(Number(n[1]) + NODE_COLORS.length - 1) % NODE_COLORS.length]!
  let h = 0
  for (const ch of node) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return NODE_COLORS[h % NODE_COLORS.length]!
}

/** Everything the page script charts, precomputed here so the script only draws. */
export function chartData(data: ReportData) {
  const views = distributions(data)
  const fo = failovers(data)
  const { groups, gaps } = gapTable(fo)
  const tl = timelines(data)
  const nodes = [...distributionNodes(views), ...tl.flatMap((t) => t.nodes), 'failed']
  return {
    colors: Object.fromEntries(nodes.map((n) => [n, nodeColor(n)])),
    suites: suites(data).map((r) => ({ label: shortFile(r.file), passed: r.passed, failed: r.failed + r.errors, skipped: r.skipped })),
    distribution: {
      nodes: distributionNodes(views),
      series: views.flatMap((v) => v.series.map((s) => ({ scheduler: v.scheduler, source: s.source, test: s.test, counts: s.counts }))),
    },
    failover: {
      groups,
      stop: groups.map((g) => (gaps[g]!.stop ?? null)),
      kill: groups.map((g) => (gaps[g]!.kill ?? null)),
    },
    timelines: tl.map((t) => ({
      title: `${t.topology}, ${t.how === 'kill' ? 'SIGKILL' : 'docker stop'}`, how: t.how, disruptionAt: t.disruptionAt,
      nodes: t.nodes, events: t.events,
    })),
  }
}

export type ChartData = ReturnType<typeof chartData>

export function renderHtml(data: ReportData, with_: HtmlAssets = loadAssets()): string {
  const c = counts(data)
  const charts = chartData(data)
  const status = c.ok ? 'passed' : 'failed'
  const tally = `${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`
  const sections = [
    planSection(data),
    backendSection(data),
    runnerSection(data),
    failuresSection(data),
    `<div class="grid two">${suitesSection(charts)}${failoverChartSection(data, charts)}</div>`,
    distributionSection(data, charts),
    timelineSection(data, charts),
    sessionsSection(data),
    statsSection(data),
    `<div class="grid two">${findingsSection(data)}${measuresSection(data)}</div>`,
    testsSection(data),
  ]
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lb-e2e ${c.ok ? '✅' : '❌'} ${esc(tally)}</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top ${status}">
  <div class="brand">
    <h1>lb-e2e <span class="verdict">${c.ok ? 'passed' : 'failed'}</span></h1>
    <p>IPVS director + Apache real servers · Tomcat session replication behind mod_proxy_balancer</p>
  </div>
  <div class="kpis">
    ${kpi(c.passed, 'passed', 'good')}${kpi(c.failed, 'failed', c.failed ? 'bad' : 'muted')}${kpi(c.skipped, 'skipped', 'muted')}${c.errors ? kpi(c.errors, 'errors outside tests', 'bad') : ''}${data.durationMs !== undefined ? kpi(duration(data.durationMs), 'duration', 'muted') : ''}
  </div>
</header>
<main>
${sections.filter(Boolean).join('\n')}
</main>
<footer>Generated ${esc(timestamp(Date.parse(data.generatedAt)))}${data.source ? ` · ${esc(data.source)}` : ''} · ${data.figures.length} figures from reports/figures.jsonl · charts: Chart.js ${esc(with_.chartJsVersion)} (MIT), inlined</footer>
<script>${scriptText(with_.chartJs)}</script>
<script type="application/json" id="report-data">${jsonText(charts)}</script>
<script>${scriptText(with_.client)}</script>
</body>
</html>
`
}

function kpi(value: unknown, label: string, tone: string): string {
  return `<div class="kpi ${tone}"><b>${esc(value)}</b><span>${esc(label)}</span></div>`
}

function card(title: string, body: string, extra = ''): string {
  return `<section class="card"${extra}><h2>${title}</h2>${body}</section>`
}

function empty(text: string): string {
  return `<p class="empty">${text}</p>`
}

function chartBox(id: string, height: number, label: string): string {
  return `<div class="chart" style="height:${Math.round(height)}px"><canvas id="${id}" role="img" aria-label="${esc(label)}"></canvas></div>`
}

/** The configuration the run held the labs to, and the Tomcat that ran it. */
function planSection(data: ReportData): string {
  const plan = ofKind(data, 'plan').at(-1)
  if (!plan) return ''
  return card('Configuration under test', `${plan.tomcat ? `<p><span class="pill backend-name">${esc(plan.tomcat)}</span></p>` : ''}<pre>${esc(plan.description)}</pre>`, ' id="plan"')
}

/** The runner VM's runs (npm run test:runner), one row per backend; nothing when it did not run. */
function runnerSection(data: ReportData): string {
  const rs = runners(data)
  if (!rs.length) return ''
  const rows = rs.map((r) => `<tr><td><span class="pill backend-name">${esc(r.backend)}</span></td><td>${esc(r.kernel)}</td>` +
    `<td>${runnerPassed(r) ? '✅' : '❌'}</td><td>${r.passed}</td><td>${r.failed}</td><td>${r.skipped}</td><td>${esc(duration(r.durationMs))}</td>` +
    `<td>${esc(r.job)}${r.exitCode === 0 ? '' : ` (exit ${esc(String(r.exitCode ?? 'none'))})`}</td></tr>` +
    r.failures.map((f) => `<tr><td></td><td colspan="7">✗ ${esc(f.test)}: ${esc(f.message)}</td></tr>`).join(''))
  return card('Runner VM: the LVS suites on a real IPVS kernel',
    `<table><thead><tr><th>backend</th><th>kernel</th><th></th><th>passed</th><th>failed</th><th>skipped</th><th>time</th><th>job</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
    ' id="runner"')
}

function backendSection(data: ReportData): string {
  const bs = backends(data)
  const body = bs.length
    ? bs.map((b) => `<p class="backend"><span class="pill backend-name">${esc(b.backend)}</span> ${esc(b.reason)}</p>`).join('')
    : empty('Not recorded: no IPVS suite ran.')
  return card('IPVS director backend', body, ' id="backend"')
}

function failuresSection(data: ReportData): string {
  const failed = data.tests.filter((t) => t.state === 'failed')
  if (!failed.length && !data.errors.length) return ''
  const rows = [
    ...failed.map((t) => `<tr><td>${esc(shortFile(t.file))}</td><td>${esc(t.name)}</td><td><code>${esc(t.error ?? '')}</code></td></tr>`),
    ...data.errors.map((e) => `<tr><td>${esc(e.where === 'unhandled' ? '(unhandled)' : shortFile(e.where))}</td><td><i>outside a test</i></td><td><code>${esc(e.message)}</code></td></tr>`),
  ]
  return `<section class="card failures" id="failures"><h2>Failures</h2><table><thead><tr><th>file</th><th>test</th><th>first line</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`
}

function suitesSection(charts: ChartData): string {
  return card('Tests per suite', charts.suites.length
    ? chartBox('chart-suites', 34 + charts.suites.length * 24, 'passed, failed and skipped tests per suite file')
    : empty('No tests ran.'), ' id="suites"')
}

function failoverChartSection(data: ReportData, charts: ChartData): string {
  if (!charts.failover.groups.length) return card('Failover gap', empty('No failover recorded.'), ' id="failover"')
  const fo = failovers(data)
  const attempts = (group: string, how: string) => fo.filter((v) => v.group === group && v.how === how).reduce((n, v) => n + v.failures.length, 0)
  const rows = charts.failover.groups.map((g, i) => `<tr><td>${esc(g)}</td>${(['stop', 'kill'] as const).map((how) => {
    const v = charts.failover[how][i]
    return `<td class="num">${v === null || v === undefined ? '—' : `${esc(seconds(v))}${attempts(g, how) ? ` <small>${attempts(g, how)} failed</small>` : ''}`}</td>`
  }).join('')}</tr>`)
  return card('Failover gap', `${chartBox('chart-failover', 260, 'failover gap in seconds per topology, docker stop and SIGKILL')}
<table class="compact"><thead><tr><th>topology</th><th class="num">docker stop</th><th class="num">SIGKILL</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="note">From the stop or kill of the sticky node to the first page the survivor served for the same user.</p>`, ' id="failover"')
}

function distributionSection(data: ReportData, charts: ChartData): string {
  const views = distributions(data)
  if (!views.length) return card('Distribution per scheduler', empty('No distribution recorded.'), ' id="distribution"')
  const nodes = distributionNodes(views)
  const rows = views.map((v) => `<tr><td>${esc(v.scheduler)}</td><td class="num">${v.series.length}</td><td class="num">${v.requests}</td>${nodes.map((n) => `<td class="num">${v.totals[n] ?? 0}</td>`).join('')}</tr>`)
  return card('Distribution per scheduler', `<p class="note">Who served each series of requests through the VIP (one bar per series; <b>failed</b>: no answer).</p>
${chartBox('chart-distribution', 48 + charts.distribution.series.length * 26, 'requests per real server for each series, by scheduler')}
<table class="compact"><thead><tr><th>scheduler</th><th class="num">series</th><th class="num">requests</th>${nodes.map((n) => `<th class="num">${nodeDot(n)}${esc(n)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`, ' id="distribution"')
}

function timelineSection(data: ReportData, charts: ChartData): string {
  if (!charts.timelines.length) {
    return card('Failover timeline', empty('No load timeline in this run. A load test that records <code>{ kind: \'load-timeline\', topology, how, events, disruptionAt }</code> (helpers/report/figures.ts) is drawn here: each request a point (time, latency, serving node, failures in red) with the stop/kill instant marked.'), ' id="timeline"')
  }
  const views = timelines(data)
  return card('Failover timeline', charts.timelines.map((t, i) => {
    const v = views[i]!
    const facts = [`${v.users} users`, `${v.requests} requests`, `${v.failed} failed`, `worst wait ${seconds(v.worstWaitMs)}`,
      `latency p50 ${v.p50LatencyMs.toFixed(0)} ms · p99 ${v.p99LatencyMs.toFixed(0)} ms · max ${v.maxLatencyMs.toFixed(0)} ms`]
    return `<h3>${esc(t.title)}</h3><p class="note">${facts.map(esc).join(' · ')}</p>${chartBox(`chart-timeline-${i}`, 320, `latency of each request over time, ${t.title}`)}`
  }).join(''), ' id="timeline"')
}

function nodeDot(node: string | undefined): string {
  return node ? `<span class="dot" style="background:${nodeColor(node)}"></span>` : ''
}

function sessionId(id: string | undefined): string {
  if (!id) return '—'
  const dot = id.lastIndexOf('.')
  return dot < 0 ? `<code>${esc(id)}</code>` : `<code>${esc(id.slice(0, dot))}<b>${esc(id.slice(dot))}</b></code>`
}

function check(ok: boolean | undefined, label: string): string {
  if (ok === undefined) return ''
  return `<span class="check ${ok ? 'yes' : 'no'}">${ok ? '✓' : '✗'} ${esc(label)}</span>`
}

function sessionsSection(data: ReportData): string {
  const fo = failovers(data)
  if (!fo.length) return card('Sessions before and after failover', empty('No failover recorded.'), ' id="sessions"')
  const row = (v: FailoverView, when: 'before' | 'after', s: SessionView | undefined) => `<tr class="${when}">
${when === 'before' ? `<td rowspan="2" class="failover-label"><b>${esc(v.group)}</b><br>${v.how === 'kill' ? 'SIGKILL' : 'docker stop'} · gap <b>${esc(seconds(v.gapMs))}</b>${v.failures.length ? `<br><small title="${esc(v.failures.join('\n'))}">${v.failures.length} failed ${v.failures.length === 1 ? 'attempt' : 'attempts'}</small>` : ''}</td>` : ''}
<td class="when">${when}</td><td class="nowrap">${sessionId(s?.sessionId)}</td><td class="nowrap">${nodeDot(s?.node)}${esc(s?.node ?? '—')}</td><td class="mono nowrap">${esc(timestamp(s?.creationTime))}</td><td class="num">${esc(s?.requestCount ?? '—')}</td><td>${esc(attributesText(s?.attributes ?? {}))}</td>
${when === 'before' ? `<td rowspan="2" class="kept">${v.kept ? `${check(v.kept.id, 'id')}${check(v.kept.creationTime, 'created')}${check(v.kept.attributes, 'attributes')}` : ''}</td>` : ''}</tr>`
  const body = fo.map((v) => row(v, 'before', v.before) + row(v, 'after', v.after)).join('')
  return card('Sessions before and after failover', `<table class="sessions"><thead><tr><th>failover</th><th></th><th>session id</th><th>node</th><th>created (UTC)</th><th class="num">requests</th><th>attributes</th><th>kept</th></tr></thead><tbody>${body}</tbody></table>`, ' id="sessions"')
}

const COUNTERS: (keyof Counters)[] = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes']
const COUNTER_NAMES = ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes']

function statsTable(title: string, services: ServiceFigures<Counters>[], compare?: ServiceFigures<Counters>[]): string {
  const rows: string[] = []
  for (const [si, s] of services.entries()) {
    const other = compare?.[si]
    const cells = (values: Counters, prev: Counters | undefined) => COUNTERS.map((k) =>
      `<td class="num${prev && prev[k] !== values[k] ? ' changed' : ''}">${values[k].toLocaleString('en-US')}</td>`).join('')
    rows.push(`<tr class="service"><td>${esc(s.protocol.toUpperCase())} ${esc(s.address)}:${s.port}</td>${cells(s.totals, other?.totals)}</tr>`)
    for (const [ri, r] of s.servers.entries()) rows.push(`<tr><td>&nbsp;&nbsp;→ ${esc(r.address)}:${r.port}</td>${cells(r, other?.servers[ri])}</tr>`)
  }
  return `<div><h3>${esc(title)}</h3><table class="stats"><thead><tr><th>LocalAddress:Port / RemoteAddress:Port</th>${COUNTER_NAMES.map((n) => `<th class="num">${n}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
}

function statsSection(data: ReportData): string {
  const views = stats(data)
  if (!views.length) return card('<code>ipvsadm -L -n --exact --stats</code>', empty('No stats recorded.'), ' id="stats"')
  return card('<code>ipvsadm -L -n --exact --stats</code>', views.map((s) => {
    const tables = s.parsed
      ? `<div class="grid two">${statsTable('before (after zeroing)', s.parsed.before)}${statsTable('after', s.parsed.after, s.parsed.before)}</div>
<details><summary>as ipvsadm printed it</summary><div class="grid two"><pre>${esc(s.before)}</pre><pre>${esc(s.after)}</pre></div></details>`
      : `<div class="grid two"><div><h3>before</h3><pre>${esc(s.before)}</pre></div><div><h3>after</h3><pre>${esc(s.after)}</pre></div></div>`
    return `<p class="test-name">${esc(s.test ?? '')}</p>${tables}`
  }).join('<hr>'), ' id="stats"')
}

function findingsSection(data: ReportData): string {
  const findings = [...ofKind(data, 'finding')].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'warning' ? -1 : 1))
  const problems = data.figureProblems.map((p) => `<li class="warning"><span class="pill warning">figures</span> ${esc(p)}</li>`)
  if (!findings.length && !problems.length) return card('Findings', empty('None recorded.'), ' id="findings"')
  return card('Findings', `<ul class="findings">${findings.map((f) => `<li class="${f.severity}"><span class="pill ${f.severity}">${f.severity}</span> ${esc(f.message)}</li>`).join('')}${problems.join('')}</ul>`, ' id="findings"')
}

function measuresSection(data: ReportData): string {
  const measures = ofKind(data, 'measure')
  const notes = data.tests.flatMap((t) => t.annotations.map((a) => ({ test: t.name, ...a })))
  if (!measures.length && !notes.length) return card('Measures', empty('None recorded.'), ' id="measures"')
  return card('Measures', `${measures.length ? `<table class="compact"><tbody>${measures.map((m) => `<tr><td>${esc(m.name)}</td><td class="num"><b>${esc(measureValue(m.value, m.unit))}</b></td></tr>`).join('')}</tbody></table>` : ''}
${notes.length ? `<details><summary>test annotations (${notes.length})</summary><ul class="notes">${notes.map((n) => `<li>${esc(n.message)}</li>`).join('')}</ul></details>` : ''}`, ' id="measures"')
}

function testsSection(data: ReportData): string {
  if (!data.tests.length) return ''
  const rows = data.tests.map((t) => `<tr class="${t.state}"><td>${esc(shortFile(t.file))}</td><td>${esc(t.name)}${t.error ? `<br><code>${esc(t.error)}</code>` : ''}</td><td><span class="pill ${t.state}">${t.state}</span></td><td class="num">${esc(duration(t.durationMs))}</td></tr>`)
  return card(`All tests (${data.tests.length})`, `<details><summary>show every test</summary><table class="tests"><thead><tr><th>file</th><th>test</th><th>result</th><th class="num">time</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`, ' id="tests"')
}

const STYLE = `
:root { --bg:#f4f6fa; --card:#fff; --ink:#1e293b; --muted:#64748b; --line:#e2e8f0; --good:#16a34a; --bad:#dc2626; --warn:#d97706; --accent:#2563eb;
  --n1:#4C78A8; --n2:#F58518; --n3:#54A24B; --n4:#B279A2; --failed:#E45756; }
* { box-sizing:border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif; }
header.top { display:flex; flex-wrap:wrap; gap:16px; align-items:center; justify-content:space-between; padding:22px 32px; color:#fff; background:linear-gradient(120deg,#0f172a,#1e3a5f); border-bottom:4px solid var(--good); }
header.top.failed { border-bottom-color:var(--bad); }
header h1 { margin:0; font-size:24px; letter-spacing:.2px; }
header p { margin:4px 0 0; color:#cbd5e1; }
.verdict { font-size:13px; vertical-align:middle; padding:3px 10px; border-radius:999px; margin-left:8px; background:var(--good); text-transform:uppercase; letter-spacing:.6px; }
header.failed .verdict { background:var(--bad); }
.kpis { display:flex; gap:10px; flex-wrap:wrap; }
.kpi { min-width:92px; padding:8px 14px; border-radius:10px; background:rgba(255,255,255,.08); text-align:center; }
.kpi b { display:block; font-size:22px; }
.kpi span { font-size:12px; color:#cbd5e1; }
.kpi.good b { color:#4ade80; } .kpi.bad b { color:#f87171; } .kpi.muted b { color:#e2e8f0; }
main { max-width:1280px; margin:0 auto; padding:20px 24px 8px; display:flex; flex-direction:column; gap:18px; }
.grid.two { display:grid; grid-template-columns:repeat(auto-fit,minmax(440px,1fr)); gap:18px; align-items:start; }
.card { background:var(--card); border:1px solid var(--line); border-radius:12px; padding:16px 20px; box-shadow:0 1px 2px rgba(15,23,42,.05); min-width:0; }
.card h2 { margin:0 0 10px; font-size:16px; }
.card h2 code { font-size:15px; }
.card h3 { margin:10px 0 6px; font-size:13px; color:var(--muted); font-weight:600; }
.card.failures { border-left:4px solid var(--bad); }
.chart { position:relative; width:100%; }
.note, .empty { color:var(--muted); margin:4px 0 10px; }
.empty { font-style:italic; }
table { border-collapse:collapse; width:100%; margin-top:8px; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--muted); font-weight:600; font-size:12px; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
table.compact td, table.compact th { padding:4px 8px; }
code, pre, .mono { font-family:ui-monospace,"SFMono-Regular","DejaVu Sans Mono",Menlo,Consolas,monospace; font-size:12px; }
pre { background:#0f172a; color:#e2e8f0; padding:10px 12px; border-radius:8px; overflow:auto; margin:6px 0; }
td code { word-break:break-all; }
td.changed { color:var(--accent); font-weight:600; }
tr.service td { font-weight:600; background:#f8fafc; }
.pill { display:inline-block; padding:1px 8px; border-radius:999px; font-size:11px; font-weight:600; text-transform:uppercase; letter-spacing:.4px; background:#e2e8f0; color:#334155; }
.pill.passed { background:#dcfce7; color:#166534; } .pill.failed { background:#fee2e2; color:#991b1b; } .pill.skipped { background:#f1f5f9; color:#64748b; }
.pill.warning { background:#fef3c7; color:#92400e; } .pill.info { background:#dbeafe; color:#1e40af; }
.pill.backend-name { background:#1e3a5f; color:#fff; font-size:13px; text-transform:none; }
.backend { margin:0; }
.dot { display:inline-block; width:9px; height:9px; border-radius:50%; margin-right:6px; background:#94a3b8; vertical-align:baseline; }
.sessions td.failover-label { background:#f8fafc; min-width:150px; }
.sessions td.nowrap { white-space:nowrap; }
.sessions td code { word-break:normal; font-size:11.5px; }
.sessions td.kept { white-space:nowrap; }
.sessions .check { display:block; width:max-content; }
.sessions tr.before td { border-bottom-style:dashed; }
.sessions td.when { color:var(--muted); }
.check { display:inline-block; margin:0 6px 4px 0; padding:1px 7px; border-radius:6px; font-size:12px; white-space:nowrap; }
.check.yes { background:#dcfce7; color:#166534; } .check.no { background:#fee2e2; color:#991b1b; }
ul.findings { list-style:none; padding:0; margin:0; }
ul.findings li { padding:8px 10px; border-radius:8px; margin-bottom:8px; background:#f8fafc; border-left:3px solid var(--accent); }
ul.findings li.warning { border-left-color:var(--warn); background:#fffbeb; }
.test-name { color:var(--muted); margin:0; font-style:italic; }
details summary { cursor:pointer; color:var(--accent); margin:8px 0; }
tr.failed td { background:#fef2f2; }
hr { border:0; border-top:1px solid var(--line); margin:14px 0; }
footer { max-width:1280px; margin:0 auto; padding:8px 24px 28px; color:var(--muted); font-size:12px; }
`
