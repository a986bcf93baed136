/**
 * The regression gate: a team's configuration (and .war) checked, then proven in the labs by the
 * suites themselves. Validation first — a bad file stops the gate before any lab starts, with exit
 * code 2 —, then the config checks of the programs themselves (httpd -t, Tomcat's configtest), then
 * vitest with the team's files laid over fixtures/. Findings (measured warnings with their cause and
 * fix) are printed at the end; limits turn them into failures. A lab that could not be set up
 * (LabSetupError) is exit code 3: no verdict on the configuration, whatever else failed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { say } from '../progress.ts'
import { type TestResult, parseFigures } from '../report/model.ts'
import { FIGURES_FILE, displayPath, repoRoot, tomcatVersion } from '../settings.ts'
import { formatFinding } from '../validate/findings.ts'
import { PLAN_ENV, describePlan, readPlan, runnableLayouts, savePlan } from '../intake/plan.ts'
import { type GateInput, checkInput } from './input.ts'
import { type RunError, type RunResults, runVitest } from './vitest-run.ts'

export type Area = 'lvs' | 'tomcat' | 'balancer'
export const AREAS: Area[] = ['lvs', 'tomcat', 'balancer']

export interface VerifyOptions extends GateInput {
  only?: Area[]
  /** Suite files to run (paths or vitest filters), instead of every suite of the areas. */
  suites?: string[]
  /** Seconds; unset, a long failover gap is a warning. */
  maxFailoverGap?: number
  /** Count; unset, stale non-sticky reads under asynchronous replication are a warning. */
  maxStaleReads?: number
  /** Seconds from a restarted node serving again to the balancer sending it new users. */
  maxRejoinTime?: number
  /** Hold the team's files to the project's own limits (helpers/checks/limits.ts) where no --max-… is given. */
  strict?: boolean
  /** Stop at the first failing test. */
  bail?: boolean
  /** Extra environment for the run (LAB_IPVS_BACKEND …). */
  env?: Record<string, string>
  /** Where the run's JUnit report is written (default reports/junit.xml). */
  junit?: string
}

export interface VerifyResult {
  /** 0 passed, 1 a test failed, 2 the input was refused before any lab started, 3 a lab could not be set up. */
  exitCode: 0 | 1 | 2 | 3
  /** Validation errors (exit code 2). */
  errors: string[]
  warnings: string[]
  passed: number
  failed: number
  /** Tests that did not apply (a layout the configuration cannot run in), each saying why in its name. */
  skipped: number
  /** Which limits held the run (helpers/checks/limits.ts describeLimits). */
  limits?: string
  /** `file > describe > test: first line of the failure`, in the order they ran. */
  failures: string[]
  /** The same for the tests whose lab could not be set up (exit code 3): not verdicts, and not in `failures`. */
  setup: string[]
}

export const JUNIT_FILE = path.join(repoRoot, 'reports', 'junit.xml')

/** Input checks only (no container): the exit code 2 part of the gate. */
export function refuse(options: VerifyOptions): VerifyResult | undefined {
  const input = checkInput(options)
  return input.errors.length ? refused(input.errors, input.findings.map(formatFinding)) : undefined
}

function refused(errors: string[], warnings: string[]): VerifyResult {
  return { exitCode: 2, errors, warnings, passed: 0, failed: 0, skipped: 0, failures: [], setup: [] }
}

/**
 * The team's files reach the labs through LAB_FIXTURES and LAB_WAR, which the caller (the CLI) sets
 * in this process's environment, absolute, before calling: vitest runs in this process (its config
 * and global setups read them here) and its workers inherit them. The verdict is taken from vitest's
 * own results (helpers/cli/vitest-run.ts); the JUnit report is vitest's, written for users and CI.
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const input = checkInput(options)
  const warnings = input.findings.map(formatFinding)
  if (input.errors.length) return refused(input.errors, warnings)
  for (const w of warnings) say(`warning: ${w.replace(/^warning /, '')}`)
  const tomcat = options.tomcat ?? tomcatVersion()
  // The labs deploy the migrated copy; the input check let a javax war through only for this.
  // The migration and the config checks run programs in containers: loaded here, not for a refusal.
  if (input.migrate) process.env.LAB_WAR = await (await import('../lab/war-migration.ts')).migrateWar(input.migrate, tomcat)

  const env: Record<string, string> = {
    ...options.env,
    LAB_TOMCAT: tomcat,
    ...(options.maxFailoverGap !== undefined ? { LAB_MAX_FAILOVER_GAP: String(options.maxFailoverGap) } : {}),
    ...(options.maxStaleReads !== undefined ? { LAB_MAX_STALE_READS: String(options.maxStaleReads) } : {}),
    ...(options.maxRejoinTime !== undefined ? { LAB_MAX_REJOIN_TIME: String(options.maxRejoinTime) } : {}),
    ...(options.strict ? { LAB_STRICT: 'true' } : {}),
  }
  // The plan, made once here and saved under reports/; vitest loads a private copy (a concurrent
  // npm test rewrites reports/plan.json) instead of reading the files again.
  const plan = readPlan({ ...process.env, ...env })
  savePlan(plan)
  say(describePlan(plan))
  const limits = plan.limits.description
  const only = options.only?.length ? options.only : AREAS
  if (only.some((a) => a !== 'lvs')) {
    const { configTest } = await import('./configtest.ts')
    const problems = await configTest(plan)
    if (problems.length) return refused(problems, warnings)
    if (!runnableLayouts(plan).includes('multi-host')) {
      warnings.push('the Tomcat suites ran in the single-host layout only: a balancer file reaches its members on the loopback address, ' +
        'which works only while httpd and every Tomcat share one host; on separate hosts each member needs its node\'s address (see the loopback warnings above)')
    }
  }

  const projects = [...new Set(only.map((a) => (a === 'lvs' ? 'lvs' : 'tomcat')))]
  const filters = options.suites?.length ? options.suites : only.includes('tomcat') || only.includes('lvs') ? [] : ['suites/balancer-']
  const args = ['run', ...projects.flatMap((p) => ['--project', p]), ...(options.bail ? ['--bail=1'] : []), ...filters]
  say(`lb-e2e verify: vitest ${args.join(' ')}${options.fixtures ? ` with ${displayPath(options.fixtures)} over fixtures/` : ''}${options.war ? `, ${displayPath(options.war)}` : ''}`)
  const planDir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-plan-'))
  const removePlanDir = () => rmSync(planDir, { recursive: true, force: true })
  process.once('exit', removePlanDir) // also when a signal ends the CLI mid-run
  const planFile = savePlan(plan, path.join(planDir, 'plan.json'))
  // vitest's JUnit reporter writes straight where --junit says: the verdict no longer reads it back.
  const run = await runVitest({
    projects, filters, bail: options.bail ?? false,
    env: { ...env, LAB_JUNIT_FILE: options.junit ?? JUNIT_FILE, [PLAN_ENV]: planFile },
  }).finally(() => { removePlanDir(); process.off('exit', removePlanDir) })
  const measured = parseFigures(readText(FIGURES_FILE) ?? '').figures
    .flatMap((f) => (f.kind === 'finding' && f.severity === 'warning' ? [`${f.message}${f.test ? ` (${f.test})` : ''}`] : []))
  return { ...outcome(run, run.exitCode), errors: [], warnings: [...warnings, ...new Set(measured)], limits }
}

/**
 * The verdict of a vitest run from its results (vitest's API, helpers/cli/vitest-run.ts) and exit
 * code: 0 when tests ran and all passed; 3 when a lab could not be set up (a failure whose error
 * is a LabSetupError: a test's, a describe block's or file's, an unhandled one, or the run's own
 * — a global setup) or no test ran at all (a lab of a globalSetup did not start), even if others
 * failed — the run is no complete verdict; else 1. Failed counts the failed tests and the errors
 * outside tests vitest reported (a hook's, a file's, unhandled), as its JUnit report counts them.
 */
export function outcome(run: RunResults, vitestExitCode: number): Pick<VerifyResult, 'exitCode' | 'passed' | 'failed' | 'skipped' | 'failures' | 'setup'> {
  const count = (state: TestResult['state']) => run.tests.filter((t) => t.state === state).length
  const broken = run.tests.filter((t) => t.state === 'failed')
  const reported = run.errors.filter((e) => e.kind !== 'run')
  const passed = count('passed')
  const skipped = count('skipped')
  const failed = broken.length + reported.length
  const isSetup = (name: string | undefined) => name === 'LabSetupError'
  const testLine = (t: TestResult) => `${t.file} > ${t.name}: ${t.error ?? ''}`
  const errorLine = (e: RunError) => `${e.where || (e.kind === 'unhandled' ? 'unhandled' : 'vitest')}: ${e.message}`
  const setup = [...broken.filter((t) => isSetup(t.errorType)).map(testLine), ...run.errors.filter((e) => isSetup(e.name)).map(errorLine)]
  if (!run.tests.length && !run.errors.some((e) => e.kind === 'suite') && vitestExitCode !== 0) {
    setup.unshift(`vitest ran no test (exit ${vitestExitCode}): a lab started before the suites (the images, the LVS lab) could not be set up, or no suite matched; see vitest's output above`)
  }
  const failures = [...broken.filter((t) => !isSetup(t.errorType)).map(testLine), ...run.errors.filter((e) => !isSetup(e.name)).map(errorLine)]
  if (vitestExitCode !== 0 && !setup.length && !failures.length) {
    failures.push(`vitest exited ${vitestExitCode} with no failed test: an error outside the tests (a lab's teardown, a reporter); see vitest's output above`)
  }
  const exitCode = setup.length ? 3 : vitestExitCode === 0 && failed === 0 && !failures.length && passed > 0 ? 0 : 1
  return { exitCode, passed, failed, skipped, failures, setup }
}

/** The closing lines of a gate run: findings, failures, counts. */
export function report(result: VerifyResult): string {
  const lines: string[] = []
  if (result.errors.length) {
    lines.push(`lb-e2e: the input was refused before any lab started (${result.errors.length} error${result.errors.length > 1 ? 's' : ''}):`)
    for (const e of result.errors) lines.push(`  error: ${e.replaceAll('\n', '\n    ')}`)
  }
  if (result.warnings.length) {
    lines.push(`warnings (${result.warnings.length}):`)
    for (const w of result.warnings) lines.push(`  ${w.replace(/^warning /, '')}`)
  }
  if (result.setup.length) {
    lines.push('lb-e2e: the lab could not be set up (exit 3): a setup problem (Docker, images, the IPVS backend, a container that never became ready), ' +
      'not a verdict on the configuration; fix it and run again:')
    for (const s of result.setup) lines.push(`  ${s}`)
  }
  if (result.failures.length) {
    lines.push('failed:')
    for (const f of result.failures) lines.push(`  ${f}`)
  }
  if (result.limits) lines.push(`limits: ${result.limits}`)
  if (!result.errors.length) lines.push(`${result.passed} passed, ${result.failed} failed${result.skipped ? `, ${result.skipped} skipped` : ''}`)
  return lines.join('\n')
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
