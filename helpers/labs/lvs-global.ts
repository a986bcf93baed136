/** vitest globalSetup of the `lvs` project: one LVS lab (network, director, real servers) per run. */
import type { TestProject } from 'vitest/node'
import { describeLeftovers, removeRun, removeRunOnSignals } from '../cleanup.ts'
import { say } from '../progress.ts'
import { type LvsLabInfo, startLvsLab } from './lvs.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    lvs: LvsLabInfo
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  removeRunOnSignals()
  const lab = await startLvsLab()
  project.provide('lvs', lab.info)
  return async () => {
    await lab.stop()
    const missed = removeRun()
    if (describeLeftovers(missed) !== 'nothing') say(`cleanup: the run's final sweep removed ${describeLeftovers(missed)}`)
  }
}
