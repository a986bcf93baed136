import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { type Mutation, applyMutation, expectedKillers, fixtureSource, loadMutations, mutationBase } from '../../helpers/cli/mutations.ts'
import { checkInput } from '../../helpers/cli/input.ts'
import { intake, removeIntake } from '../../helpers/intake/intake.ts'
import { formatFinding, validateFixtures } from '../../helpers/validate/index.ts'

const catalogue = loadMutations()
const temporary: string[] = []
afterAll(() => { for (const dir of temporary) rmSync(dir, { recursive: true, force: true }) })

function scratch(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-mutation-'))
  temporary.push(dir)
  return dir
}

/** The default configuration (fixtures/ plus the webapp's web.xml) with `files` laid over it, validated. */
function validateWith(files: Record<string, string>): string[] {
  const dir = scratch()
  cpSync('fixtures', dir, { recursive: true })
  mkdirSync(path.join(dir, 'webapp/WEB-INF'), { recursive: true })
  cpSync('webapp/WEB-INF/web.xml', path.join(dir, 'webapp/WEB-INF/web.xml'))
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
    writeFileSync(path.join(dir, file), text)
  }
  const v = validateFixtures(dir)
  return [...v.errors.map((e) => e.message), ...v.findings.map(formatFinding)].map((m) => m.replaceAll(`${dir}/`, ''))
}

/** A team's directory (copied, `files` laid over it) as the gate takes it in: the intake, then its checks. */
function teamSays(base: string, files: Record<string, string>): string[] {
  const dir = scratch()
  cpSync(base, dir, { recursive: true })
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text)
  const taken = intake(dir)
  const previous = process.env.LAB_FIXTURES
  process.env.LAB_FIXTURES = taken.overlay // as the CLI sets it: messages name the team's files
  try {
    const input = checkInput({ fixtures: taken.overlay })
    return [...input.errors, ...input.findings.map(formatFinding)].map((m) => m.replaceAll(`${dir}/`, ''))
  } finally {
    if (previous === undefined) delete process.env.LAB_FIXTURES
    else process.env.LAB_FIXTURES = previous
    removeIntake(taken)
  }
}

describe('the mutation catalogue (fixtures/mutations)', () => {
  test('at least 12 named mutations, each saying what a user loses and what should catch it', () => {
    expect(catalogue.length).toBeGreaterThanOrEqual(12)
    expect(new Set(catalogue.map((m) => m.name)).size).toBe(catalogue.length)
  })

  test.each(catalogue.map((m) => [m.name, m] as const))('%s applies cleanly to the current fixtures and changes something', (_, mutation) => {
    const files = applyMutation(mutationBase(mutation), mutation)
    expect(Object.keys(files)).toEqual([mutation.file, ...(mutation.also ?? [])])
    for (const [file, text] of Object.entries(files)) {
      const before = readFileSync(fixtureSource(mutationBase(mutation), file === mutation.file ? mutation.base ?? file : file)!, 'utf8')
      expect(text, file).not.toBe(before)
    }
  })

  // The runtime-only kinds: no static check can see them, so only the suites can kill them.
  test.each(catalogue.filter((m) => !m.validation).map((m) => [m.name, m] as const))(
    '%s: the gate\'s checks say the same of the mutated files as of the unmutated ones', (_, mutation) => {
      const said = (changed: Record<string, string>) => {
        const dir = scratch()
        if (mutation.fixtures) cpSync(mutationBase(mutation), dir, { recursive: true })
        for (const [file, text] of Object.entries(changed)) {
          mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
          writeFileSync(path.join(dir, file), text)
        }
        const input = checkInput({ fixtures: dir })
        return [...input.errors, ...input.findings.map(formatFinding)].map((m) => m.replaceAll(dir, '<dir>'))
      }
      const unmutated = mutation.fixtures ? {} : Object.fromEntries(Object.keys(applyMutation(mutationBase(mutation), mutation))
        .map((file) => [file, readFileSync(fixtureSource(mutationBase(mutation), file === mutation.file ? mutation.base ?? file : file)!, 'utf8')]))
      expect(said(applyMutation(mutationBase(mutation), mutation))).toEqual(said(unmutated))
    })

  test.each(catalogue.filter((m) => m.validation).map((m) => [m.name, m] as const))(
    '%s: validation reports it in the changed file, and not for the unmutated configuration', (_, mutation) => {
      const about = (messages: string[]) => messages.filter((m) => m.includes(`${mutation.file}:`) && m.includes(mutation.validation!))
      const says = mutation.fixtures ? (files: Record<string, string>) => teamSays(mutationBase(mutation), files) : validateWith
      expect(about(says(applyMutation(mutationBase(mutation), mutation)))).not.toEqual([])
      expect(about(says({}))).toEqual([])
    })

  test.each(catalogue.map((m) => [m.name, m] as const))('%s: each of its expected killers exists', (_, mutation) => {
    for (const killer of expectedKillers(mutation)) {
      if (killer.kind === 'validation') {
        expect(mutation.validation, 'a validation killer names the text validation reports').toBe(killer.text)
        continue
      }
      // Tomcat's own configtest (in a container, before any lab): npm run mutate shows its words.
      if (killer.kind === 'configtest') continue
      const names = killer.test.split(' > ')
      expect(existsSync(killer.file), `${killer.file} exists`).toBe(true)
      const titles = titlePatterns(readFileSync(killer.file, 'utf8'))
      expect(names.length, 'suites/<file> > <describe> > <test>').toBeGreaterThanOrEqual(2)
      for (const name of names) expect(titles.some((t) => t.test(name)), `${killer.file} has a describe or test titled "${name}"`).toBe(true)
    }
  })
})

/** The describe and test titles of a suite as patterns (describeEachLayout: helpers/lab/fixtures.ts): `%s`, `$name` and `${…}` stand for the values .each/.for put there. */
function titlePatterns(source: string): RegExp[] {
  const titles = source.matchAll(/\b(?:describe|describeEachLayout|test|it)(?:\.(?:each|for)\((?:[^()]|\([^()]*\))*\))?\(\s*(['"`])((?:\\.|(?!\1).)*)\1/g)
  return [...titles].map((m) => {
    const literal = m[2]!.replace(/\\(.)/g, '$1')
    const pattern = literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%[sdifjo]|\\\$\w+|\\\$\\\{[^}]*\\\}/g, '.+')
    return new RegExp(`^${pattern}$`)
  })
}

describe('applying a mutation', () => {
  const base: Mutation = { name: 'x', file: 'tomcat/server.xml', replace: [{ from: 'channelSendOptions="6"', to: 'channelSendOptions="8"' }], breaks: '…', expectedKiller: 'validation: x', validation: 'x' }

  test('a stale mutation (its text is gone from the fixture) fails and says what to do', () => {
    expect(() => applyMutation('fixtures', { ...base, replace: [{ from: 'channelSendOptions="7"', to: '8' }] })).toThrow(
      'mutation x (fixtures/mutations/x.json): tomcat/server.xml no longer contains "channelSendOptions=\\"7\\"": the fixture changed since the mutation was written; update "from" to the current text (and check the mutation still breaks what it says)')
  })

  test('a mutation that changes nothing, or names a missing file, fails', () => {
    expect(() => applyMutation('fixtures', { ...base, replace: [{ from: 'channelSendOptions="6"', to: 'channelSendOptions="6"' }] })).toThrow(
      'mutation x (fixtures/mutations/x.json): the replacements leave tomcat/server.xml unchanged; a mutation must change something')
    expect(() => applyMutation('fixtures', { ...base, file: 'tomcat/missing.xml' })).toThrow(
      'mutation x (fixtures/mutations/x.json): tomcat/missing.xml does not exist in fixtures; point "file" at an existing file')
  })

  test('every occurrence is replaced, and a per-node file can start from the shared one', () => {
    const files = applyMutation('fixtures', { ...base, file: 'tomcat/node02/server.xml', base: 'tomcat/server.xml', replace: [{ from: 'node', to: 'NODE' }] })
    expect(Object.keys(files)).toEqual(['tomcat/node02/server.xml'])
    expect(files['tomcat/node02/server.xml']).not.toContain('node')
  })

  test('a malformed catalogue file is named with its problem', () => {
    const dir = scratch()
    const load = (name: string, text: string) => {
      rmSync(dir, { recursive: true, force: true })
      mkdirSync(dir)
      writeFileSync(path.join(dir, name), text)
      return () => loadMutations(dir)
    }
    const valid = { name: 'a', file: 'tomcat/server.xml', replace: [{ from: 'a', to: 'b' }], breaks: 'x', expectedKiller: 'validation: y', validation: 'y' }
    expect(load('a.json', '{')).toThrow(/a\.json: not valid JSON/)
    expect(load('a.json', JSON.stringify({ ...valid, expectedkiller: 'z' }))).toThrow(/a\.json: unknown field "expectedkiller"; the fields are name, file, base, also, fixtures, replace/)
    expect(load('a.json', JSON.stringify({ ...valid, breaks: '' }))).toThrow(/a\.json: "breaks" must be a non-empty string/)
    expect(load('a.json', JSON.stringify({ ...valid, replace: [] }))).toThrow(/a\.json: "replace" must be a non-empty list/)
    expect(load('b.json', JSON.stringify(valid))).toThrow(/b\.json: "name" is "a": it must be the file's name without \.json/)
    expect(load('a.json', JSON.stringify(valid))()).toEqual([valid])
  })

  test('"expectedKiller" is one killer or a non-empty list of alternatives, each of a known form', () => {
    const dir = scratch()
    const load = (expectedKiller: unknown) => {
      writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ name: 'a', file: 'tomcat/server.xml', replace: [{ from: 'a', to: 'b' }], breaks: 'x', expectedKiller }))
      return () => loadMutations(dir)
    }
    const forms = '"suites/<file> > <describe> > <test>", "validation: <text>" or "configtest: <text>"'
    const listed = ['suites/tomcat-failover.test.ts > failover, multi-host layout > session survives', 'configtest: argument type mismatch']
    expect(load(listed)()[0]!.expectedKiller).toEqual(listed)
    expect(expectedKillers(load(listed)()[0]!)).toEqual([
      { kind: 'suite', file: 'suites/tomcat-failover.test.ts', test: 'failover, multi-host layout > session survives', label: listed[0] },
      { kind: 'configtest', text: 'argument type mismatch', label: listed[1] },
    ])
    expect(load([])).toThrow(`a.json: "expectedKiller" must be one killer or a non-empty list of alternatives, each ${forms}`)
    expect(load(['validation: x', 3])).toThrow('a.json: "expectedKiller" must be one killer or a non-empty list')
    expect(load(undefined)).toThrow('a.json: "expectedKiller" must be one killer or a non-empty list')
    expect(load('tomcat-failover.test.ts > session survives')).toThrow(`a.json: "expectedKiller" "tomcat-failover.test.ts > session survives" is none of ${forms}`)
    expect(load(['validation: x', 'validation: '])).toThrow('a.json: "expectedKiller" "validation: " is none of')
    expect(load('suites/tomcat-failover.test.ts')).toThrow('is none of')
  })
})
