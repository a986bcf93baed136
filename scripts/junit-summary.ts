// Prints the plain closing line CI reads, `N passed, N failed[, N skipped]`, from a JUnit file.
import { readFile } from 'node:fs/promises'
import { summarizeJunit } from '../helpers/report/junit.ts'

const file = process.argv[2] ?? 'reports/junit.xml'
const xml = await readFile(file, 'utf8').catch(() => undefined)
if (xml === undefined) {
  console.log(`no test report at ${file}`)
  console.log('0 passed, 1 failed')
  process.exit(1)
}
const { passed, failed, skipped } = summarizeJunit(xml)
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
