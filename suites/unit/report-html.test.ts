// reports/index.html as a reviewer sees it: rendered from the sample data, opened from disk in
// headless Chromium (Debian's `chromium`, driven by playwright-core), with every request outside
// the file refused. Fails on any console error or page error, checks that each chart drew, and
// saves screenshots to reports/sample/ (docs/report.png is a copy of report.png).
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, expect, test } from 'vitest'
import { renderHtml } from '../../helpers/report/html.ts'
import { type ReportData, parseFigures, resultsFromJunit } from '../../helpers/report/model.ts'

const CHROMIUM = process.env.LB_E2E_CHROMIUM ?? '/usr/bin/chromium'
const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const outDir = path.join(repoRoot, 'reports', 'sample')
const fixture = (name: string) => readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

async function sample(withTimeline: boolean): Promise<ReportData> {
  const { tests, errors } = resultsFromJunit(await fixture('junit-sample.xml'))
  const text = (await fixture('figures-sample.jsonl')) + (withTimeline ? await fixture('timeline-sample.jsonl') : '')
  const { figures, problems } = parseFigures(text)
  return { generatedAt: '2026-11-26T12:15:00.000Z', durationMs: 847_312, tests, errors, figures, figureProblems: problems, source: 'sample data (suites/unit/fixtures)' }
}

let browser: Browser | undefined

/** The browser, started on first use; each test asks for it, so a missing Chromium fails them all (none is skipped). */
async function chromiumBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: the report test needs it. Install it with ` +
      '`apt-get install -y --no-install-recommends chromium` (scripts/setup.sh does), or point LB_E2E_CHROMIUM at a Chromium binary.')
  }
  // --no-sandbox: the suites run as root, where Chromium's sandbox refuses to start.
  browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] })
  return browser
}

afterAll(async () => {
  await browser?.close()
})

interface Drawn { id: string; chart: boolean; width: number; height: number; painted: number }

/** Opens `file` in a page 1280 px wide; what it logged, threw and asked for; each canvas's painted share. */
async function open(file: string) {
  const page = await (await chromiumBrowser()).newPage({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 })
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`) })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('request', (r) => requests.push(r.url()))
  await page.route(/^(?!file:)/, (route) => route.abort())
  const url = pathToFileURL(file).href
  await page.goto(url, { waitUntil: 'load' })
  await page.waitForFunction(() => document.documentElement.hasAttribute('data-charts-ready'), undefined, { timeout: 10_000 })
  const drawn = await page.evaluate(() => [...document.querySelectorAll('canvas')].map((canvas): Drawn => {
    const ctx = canvas.getContext('2d')!
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height)
    let painted = 0
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) painted++
    const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): unknown } }).Chart
    return { id: canvas.id, chart: Boolean(Chart.getChart(canvas)), width: canvas.width, height: canvas.height, painted: painted / (canvas.width * canvas.height) }
  }))
  return { page, problems, requests: requests.filter((r) => r !== url), drawn }
}

function expectDrawn(drawn: Drawn[], ids: string[]): void {
  expect(drawn.map((d) => d.id), 'chart canvases').toEqual(ids)
  for (const d of drawn) {
    expect(d.chart, `${d.id} has a Chart.js chart`).toBe(true)
    expect(d.width * d.height, `${d.id} has a size`).toBeGreaterThan(200 * 100)
    // axes, labels and bars: a blank canvas paints nothing, a drawn chart several percent of its area
    expect(d.painted, `${d.id}: share of painted pixels`).toBeGreaterThan(0.03)
  }
}

/** The sample report (with or without a load timeline) written to `name` and opened: no error, nothing fetched. */
async function openRendered(name: string, withTimeline: boolean) {
  await mkdir(outDir, { recursive: true })
  const file = path.join(outDir, name)
  await writeFile(file, renderHtml(await sample(withTimeline)))
  const opened = await open(file)
  try {
    expect(opened.problems, 'console errors/warnings and page errors').toEqual([])
    expect(opened.requests, 'requests besides the file itself').toEqual([])
  } catch (error) {
    await opened.page.close()
    throw error
  }
  return opened
}

test('the sample report renders in Chromium with every chart drawn, no error, nothing fetched', async () => {
  const { page, drawn } = await openRendered('index.html', false)
  try {
    expectDrawn(drawn, ['chart-suites', 'chart-failover', 'chart-distribution'])
    expect(await page.locator('#timeline .empty').textContent()).toContain('No load timeline in this run')
    expect(await page.locator('table.sessions tbody tr').count(), 'a before and an after row per failover').toBe(10)
    expect(await page.locator('table.stats').count(), 'stats before and after').toBe(2)
    expect(await page.locator('#failures tbody tr').count()).toBe(1)
    await page.screenshot({ path: path.join(outDir, 'report.png'), fullPage: true })
  } finally {
    await page.close()
  }
})

test('a load timeline is drawn as its own chart, with the disruption marked', async () => {
  const { page, drawn } = await openRendered('index-timeline.html', true)
  try {
    expectDrawn(drawn, ['chart-suites', 'chart-failover', 'chart-distribution', 'chart-timeline-0'])
    // the dashed marker is drawn in the survivor-red at the SIGKILL instant: some pixel of that colour on its column
    const marked = await page.evaluate(() => {
      const canvas = document.getElementById('chart-timeline-0') as HTMLCanvasElement
      const Chart = (window as unknown as { Chart: { getChart(c: HTMLCanvasElement): { scales: { x: { getPixelForValue(v: number): number } }; chartArea: { top: number; bottom: number } } } }).Chart
      const chart = Chart.getChart(canvas)
      const x = Math.round(chart.scales.x.getPixelForValue(4) * (canvas.width / canvas.clientWidth))
      const { data } = canvas.getContext('2d')!.getImageData(x, 0, 1, canvas.height)
      let red = 0
      for (let i = 0; i < data.length; i += 4) if (data[i]! > 200 && data[i + 1]! < 110 && data[i + 2]! < 110) red++
      return red
    })
    expect(marked, 'red pixels on the disruption column').toBeGreaterThan(50)
    await page.locator('#timeline').screenshot({ path: path.join(outDir, 'report-timeline.png') })
  } finally {
    await page.close()
  }
})
