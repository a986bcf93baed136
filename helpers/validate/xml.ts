/**
 * XML read as Tomcat's parser reads it: strictly well-formed (saxes, a conformant XML 1.0 parser),
 * into a small element tree where every element and attribute knows its line and column, so a
 * check can point at `server.xml:20:18` rather than at the file.
 */
import { SaxesParser } from 'saxes'
import type { Position } from './findings.ts'
import { labError } from './findings.ts'

export interface XmlElement {
  /** As written, prefix included (`Cluster`, `j2ee:distributable`). */
  name: string
  /** Without a namespace prefix. */
  localName: string
  attributes: Record<string, string>
  /** Where each attribute's name starts. */
  attributeAt: Record<string, Position>
  children: XmlElement[]
  parent: XmlElement | undefined
  /** Where the element's `<` is. */
  line: number
  column: number
}

/** The document's root element; a document that is not well-formed is a LabError at the spot. */
export function readXml(text: string, file: string): XmlElement {
  const lines = lineStarts(text)
  const parser = new SaxesParser({ position: true })
  const open: XmlElement[] = []
  let root: XmlElement | undefined
  let tagStart = 0
  let closed: XmlElement | undefined
  let failure: Error | undefined

  parser.on('opentagstart', (tag) => {
    tagStart = text.lastIndexOf(`<${tag.name}`, parser.position)
  })
  parser.on('opentag', (tag) => {
    const parent = open.at(-1)
    const element: XmlElement = {
      name: tag.name,
      localName: tag.name.replace(/^[^:]*:/, ''),
      attributes: { ...tag.attributes } as Record<string, string>,
      attributeAt: attributePositions(text, tagStart, lines),
      children: [],
      parent,
      ...toPosition(lines, tagStart),
    }
    if (parent) parent.children.push(element)
    else root ??= element
    open.push(element)
  })
  parser.on('closetag', () => { closed = open.pop() })
  parser.on('error', (error) => {
    const m = /^(\d+):(\d+): (.*?)\.?$/s.exec(error.message)
    const at = m ? { line: Number(m[1]), column: Number(m[2]) } : undefined
    // saxes reads a bare & as the start of an entity up to the next `;`, wherever that is: the & is the real error.
    const ampersand = bareAmpersand(text, parser.position)
    const [where, detail] = ampersand !== undefined
      ? [toPosition(lines, ampersand), 'a bare & (write &amp; for the character itself)']
      : [at, explain(m?.[3] ?? error.message, text, parser.position, open.at(-1), closed)]
    failure = labError(file, where, `not well-formed XML: ${detail}. Fix the markup there: Tomcat cannot read this file`)
    throw failure
  })

  try {
    parser.write(text).close()
  } catch (error) {
    throw failure ?? error
  }
  return root!
}

/** Every element of the tree, depth first, the root included. */
export function* descendants(element: XmlElement): Generator<XmlElement> {
  yield element
  for (const child of element.children) yield* descendants(child)
}

/**
 * saxes says *what* broke; add which element is involved. On a close tag that does not match,
 * saxes has just closed (and handed us) the element that was still open.
 */
function explain(detail: string, text: string, offset: number, innermost: XmlElement | undefined, closed: XmlElement | undefined): string {
  const opened = (e: XmlElement) => `<${e.name}> (opened at ${e.line}:${e.column})`
  if (detail === 'unexpected close tag') {
    const closing = /^<\/\s*([^\s>]*)/.exec(text.slice(text.lastIndexOf('</', offset - 1)))?.[1]
    return closed ? `</${closing}> found where ${opened(closed)} must be closed first` : `</${closing}> closes nothing`
  }
  if (detail.startsWith('unclosed tag') && innermost) return `${opened(innermost)} is never closed`
  return detail
}

/** The offset of the first & before `end` that starts no entity or character reference, outside comments and CDATA. */
function bareAmpersand(text: string, end: number): number | undefined {
  const markup = text.slice(0, end).replace(/<!--[\s\S]*?(?:-->|$)|<!\[CDATA\[[\s\S]*?(?:\]\]>|$)|<\?[\s\S]*?(?:\?>|$)/g, (m) => ' '.repeat(m.length))
  const m = /&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z_:][\w.:-]*;)/.exec(markup)
  return m?.index
}

function attributePositions(text: string, start: number, lines: number[]): Record<string, Position> {
  const tag = /^<[^\s/>]+((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)/.exec(text.slice(start))
  const positions: Record<string, Position> = {}
  if (!tag) return positions
  const offset = start + tag[0].length - tag[1]!.length
  for (const m of tag[1]!.matchAll(/([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')/g)) {
    positions[m[1]!] = toPosition(lines, offset + m.index)
  }
  return positions
}

function lineStarts(text: string): number[] {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return starts
}

function toPosition(lines: number[], offset: number): { line: number; column: number } {
  let lo = 0
  let hi = lines.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (lines[mid]! <= offset) lo = mid
    else hi = mid - 1
  }
  return { line: lo + 1, column: offset - lines[lo]! + 1 }
}
