/**
 * The vitest reporter that writes reports/summary.md (and $GITHUB_STEP_SUMMARY) and
 * reports/index.html at the end of every run, passed or failed, from the run's results and the
 * figures its tests recorded in reports/figures.jsonl. Under `vitest --merge-reports` it reports
 * the merged results of every shard, with the shards' figures concatenated into that same file
 * beforehand (the workflow's report job does).
 */
import path from 'node:path'
import type { Reporter, SerializedError, TestCase, TestModule, TestRunEndReason, TestSpecification, Vitest } from 'vitest/node'
import { type ReportData, type TestResult, firstLine } from './model.ts'
import { readFigures, writeReports } from './write.ts'

export default class LbE2eReporter implements Reporter {
  #vitest: Vitest | undefined
  #started = Date.now()
  #planned: string[] = []

  onInit(vitest: Vitest): void {
    this.#vitest = vitest
    this.#started = Date.now()
  }

  onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    this.#planned = specifications.map((s) => s.moduleId)
  }

  async onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): Promise<void> {
    const vitest = this.#vitest
    if (!vitest) return
    const root = vitest.config.root
    const merged = Boolean(vitest.config.mergeReports)
    const dir = path.join(root, 'reports')
    // A run only reads its own figures: a run whose projects never reset the file (unit only)
    // must not report the figures an earlier run left there. Merged shards ran earlier: all count.
    const read = await readFigures(path.join(dir, 'figures.jsonl'), merged ? undefined : this.#started)
    const tests = modules.flatMap((m) => [...m.children.allTests()].map((t) => testResult(root, m, t)))
    // …nor those of another run going on at the same time in this checkout: a figure recorded in a
    // test names it, and that test must be one of this run's.
    const names = new Set(tests.map((t) => t.name))
    // Merged: the shards' files were concatenated one after the other; time order reads better.
    const figures = merged
      ? [...read.figures].sort((a, b) => a.at.localeCompare(b.at))
      : read.figures.filter((f) => f.test === null || names.has(f.test))
    const figureProblems = read.figureProblems
    const data: ReportData = {
      generatedAt: new Date().toISOString(),
      tests,
      errors: [
        ...modules.flatMap((m) => [m, ...m.children.allSuites()].flatMap((s) =>
          s.errors().map((e) => ({ where: relative(root, m.moduleId), message: firstLine(errorText(e)) })))),
        ...unhandledErrors.map((e) => ({ where: 'unhandled', message: firstLine(errorText(e)) })),
      ],
      figures,
      figureProblems,
      source: merged ? `merged with vitest --merge-reports (${reason})` : `vitest run (${reason})`,
    }
    if (!merged) data.durationMs = Date.now() - this.#started
    // A global setup that throws (a lab that cannot start) ends the run before its files report
    // anything, and vitest prints that error only after this: say which files never ran.
    const reported = new Set(modules.filter((m) => m.children.size > 0 || m.errors().length > 0).map((m) => m.moduleId))
    for (const file of this.#planned.filter((f) => !reported.has(f))) {
      data.errors.push({ where: relative(root, file), message: 'did not run: the run failed before this file reported (a global setup, e.g. a lab that did not start; its error is in the log)' })
    }
    if (reason === 'failed' && !data.errors.length && !data.tests.some((t) => t.state === 'failed')) {
      data.errors.push({ where: 'unhandled', message: 'the run failed outside any test: its error is in the log' })
    }
    const written = await writeReports(data, dir)
    vitest.logger.log(`reports: ${path.relative(root, written.summary)}, ${path.relative(root, written.html)}${written.stepSummary ? ' (and the job summary)' : ''}`)
  }
}

/** One test as the reports and the gate's verdict read it, from vitest's own API. */
export function testResult(root: string, module: TestModule, test: TestCase): TestResult {
  const r = test.result()
  const error = r.state === 'failed' ? r.errors[0] : undefined
  return {
    project: module.project.name,
    file: relative(root, module.moduleId),
    name: test.fullName,
    // pending: the run stopped before the test ran (interrupted): it did not pass
    state: r.state === 'pending' ? 'skipped' : r.state,
    durationMs: Math.round(test.diagnostic()?.duration ?? 0),
    annotations: test.annotations().map((a) => ({ type: a.type, message: a.message })),
    ...(error ? { error: firstLine(errorText(error)) } : {}),
    // The error's class: a LabSetupError means the lab, not the configuration, failed (exit 3).
    ...(error?.name ? { errorType: error.name } : {}),
  }
}

function errorText(e: { message?: string; name?: string } | undefined): string {
  if (!e) return ''
  return e.message ? (e.name && e.name !== 'Error' && !e.message.startsWith(e.name) ? `${e.name}: ${e.message}` : e.message) : (e.name ?? 'error')
}

function relative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/')
}
