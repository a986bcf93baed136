/**
 * The one reader of JUnit XML reports (vitest's junit reporter, merged or not): saxes, a conformant
 * XML parser, so entities, CDATA, comments, attribute order and quoting and self-closing elements
 * read as XML says. The reports, the gate's verdict and the scripts all read through readJunit.
 */
import { SaxesParser } from 'saxes'

export type JunitState = 'passed' | 'failed' | 'skipped'

/** vitest's classname (and suite name) for its testcases of errors outside any test. */
export const UNHANDLED = 'vitest unhandled errors'

export interface JunitFailure {
  /** vitest writes a <failure> per error of a test, an <error> per unhandled error. */
  element: 'failure' | 'error'
  /** The message attribute ('' when absent), with the line breaks vitest writes into it. */
  message: string
  /** The error's name: AssertionError, TestTimeoutError, LabSetupError … */
  type?: string
  /** The element's text, CDATA included: vitest writes the formatted error and its stack there. */
  text: string
}

export interface JunitCase {
  /** vitest writes the test file's path, relative to the root. */
  classname: string
  /** The file attribute, which vitest writes only with its addFileAttribute option. */
  file?: string
  /** Suite names and test name joined by ' > '. */
  name: string
  /** Seconds (0 when absent). */
  time: number
  /** failed with a <failure> or <error>, whatever else is there; else skipped with a <skipped>. */
  state: JunitState
  failures: JunitFailure[]
  /** vitest writes a test's annotations as properties: name is their type, value their message. */
  properties: { name: string; value: string }[]
}

export interface JunitSuite {
  name: string
  /** Names of the testsuites it is nested in, outermost first; vitest nests none. */
  within: string[]
  /** Its testcases as read, those of nested suites included. */
  tests: number
  /** Seconds (0 when absent). */
  time: number
}

export interface JunitReport {
  /** The root element's time in seconds: vitest's wall time of the run. */
  time?: number
  /** Every testsuite in document order. */
  suites: JunitSuite[]
  /** Every testcase but vitest's unhandled-error ones, in document order. */
  tests: JunitCase[]
  /** vitest's testcases for errors outside any test (classname UNHANDLED). */
  unhandled: JunitCase[]
  /**
   * Why the document could not be read to its end: cut short (a run ended while vitest wrote it)
   * or not well-formed. The testcases closed before that point are kept.
   */
  problem?: string
}

/** Thrown by the error handler to stop saxes at the first error, which it would otherwise read on past. */
const stopped = new Error('stop reading')

/** A JUnit report as written; never throws on a bad document (see JunitReport.problem). */
export function readJunit(xml: string): JunitReport {
  const report: JunitReport = { suites: [], tests: [], unhandled: [] }
  const parser = new SaxesParser({ position: true })
  const frames: { suite?: JunitSuite; test?: JunitCase; failure?: JunitFailure }[] = []
  let lineBroken: Record<string, string> = {}

  parser.on('opentagstart', () => { lineBroken = {} })
  // vitest leaves line breaks in attribute values (a timeout's message has two lines), which XML
  // reads as spaces; the reports show a message's first line, so such a value is read again as text.
  parser.on('attribute', ({ name }) => {
    const end = parser.position - 1 // the closing quote, which the value cannot contain
    const raw = xml.slice(xml.lastIndexOf(xml[end]!, end - 1) + 1, end)
    if (/[\t\n\r]/.test(raw)) lineBroken[name] = asText(raw)
  })
  parser.on('opentag', (tag) => {
    const a: Record<string, string | undefined> = { ...(tag.attributes as Record<string, string>), ...lineBroken }
    const time = seconds(a.time)
    if (!frames.length && time !== undefined) report.time = time
    const test = frames.findLast((f) => f.test)?.test
    const frame: (typeof frames)[number] = {}
    frames.push(frame)
    if (!test) {
      if (tag.name === 'testsuite') {
        frame.suite = { name: a.name ?? '', within: frames.flatMap((f) => (f.suite ? [f.suite.name] : [])), tests: 0, time: time ?? 0 }
        report.suites.push(frame.suite)
      } else if (tag.name === 'testcase') {
        frame.test = {
          classname: a.classname ?? '', ...(a.file !== undefined ? { file: a.file } : {}), name: a.name ?? '',
          time: time ?? 0, state: 'passed', failures: [], properties: [],
        }
      }
    } else if (tag.name === 'failure' || tag.name === 'error') {
      frame.failure = { element: tag.name, message: a.message ?? '', ...(a.type !== undefined ? { type: a.type } : {}), text: '' }
      test.failures.push(frame.failure)
      test.state = 'failed'
    } else if (tag.name === 'skipped') {
      if (test.state === 'passed') test.state = 'skipped'
    } else if (tag.name === 'property') {
      test.properties.push({ name: a.name ?? '', value: a.value ?? '' })
    }
  })
  const text = (t: string) => {
    const failure = frames.findLast((f) => f.failure)?.failure
    if (failure) failure.text += t
  }
  parser.on('text', text)
  parser.on('cdata', text)
  parser.on('closetag', () => {
    const { test } = frames.pop()!
    if (!test) return
    for (const { suite } of frames) if (suite) suite.tests++
    ;(test.classname === UNHANDLED ? report.unhandled : report.tests).push(test)
  })
  parser.on('error', (error) => {
    const m = /^(\d+:\d+): (.*?)\.?$/s.exec(error.message)
    report.problem = `the JUnit report is cut short or not well-formed XML at ${m ? `${m[1]} (${m[2]})` : `(${error.message})`}: only the testcases before that point are read`
    throw stopped
  })

  try {
    parser.write(xml).close()
  } catch (error) {
    if (error !== stopped) throw error
  }
  return report
}

/** An attribute's raw value read as element text: entities decoded, line breaks kept (`>` escaped, so no `]]>`). */
function asText(raw: string): string {
  let text = ''
  const parser = new SaxesParser()
  parser.on('text', (t) => { text += t })
  parser.write(`<v>${raw.replaceAll('>', '&gt;')}</v>`).close()
  return text
}

function seconds(value: string | undefined): number | undefined {
  const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value)
  return Number.isFinite(n) ? n : undefined
}

export interface JunitCounts { passed: number; failed: number; skipped: number }

/**
 * Unhandled errors (vitest's own testcases for them) count as failures, and so does a report that
 * could not be read to its end: the run did not pass.
 */
export function summarizeJunit(xml: string | JunitReport): JunitCounts {
  const report = typeof xml === 'string' ? readJunit(xml) : xml
  const count = (state: JunitState) => report.tests.filter((t) => t.state === state).length
  return { passed: count('passed'), failed: count('failed') + report.unhandled.length + (report.problem ? 1 : 0), skipped: count('skipped') }
}
