/**
 * Labs as vitest fixtures: a suite asks for what it needs by name (`async ({ lvs }) => …`) and
 * never wires containers itself. The same code that creates a lab tears it down.
 */
import { describe, inject, test as base } from 'vitest'
import { type Plan, type Topology, preferredLayout } from '../intake/plan.ts'
import { LvsLab } from './lvs-lab.ts'
import { TomcatLabPool } from './tomcat-lab.ts'

/** The run's plan (helpers/intake/plan.ts), made once in vitest's main process: what a suite reads at collection. */
export function runPlan(): Plan {
  return inject('plan')
}

/** The layout a suite that needs one runs in (multi-host unless the files were written for one host). */
export function oneLayout(): Topology {
  return preferredLayout(runPlan())
}

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
  // Tomcat labs, shared by all files of the worker (the tomcat project runs without isolation):
  // `await tomcatLabs.get({ topology })` hands out a healthy lab of that configuration.
  .extend('plan', { scope: 'worker' }, async () => runPlan())
  .extend('tomcatLabs', { scope: 'worker' }, async ({ plan }, { onCleanup }) => {
    const pool = new TomcatLabPool(plan)
    onCleanup(() => pool.stopAll())
    return pool
  })

/**
 * One describe block per layout (`title` with %s for it). A layout the configuration under test
 * cannot run in is there too, skipped, its reason in its name: JUnit, the summary and the closing
 * line count its tests as skipped instead of never hearing of them.
 * The layouts run side by side, each on its own lab (a lab mostly waits: measured, the two cores
 * about half busy with one; the four files that use this took 115 s one layout after the other,
 * 77 s side by side); the tests of one layout share its lab, so each takes IN_ORDER.
 */
export function describeEachLayout(title: string, body: (topology: Topology) => void): void {
  for (const { topology, skip } of runPlan().layouts) {
    const name = title.replace('%s', topology)
    if (skip) describe.skip(`${name} (skipped: ${skip})`, () => body(topology))
    else describe.concurrent(name, () => body(topology))
  }
}

/** A test's options inside a describe that runs beside others (describeEachLayout's): it runs after that describe's previous test, never beside it (vitest inherits `concurrent` from the describe). */
export const IN_ORDER = { concurrent: false } as const

export { describe, expect } from 'vitest'
