/**
 * A webapp's WEB-INF/web.xml, read for the one thing session replication needs from it:
 * `<distributable/>`. Without it Tomcat gives the webapp a plain StandardManager instead of the
 * cluster's DeltaManager, so its sessions stay on one node whatever server.xml says.
 */
import { type Report, finding, labError } from './findings.ts'
import { readXml } from './xml.ts'

export interface WebXml {
  file: string
  /** Where <web-app> starts. */
  line: number
  column: number
  /** Where <distributable/> is, if it is. */
  distributable?: { line: number; column: number }
}

/** Reads web.xml; a file Tomcat could not parse, or that is not a <web-app>, is a LabError. */
export function readWebXml(text: string, file: string): WebXml {
  const root = readXml(text, file)
  if (root.localName !== 'web-app') {
    throw labError(file, root, `the root element is <${root.name}>, not <web-app>: Tomcat cannot deploy the webapp with this WEB-INF/web.xml`)
  }
  const distributable = root.children.find((c) => c.localName === 'distributable')
  return {
    file,
    line: root.line,
    column: root.column,
    ...(distributable ? { distributable: { line: distributable.line, column: distributable.column } } : {}),
  }
}

export function checkWebXml(web: WebXml): Report {
  if (web.distributable) return { errors: [], findings: [] }
  // Replication cannot work for this webapp, so no run could pass: an error, not a warning.
  return {
    errors: [labError(web.file, web, 'no <distributable/> in <web-app>: Tomcat does not replicate this webapp\'s sessions ' +
      '(it gets a StandardManager, not the cluster\'s DeltaManager), so a failover loses them; add <distributable/> under <web-app>')],
    findings: [],
  }
}
