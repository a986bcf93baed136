import { defineConfig } from 'vitest/config'

// Labs are expensive and share the machine's two cores: test files run one after another, and a
// lab is shared by the tests of a project (LVS) or of a file (Tomcat). Hooks get long timeouts
// because they build images and boot the director VM; tests bound their own request loops.
export default defineConfig({
  test: {
    fileParallelism: false,
    hookTimeout: 10 * 60_000,
    testTimeout: 3 * 60_000,
    teardownTimeout: 2 * 60_000,
    reporters: ['default', ['junit', { outputFile: 'reports/junit.xml' }]],
    projects: [
      { extends: true, test: { name: 'unit', include: ['suites/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'lvs', include: ['suites/lvs-*.test.ts'], globalSetup: ['helpers/labs/lvs-global.ts'] },
      },
      {
        extends: true,
        test: { name: 'tomcat', include: ['suites/tomcat-*.test.ts', 'suites/balancer-*.test.ts'], globalSetup: ['helpers/labs/tomcat-global.ts'] },
      },
    ],
  },
})
