/**
 * The gate's vitest run, in this process through vitest's node API (createVitest, start, close),
 * and its results as vitest's own objects tell them (TestModule, TestCase.result(), the unhandled
 * errors): no report file is read back. The run is what `vitest run --project … [filters]` in the
 * repository would do — the repository's vitest.config.ts, its root, its reporters (the default
 * one on stdout, JUnit at LAB_JUNIT_FILE, the project's own) — and it leaves this process as it
 * found it: environment, working directory, exit code.
 */
import path from 'node:path'
import type { SerializedError, TestModule, TestRunResult, Vitest } from 'vitest/node'
import { LabError } from '../errors.ts'
import { type TestResult, firstLine } from '../report/model.ts'
import { testResult } from '../report/reporter.ts'
import { repoRoot } from '../settings.ts'

/** An error outside any test, where vitest reported it. */
export interface RunError {
  /**
   * suite: a describe block's or a test file's own error (a beforeAll/afterAll hook, the file's
   * import); unhandled: one of vitest's unhandled errors; run: the run itself stopped (a global
   * setup that threw, no test file matched).
   */
  kind: 'suite' | 'unhandled' | 'run'
  /** `file > describe > …` for a describe block, `file` for a test file; empty for the others. */
  where: string
  /** The error's name: LabSetupError for a lab that could not be set up, AssertionError, Error … */
  name?: string
  /** Its message's first line. */
  message: string
}

/** A vitest run as the gate judges it (helpers/cli/verify.ts outcome). */
export interface RunResults {
  /** Every test case, file by file in the order vitest reports them. */
  tests: TestResult[]
  errors: RunError[]
}

export interface VitestRun extends RunResults {
  /** What `vitest run` would have exited with (its process.exitCode: 0, or 1 for any failure). */
  exitCode: number
}

export interface VitestRequest {
  projects: string[]
  /** Test file filters, as `vitest run` takes them (relative to the repository). */
  filters: string[]
  /** Stop at the first failing test (`--bail=1`). */
  bail?: boolean
  /** Set in this process's environment for the run (vitest's config, its global setups and workers read it), then restored. */
  env: Record<string, string>
}

const FILES_NOT_FOUND = 'VITEST_FILES_NOT_FOUND'

/**
 * Runs vitest as its CLI would, in this process. Signals: vitest's own handlers and the labs'
 * (helpers/lab/cleanup.ts removeRunOnExit, installed by the global setups) are this process's
 * while it runs. Throws a LabError when vitest cannot start at all (its configuration failed).
 */
export async function runVitest(request: VitestRequest): Promise<VitestRun> {
  const { createVitest } = await import('vitest/node')
  const saved = { env: { ...process.env }, cwd: process.cwd(), exitCode: process.exitCode }
  // As vitest's CLI sets them (prepareVitest), and as the run's child process had them.
  Object.assign(process.env, request.env, { TEST: 'true', VITEST: 'true' })
  process.env.NODE_ENV ??= 'test'
  // Filters resolve against the working directory, and the workers inherit it: the repository, as before.
  process.chdir(repoRoot)
  // vitest reports failure through process.exitCode; it is read after close (a teardown can fail too).
  process.exitCode = undefined
  let vitest: Vitest | undefined
  let run: TestRunResult = { testModules: [], unhandledErrors: [] }
  let stopped: unknown
  let exitCode: number
  try {
    try {
      vitest = await createVitest({
        root: repoRoot, config: path.join(repoRoot, 'vitest.config.ts'), run: true, watch: false,
        project: request.projects, ...(request.bail ? { bail: 1 } : {}),
      })
    } catch (error) {
      throw new LabError(`vitest could not start: ${firstLine(error instanceof Error ? error.message : String(error))}`, { cause: error })
    }
    try {
      run = await vitest.start(request.filters)
    } catch (error) {
      // As vitest's CLI reports it (reportStartError): no matching file was already said, and set the exit code.
      stopped = error
      if ((error as { code?: string } | undefined)?.code !== FILES_NOT_FOUND) {
        process.exitCode = 1
        vitest.logger.printError(error, { fullStack: true, type: 'Unhandled Error' })
      }
    }
  } finally {
    try {
      await vitest?.close()
    } finally {
      exitCode = Number(process.exitCode ?? 0) || 0
      restore(saved)
    }
  }
  return { ...runResults(repoRoot, run.testModules, run.unhandledErrors, stopped), exitCode }
}

function restore(saved: { env: NodeJS.ProcessEnv; cwd: string; exitCode: typeof process.exitCode }): void {
  for (const key of Object.keys(process.env)) if (!(key in saved.env)) delete process.env[key]
  Object.assign(process.env, saved.env)
  process.chdir(saved.cwd)
  process.exitCode = saved.exitCode
}

/**
 * The results of a run from vitest's objects: a pure mapping. A pending test (the run stopped
 * before it: --bail, a signal) did not pass, and counts as skipped. One error a describe block or
 * file, its first, as vitest's JUnit reporter counts them.
 */
export function runResults(root: string, modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>, stopped?: unknown): RunResults {
  const tests = modules.flatMap((m) => [...m.children.allTests()].map((t) => testResult(root, m, t)))
  const errors: RunError[] = modules.flatMap((m) => [m, ...m.children.allSuites()].flatMap((s): RunError[] => {
    const first = s.errors()[0]
    if (!first) return []
    const file = relative(root, m.moduleId)
    return [{ kind: 'suite', where: s.type === 'module' ? file : `${file} > ${s.fullName}`, ...described(first) }]
  }))
  errors.push(...unhandled.map((e): RunError => ({ kind: 'unhandled', where: '', ...described(e) })))
  if (stopped !== undefined) errors.push({ kind: 'run', where: '', ...described(stopped) })
  return { tests, errors }
}

/** An error's name and first line, whatever vitest holds it as (an Error, a SerializedError, a value). */
function described(error: unknown): { name?: string; message: string } {
  const e = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as Partial<SerializedError>
  const name = typeof e.name === 'string' && e.name ? e.name : undefined
  return { ...(name ? { name } : {}), message: firstLine(typeof e.message === 'string' && e.message ? e.message : name ?? 'error') }
}

function relative(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/')
}
