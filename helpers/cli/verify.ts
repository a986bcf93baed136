/**
 * The regression gate: a team's configuration (and .war) checked, then proven in the labs by the
 * suites themselves. Validation first — a bad file stops the gate before any lab starts, with exit
 * code 2 —, then the config checks of the programs themselves (httpd -t, Tomcat's configtest), then
 * vitest with the team's files laid over fixtures/. Findings (measured warnings with their cause and
 * fix) are printed at the end; limits turn them into failures. A lab that could not be set up
 * (LabSetupError) is exit code 3: no verdict on the configuration, whatever else failed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { LabError } from '../errors.ts'
import { FIGURES_FILE } from '../report/figures.ts'
import { summarizeJunit } from '../report/junit.ts'
import { say } from '../progress.ts'
import { type TestResult, parseFigures, resultsFromJunit } from '../report/model.ts'
import { displayPath, repoRoot } from '../settings.ts'
import { formatFinding } from '../validate/findings.ts'
import { describeLimits } from '../checks/limits.ts'
import { layoutsFor } from '../lab/tomcat-lab.ts'
import { configTest } from './configtest.ts'
import { type GateInput, checkInput } from './input.ts'

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
 * in this process's environment, absolute, before calling: vitest's processes inherit them.
 */
export async function verify(options: VerifyOptions): Promise<VerifyResult> {
  const input = checkInput(options)
  const warnings = input.findings.map(formatFinding)
  if (input.errors.length) return refused(input.errors, warnings)
  for (const w of warnings) say(`warning: ${w.replace(/^warning /, '')}`)

  const env: Record<string, string> = {
    ...options.env,
    ...(options.maxFailoverGap !== undefined ? { LAB_MAX_FAILOVER_GAP: String(options.maxFailoverGap) } : {}),
    ...(options.maxStaleReads !== undefined ? { LAB_MAX_STALE_READS: String(options.maxStaleReads) } : {}),
    ...(options.maxRejoinTime !== undefined ? { LAB_MAX_REJOIN_TIME: String(options.maxRejoinTime) } : {}),
    ...(options.strict ? { LAB_STRICT: 'true' } : {}),
  }
  const limits = describeLimits({ ...process.env, ...env })
  say(`limits: ${limits}`)
  const only = options.only?.length ? options.only : AREAS
  if (only.some((a) => a !== 'lvs')) {
    const problems = await configTest()
    if (problems.length) return refused(problems, warnings)
    if (!layoutsFor().includes('multi-host')) {
      warnings.push('the Tomcat suites ran in the single-host layout only: a balancer file reaches its members on the loopback address, ' +
        'which works only while httpd and every Tomcat share one host; on separate hosts each member needs its node\'s address (see the loopback warnings above)')
    }
  }

  const projects = [...new Set(only.map((a) => (a === 'lvs' ? 'lvs' : 'tomcat')))]
  const filters = options.suites?.length ? options.suites : only.includes('tomcat') || only.includes('lvs') ? [] : ['suites/balancer-']
  // A JUnit file of the gate's own, so a concurrent `npm test` cannot change the verdict it reads.
  const junit = path.join(mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-verify-')), 'junit.xml')
  // Also when a signal ends the CLI mid-run (its handler exits through process.exit).
  const removeJunitDir = () => rmSync(path.dirname(junit), { recursive: true, force: true })
  process.once('exit', removeJunitDir)
  const args = ['run', ...projects.flatMap((p) => ['--project', p]), ...(options.bail ? ['--bail=1'] : []), ...filters]
  say(`lb-e2e verify: vitest ${args.join(' ')}${options.fixtures ? ` with ${displayPath(options.fixtures)} over fixtures/` : ''}${options.war ? `, ${displayPath(options.war)}` : ''}`)
  const run = await execa(process.execPath, [path.join(repoRoot, 'node_modules/vitest/vitest.mjs'), ...args], {
    cwd: repoRoot, env: { ...env, LAB_JUNIT_FILE: junit }, stdio: 'inherit', reject: false,
  })
  const xml = readText(junit)
  removeJunitDir()
  process.off('exit', removeJunitDir)
  if (xml === undefined) throw new LabError(`vitest wrote no JUnit report (exit ${run.exitCode}): see its output above`)
  writeFileSync(options.junit ?? JUNIT_FILE, xml)
  const measured = parseFigures(readText(FIGURES_FILE) ?? '').figures
    .flatMap((f) => (f.kind === 'finding' && f.severity === 'warning' ? [`${f.message}${f.test ? ` (${f.test})` : ''}`] : []))
  return { ...outcome(xml, run.exitCode ?? -1), errors: [], warnings: [...warnings, ...new Set(measured)], limits }
}

/**
 * The verdict of a vitest run from its JUnit report and exit code: 0 when tests ran and all
 * passed; 3 when a test's lab could not be set up (its failure is a LabSetupError) or no test ran
 * at all (a lab of a globalSetup did not start), even if others failed — the run is no complete
 * verdict; else 1.
 */
export function outcome(xml: string, vitestExitCode: number): Pick<VerifyResult, 'exitCode' | 'passed' | 'failed' | 'skipped' | 'failures' | 'setup'> {
  const { passed, failed, skipped } = summarizeJunit(xml)
  const { tests, errors } = resultsFromJunit(xml)
  const line = (t: TestResult) => `${t.file} > ${t.name}: ${t.error ?? ''}`
  const broken = tests.filter((t) => t.state === 'failed')
  const setup = broken.filter((t) => t.errorType === 'LabSetupError').map(line)
  if (!tests.length && vitestExitCode !== 0) {
    setup.push(`vitest ran no test (exit ${vitestExitCode}): a lab started before the suites (the images, the LVS lab) could not be set up, or no suite matched; see vitest's output above`)
  }
  const failures = [...broken.filter((t) => t.errorType !== 'LabSetupError').map(line), ...errors.map((e) => `${e.where}: ${e.message}`)]
  const exitCode = setup.length ? 3 : vitestExitCode === 0 && failed === 0 && passed > 0 ? 0 : 1
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
