// Prints the plain closing line CI reads, `N passed, N failed[, N skipped]`, from a JUnit file.
import { readFile } from 'node:fs/promises'
import { readJunit, summarizeJunit } from '../helpers/report/junit.ts'

const file = process.argv[2] ?? 'reports/junit.xml'
const xml = await readFile(file, 'utf8').catch(() => undefined)
if (xml === undefined) {
  console.log(`no test report at ${file}`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
// A report cut short counts one failure more (summarizeJunit); this says why, above the closing line.
const report = readJunit(xml)
if (report.problem) console.log(`${file}: ${report.problem}`)
const { passed, failed, skipped } = summarizeJunit(report)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
