/**
 * vitest globalSetup of the `tomcat` project: images confirmed once and the run's cleanup guard
 * installed, and the limits the run is held to recorded. The labs themselves are started per test file (helpers/lab/fixtures.ts).
 */
import { removeRunOnExit } from './cleanup.ts'
import { record, resetFigures } from '../report/figures.ts'
import { describeLimits, limitsMode } from '../checks/limits.ts'
import { ensureImage } from './images.ts'

export default async function setup(): Promise<void> {
  removeRunOnExit()
  resetFigures()
  record({ kind: 'limits', mode: limitsMode(), description: describeLimits() })
  await ensureImage('apache')
  await ensureImage('tomcat')
}
