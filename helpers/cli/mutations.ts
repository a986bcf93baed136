/**
 * The mutation catalogue (fixtures/mutations/*.json): small, named changes to the default
 * configuration, each breaking something a user cares about. The gate must fail on every one
 * of them, and by the test (or refusal) that should catch it; a mutation it survives is a missing
 * test. Applying one is pure text replacement on the fixture files, so a catalogue that no longer
 * matches the fixtures fails loudly here. Scoring a gate run is pure too (mutationVerdict).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { LabError } from '../errors.ts'
import { type TestResult, resultsFromJunit } from '../report/model.ts'
import { fixturesDir, repoRoot } from '../settings.ts'

export interface Replacement {
  /** Text that must occur in the file (every occurrence is replaced). */
  from: string
  to: string
}

export interface Mutation {
  /** Also the file's name: fixtures/mutations/<name>.json. */
  name: string
  /** The file it changes, relative to the fixtures directory (webapp/WEB-INF/web.xml: the webapp's). */
  file: string
  /** Start from this file instead of `file` (a per-node server.xml derived from the shared one). */
  base?: string
  /** More files the same replacements apply to (every node's server.xml). */
  also?: string[]
  /**
   * The configuration mutated, relative to the repository: `fixtures` (the default: the project's
   * own, run strict) or a team-shaped directory such as `examples/blog-post` (run as a team's
   * files are, lenient: the rule itself must catch it, not a limit).
   */
  fixtures?: string
  replace: Replacement[]
  /** What a user loses. */
  breaks: string
  /** What must catch it (see Killer); a list holds alternatives, any one of them counts. */
  expectedKiller: string | string[]
  /** Part of the error or finding validateFixtures reports for the changed file, when it can tell before any lab. */
  validation?: string
}

/**
 * One way a mutation is caught: a suite's test failing on an assertion
 * (`suites/<file> > <describe> > <test>`, as JUnit names it; the same test in the other layout
 * counts too), or the gate refusing the input (exit 2) with an error that contains `text`
 * (`validation: <text>`, or `configtest: <text>` when httpd's or Tomcat's own check says it).
 */
export type Killer =
  | { kind: 'suite'; file: string; test: string; label: string }
  | { kind: 'validation'; text: string; label: string }
  | { kind: 'configtest'; text: string; label: string }

const KILLER_FORMS = '"suites/<file> > <describe> > <test>", "validation: <text>" or "configtest: <text>"'

/** A killer as the catalogue writes it, or undefined when it has none of the three forms. */
export function parseKiller(label: string): Killer | undefined {
  const refusal = /^(validation|configtest): (.*\S.*)$/s.exec(label)
  if (refusal) return { kind: refusal[1] === 'validation' ? 'validation' : 'configtest', text: refusal[2]!, label }
  const suite = /^(suites\/[\w.-]+\.test\.ts) > (.*\S.*)$/s.exec(label)
  if (suite) return { kind: 'suite', file: suite[1]!, test: suite[2]!, label }
  return undefined
}

/** The mutation's killers, alternatives in the catalogue's order. */
export function expectedKillers(mutation: Mutation): Killer[] {
  const labels = typeof mutation.expectedKiller === 'string' ? [mutation.expectedKiller] : mutation.expectedKiller
  return labels.map((label) => {
    const killer = parseKiller(label)
    if (!killer) throw new LabError(`mutation ${mutation.name} (fixtures/mutations/${mutation.name}.json): "expectedKiller" ${JSON.stringify(label)} is none of ${KILLER_FORMS}`)
    return killer
  })
}

export const MUTATIONS_DIR = path.join(fixturesDir, 'mutations')

const FIELDS: Record<keyof Mutation, 'required' | 'optional'> = {
  name: 'required', file: 'required', base: 'optional', also: 'optional', fixtures: 'optional', replace: 'required', breaks: 'required', expectedKiller: 'required', validation: 'optional',
}

/** The directory a mutation changes: fixtures/ unless it names another. */
export function mutationBase(mutation: Mutation): string {
  return path.join(repoRoot, mutation.fixtures ?? 'fixtures')
}

/** Every mutation of the catalogue, checked for shape; a malformed file is a LabError naming it. */
export function loadMutations(dir: string = MUTATIONS_DIR): Mutation[] {
  return readdirSync(dir).filter((n) => n.endsWith('.json')).sort().map((name) => {
    const file = path.join(dir, name)
    const fail = (problem: string): never => { throw new LabError(`${path.relative(repoRoot, file)}: ${problem}`) }
    let data: unknown
    try {
      data = JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      fail(`not valid JSON (${(error as Error).message}); fix the file`)
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('expected one JSON object')
    const record = data as Record<string, unknown>
    for (const key of Object.keys(record)) if (!(key in FIELDS)) fail(`unknown field "${key}"; the fields are ${Object.keys(FIELDS).join(', ')}`)
    for (const [key, need] of Object.entries(FIELDS)) {
      if (key === 'replace' || key === 'expectedKiller' || key === 'also') continue
      if (record[key] === undefined ? need === 'required' : typeof record[key] !== 'string' || record[key] === '') fail(`"${key}" must be a non-empty string`)
    }
    const replace = record.replace
    if (!Array.isArray(replace) || replace.length === 0) return fail('"replace" must be a non-empty list of { "from", "to" }')
    for (const r of replace as unknown[]) {
      const item = r as Record<string, unknown>
      if (typeof item?.from !== 'string' || item.from === '' || typeof item.to !== 'string') fail('every "replace" item needs a non-empty "from" and a "to" string')
    }
    if (record.also !== undefined && (!Array.isArray(record.also) || record.also.length === 0 || record.also.some((f) => typeof f !== 'string' || f === ''))) {
      fail('"also" must be a non-empty list of file names')
    }
    if (record.fixtures !== undefined && !existsSync(path.join(repoRoot, String(record.fixtures)))) fail(`"fixtures" names ${String(record.fixtures)}, which does not exist in the repository`)
    const killers = record.expectedKiller
    const labels = typeof killers === 'string' ? [killers] : killers
    if (!Array.isArray(labels) || labels.length === 0 || labels.some((k) => typeof k !== 'string')) {
      fail(`"expectedKiller" must be one killer or a non-empty list of alternatives, each ${KILLER_FORMS}`)
    }
    for (const label of labels as string[]) {
      if (!parseKiller(label)) fail(`"expectedKiller" ${JSON.stringify(label)} is none of ${KILLER_FORMS}`)
    }
    if (record.name !== name.replace(/\.json$/, '')) fail(`"name" is ${JSON.stringify(record.name)}: it must be the file's name without .json`)
    return record as unknown as Mutation
  })
}

/**
 * The changed files' texts, keyed by `mutation.file` (and each of `also`): what a mutation run
 * overlays on its configuration. Fails when a `from` text is gone (the fixture changed: the
 * mutation is stale) or nothing changes.
 */
export function applyMutation(fixtures: string, mutation: Mutation): Record<string, string> {
  const label = `mutation ${mutation.name} (fixtures/mutations/${mutation.name}.json)`
  const changed: Record<string, string> = {}
  for (const target of [mutation.file, ...(mutation.also ?? [])]) {
    const sourceName = target === mutation.file ? mutation.base ?? mutation.file : target
    const source = fixtureSource(fixtures, sourceName)
    if (!source) throw new LabError(`${label}: ${sourceName} does not exist in ${fixtures}; point "${mutation.base && target === mutation.file ? 'base' : target === mutation.file ? 'file' : 'also'}" at an existing file`)
    const original = readFileSync(source, 'utf8')
    let text = original
    for (const { from, to } of mutation.replace) {
      if (!text.includes(from)) {
        throw new LabError(`${label}: ${sourceName} no longer contains ${JSON.stringify(from)}: the fixture changed since the mutation was written; ` +
          'update "from" to the current text (and check the mutation still breaks what it says)')
      }
      text = text.split(from).join(to)
    }
    if (text === original) {
      const same = mutation.base ? `${mutation.file} would be a plain copy of ${mutation.base}` : `the replacements leave ${sourceName} unchanged`
      throw new LabError(`${label}: ${same}; a mutation must change something`)
    }
    changed[target] = text
  }
  return changed
}

/**
 * Where a fixture file is read from: the fixtures directory, except that the webapp's files
 * (webapp/…) come from the repository's webapp/ when the directory does not hold its own.
 */
export function fixtureSource(fixtures: string, file: string): string | undefined {
  const own = path.join(fixtures, file)
  if (existsSync(own)) return own
  const webapp = path.join(repoRoot, file)
  return file.startsWith('webapp/') && existsSync(webapp) ? webapp : undefined
}

// ── scoring a gate run ───────────────────────────────────────────────────────────────────────────

export type Verdict = 'killed' | 'survived' | 'error'

/** One run of `lb-e2e verify` against a mutation, as scripts/mutate.ts saw it. */
export interface GateRun {
  exitCode: number
  /** Its output, stdout and stderr: the errors of a refusal, the `lb-e2e:` line of a setup that failed. */
  output: string
  /** Its JUnit report (`verify --junit`), when vitest ran. */
  junit?: string
}

export interface Scored {
  verdict: Verdict
  /** What caught it, or why the run says nothing: one line for the table. */
  why: string
}

/**
 * What one gate run says of a mutation. Killed: an expected killer caught it — its test failed on
 * an assertion (exit 1), or the input was refused (exit 2) with its text. Survived: every test
 * passed. Error: anything else, and `why` says what — a lab that could not be set up (exit 3), a
 * killer that failed on a timeout or an exception instead of an assertion, another test or refusal
 * than the expected killer, a gate that could not run.
 */
export function mutationVerdict(mutation: Mutation, run: GateRun): Scored {
  const killers = expectedKillers(mutation)
  const expected = `expected ${killers.map((k) => k.label).join(' or ')}`
  const killed = (why: string): Scored => ({ verdict: 'killed', why })
  const error = (why: string): Scored => ({ verdict: 'error', why })
  if (run.exitCode === 0) return { verdict: 'survived', why: 'every test passed' }

  if (run.exitCode === 2) {
    const refusals = refusalsIn(run.output)
    for (const killer of killers) {
      const hit = killer.kind === 'suite' ? undefined : refusals.find((r) => r.includes(killer.text))
      if (hit !== undefined) return killed(`refused before any lab started: ${headline(hit)}`)
    }
    const first = refusals[0] ?? gateLine(run.output)
    return error(`refused before any lab started, but not by the expected killer: ${headline(first)}; ${expected}`)
  }

  const { tests, errors } = run.junit === undefined ? { tests: [], errors: [] } : resultsFromJunit(run.junit)
  const failed = tests.filter((t) => t.state === 'failed')
  const byKiller = failed.filter((t) => killers.some((k) => k.kind === 'suite' && sameTest(k, t)))
  const caught = byKiller.find((t) => t.errorType === 'AssertionError') ?? byKiller[0]
  const setup = failed.find((t) => t.errorType === 'LabSetupError')
  if (run.exitCode === 1 && caught?.errorType === 'AssertionError') return killed(`${named(caught)}: ${caught.error ?? ''}`)
  if (setup) {
    const also = caught?.errorType === 'AssertionError' ? `; ${named(caught)} did fail on an assertion, but the run is incomplete` : ''
    return error(`a lab could not be set up (exit ${run.exitCode}), in ${named(setup)}: ${setup.error ?? ''}${also}`)
  }
  if (run.exitCode === 3) return error(`the lab could not be set up (exit 3): ${gateLine(run.output)}`)
  if (run.exitCode !== 1) return error(`the gate could not run (exit ${run.exitCode}): ${gateLine(run.output)}`)
  if (caught) return error(`${named(caught)} failed, but not on an assertion: ${failure(caught)}`)
  const other = failed[0]
  if (other) return error(`caught by ${named(other)} (${failure(other)}), not by the expected killer; ${expected}`)
  if (errors[0]) return error(`the run failed outside any test: ${errors[0].message}`)
  return error('the gate failed (exit 1) and its JUnit report names no failed test: see the log')
}

/** The errors a refused gate run printed (`  error: …`, continuation lines indented by 4), as written. */
export function refusalsIn(output: string): string[] {
  return [...output.matchAll(/^ {2}error: (.*(?:\n {4}.*)*)/gm)].map((m) => m[1]!.replace(/\n {4}/g, '\n'))
}

/** An error's first line, and for a program's long output (httpd, Tomcat) its telling line. */
function headline(error: string): string {
  const [head, ...more] = error.split('\n')
  const telling = more.map((l) => l.trim()).find((l) => /Error at line|Caused by|AH\d+|Invalid command/.test(l))
  return telling ? `${head} ${telling}` : head!
}

/** The gate's own last word (`lb-e2e: …`), for a run that stopped before or outside the tests. */
function gateLine(output: string): string {
  return [...output.matchAll(/^lb-e2e: (.*)$/gm)].at(-1)?.[1] ?? 'see the log'
}

/** The same test, in either layout: describe titles name single-host or multi-host. */
function sameTest(killer: Extract<Killer, { kind: 'suite' }>, test: TestResult): boolean {
  const anyLayout = (name: string) => name.replace(/\b(single|multi)-host\b/g, '<layout>')
  return killer.file === test.file && anyLayout(killer.test) === anyLayout(test.name)
}

/**
 * The mutation's expected killers that already fail on its unmutated configuration (a baseline
 * run's JUnit report): a kill by one of them proves nothing, so the mutation has no verdict.
 */
export function killersFailingOnBaseline(mutation: Mutation, baselineJunit: string): string[] {
  const failed = resultsFromJunit(baselineJunit).tests.filter((t) => t.state === 'failed')
  return expectedKillers(mutation).flatMap((k) => (k.kind === 'suite' && failed.some((t) => sameTest(k, t)) ? [k.label] : []))
}

const named = (t: TestResult) => `${t.file} > ${t.name}`
const failure = (t: TestResult) => `${t.errorType ?? 'an error'}: ${t.error ?? '(no message)'}`
