/**
 * Labs as vitest fixtures: a suite asks for what it needs by name (`async ({ lvs }) => …`) and
 * never wires containers itself. The same code that creates a lab tears it down.
 */
import { afterAll, afterEach, beforeAll, inject, test as base } from 'vitest'
import { LabError } from './errors.ts'
import { LvsLab } from './labs/lvs.ts'
import { TomcatLab, type TomcatLabOptions } from './labs/tomcat.ts'

export const test = base
  // One attachment per test file to the LVS lab started by the project's globalSetup.
  .extend('lvsLab', { scope: 'file' }, async ({}, { onCleanup }) => {
    const lab = await LvsLab.attach(inject('lvs'))
    onCleanup(() => lab.detach())
    return lab
  })
  // Each test leaves the lab as it found it: its services removed, stopped nodes started again.
  .extend('lvs', async ({ lvsLab }, { onCleanup }) => {
    onCleanup(() => lvsLab.reset())
    return lvsLab
  })

/**
 * A Tomcat lab for the enclosing describe block: started before its tests, restored after each
 * (nodes running, cluster formed), removed at the end. Layouts and fixtures vary per block, which
 * file-scoped fixtures cannot express, hence hooks.
 */
export function useTomcatLab(options: TomcatLabOptions): () => TomcatLab {
  let lab: TomcatLab | undefined
  beforeAll(async () => { lab = await TomcatLab.start(options) })
  afterEach(async () => { await lab?.restore() })
  afterAll(async () => { await lab?.stop() })
  return () => lab ?? (() => { throw new LabError(`the Tomcat lab (${options.topology}) did not start`) })()
}

export { describe, expect } from 'vitest'
