#!/usr/bin/env node
// lb-e2e: the regression gate for a team's load-balancer and Tomcat configuration, and the labs
// to explore by hand. `npx lb-e2e --help` documents every option; helpers/cli/main.ts is the command.
//
// This entry only turns on Node's compile cache before the command loads: the suites start the CLI
// about 30 times a run, and compiling its TypeScript and testcontainers' JavaScript again each time
// was most of its start (1.0–1.3 s; 0.7 s with the cache, measured on Node 24.21).
import module from 'node:module'
import { compileCacheDir } from '../helpers/settings.ts'

module.enableCompileCache(compileCacheDir)
await import('../helpers/cli/main.ts')
