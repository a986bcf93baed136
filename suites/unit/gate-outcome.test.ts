// The gate's exit code from a vitest run (helpers/cli/verify.ts outcome): 1 for a test that
// failed, 3 when a lab could not be set up — a LabSetupError, which step() makes of any failure
// while setting up — since such a run is no verdict on the configuration.
import { describe, expect, test } from 'vitest'
import { LabError, LabSetupError, asSetupError } from '../../helpers/errors.ts'
import { outcome, report } from '../../helpers/cli/verify.ts'
import { step } from '../../helpers/progress.ts'

const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
const FILE = 'suites/balancer-sticky.test.ts'

function junit(...cases: [name: string, failure?: { type: string; message: string }][]): string {
  const body = cases.map(([name, failure]) => `<testcase classname="${FILE}" name="${esc(name)}" time="0.5">` +
    `${failure ? `<failure message="${esc(failure.message)}" type="${failure.type}">${esc(failure.message)}</failure>` : ''}</testcase>`)
  return `<testsuites><testsuite name="${FILE}">${body.join('\n')}</testsuite></testsuites>`
}

const sticky = 'sticky sessions, multi-host layout > a new user stays on its node'
const other = 'sticky sessions, multi-host layout > other new users can land on the other node'
const assertion = { type: 'AssertionError', message: 'sticky to node01: expected [ …(20) ] to deeply equal [ …(20) ]' }
const setupFailed = { type: 'LabSetupError', message: 'Tomcat lab (multi-host): image lb-e2e/tomcat:latest: docker build failed' }

describe('the exit code of a run', () => {
  test('every test passed: 0; a test failed on an assertion, a timeout or another error: 1', () => {
    expect(outcome(junit([sticky], [other]), 0)).toEqual({ exitCode: 0, passed: 2, failed: 0, skipped: 0, failures: [], setup: [] })
    expect(outcome(junit([sticky, assertion], [other]), 1)).toEqual({ exitCode: 1, passed: 1, failed: 1, skipped: 0, failures: [`${FILE} > ${sticky}: ${assertion.message}`], setup: [] })
    expect(outcome(junit([sticky, { type: 'TestTimeoutError', message: 'Test timed out in 180000ms.' }]), 1).exitCode).toBe(1)
  })

  test('a test whose lab could not be set up: 3, listed apart from the failures', () => {
    expect(outcome(junit([sticky, setupFailed], [other]), 1)).toEqual({ exitCode: 3, passed: 1, failed: 1, skipped: 0, failures: [], setup: [`${FILE} > ${sticky}: ${setupFailed.message}`] })
  })

  test('a lab could not be set up and another test failed on an assertion: still 3, the run is no complete verdict', () => {
    const result = outcome(junit([sticky, assertion], [other, setupFailed]), 1)
    expect(result).toMatchObject({ exitCode: 3, failures: [`${FILE} > ${sticky}: ${assertion.message}`], setup: [`${FILE} > ${other}: ${setupFailed.message}`] })
  })

  test('no test ran at all (a globalSetup lab did not start): 3', () => {
    const result = outcome('<testsuites name="vitest tests" tests="0" failures="0" errors="0" time="0">\n</testsuites>', 1)
    expect(result.exitCode).toBe(3)
    expect(result.setup).toEqual([expect.stringMatching(/^vitest ran no test \(exit 1\): a lab started before the suites/)])
  })

  test('the closing lines say it is a setup problem, not a verdict, and keep "N passed, N failed" last', () => {
    const text = report({ ...outcome(junit([sticky, setupFailed], [other]), 1), errors: [], warnings: [] })
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
