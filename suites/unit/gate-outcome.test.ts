// The gate's exit code from a vitest run (helpers/cli/verify.ts outcome), from the results vitest's
// API gives (helpers/cli/vitest-run.ts): 1 for a test that failed, 3 when a lab could not be set
// up — a LabSetupError, which step() makes of any failure while setting up — since such a run is
// no verdict on the configuration.
import { describe, expect, test } from 'vitest'
import { LabError, LabSetupError, asSetupError } from '../../helpers/errors.ts'
import { outcome, report } from '../../helpers/cli/verify.ts'
import type { RunError, RunResults } from '../../helpers/cli/vitest-run.ts'
import type { TestResult } from '../../helpers/report/model.ts'
import { step } from '../../helpers/progress.ts'

const FILE = 'suites/balancer-sticky.test.ts'

type Failure = { type: string; message: string }

/** A run's results as vitest-run.ts makes them of vitest's TestCases: one file, these tests. */
function run(...cases: [name: string, failure?: Failure | 'skipped'][]): RunResults {
  const tests = cases.map(([name, failure]): TestResult => ({
    project: 'tomcat', file: FILE, name, durationMs: 500, annotations: [],
    state: failure === 'skipped' ? 'skipped' : failure ? 'failed' : 'passed',
    ...(failure && failure !== 'skipped' ? { error: failure.message, errorType: failure.type } : {}),
  }))
  return { tests, errors: [] }
}

const withErrors = (results: RunResults, ...errors: RunError[]): RunResults => ({ ...results, errors: [...results.errors, ...errors] })

const sticky = 'sticky sessions, multi-host layout > a new user stays on its node'
const other = 'sticky sessions, multi-host layout > other new users can land on the other node'
const assertion = { type: 'AssertionError', message: 'sticky to node01: expected [ …(20) ] to deeply equal [ …(20) ]' }
const setupFailed = { type: 'LabSetupError', message: 'Tomcat lab (multi-host): image lb-e2e/tomcat:latest: docker build failed' }

describe('the exit code of a run', () => {
  test('every test passed: 0; a test failed on an assertion, a timeout or another error: 1', () => {
    expect(outcome(run([sticky], [other]), 0)).toEqual({ exitCode: 0, passed: 2, failed: 0, skipped: 0, failures: [], setup: [] })
    expect(outcome(run([sticky, assertion], [other]), 1)).toEqual({ exitCode: 1, passed: 1, failed: 1, skipped: 0, failures: [`${FILE} > ${sticky}: ${assertion.message}`], setup: [] })
    expect(outcome(run([sticky, { type: 'TestTimeoutError', message: 'Test timed out in 180000ms.' }]), 1).exitCode).toBe(1)
  })

  test('a test whose lab could not be set up: 3, listed apart from the failures', () => {
    expect(outcome(run([sticky, setupFailed], [other]), 1)).toEqual({ exitCode: 3, passed: 1, failed: 1, skipped: 0, failures: [], setup: [`${FILE} > ${sticky}: ${setupFailed.message}`] })
  })

  test('a lab could not be set up and another test failed on an assertion: still 3, the run is no complete verdict', () => {
    const result = outcome(run([sticky, assertion], [other, setupFailed]), 1)
    expect(result).toMatchObject({ exitCode: 3, failures: [`${FILE} > ${sticky}: ${assertion.message}`], setup: [`${FILE} > ${other}: ${setupFailed.message}`] })
  })

  test('no test ran at all (a globalSetup lab did not start): 3', () => {
    const result = outcome({ tests: [], errors: [] }, 1)
    expect(result.exitCode).toBe(3)
    expect(result.setup).toEqual([expect.stringMatching(/^vitest ran no test \(exit 1\): a lab started before the suites/)])
  })

  test('a global setup that threw a LabSetupError: 3, its error named after the generic line; not counted as a failed test', () => {
    const result = outcome({ tests: [], errors: [{ kind: 'run', where: '', name: 'LabSetupError', message: 'LVS lab: the director VM did not boot' }] }, 1)
    expect(result).toMatchObject({ exitCode: 3, passed: 0, failed: 0, failures: [] })
    expect(result.setup).toEqual([expect.stringMatching(/^vitest ran no test \(exit 1\)/), 'vitest: LVS lab: the director VM did not boot'])
  })

  test('a describe block whose beforeAll could not set up its lab: 3, counted as a failure as JUnit counts it', () => {
    const result = outcome(withErrors(run([sticky, 'skipped']), { kind: 'suite', where: `${FILE} > sticky sessions, multi-host layout`, name: 'LabSetupError', message: setupFailed.message }), 1)
    expect(result).toEqual({ exitCode: 3, passed: 0, failed: 1, skipped: 1, failures: [], setup: [`${FILE} > sticky sessions, multi-host layout: ${setupFailed.message}`] })
  })

  test('a test file that could not be imported: 1, it ran (no "no test ran" line)', () => {
    const result = outcome({ tests: [], errors: [{ kind: 'suite', where: FILE, name: 'SyntaxError', message: 'Unexpected token' }] }, 1)
    expect(result).toEqual({ exitCode: 1, passed: 0, failed: 1, skipped: 0, failures: [`${FILE}: Unexpected token`], setup: [] })
  })

  test('an unhandled error fails a run whose tests passed: 1, counted and listed', () => {
    const result = outcome(withErrors(run([sticky], [other]), { kind: 'unhandled', where: '', name: 'TypeError', message: 'Cannot read properties of undefined' }), 1)
    expect(result).toEqual({ exitCode: 1, passed: 2, failed: 1, skipped: 0, failures: ['unhandled: Cannot read properties of undefined'], setup: [] })
  })

  test('an unhandled LabSetupError: 3, as any failure whose error is one', () => {
    expect(outcome(withErrors(run([sticky]), { kind: 'unhandled', where: '', name: 'LabSetupError', message: setupFailed.message }), 1))
      .toMatchObject({ exitCode: 3, failed: 1, failures: [], setup: [`unhandled: ${setupFailed.message}`] })
  })

  test('vitest failed outside the tests (a teardown) with every test passed: 1, and the closing lines say so', () => {
    const result = outcome(run([sticky], [other]), 1)
    expect(result).toMatchObject({ exitCode: 1, passed: 2, failed: 0, setup: [] })
    expect(result.failures).toEqual([expect.stringMatching(/^vitest exited 1 with no failed test: an error outside the tests/)])
  })

  test('skipped tests are counted, and alone are no pass: only skipped is 1', () => {
    expect(outcome(run([sticky], [other, 'skipped']), 0)).toEqual({ exitCode: 0, passed: 1, failed: 0, skipped: 1, failures: [], setup: [] })
    expect(outcome(run([sticky, 'skipped']), 0)).toMatchObject({ exitCode: 1, passed: 0, skipped: 1 })
    expect(report({ ...outcome(run([sticky], [other, 'skipped']), 0), errors: [], warnings: [] }).split('\n').at(-1)).toBe('1 passed, 0 failed, 1 skipped')
  })

  test('the closing lines say it is a setup problem, not a verdict, and keep "N passed, N failed" last', () => {
    const text = report({ ...outcome(run([sticky, setupFailed], [other]), 1), errors: [], warnings: [] })
    expect(text).toContain('lb-e2e: the lab could not be set up (exit 3): a setup problem')
    expect(text).toContain('not a verdict on the configuration')
    expect(text).toContain(`  ${FILE} > ${sticky}: ${setupFailed.message}`)
    expect(text).not.toContain('failed:\n')
    expect(text.split('\n').at(-1)).toBe('1 passed, 1 failed')
  })
})

describe('a failure while setting up the lab is a LabSetupError', () => {
  test('step() turns any failure into one, named by the step, its cause kept', async () => {
    const cause = new Error('(HTTP code 500) server error - failed to create endpoint')
    const failed = step('Tomcat lab (multi-host, fixtures/tomcat/server.xml)', async () => { throw cause })
    await expect(failed).rejects.toBeInstanceOf(LabSetupError)
    await expect(failed).rejects.toMatchObject({
      name: 'LabSetupError', cause, message: 'Tomcat lab (multi-host, fixtures/tomcat/server.xml): (HTTP code 500) server error - failed to create endpoint',
    })
  })

  test('it is a LabError (the CLI prints it and exits 3); one already made is kept as it is, so nested steps do not repeat titles', () => {
    const inner = asSetupError('image lb-e2e/tomcat:latest', new LabError('docker build of helpers/lab/images/tomcat/Dockerfile failed'))
    expect(inner).toBeInstanceOf(LabError)
    expect(inner.message).toBe('image lb-e2e/tomcat:latest: docker build of helpers/lab/images/tomcat/Dockerfile failed')
    expect(asSetupError('Tomcat lab', inner)).toBe(inner)
    expect(asSetupError('LVS lab', 'a string').message).toBe('LVS lab: a string')
  })
})
