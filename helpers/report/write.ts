/**
 * Reading a run's files and writing its reports: reports/summary.md (also appended to
 * $GITHUB_STEP_SUMMARY when set) and reports/index.html. Used by the vitest reporter and by
 * scripts/report.ts.
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { renderHtml } from './html.ts'
import { type ReportData, parseFigures, resultsFromJunit } from './model.ts'
import { renderSummary } from './summary.ts'

/** The figures of a figures.jsonl file (none if it does not exist). */
export async function readFigures(file: string, since?: number): Promise<Pick<ReportData, 'figures' | 'figureProblems'>> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return ''
    throw error
  })
  const { figures, problems } = parseFigures(text, since)
  return { figures, figureProblems: problems }
}

/** Report data from a JUnit file and figures files (already merged, or one per shard). */
export async function reportFromFiles(junitFile: string, figureFiles: string[], source?: string): Promise<ReportData> {
  const { tests, errors, durationMs } = resultsFromJunit(await readFile(junitFile, 'utf8'))
  const data: ReportData = {
    generatedAt: new Date().toISOString(), ...(durationMs !== undefined ? { durationMs } : {}), tests, errors, figures: [], figureProblems: [], ...(source ? { source } : {}),
  }
  for (const file of figureFiles) {
    const { figures, figureProblems } = await readFigures(file)
    data.figures.push(...figures)
    data.figureProblems.push(...figureProblems.map((p) => `${path.basename(file)}: ${p}`))
  }
  data.figures.sort((a, b) => a.at.localeCompare(b.at))
  return data
}

export interface Written { summary: string; html: string; stepSummary?: string }

export async function writeReports(data: ReportData, dir: string, env: NodeJS.ProcessEnv = process.env): Promise<Written> {
  await mkdir(dir, { recursive: true })
  const markdown = renderSummary(data)
  const written: Written = { summary: path.join(dir, 'summary.md'), html: path.join(dir, 'index.html') }
  await writeFile(written.summary, markdown)
  await writeFile(written.html, renderHtml(data))
  if (env.GITHUB_STEP_SUMMARY) {
    await appendFile(env.GITHUB_STEP_SUMMARY, `${markdown}\n`)
    written.stepSummary = env.GITHUB_STEP_SUMMARY
  }
  return written
}
