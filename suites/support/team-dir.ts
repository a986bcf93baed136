/** Directories in a team's shape, made for a test from a few files and removed after the file's tests. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { repoRoot } from '../../helpers/settings.ts'

/**
 * `teamDir({ 'tomcat/node02/server.xml': text, 'app.war': { copy: file } })`: a scratch directory
 * holding those files; every one a test file makes is removed when its tests are done.
 */
export function teamDirs(prefix = 'lb-e2e-team-'): (files: Record<string, string | { copy: string }>) => string {
  const made: string[] = []
  afterAll(() => { for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true }) })
  return (files) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
    made.push(dir)
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true })
      if (typeof content === 'string') writeFileSync(path.join(dir, file), content)
      else cpSync(content.copy, path.join(dir, file))
    }
    return dir
  }
}

/** A file of the project's fixtures/, as text. */
export function fixture(file: string): string {
  return readFileSync(path.join(repoRoot, 'fixtures', file), 'utf8')
}
