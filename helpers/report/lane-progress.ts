/**
 * The vitest reporter of one lane of `npm test` (scripts/test.ts): a line per finished test file,
 * with its project, counts and time, so two lanes' progress reads line by line in one terminal.
 * The lane's results go to its blob report; the merge prints the details and the summary once.
 */
import path from 'node:path'
import type { Reporter, TestModule, Vitest } from 'vitest/node'

export default class LaneProgressReporter implements Reporter {
  #root = process.cwd()

  onInit(vitest: Vitest): void {
    this.#root = vitest.config.root
  }

  onTestModuleEnd(module: TestModule): void {
    const counts = { passed: 0, failed: 0, skipped: 0 }
    for (const test of module.children.allTests()) {
      const state = test.result().state
      counts[state === 'passed' ? 'passed' : state === 'failed' ? 'failed' : 'skipped']++
    }
    const broken = counts.failed > 0 || module.errors().length > 0
    const file = path.relative(this.#root, module.moduleId)
    const seconds = ((module.diagnostic().duration ?? 0) / 1000).toFixed(1)
    const shown = Object.entries(counts).filter(([, n]) => n > 0).map(([what, n]) => `${n} ${what}`).join(', ') || 'no tests'
    const errors = module.errors().length ? `, ${module.errors().length} error(s) outside tests` : ''
    process.stdout.write(`${broken ? '✗' : '✓'} [${module.project.name}] ${file}: ${shown}${errors} (${seconds} s)\n`)
  }
}
