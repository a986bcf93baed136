// The reporter inside real vitest runs of a two-file project (one passing test that records a
// figure and an annotation, one failing test): reports are written although a test fails, the job
// summary is appended, figures of an earlier run are left out, and sharded runs merged with
// `vitest --merge-reports` give the same report as one run (what the workflow does).
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, expect, test } from 'vitest'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const vitestBin = path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs')
const reporter = path.join(repoRoot, 'helpers', 'report', 'reporter.ts')
// Inside the repository, so the project resolves `vitest` from its node_modules; .cache/ is ignored by git.
const dir = path.join(repoRoot, '.cache', `report-reporter-${process.pid}`)

const CONFIG = `import { defineConfig } from 'vitest/config'
export default defineConfig({ test: { include: ['*.test.ts'], reporters: ['dot', ${JSON.stringify(reporter)}] } })
`
const PASSING = `import { appendFileSync, mkdirSync } from 'node:fs'
import { expect, test } from 'vitest'
test('balanced', async ({ annotate }) => {
  mkdirSync('reports', { recursive: true })
  appendFileSync('reports/figures.jsonl', JSON.stringify({ at: new Date().toISOString(), test: expect.getState().currentTestName,
    kind: 'distribution', scheduler: 'rr (rr.rules)', source: 'host', served: ['node 1', 'node 2'], counts: { 'node 1': 1, 'node 2': 1 } }) + '\\n')
  await annotate('1/1', 'figure')
})
`
const FAILING = `import { describe, expect, test } from 'vitest'
describe('gaps', () => {
  test('short', () => { expect(7.3, 'gap in seconds\\nsecond line').toBeLessThan(1) })
})
`

interface Run { code: number; out: string }

function vitest(args: string[], env: Record<string, string> = {}): Promise<Run> {
  // the child is a vitest of its own: none of this worker's VITEST_* variables
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS' && k !== 'GITHUB_STEP_SUMMARY'))
  return new Promise((resolve) => {
    execFile(process.execPath, [vitestBin, 'run', '--root', dir, ...args], { cwd: dir, env: { ...clean, CI: 'true', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out: `${stdout}\n${stderr}` }))
  })
}

const read = (file: string) => readFile(path.join(dir, file), 'utf8')

beforeAll(async () => {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await writeFile(path.join(dir, 'vitest.config.ts'), CONFIG)
  await writeFile(path.join(dir, 'a-passing.test.ts'), PASSING)
  await writeFile(path.join(dir, 'b-failing.test.ts'), FAILING)
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

test('a failing run still writes summary.md, index.html and the job summary; stale figures are left out', async () => {
  await mkdir(path.join(dir, 'reports'), { recursive: true })
  // a line an earlier run left behind (nothing here resets the file)
  await writeFile(path.join(dir, 'reports', 'figures.jsonl'), `${JSON.stringify({ at: '2020-01-01T00:00:00.000Z', test: null, kind: 'ipvs-backend', backend: 'stale', reason: 'an earlier run' })}\n`)
  const stepSummary = path.join(dir, 'step-summary.md')
  await writeFile(stepSummary, '# earlier step\n')

  const run = await vitest([], { GITHUB_STEP_SUMMARY: stepSummary })
  expect(run.code, run.out).toBe(1)
  expect(run.out).toContain('reports: reports/summary.md, reports/index.html (and the job summary)')

  const md = await read('reports/summary.md')
  expect(md.split('\n')[0]).toBe('## ❌ lb-e2e: 1 passed, 1 failed')
  expect(md).toContain('| b-failing | gaps > short | AssertionError: gap in seconds |') // the first line of a two-line message
  expect(md).toContain('| rr (rr.rules) | 1 | 2 | 1 | 1 |')
  expect(md).toContain('**IPVS backend:** not recorded')
  expect(md).not.toContain('stale')
  expect(await readFile(stepSummary, 'utf8')).toBe(`# earlier step\n${md}\n`)
  const html = await read('reports/index.html')
  expect(html.includes('id="chart-distribution"'), 'distribution chart in index.html').toBe(true)
  expect(html.includes('1/1'), 'the annotation in index.html').toBe(true)
}, 60_000)

test('a global setup that throws (a lab that cannot start): the report names the files that never ran', async () => {
  await rm(path.join(dir, 'reports'), { recursive: true, force: true })
  await writeFile(path.join(dir, 'setup-fails.ts'), "export default () => { throw new Error('no IPVS backend can work here') }\n")
  await writeFile(path.join(dir, 'vitest.setup-fails.config.ts'), CONFIG.replace("include: ['*.test.ts']", "include: ['*.test.ts'], globalSetup: ['./setup-fails.ts']"))
  const run = await vitest(['--config', path.join(dir, 'vitest.setup-fails.config.ts')])
  expect(run.code, run.out).toBe(1)
  const md = await read('reports/summary.md')
  expect(md.split('\n')[0]).toBe('## ❌ lb-e2e: 0 passed, 0 failed, 2 errors outside tests')
  expect(md).toContain('| a-passing | (outside a test) | did not run: the run failed before this file reported')
}, 60_000)

test('shards run with the blob reporter and merged with --merge-reports give the whole report', async () => {
  await rm(path.join(dir, 'reports'), { recursive: true, force: true })
  await rm(path.join(dir, 'blob'), { recursive: true, force: true })
  const shards = await Promise.all([1, 2].map((i) =>
    vitest([`--shard=${i}/2`, '--reporter=dot', '--reporter=blob', `--outputFile.blob=blob/shard-${i}.json`])))
  expect(shards.map((s) => s.code).sort(), shards.map((s) => s.out).join('\n')).toEqual([0, 1])
  expect(existsSync(path.join(dir, 'reports', 'summary.md')), 'a shard with --reporter=blob writes no summary').toBe(false)

  const merged = await vitest(['--merge-reports=blob'])
  expect(merged.code, merged.out).toBe(1)
  const md = await read('reports/summary.md')
  expect(md.split('\n')[0]).toBe('## ❌ lb-e2e: 1 passed, 1 failed')
  expect(md).toContain('merged with vitest --merge-reports')
  expect(md).toContain('| rr (rr.rules) | 1 | 2 | 1 | 1 |') // the figures file the passing shard wrote
}, 60_000)
