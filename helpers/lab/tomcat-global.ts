/**
 * vitest globalSetup of the `tomcat` project: images confirmed once and the run's cleanup guard
 * installed, and the limits the run is held to recorded. The labs themselves are started per test file (helpers/lab/fixtures.ts).
 */
import { removeRunOnExit } from './cleanup.ts'
import { record, resetFigures } from '../report/figures.ts'
import type { TestProject } from 'vitest/node'
import { describePlan } from '../intake/plan.ts'
import { ensureImage, serverInfo, tomcatImage } from './images.ts'

export default async function setup(project: TestProject): Promise<void> {
  removeRunOnExit()
  resetFigures()
  const { plan } = project.getProvidedContext()
  record({ kind: 'limits', mode: plan.limits.mode, description: plan.limits.description })
  await ensureImage('apache')
  const image = await ensureImage(tomcatImage(plan.tomcat))
  record({ kind: 'plan', source: plan.source, description: describePlan(plan), tomcat: await serverInfo(image) })
}
