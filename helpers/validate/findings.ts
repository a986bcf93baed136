/**
 * What validation reports: errors (LabError: the lab must not start with this input) and findings
 * (it starts, but a user loses something: the consequence and the fix, in one message). Both name
 * the file as given and the line (and column where known): `fixtures/tomcat/server.xml:41:9: …`.
 */
import { LabError } from '../errors.ts'

export type Severity = 'warning' | 'info'

export interface Finding {
  severity: Severity
  file: string
  line?: number
  message: string
}

/** A place in a file: 1-based line, and 1-based column where known. */
export interface Position {
  line: number
  column?: number
}

export interface Report {
  errors: LabError[]
  findings: Finding[]
}

/** `file:line:column`, as compilers print it (and editors open it). */
export function where(file: string, at?: Position): string {
  if (!at) return file
  return at.column ? `${file}:${at.line}:${at.column}` : `${file}:${at.line}`
}

export function labError(file: string, at: Position | undefined, problem: string): LabError {
  return new LabError(`${where(file, at)}: ${problem}`)
}

export function finding(severity: Severity, file: string, at: Position | undefined, message: string): Finding {
  return at ? { severity, file, line: at.line, message } : { severity, file, message }
}

/** One line for a terminal or a report: `warning fixtures/httpd/balancer-original.conf:6: …`. */
export function formatFinding(f: Finding): string {
  return `${f.severity} ${where(f.file, f.line ? { line: f.line } : undefined)}: ${f.message}`
}

export function emptyReport(): Report {
  return { errors: [], findings: [] }
}

/** Several reports as one, each error and finding once (a shared file is read once per node). */
export function mergeReports(...reports: Report[]): Report {
  const errors = new Map<string, LabError>()
  const findings = new Map<string, Finding>()
  for (const r of reports) {
    for (const e of r.errors) if (!errors.has(e.message)) errors.set(e.message, e)
    for (const f of r.findings) findings.set(formatFinding(f), findings.get(formatFinding(f)) ?? f)
  }
  return { errors: [...errors.values()], findings: [...findings.values()] }
}
