/** A configuration directory with a few files changed, validated: what the gate's checks say of it. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { type ValidateOptions, formatFinding, validateFixtures } from '../../helpers/validate/index.ts'

/**
 * `variant(base, changes)`: a scratch copy of `base` with files changed (`text => text`) or written,
 * validated; messages name the files relative to it. The copies go when the test file is done.
 */
export function variants(prefix = 'lb-e2e-validate-') {
  const made: string[] = []
  afterAll(() => { for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true }) })
  return (base: string, changes: Record<string, string | ((text: string) => string)>, options: ValidateOptions = {}) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
    made.push(dir)
    cpSync(base, dir, { recursive: true })
    for (const [file, change] of Object.entries(changes)) {
      const full = path.join(dir, file)
      mkdirSync(path.dirname(full), { recursive: true })
      writeFileSync(full, typeof change === 'string' ? change : change(readFileSync(full, 'utf8')))
    }
    const v = validateFixtures(dir, options)
    const strip = (s: string) => s.replaceAll(`${dir}/`, '')
    return { errors: v.errors.map((e) => strip(e.message)), findings: v.findings.map((f) => strip(formatFinding(f))), nodes: v.nodes }
  }
}
