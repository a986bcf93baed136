import { defineConfig } from 'vitest/config'
import { type Plan, loadPlan } from './helpers/intake/plan.ts'
import { compileCacheDir, runId } from './helpers/settings.ts'

// One run id for the whole run, minted here in vitest's main process before any worker starts:
// every worker inherits LB_E2E_RUN, so the Ctrl-C sweep (helpers/lab/cleanup.ts) finds all the run's labs.
const run = runId()
// The configuration under test read once (LAB_FIXTURES over fixtures/, LAB_WAR, the limits): the
// workers inject it and never re-read the files or the environment.
const plan = loadPlan()
// The workers, forked from this process, compile vitest's modules and the suites' imports once
// (helpers/settings.ts compileCacheDir); a cache the caller chose is kept.
process.env.NODE_COMPILE_CACHE ??= compileCacheDir

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run id of vitest's main process (suites/unit/settings.test.ts checks workers see it). */
    run: string
    plan: Plan
  }
}

// Labs are expensive and share the machine's two cores: test files run one after another, and labs
// are shared: the LVS lab by the whole project, Tomcat labs by the files of a worker. Hooks and
// tests get long timeouts because they build images, boot the director VM and start labs; tests
// bound their own request loops.
export default defineConfig({
  test: {
    fileParallelism: false,
    hookTimeout: 10 * 60_000,
    testTimeout: 3 * 60_000,
    teardownTimeout: 2 * 60_000,
    provide: { run, plan },
    // LAB_JUNIT_FILE: where the gate (lb-e2e verify --junit) wants the report; its verdict comes from vitest's API, not this file.
    reporters: ['default', ['junit', { outputFile: process.env.LAB_JUNIT_FILE || 'reports/junit.xml' }], './helpers/report/reporter.ts'],
    projects: [
      // No labs: its files run two at a time, in a group of their own before the labs' projects
      // (vitest runs groups one after another; groupOrder 1 keeps it apart from tomcat's, order 0).
      {
        extends: true,
        test: { name: 'unit', include: ['suites/unit/**/*.test.ts'], fileParallelism: true, maxWorkers: 2, sequence: { groupOrder: 1 } },
      },
      {
        extends: true,
        test: { name: 'lvs', include: ['suites/lvs-*.test.ts'], globalSetup: ['helpers/lab/lvs-global.ts'] },
      },
      {
        extends: true,
        // One worker without isolation, so the Tomcat labs (tomcatLabs fixture) are shared by its files.
        test: {
          name: 'tomcat', include: ['suites/tomcat-*.test.ts', 'suites/balancer-*.test.ts'],
          globalSetup: ['helpers/lab/tomcat-global.ts'], isolate: false,
        },
      },
      // The smoke of the other Tomcat versions and memberships (suites/matrix-versions.test.ts):
      // the project's own configurations, so not a project the gate runs on a team's files.
      {
        extends: true,
        test: { name: 'matrix', include: ['suites/matrix-*.test.ts'], globalSetup: ['helpers/lab/tomcat-global.ts'] },
      },
      // The CLI in child processes: refusals of bad input, up and down.
      { extends: true, test: { name: 'gate', include: ['suites/gate-*.test.ts'] } },
    ],
  },
})
