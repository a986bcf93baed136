/** vitest globalSetup of the `lvs` project: one LVS lab (network, director, real servers) per run. */
import type { TestProject } from 'vitest/node'
import { removeRunOnExit } from './cleanup.ts'
import { record, resetFigures } from '../report/figures.ts'
import { type LvsLabInfo, startLvsLab } from './lvs-lab.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    lvs: LvsLabInfo
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  removeRunOnExit()
  resetFigures()
  const lab = await startLvsLab(project.getProvidedContext().plan)
  record({ kind: 'ipvs-backend', backend: lab.info.director.backend, reason: lab.info.director.reason })
  project.provide('lvs', lab.info)
  return () => lab.stop()
}
