/**
 * reports/summary.md: the run as a reviewer reads it in a pull request (and in the GitHub job
 * summary): outcome, backend, what was measured, what failed. A pure function of the report data.
 */
import {
  type ReportData, attributesText, backends, counts, distributionNodes, distributions, duration, failovers,
  gapTable, measureValue, ofKind, runnerPassed, runners, seconds, shortFile, stats, suites, timelines, timestamp,
} from './model.ts'

/** A table cell: one line, pipes escaped. */
function cell(value: unknown): string {
  return String(value ?? '').replace(/\r?\n/g, ' ').replace(/\|/g, '\\|')
}

function table(header: string[], rows: unknown[][], align?: ('l' | 'r')[]): string {
  const rule = header.map((_, i) => (align?.[i] === 'r' ? '---:' : '---'))
  return [header, rule, ...rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n')
}

/** A fenced block whose fence is longer than any backtick run inside. */
function code(text: string, lang = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  return `${fence}${lang}\n${text.replace(/\n+$/, '')}\n${fence}`
}

function details(summary: string, body: string): string {
  return `<details><summary>${summary}</summary>\n\n${body}\n\n</details>`
}

/** Test name without the describe blocks: the last ` > ` part. */
function leaf(name: string | null): string {
  return name ? (name.split(' > ').at(-1) ?? name) : '(outside a test)'
}

export function renderSummary(data: ReportData): string {
  const c = counts(data)
  const out: string[] = []
  const icon = c.ok ? '✅' : '❌'
  const tally = [`${c.passed} passed`, `${c.failed} failed`, ...(c.skipped ? [`${c.skipped} skipped`] : []),
    ...(c.errors ? [`${c.errors} ${c.errors === 1 ? 'error' : 'errors'} outside tests`] : [])].join(', ')
  out.push(`## ${icon} lb-e2e: ${tally}`)
  const files = new Set(data.tests.map((t) => t.file)).size
  out.push([`${c.total} tests in ${files} files`, ...(data.durationMs !== undefined ? [duration(data.durationMs)] : []),
    timestamp(Date.parse(data.generatedAt)).replace(/:\d\d\.\d+Z$/, ' UTC'), ...(data.source ? [data.source] : [])].join(' · '))

  const limits = ofKind(data, 'limits').at(-1)
  out.push(limits ? `**Limits:** ${limits.description}` : '**Limits:** not recorded (no Tomcat suite ran)')
  const plan = ofKind(data, 'plan').at(-1)
  if (plan?.tomcat) out.push(`**Tomcat:** ${plan.tomcat}`)
  if (plan) out.push(`**Configuration under test** (${plan.source}):\n\n\`\`\`\n${plan.description}\n\`\`\``)

  const bs = backends(data)
  out.push(bs.length
    ? bs.map((b) => `**IPVS backend:** \`${b.backend}\` — ${b.reason}`).join('  \n')
    : '**IPVS backend:** not recorded (no IPVS suite ran)')

  // The runner VM (npm run test:runner): the LVS project on a real IPVS kernel, per backend.
  const rs = runners(data)
  if (rs.length) {
    out.push('### Runner VM: the LVS suites on a real IPVS kernel')
    out.push(table(['backend', 'kernel', 'verdict', 'passed', 'failed', 'skipped', 'time', 'job'], rs.map((r) => [
      `\`${r.backend}\``, r.kernel, runnerPassed(r) ? '✅' : '❌', r.passed, r.failed, r.skipped, duration(r.durationMs),
      `${r.job}${r.exitCode === 0 ? '' : ` (exit ${r.exitCode ?? 'none: it did not finish'})`}`,
    ])))
    const failures = rs.flatMap((r) => r.failures.map((f) => [`\`${r.backend}\``, f.test, f.message]))
    if (failures.length) out.push(table(['backend', 'test', 'first line'], failures))
  }

  // Failures first: they are what a reviewer must act on.
  const failed = data.tests.filter((t) => t.state === 'failed')
  if (failed.length || data.errors.length) {
    out.push('### Failures')
    const rows = [
      ...failed.map((t) => [shortFile(t.file), t.name, t.error ?? '']),
      ...data.errors.map((e) => [e.where === 'unhandled' ? '(unhandled)' : shortFile(e.where), '(outside a test)', e.message]),
    ]
    out.push(table(['file', 'test', 'first line'], rows))
  }

  const views = distributions(data)
  out.push('### Distribution per scheduler')
  if (views.length) {
    const nodes = distributionNodes(views)
    out.push('Requests through the VIP per real server, summed over the series each scheduler served (`failed`: no answer).')
    out.push(table(['scheduler', 'series', 'requests', ...nodes],
      views.map((v) => [v.scheduler, v.series.length, v.requests, ...nodes.map((n) => v.totals[n] ?? 0)]),
      ['l', 'r', 'r', ...nodes.map(() => 'r' as const)]))
    const series = views.flatMap((v) => v.series.map((s) => [v.scheduler, s.source, ...nodes.map((n) => s.counts[n] ?? 0), leaf(s.test)]))
    out.push(details(`every series (${series.length})`,
      table(['scheduler', 'source', ...nodes, 'test'], series, ['l', 'l', ...nodes.map(() => 'r' as const), 'l'])))
  } else {
    out.push('_No distribution recorded._')
  }

  const statViews = stats(data)
  out.push('### `ipvsadm -L -n --exact --stats`')
  if (statViews.length) {
    for (const s of statViews) {
      out.push(`**${cell(leaf(s.test))}**`)
      out.push(`before (after zeroing):\n\n${code(s.before)}\n\nafter:\n\n${code(s.after)}`)
    }
  } else {
    out.push('_No stats recorded._')
  }

  const fo = failovers(data)
  out.push('### Failover')
  if (fo.length) {
    const { groups, gaps } = gapTable(fo)
    out.push('Gap: from `docker stop` / SIGKILL of the sticky node to the first page the survivor served for the same user.')
    out.push(table(['topology', 'docker stop', 'SIGKILL'],
      groups.map((g) => [g, gaps[g]!.stop !== undefined ? seconds(gaps[g]!.stop) : '—', gaps[g]!.kill !== undefined ? seconds(gaps[g]!.kill) : '—']),
      ['l', 'r', 'r']))
    const rows: unknown[][] = []
    for (const v of fo) {
      const kept = v.kept ? (v.kept.id && v.kept.creationTime && v.kept.attributes ? '✅ same session' : '❌ session changed') : ''
      const label = `${v.group}, ${v.how === 'kill' ? 'SIGKILL' : 'stop'}`
      for (const [when, s] of [['before', v.before], ['after', v.after]] as const) {
        rows.push([when === 'before' ? label : kept, when, s?.sessionId ?? '—', s?.node ?? '—', timestamp(s?.creationTime),
          s?.requestCount ?? '—', attributesText(s?.attributes ?? {})])
      }
    }
    out.push(details(`sessions before/after (${fo.length} failovers)`,
      table(['failover', '', 'session id', 'node', 'created', 'requests', 'attributes'], rows)))
    const failedAttempts = fo.filter((v) => v.failures.length)
    if (failedAttempts.length) {
      out.push(details('what the user saw during the gap', failedAttempts.map((v) =>
        `- ${v.group}, ${v.how}: ${v.failures.length} failed ${v.failures.length === 1 ? 'attempt' : 'attempts'}, first: \`${cell(v.failures[0]).replace(/`/g, "'")}\``).join('\n')))
    }
  } else {
    out.push('_No failover recorded._')
  }

  const tl = timelines(data)
  if (tl.length) {
    out.push('### Load timelines')
    out.push(table(['topology', 'disruption', 'users', 'requests', 'failed', 'worst wait', 'latency p50', 'p99', 'max'],
      tl.map((t) => [t.topology, t.how === 'kill' ? 'SIGKILL' : 'docker stop', t.users, t.requests, t.failed, seconds(t.worstWaitMs),
        `${t.p50LatencyMs.toFixed(0)} ms`, `${t.p99LatencyMs.toFixed(0)} ms`, `${t.maxLatencyMs.toFixed(0)} ms`]),
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']))
    out.push('Worst wait: the longest any user waited, from the disruption to the end of their first good answer.')
  }

  const findings = ofKind(data, 'finding')
  if (findings.length) {
    out.push('### Findings')
    out.push([...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'warning' ? -1 : 1))
      .map((f) => `- ${f.severity === 'warning' ? '⚠️ **warning:**' : 'ℹ️'} ${f.message}`).join('\n'))
  }

  const measures = ofKind(data, 'measure')
  if (measures.length) {
    out.push('### Measures')
    out.push(table(['measure', 'value'], measures.map((m) => [m.name, measureValue(m.value, m.unit)]), ['l', 'r']))
  }

  const rows = suites(data)
  if (rows.length) {
    out.push(details(`Suites (${rows.length})`, table(['file', 'passed', 'failed', 'skipped', 'time'],
      rows.map((r) => [shortFile(r.file), r.passed, r.failed + r.errors, r.skipped, duration(r.durationMs)]), ['l', 'r', 'r', 'r', 'r'])))
  }
  if (data.figureProblems.length) out.push(`> [!WARNING]\n> ${data.figureProblems.map(cell).join('\n> ')}`)
  return `${out.join('\n\n')}\n`
}
