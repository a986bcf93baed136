/**
 * vitest globalSetup of the `tomcat` project: images confirmed once and the run's cleanup guard
 * installed, and the limits the run is held to recorded. The labs themselves are started per test file (helpers/lab/fixtures.ts).
 */
import { removeRunOnExit } from './cleanup.ts'
import { record, resetFigures } from '../report/figures.ts'
import type { TestProject } from 'vitest/node'
import { ensureImage } from './images.ts'

export default async function setup(project: TestProject): Promise<void> {
  removeRunOnExit()
  resetFigures()
  const { limits } = project.getProvidedContext().plan
  record({ kind: 'limits', mode: limits.mode, description: limits.description })
  await ensureImage('apache')
  await ensureImage('tomcat')
}
