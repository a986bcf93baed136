// Rebuilds reports/summary.md and reports/index.html from a JUnit file and figures files, outside
// vitest: for a report from saved artifacts, or from the sample data of the unit tests.
//   node scripts/report.ts [--junit reports/junit.xml] [--figures reports/figures.jsonl]... [--out reports]
// Several --figures (one per shard) are concatenated. $GITHUB_STEP_SUMMARY gets the summary when set.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { reportFromFiles, writeReports } from '../helpers/report/write.ts'

const { values } = parseArgs({
  options: {
    junit: { type: 'string', default: 'reports/junit.xml' },
    figures: { type: 'string', multiple: true },
    out: { type: 'string', default: 'reports' },
    source: { type: 'string' },
  },
})
const figures = values.figures ?? ['reports/figures.jsonl']
const data = await reportFromFiles(values.junit, figures, values.source ?? `rebuilt from ${path.basename(values.junit)}`)
const written = await writeReports(data, values.out)
console.log(`${written.summary}\n${written.html}${written.stepSummary ? `\nappended to ${written.stepSummary}` : ''}`)
