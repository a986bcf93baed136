/**
 * A .war read in-process (fflate), with no unzip on the host: the gate checks a team's war before
 * any lab starts, where only Node can be counted on. Written too, for tests that need a war of
 * their own: the same bytes for the same files (entries in byte order, one fixed date), as
 * helpers/lab/images/tomcat/make-war packs the lab's.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { unzipSync, zipSync } from 'fflate'
import { LabError } from '../errors.ts'
import { displayPath } from '../settings.ts'

/** The war's entry names in the archive's order, as `unzip -Z1` lists them (a directory's ends in /). */
export function warEntries(war: string): string[] {
  const names: string[] = []
  unzipWar(war, (name) => {
    names.push(name)
    return false
  })
  return names
}

/** One entry of the war as UTF-8 text (a BOM kept, as readFileSync keeps it); undefined when it has no such entry. */
export function readWarText(war: string, entry: string): string | undefined {
  const bytes = unzipWar(war, (name) => name === entry)[entry]
  return bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** Where a war refers to each servlet API: the entries (a jar's as lib.jar!/Cls.class) naming javax.servlet or jakarta.servlet. */
export interface ServletReferences { javax: string[]; jakarta: string[] }

const API = { javax: ['javax/servlet/', 'javax.servlet.'], jakarta: ['jakarta/servlet/', 'jakarta.servlet.'] } as const

/**
 * The servlet API a war's code is written against, from its bytes: class files (theirs, and those
 * of the jars in WEB-INF/lib) name the packages they use in their constant pool (javax/servlet/…),
 * JSP pages and tag files in their imports (javax.servlet.…). A war that names neither runs on
 * either (ExSession's JSP-only example); web.xml's namespace says which spec it was written to,
 * not what its code needs, so it is not counted.
 */
export function servletReferences(war: string): ServletReferences {
  const found: ServletReferences = { javax: [], jakarta: [] }
  const scan = (name: string, bytes: Uint8Array) => {
    if (/\.jar$/i.test(name)) {
      let inner: Record<string, Uint8Array>
      try {
        inner = unzipSync(bytes, { filter: (f) => /\.class$/.test(f.name) })
      } catch {
        return // a jar Tomcat could not read either: not this check's to report
      }
      for (const [entry, data] of Object.entries(inner)) scan(`${name}!/${entry}`, data)
      return
    }
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
    for (const api of ['javax', 'jakarta'] as const) if (API[api].some((p) => text.includes(p))) found[api].push(name)
  }
  const entries = unzipWar(war, (name) => /\.(class|jar|jspx?|tagx?|jspf)$/i.test(name))
  for (const [name, bytes] of Object.entries(entries)) scan(name, bytes)
  return found
}

/** `files` (entry name → content) as the war `war`: entries in byte order, each dated 2020-08-16 00:00. */
export function writeWar(war: string, files: Record<string, string | Uint8Array>): void {
  const names = Object.keys(files).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const entries = Object.fromEntries(names.map((name) => {
    const content = files[name]!
    return [name, typeof content === 'string' ? Buffer.from(content) : content]
  }))
  // A zip's dates are local (DOS) times: a date made of local fields is the same bytes in every time zone.
  writeFileSync(war, zipSync(entries, { mtime: new Date(2020, 7, 16) }))
}

/** The entries `keep` selects, decompressed; anything unreadable is an error naming the war (and the entry). */
function unzipWar(war: string, keep: (name: string) => boolean): Record<string, Uint8Array> {
  const shown = displayPath(war)
  let data: Buffer
  try {
    data = readFileSync(war)
  } catch (error) {
    throw new LabError(`${shown}: cannot read the war: ${(error as Error).message}`, { cause: error })
  }
  let entry: string | undefined
  try {
    return unzipSync(data, {
      filter: (file) => {
        const kept = keep(file.name)
        if (kept) entry = file.name
        return kept
      },
    })
  } catch (error) {
    throw new LabError(`${shown}: not a readable .war (zip) archive: ${explain(error as Error & { code?: number }, entry)}`, { cause: error })
  }
}

/** fflate's error as the reader of a war needs it: what is wrong, and in which entry. */
function explain(error: Error & { code?: number }, entry: string | undefined): string {
  const at = entry === undefined ? '' : `${entry}: `
  // fflate's codes: 13 no zip directory found, 14 a compression method other than stored/deflated, 0-3 corrupt deflate data.
  if (error.code === 13) return 'no zip directory found (not a zip file, or a truncated one)'
  if (error.code === 14) return `${at}${error.message}: only stored and deflated entries are read (as Tomcat reads them)`
  if (error.code !== undefined && error.code <= 3) return `${at}corrupt compressed data (${error.message})`
  return `${at}${error.message}`
}
