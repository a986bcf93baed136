/**
 * vitest globalSetup of the `tomcat` project: images confirmed once, Ctrl-C cleanup installed, and
 * a final sweep. The labs themselves are started per test file (helpers/fixtures.ts).
 */
import { describeLeftovers, removeRun, removeRunOnSignals } from '../cleanup.ts'
import { ensureImage } from '../images.ts'
import { say } from '../progress.ts'

export default async function setup(): Promise<() => void> {
  removeRunOnSignals()
  await ensureImage('apache')
  await ensureImage('tomcat')
  return () => {
    const missed = removeRun()
    if (describeLeftovers(missed) !== 'nothing') say(`cleanup: the run's final sweep removed ${describeLeftovers(missed)}`)
  }
}
