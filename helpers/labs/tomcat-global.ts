/**
 * vitest globalSetup of the `tomcat` project: images confirmed once and the run's cleanup guard
 * installed. The labs themselves are started per test file (helpers/fixtures.ts).
 */
import { removeRunOnExit } from '../cleanup.ts'
import { resetFigures } from '../figures.ts'
import { ensureImage } from '../images.ts'

export default async function setup(): Promise<void> {
  removeRunOnExit()
  resetFigures()
  await ensureImage('apache')
  await ensureImage('tomcat')
}
