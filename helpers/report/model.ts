/**
 * What the reports of a run are made of, and the views a reviewer reads, derived from it by pure
 * functions: test results (from vitest's reporter API or from a JUnit file) and the figures the
 * tests recorded in reports/figures.jsonl (helpers/report/figures.ts).
 */
import type { Figure } from './figures.ts'
import { type JunitFailure, readJunit } from './junit.ts'
import { type Counters, parseStats, type ServiceFigures } from '../lab/ipvs/table.ts'

/** One line of figures.jsonl. */
export type FigureRecord = Figure & { at: string; test: string | null }
export type FigureOf<K extends Figure['kind']> = Extract<FigureRecord, { kind: K }>

export type TestState = 'passed' | 'failed' | 'skipped'

export interface TestResult {
  /** vitest project (unit, lvs, tomcat); empty when read from JUnit, which does not keep it. */
  project: string
  /** Path relative to the repository, e.g. suites/lvs-stats.test.ts. */
  file: string
  /** Suite names and test name joined by ' > ', as in JUnit and figures.jsonl. */
  name: string
  state: TestState
  durationMs: number
  /** First line of the first error of a failed test. */
  error?: string
  /**
   * The name of that error, JUnit's `type`: AssertionError for a failed expect (soft, poll and
   * node:assert too), TestTimeoutError for a test that ran out of time, LabSetupError for a lab that
   * could not be set up, LabError, Error, TypeError … for anything else a test threw.
   */
  errorType?: string
  annotations: { type: string; message: string }[]
}

export interface ReportData {
  generatedAt: string
  /** Wall time of the run, when known. */
  durationMs?: number
  tests: TestResult[]
  /** Errors outside tests (collection, hooks, unhandled), first line each, with where. */
  errors: { where: string; message: string }[]
  figures: FigureRecord[]
  /** Lines of figures.jsonl that could not be read. */
  figureProblems: string[]
  /** Where the data came from, shown in the footer (e.g. "vitest run", "merged from 2 shards"). */
  source?: string
}

// ── reading ──────────────────────────────────────────────────────────────────────────────────────

const KINDS = new Set<Figure['kind']>(['ipvs-backend', 'limits', 'plan', 'distribution', 'ipvs-stats', 'failover', 'finding', 'measure', 'load-timeline', 'runner'])

/** figures.jsonl → records; `since` (ms) drops lines of an earlier run left in the file. */
export function parseFigures(text: string, since?: number): { figures: FigureRecord[]; problems: string[] } {
  const figures: FigureRecord[] = []
  const problems: string[] = []
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (error) {
      problems.push(`figures.jsonl line ${i + 1}: ${(error as Error).message}`)
      continue
    }
    const record = value as Partial<FigureRecord> | null
    if (!record || typeof record !== 'object' || !KINDS.has(record.kind as Figure['kind'])) {
      problems.push(`figures.jsonl line ${i + 1}: unknown figure kind ${JSON.stringify(record?.kind)}`)
      continue
    }
    if (since !== undefined && typeof record.at === 'string' && Date.parse(record.at) < since) continue
    figures.push({ ...record, at: String(record.at ?? ''), test: record.test ?? null } as FigureRecord)
  }
  return { figures, problems }
}

/** The test results of a JUnit file written by vitest's junit reporter (merged or not), and the run's wall time. */
export function resultsFromJunit(xml: string): Pick<ReportData, 'tests' | 'errors' | 'durationMs'> {
  const report = readJunit(xml)
  // A failure's message, or its text when vitest wrote none (an error without one).
  const message = (f: JunitFailure) => firstLine(f.message || f.text)
  const tests = report.tests.map((c): TestResult => {
    const failure = c.failures[0]
    return {
      project: '', file: c.classname, name: c.name, state: c.state, durationMs: Math.round(c.time * 1000),
      annotations: c.properties.map((p) => ({ type: p.name, message: p.value })),
      ...(failure ? { error: message(failure) } : {}),
      ...(failure?.type ? { errorType: failure.type } : {}),
    }
  })
  const errors: ReportData['errors'] = report.unhandled.map((c) => ({ where: 'unhandled', message: c.failures[0] ? message(c.failures[0]) : c.name }))
  if (report.problem) errors.push({ where: 'unhandled', message: report.problem })
  return { tests, errors, ...(report.time !== undefined ? { durationMs: report.time * 1000 } : {}) }
}

/** The first non-empty line, without ANSI colours, at most 300 characters. */
export function firstLine(text: string): string {
  const line = text.replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).find(Boolean) ?? ''
  return line.length > 300 ? `${line.slice(0, 299)}…` : line
}

// ── views ────────────────────────────────────────────────────────────────────────────────────────

export function ofKind<K extends Figure['kind']>(data: ReportData, kind: K): FigureOf<K>[] {
  return data.figures.filter((f): f is FigureOf<K> => f.kind === kind)
}

export interface Counts { passed: number; failed: number; skipped: number; errors: number; total: number; ok: boolean }

export function counts(data: ReportData): Counts {
  const c = { passed: 0, failed: 0, skipped: 0 }
  for (const t of data.tests) c[t.state]++
  const errors = data.errors.length
  const runnerOk = runners(data).every(runnerPassed)
  return { ...c, errors, total: data.tests.length, ok: c.failed === 0 && errors === 0 && data.tests.length > 0 && runnerOk }
}

/** The runner VM's runs (npm run test:runner), the last one per backend. */
export function runners(data: ReportData): FigureOf<'runner'>[] {
  const last = new Map<string, FigureOf<'runner'>>()
  for (const f of ofKind(data, 'runner')) last.set(f.backend, f)
  return [...last.values()]
}

export function runnerPassed(f: FigureOf<'runner'>): boolean {
  return f.exitCode === 0 && f.failed === 0 && f.passed > 0
}

export interface SuiteRow { file: string; project: string; passed: number; failed: number; skipped: number; errors: number; durationMs: number }

/** Pass/fail per test file, in the order the files first appear; errors outside tests (a failed hook or import) count per file. */
export function suites(data: ReportData): SuiteRow[] {
  const rows = new Map<string, SuiteRow>()
  const row = (file: string, project = '') => {
    let r = rows.get(file)
    if (!r) rows.set(file, (r = { file, project, passed: 0, failed: 0, skipped: 0, errors: 0, durationMs: 0 }))
    return r
  }
  for (const t of data.tests) {
    const r = row(t.file, t.project)
    r[t.state]++
    r.durationMs += t.durationMs
  }
  for (const e of data.errors) if (e.where !== 'unhandled') row(e.where).errors++
  return [...rows.values()]
}

/** Node names in a readable order: natural sort, `failed` (no answer) last. */
export function sortNodes(nodes: Iterable<string>): string[] {
  return [...new Set(nodes)].sort((a, b) => {
    if (a === 'failed' || b === 'failed') return a === b ? 0 : a === 'failed' ? 1 : -1
    return a.localeCompare(b, 'en', { numeric: true })
  })
}

export interface SchedulerView {
  scheduler: string
  nodes: string[]
  /** Requests per node over every series of this scheduler. */
  totals: Record<string, number>
  requests: number
  series: { source: string; test: string | null; counts: Record<string, number>; requests: number; served: string[] }[]
}

/** Distribution figures grouped by scheduler (in order of first appearance). */
export function distributions(data: ReportData): SchedulerView[] {
  const views = new Map<string, SchedulerView>()
  for (const f of ofKind(data, 'distribution')) {
    const view = views.get(f.scheduler) ?? { scheduler: f.scheduler, nodes: [], totals: {}, requests: 0, series: [] }
    const requests = Object.values(f.counts).reduce((a, b) => a + b, 0)
    view.series.push({ source: f.source, test: f.test, counts: f.counts, requests, served: f.served ?? [] })
    for (const [node, n] of Object.entries(f.counts)) view.totals[node] = (view.totals[node] ?? 0) + n
    view.requests += requests
    view.nodes = sortNodes([...view.nodes, ...Object.keys(f.counts)])
    views.set(f.scheduler, view)
  }
  return [...views.values()]
}

/** Every node that appears in any distribution, in display order. */
export function distributionNodes(views: SchedulerView[]): string[] {
  return sortNodes(views.flatMap((v) => v.nodes))
}

export interface StatsView {
  test: string | null
  before: string
  after: string
  /** Parsed counters, when the text is `ipvsadm -L -n --exact --stats` output. */
  parsed?: { before: ServiceFigures<Counters>[]; after: ServiceFigures<Counters>[] }
}

export function stats(data: ReportData): StatsView[] {
  return ofKind(data, 'ipvs-stats').map((f) => {
    const view: StatsView = { test: f.test, before: f.before, after: f.after }
    try {
      view.parsed = { before: parseStats(f.before), after: parseStats(f.after) }
    } catch { /* shown as text only */ }
    return view
  })
}

/** What a report shows of an ExSession page (helpers/lab/exsession.ts SessionPage), read defensively. */
export interface SessionView { sessionId?: string; node?: string; creationTime?: number; requestCount?: number; isNew?: boolean; attributes: Record<string, string> }

export function session(page: unknown): SessionView | undefined {
  if (!page || typeof page !== 'object') return undefined
  const p = page as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)
  const attributes = p.attributes && typeof p.attributes === 'object'
    ? Object.fromEntries(Object.entries(p.attributes as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
    : {}
  const view: SessionView = { attributes }
  const sessionId = str(p.sessionId); if (sessionId !== undefined) view.sessionId = sessionId
  const node = str(p.node); if (node !== undefined) view.node = node
  const creationTime = num(p.creationTime); if (creationTime !== undefined) view.creationTime = creationTime
  const requestCount = num(p.requestCount); if (requestCount !== undefined) view.requestCount = requestCount
  if (typeof p.isNew === 'boolean') view.isNew = p.isNew
  return view
}

export interface FailoverView {
  /** Topology, and the configuration when it is not the default fixtures. */
  group: string
  topology: string
  how: 'stop' | 'kill'
  config: string
  gapMs: number
  failures: string[]
  test: string | null
  before?: SessionView
  after?: SessionView
  /** Same session key (id without route), same creation time, attributes kept: what failover promises. */
  kept: { id: boolean; creationTime: boolean; attributes: boolean } | undefined
}

const DEFAULT_CONFIG = 'default fixtures'

export function failovers(data: ReportData): FailoverView[] {
  return ofKind(data, 'failover').map((f) => {
    const before = session(f.before)
    const after = session(f.after)
    const key = (id?: string) => id?.replace(/\.[^.]+$/, '')
    const kept = before && after
      ? {
          id: before.sessionId !== undefined && key(before.sessionId) === key(after.sessionId),
          creationTime: before.creationTime !== undefined && before.creationTime === after.creationTime,
          attributes: Object.entries(before.attributes).every(([k, v]) => after.attributes[k] === v),
        }
      : undefined
    return {
      group: f.config && f.config !== DEFAULT_CONFIG ? `${f.topology} (${f.config})` : f.topology,
      topology: f.topology, how: f.how, config: f.config, gapMs: f.gapMs, failures: f.failures ?? [], test: f.test,
      ...(before ? { before } : {}), ...(after ? { after } : {}), kept,
    }
  })
}

/** Gap per group and stop/kill (the largest, if a combination was measured more than once). */
export function gapTable(views: FailoverView[]): { groups: string[]; gaps: Record<string, Partial<Record<'stop' | 'kill', number>>> } {
  const gaps: Record<string, Partial<Record<'stop' | 'kill', number>>> = {}
  for (const v of views) {
    const row = (gaps[v.group] ??= {})
    row[v.how] = Math.max(row[v.how] ?? 0, v.gapMs)
  }
  return { groups: Object.keys(gaps), gaps }
}

export interface TimelineView {
  topology: string
  how: 'stop' | 'kill'
  test: string | null
  disruptionAt: number
  events: FigureOf<'load-timeline'>['events']
  requests: number
  /** No answer, or an HTTP status of 400 or more. */
  failed: number
  nodes: string[]
  users: number
  /**
   * The longest any user waited: from the disruption to the end of that user's first good answer to a
   * request sent at or after it (Infinity: a user never got one).
   */
  worstWaitMs: number
  p50LatencyMs: number
  p99LatencyMs: number
  maxLatencyMs: number
}

export const isFailure = (e: { status: number | null; node: string | null }) => e.status === null || e.status >= 400 || e.node === null

export function timelines(data: ReportData): TimelineView[] {
  return ofKind(data, 'load-timeline').map((f) => {
    const events = [...f.events].sort((a, b) => a.t - b.t)
    const latencies = events.map((e) => e.latencyMs).sort((a, b) => a - b)
    const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]! : 0)
    const users = [...new Set(events.map((e) => e.user))]
    const waits = users.map((user) => {
      const good = events.find((e) => e.user === user && e.t >= f.disruptionAt && !isFailure(e))
      return good ? good.t + good.latencyMs - f.disruptionAt : Number.POSITIVE_INFINITY
    })
    return {
      topology: f.topology, how: f.how, test: f.test, disruptionAt: f.disruptionAt, events,
      requests: events.length, failed: events.filter(isFailure).length,
      nodes: sortNodes(events.map((e) => e.node).filter((n): n is string => n !== null)), users: users.length,
      worstWaitMs: waits.length ? Math.max(...waits) : 0, p50LatencyMs: pct(50), p99LatencyMs: pct(99), maxLatencyMs: latencies.at(-1) ?? 0,
    }
  })
}

/** The backends recorded (one per run, or one per shard), without repeats. */
export function backends(data: ReportData): FigureOf<'ipvs-backend'>[] {
  const seen = new Set<string>()
  return ofKind(data, 'ipvs-backend').filter((f) => {
    const key = `${f.backend}\n${f.reason}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

// ── formatting shared by both renderers ──────────────────────────────────────────────────────────

export function seconds(ms: number, digits = 2): string {
  if (!Number.isFinite(ms)) return 'never'
  return `${(ms / 1000).toFixed(digits)} s`
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${s} s`
  const m = Math.floor(s / 60)
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

/** Epoch ms → `2026-11-26 11:52:03.123Z` (UTC, as the lab's containers log). */
export function timestamp(ms: number | undefined): string {
  if (ms === undefined) return '—'
  const d = new Date(ms)
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().replace('T', ' ')
}

export function attributesText(attributes: Record<string, string>): string {
  const entries = Object.entries(attributes)
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : '—'
}

/** `suites/lvs-stats.test.ts` → `lvs-stats`. */
export function shortFile(file: string): string {
  return file.replace(/^.*?suites\//, '').replace(/\.test\.ts$/, '')
}

export function measureValue(value: number, unit: string): string {
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return `${value.toFixed(digits)}${unit ? ` ${unit}` : ''}`
}
