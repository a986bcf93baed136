// Prints the plain closing line CI reads, `N passed, N failed[, N skipped]`, from JUnit files (one,
// or several summed: the main run's and the runner VM's per backend). A missing file counts one
// failure; a file cut short counts one failure more (summarizeJunit), and each says why above the line.
import { readFile } from 'node:fs/promises'
import { readJunit, summarizeJunit } from '../helpers/report/junit.ts'

const files = process.argv.length > 2 ? process.argv.slice(2) : ['reports/junit.xml']
const total = { passed: 0, failed: 0, skipped: 0 }
for (const file of files) {
  const xml = await readFile(file, 'utf8').catch(() => undefined)
  if (xml === undefined) {
    console.log(`no test report at ${file}`)
    total.failed++
    continue
  }
  const report = readJunit(xml)
  if (report.problem) console.log(`${file}: ${report.problem}`)
  const { passed, failed, skipped } = summarizeJunit(report)
  total.passed += passed
  total.failed += failed
  total.skipped += skipped
}
console.log(`${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`)
process.exit(total.failed ? 1 : 0)
