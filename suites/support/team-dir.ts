/** Directories in a team's shape, made for a test from a few files and removed after the file's tests. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll } from 'vitest'
import { intake, removeIntake } from '../../helpers/intake/intake.ts'
import { type Plan, readPlan } from '../../helpers/intake/plan.ts'
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

/**
 * A team's directory taken in as the gate takes it (helpers/intake) and read into its plan, for a
 * suite that runs a lab of a configuration other than the run's; `remove` deletes the laid-out
 * copy once that lab is gone. The run's limits hold it, on the run's Tomcat unless `tomcat` names another.
 */
export function teamPlan(dir: string, run: Pick<Plan, 'limits' | 'tomcat'>, tomcat = run.tomcat): { plan: Plan; remove: () => void } {
  const taken = intake(dir)
  const before = { fixtures: process.env.LAB_FIXTURES, war: process.env.LAB_WAR }
  // The plan's readers find the laid-out files (and the jvmRoutes the intake gave) as the gate's
  // own run does, and no webapp but the directory's (not the run's --war).
  process.env.LAB_FIXTURES = taken.overlay
  if (taken.war) process.env.LAB_WAR = taken.war
  else delete process.env.LAB_WAR
  try {
    return { plan: { ...readPlan({}), limits: run.limits, tomcat }, remove: () => removeIntake(taken) }
  } catch (error) {
    removeIntake(taken)
    throw error
  } finally {
    for (const [name, value] of [['LAB_FIXTURES', before.fixtures], ['LAB_WAR', before.war]] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}
