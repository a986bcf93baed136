/**
 * The mutation catalogue (fixtures/mutations/*.json): small, named changes to the default
 * configuration, each breaking something a user cares about. The gate must fail on every one
 * of them; a mutation it survives is a missing test. Applying one is pure text replacement on the
 * fixture files, so a catalogue that no longer matches the fixtures fails loudly here.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { LabError } from './errors.ts'
import { fixturesDir, repoRoot } from './settings.ts'

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
  replace: Replacement[]
  /** What a user loses. */
  breaks: string
  /** `suites/<file> > <describe> > <test>` expected to fail, or `validation: <text>` when only validation tells. */
  expectedKiller: string
  /** Part of the error or finding validateFixtures reports for the changed file, when it can tell before any lab. */
  validation?: string
}

export const MUTATIONS_DIR = path.join(fixturesDir, 'mutations')

const FIELDS: Record<keyof Mutation, 'required' | 'optional'> = {
  name: 'required', file: 'required', base: 'optional', replace: 'required', breaks: 'required', expectedKiller: 'required', validation: 'optional',
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
      if (key === 'replace') continue
      if (record[key] === undefined ? need === 'required' : typeof record[key] !== 'string' || record[key] === '') fail(`"${key}" must be a non-empty string`)
    }
    const replace = record.replace
    if (!Array.isArray(replace) || replace.length === 0) return fail('"replace" must be a non-empty list of { "from", "to" }')
    for (const r of replace as unknown[]) {
      const item = r as Record<string, unknown>
      if (typeof item?.from !== 'string' || item.from === '' || typeof item.to !== 'string') fail('every "replace" item needs a non-empty "from" and a "to" string')
    }
    if (record.name !== name.replace(/\.json$/, '')) fail(`"name" is ${JSON.stringify(record.name)}: it must be the file's name without .json`)
    return record as unknown as Mutation
  })
}

/**
 * The changed file's text, keyed by `mutation.file`: what a mutation run overlays on the fixtures.
 * Fails when a `from` text is gone (the fixture changed: the mutation is stale) or nothing changes.
 */
export function applyMutation(fixtures: string, mutation: Mutation): Record<string, string> {
  const label = `mutation ${mutation.name} (fixtures/mutations/${mutation.name}.json)`
  const sourceName = mutation.base ?? mutation.file
  const source = fixtureSource(fixtures, sourceName)
  if (!source) throw new LabError(`${label}: ${sourceName} does not exist in ${fixtures}; point "${mutation.base ? 'base' : 'file'}" at an existing file`)
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
  return { [mutation.file]: text }
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
