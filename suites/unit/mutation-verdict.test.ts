// Scoring a gate run against a mutation (helpers/cli/mutations.ts mutationVerdict), on JUnit reports as
// vitest 5's junit reporter writes them: killed only by the expected killer failing on an assertion
// (or the expected refusal), survived when every test passed, error for everything else.
import { describe, expect, test } from 'vitest'
import { report } from '../../helpers/cli/verify.ts'
import { type GateRun, type Mutation, mutationVerdict, refusalsIn } from '../../helpers/cli/mutations.ts'
import { resultsFromJunit } from '../../helpers/report/model.ts'

const FAILOVER = 'suites/tomcat-failover.test.ts'
const MULTI = 'failover, multi-host layout (fixtures/tomcat/server.xml, fixtures/httpd/balancer-sticky.conf)'
const SINGLE = MULTI.replace('multi-host', 'single-host')
const SURVIVES = 'session survives a graceful stop (docker stop) of its sticky node'
const REJOINS = 'a node that comes back gets new users again'

const mutation: Mutation = {
  name: 'no-distributable', file: 'webapp/WEB-INF/web.xml', replace: [{ from: 'a', to: 'b' }], breaks: '…',
  expectedKiller: `${FAILOVER} > ${MULTI} > ${SURVIVES}`,
}

const esc = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')

/** A testcase as vitest 5.1.1's junit reporter writes it: `type` is the thrown error's `name`. */
function testcase(describe: string, name: string, failure?: { type: string; message: string }, file = FAILOVER): string {
  const body = failure ? `\n<failure message="${esc(failure.message)}" type="${failure.type}">\n${esc(`${failure.type}: ${failure.message}`)}\n ❯ ${file}:40:5\n</failure>\n` : ''
  return `<testcase classname="${file}" name="${esc(`${describe} > ${name}`)}" time="1.5">${body}</testcase>`
}

function junit(...cases: string[]): string {
  return `<?xml version="1.0" encoding="UTF-8" ?>\n<testsuites name="vitest tests"><testsuite name="${FAILOVER}">\n${cases.join('\n')}\n</testsuite></testsuites>`
}

const assertion = { type: 'AssertionError', message: 'session id after failover: expected \'B1C2.node02\' to be \'A1B2.node02\'' }
const setupFailed = { type: 'LabSetupError', message: 'Tomcat lab (multi-host, fixtures/tomcat/server.xml): both Tomcat nodes listing each other as cluster members: not reached after 60.0 s' }
const timedOut = { type: 'TestTimeoutError', message: 'Test timed out in 180000ms.\nIf this is a long-running test, pass a timeout value as the last argument or configure it globally with "testTimeout".' }
const notReached = { type: 'LabError', message: 'a page from the surviving node: not reached after 120.0 s; last attempt: fetch failed' }

const gate = (exitCode: number, xml?: string, output = ''): GateRun => ({ exitCode, output, ...(xml !== undefined ? { junit: xml } : {}) })

describe("vitest 5's JUnit report names how a test failed (the failure's type attribute)", () => {
  // Captured from vitest 5.1.1 (node_modules/vitest): writeErrorElement writes `type: error.name`.
  const captured = `<testsuites name="vitest tests" tests="5" failures="5" errors="0" time="0.43">
    <testsuite name="probe.test.ts" tests="5" failures="5" errors="0" skipped="0" time="0.43">
        <testcase classname="probe.test.ts" name="d &gt; expect fails" time="0.009034316">
            <failure message="expected 1 to be 2 // Object.is equality" type="AssertionError">
AssertionError: expected 1 to be 2 // Object.is equality
            </failure>
        </testcase>
        <testcase classname="probe.test.ts" name="d &gt; expect.poll fails" time="0.103837136">
            <failure message="expected 1 to be 2 // Object.is equality" type="AssertionError">
AssertionError: expected 1 to be 2 // Object.is equality

Caused by: Error: Matcher did not succeed in time.
            </failure>
        </testcase>
        <testcase classname="probe.test.ts" name="d &gt; LabSetupError thrown" time="0.000342508">
            <failure message="Tomcat lab (multi-host): container did not start" type="LabSetupError">
LabSetupError: Tomcat lab (multi-host): container did not start

Caused by: Error: container did not start
            </failure>
        </testcase>
        <testcase classname="probe.test.ts" name="d &gt; until around an expect" time="0.111156837">
            <failure message="a page: not reached after 0.1 s; last attempt: expected 1 to be 2 // Object.is equality" type="LabError">
LabError: a page: not reached after 0.1 s; last attempt: expected 1 to be 2 // Object.is equality

Caused by: AssertionError: expected 1 to be 2 // Object.is equality
            </failure>
        </testcase>
        <testcase classname="probe.test.ts" name="d &gt; timeout" time="0.303361163">
            <failure message="Test timed out in 300ms.
If this is a long-running test, pass a timeout value as the last argument or configure it globally with &quot;testTimeout&quot;." type="TestTimeoutError">
TestTimeoutError: Test timed out in 300ms.
            </failure>
        </testcase>
        <testcase classname="probe.test.ts" name="d &gt; passes" time="0.000556495">
        </testcase>
    </testsuite>
</testsuites>`

  test('AssertionError for expect (and expect.poll), LabSetupError and LabError by name, TestTimeoutError for a timeout', () => {
    const { tests } = resultsFromJunit(captured)
    expect(tests.map((t) => [t.name, t.state, t.errorType])).toEqual([
      ['d > expect fails', 'failed', 'AssertionError'],
      ['d > expect.poll fails', 'failed', 'AssertionError'],
      ['d > LabSetupError thrown', 'failed', 'LabSetupError'],
      ['d > until around an expect', 'failed', 'LabError'],
      ['d > timeout', 'failed', 'TestTimeoutError'],
      ['d > passes', 'passed', undefined],
    ])
    expect(tests[4]!.error).toBe('Test timed out in 300ms.')
  })
})

describe('a mutation is killed only by its expected killer failing on an assertion', () => {
  test('the expected killer failed on an assertion: killed, with the test and its message', () => {
    const run = gate(1, junit(testcase(MULTI, SURVIVES, assertion)))
    expect(mutationVerdict(mutation, run)).toEqual({ verdict: 'killed', why: `${FAILOVER} > ${MULTI} > ${SURVIVES}: ${assertion.message}` })
  })

  test('the same test in the other layout counts', () => {
    const run = gate(1, junit(testcase(SINGLE, SURVIVES, assertion)))
    expect(mutationVerdict(mutation, run).verdict).toBe('killed')
  })

  test('any of a list of alternatives counts', () => {
    const either = { ...mutation, expectedKiller: [`${FAILOVER} > ${MULTI} > ${SURVIVES}`, `${FAILOVER} > ${MULTI} > ${REJOINS}`] }
    const run = gate(1, junit(testcase(MULTI, SURVIVES), testcase(MULTI, REJOINS, assertion)))
    expect(mutationVerdict(either, run)).toMatchObject({ verdict: 'killed', why: expect.stringContaining(REJOINS) })
    expect(mutationVerdict(mutation, run).verdict).toBe('error')
  })

  test('the expected killer failed because its lab could not be set up: error, not killed', () => {
    const run = gate(3, junit(testcase(MULTI, SURVIVES, setupFailed)))
    expect(mutationVerdict(mutation, run)).toEqual({
      verdict: 'error', why: `a lab could not be set up (exit 3), in ${FAILOVER} > ${MULTI} > ${SURVIVES}: ${setupFailed.message}`,
    })
  })

  test('the expected killer failed on an assertion while another lab could not be set up: error, the run is incomplete', () => {
    const run = gate(3, junit(testcase(MULTI, SURVIVES, assertion), testcase(MULTI, REJOINS, setupFailed)))
    expect(mutationVerdict(mutation, run)).toEqual({
      verdict: 'error',
      why: `a lab could not be set up (exit 3), in ${FAILOVER} > ${MULTI} > ${REJOINS}: ${setupFailed.message}; ` +
        `${FAILOVER} > ${MULTI} > ${SURVIVES} did fail on an assertion, but the run is incomplete`,
    })
  })

  test('the expected killer timed out or threw: error, saying how it failed', () => {
    expect(mutationVerdict(mutation, gate(1, junit(testcase(MULTI, SURVIVES, timedOut))))).toEqual({
      verdict: 'error', why: `${FAILOVER} > ${MULTI} > ${SURVIVES} failed, but not on an assertion: TestTimeoutError: Test timed out in 180000ms.`,
    })
    expect(mutationVerdict(mutation, gate(1, junit(testcase(MULTI, SURVIVES, notReached))))).toMatchObject({
      verdict: 'error', why: expect.stringContaining(`failed, but not on an assertion: LabError: ${notReached.message}`),
    })
  })

  test('another test caught it: error, naming that test and the expected killer', () => {
    const run = gate(1, junit(testcase(MULTI, REJOINS, assertion), testcase(MULTI, SURVIVES)))
    expect(mutationVerdict(mutation, run)).toEqual({
      verdict: 'error',
      why: `caught by ${FAILOVER} > ${MULTI} > ${REJOINS} (AssertionError: ${assertion.message}), not by the expected killer; expected ${mutation.expectedKiller}`,
    })
  })

  test('every test passed: survived', () => {
    expect(mutationVerdict(mutation, gate(0, junit(testcase(MULTI, SURVIVES), testcase(MULTI, REJOINS))))).toEqual({ verdict: 'survived', why: 'every test passed' })
  })

  test('a gate that stopped before or outside the tests: error, with its last word', () => {
    expect(mutationVerdict(mutation, gate(3, undefined, 'lb-e2e verify: vitest run --project tomcat\nlb-e2e: image lb-e2e/tomcat:latest: docker build failed'))).toEqual({
      verdict: 'error', why: 'the lab could not be set up (exit 3): image lb-e2e/tomcat:latest: docker build failed',
    })
    expect(mutationVerdict(mutation, gate(1, junit(testcase(MULTI, SURVIVES)).replace('</testsuites>',
      '<testsuite name="vitest unhandled errors"><testcase classname="vitest unhandled errors" name="Error: boom"><error message="boom" type="Error"/></testcase></testsuite></testsuites>'))))
      .toEqual({ verdict: 'error', why: 'the run failed outside any test: boom' })
    expect(mutationVerdict(mutation, gate(1, junit()))).toMatchObject({ verdict: 'error', why: expect.stringContaining('names no failed test') })
    expect(mutationVerdict(mutation, gate(-1))).toEqual({ verdict: 'error', why: 'the gate could not run (exit -1): see the log' })
  })
})

describe('a refusal (exit 2) kills only with the expected text', () => {
  const configtest = `<mutated>/tomcat/server.xml: Tomcat rejects this server.xml for node01 (configtest):\n…\nSEVERE: Begin event threw exception\njava.lang.IllegalArgumentException: argument type mismatch`
  // What the gate prints for a refusal, from its own report().
  const refusal = (...errors: string[]) => gate(2, undefined, report({ exitCode: 2, errors, warnings: [], passed: 0, failed: 0, skipped: 0, failures: [], setup: [] }))
  const manager: Mutation = { ...mutation, name: 'standard-manager', file: 'tomcat/server.xml', expectedKiller: 'configtest: argument type mismatch' }

  test('the errors are read back as written, continuation lines included', () => {
    expect(refusalsIn(refusal('webapp/WEB-INF/web.xml: no <distributable/>', configtest).output)).toEqual(['webapp/WEB-INF/web.xml: no <distributable/>', configtest])
  })

  test('one of the errors contains the expected text: killed', () => {
    expect(mutationVerdict(manager, refusal('tomcat/server.xml:12: something else', configtest))).toEqual({
      verdict: 'killed', why: 'refused before any lab started: <mutated>/tomcat/server.xml: Tomcat rejects this server.xml for node01 (configtest):',
    })
    const validation = { ...mutation, expectedKiller: 'validation: no <distributable/>' }
    expect(mutationVerdict(validation, refusal('webapp/WEB-INF/web.xml: the webapp has no <distributable/>: sessions are not replicated')).verdict).toBe('killed')
  })

  test('refused, but not with the expected text, or when a test was expected: error, saying what refused it', () => {
    expect(mutationVerdict(manager, refusal('tomcat/server.xml:12: <Cluster> must be inside <Engine> or <Host>'))).toEqual({
      verdict: 'error',
      why: 'refused before any lab started, but not by the expected killer: tomcat/server.xml:12: <Cluster> must be inside <Engine> or <Host>; expected configtest: argument type mismatch',
    })
    expect(mutationVerdict(mutation, refusal('webapp/WEB-INF/web.xml: no <distributable/>')).verdict).toBe('error')
    expect(mutationVerdict(manager, gate(2, undefined, 'lb-e2e: --only haproxy: expected one of lvs, tomcat, balancer'))).toMatchObject({
      verdict: 'error', why: expect.stringContaining('not by the expected killer: --only haproxy: expected one of lvs, tomcat, balancer'),
    })
  })
})
