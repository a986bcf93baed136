import { expect, test } from 'vitest'
import { summarizeJunit } from '../../helpers/report/junit.ts'

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
