import { defineConfig } from 'vitest/config'

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
    // LAB_JUNIT_FILE: the gate (lb-e2e verify) reads a report of its own.
    reporters: ['default', ['junit', { outputFile: process.env.LAB_JUNIT_FILE || 'reports/junit.xml' }], './helpers/report/reporter.ts'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['suites/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'lvs', include: ['suites/lvs-*.test.ts'], globalSetup: ['helpers/labs/lvs-global.ts'] },
      },
      {
        extends: true,
        // One worker without isolation, so the Tomcat labs (tomcatLabs fixture) are shared by its files.
        test: {
          name: 'tomcat', include: ['suites/tomcat-*.test.ts', 'suites/balancer-*.test.ts'],
          globalSetup: ['helpers/labs/tomcat-global.ts'], isolate: false,
        },
      },
      // The CLI in child processes: refusals of bad input, up and down.
      { extends: true, test: { name: 'gate', include: ['suites/gate-*.test.ts'] } },
    ],
  },
})
