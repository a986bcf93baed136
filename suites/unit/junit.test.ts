// The JUnit reader (helpers/report/junit.ts) on a hand-written report that regular expressions
// misread (suites/unit/fixtures/junit-tricky.xml), and the counts CI's closing line prints.
import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import { UNHANDLED, readJunit, summarizeJunit } from '../../helpers/report/junit.ts'

const tricky = readFileSync(new URL('./fixtures/junit-tricky.xml', import.meta.url), 'utf8')

test('passed, failed (failure or error) and skipped testcases are counted', () => {
  const xml = `<?xml version="1.0"?><testsuites tests="5"><testsuite name="a">
    <testcase classname="a" name="ok one" time="0.1"></testcase>
    <testcase classname="a" name="ok two" time="0.1"/>
    <testcase classname="a" name="bad"><failure message="expected 5">stack</failure></testcase>
    <testcase classname="a" name="broken"><error message="boom"/></testcase>
    <testcase classname="a" name="later"><skipped/></testcase>
  </testsuite></testsuites>`
  expect(summarizeJunit(xml)).toEqual({ passed: 2, failed: 2, skipped: 1 })
})

test('a report without testcases counts nothing', () => {
  expect(summarizeJunit('<testsuites tests="0"></testsuites>')).toEqual({ passed: 0, failed: 0, skipped: 0 })
})

describe('a report read as XML, not matched', () => {
  const report = readJunit(tricky)

  test('each state is counted; the unhandled error counts as a failure', () => {
    expect(report.tests.map((t) => [t.name, t.state])).toEqual([
      ['x < y && "quoted" été', 'passed'],
      ['a failure whose message has > and quotes', 'failed'],
      ['later', 'skipped'],
      ['a failure in CDATA', 'failed'],
      ['an error with a message of two lines', 'failed'],
      ['annotated', 'passed'],
      ['nested > passed', 'passed'],
      ['nested > todo', 'skipped'],
    ])
    expect(summarizeJunit(report)).toEqual({ passed: 3, failed: 4, skipped: 2 })
    expect(summarizeJunit(tricky)).toEqual(summarizeJunit(report))
    expect(report.problem).toBeUndefined()
  })

  test('entities and character references in attributes and text, attributes in any order and quoting', () => {
    // A regex read only double-quoted attributes: the single-quoted classname was lost.
    expect(report.tests[0]).toEqual({ classname: 'suites/a & b.test.ts', name: 'x < y && "quoted" été', time: 0.25, state: 'passed', failures: [], properties: [] })
    expect(report.tests[5]!.properties).toEqual([{ name: 'figure', value: 'gap 1 < 2 s' }])
  })

  test('a failure whose message holds > and quotes, next to CDATA holding <skipped/> and </testcase>', () => {
    // A regex ended the testcase at the </testcase> in the CDATA and took it for skipped.
    expect(report.tests[1]!.failures).toEqual([{
      element: 'failure', type: 'AssertionError', message: `expected 'a' > "b"`, text: `AssertionError: expected 'a' > "b"\n ❯ suites/a.test.ts:3:5`,
    }])
  })

  test('CDATA is text; a close tag with a space before > closes its testcase', () => {
    // A regex kept `<![CDATA[` in the text, and ran `</testcase >` on into the next testcase, which vanished.
    expect(report.tests[3]!.failures).toEqual([{ element: 'failure', message: '', text: "Error: <b> & 'c'\n ❯ second line" }])
    expect(report.tests[4]!.failures).toEqual([{ element: 'error', type: 'TypeError', message: 'first\nsecond', text: '' }])
  })

  test('the commented-out testcase is no test', () => {
    expect(report.tests.map((t) => t.classname)).not.toContain('suites/commented.test.ts')
  })

  test('nested testsuites, the root time, the unhandled errors', () => {
    expect(report.time).toBe(12.5)
    expect(report.suites).toEqual([
      { name: 'suites/a & b.test.ts', within: [], tests: 8, time: 3.25 },
      { name: 'nested', within: ['suites/a & b.test.ts'], tests: 2, time: 1 },
      { name: UNHANDLED, within: [], tests: 1, time: 0 },
    ])
    expect(report.unhandled).toEqual([{
      classname: UNHANDLED, name: 'Error: boom & bust', time: 0, state: 'failed', properties: [],
      failures: [{ element: 'error', type: 'Error', message: 'boom & bust\nsecond line', text: 'Error: boom & bust' }],
    }])
  })
})

describe('a report that cannot be read to its end', () => {
  test('cut short while vitest wrote it: the testcases closed before are kept, and it counts as a failure', () => {
    const cut = readJunit(tricky.slice(0, tricky.indexOf('<testcase classname="suites/a &amp; b.test.ts" name="annotated"') + 20))
    expect(cut.tests.map((t) => t.name)).toEqual(['x < y && "quoted" été', 'a failure whose message has > and quotes', 'later', 'a failure in CDATA', 'an error with a message of two lines'])
    expect(cut.problem).toMatch(/^the JUnit report is cut short or not well-formed XML at \d+:\d+ \(.+\): only the testcases before that point are read$/)
    expect(summarizeJunit(cut)).toEqual({ passed: 1, failed: 4, skipped: 1 })
  })

  test('empty, or not well-formed (a bare &): no pass', () => {
    expect(summarizeJunit('')).toEqual({ passed: 0, failed: 1, skipped: 0 })
    const bad = readJunit('<testsuites><testsuite name="a"><testcase classname="a" name="ok"/><testcase classname="a" name="a & b"/></testsuite></testsuites>')
    expect(bad.tests.map((t) => t.name)).toEqual(['ok'])
    expect(bad.problem).toContain('at 1:')
  })
})
