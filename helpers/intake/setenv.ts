/**
 * Tomcat's bin/setenv.sh, as a team keeps it beside server.xml: the JVM options every node starts
 * with (CATALINA_OPTS, JAVA_OPTS). The lab takes its system properties (-Dname=value: a DNS cache
 * TTL, a jvmRoute, a property server.xml reads) and leaves the rest to its own JVM (heap, GC and
 * agents are the lab's, sized for its containers), saying which it left. Pure: reads text.
 */
import { LabError } from '../errors.ts'

export interface JvmOptions {
  /** -Dname=value, in the order written (a later one wins, as for java). */
  properties: Record<string, string>
  /** Every other option, not applied in the lab (-Xmx512m, -XX:+UseG1GC, -javaagent:…). */
  ignored: string[]
  /** Properties the lab sets per node (-DjvmRoute=tomcat1 of one host's file): each node gets its own instead. */
  perNode: string[]
}

/** What differs from node to node: the lab gives each its own (its member's route, its ports, its addresses). */
const PER_NODE = /^(jvmRoute|http\.port|shutdown\.port|lb-e2e\..*)$/

/**
 * The options a setenv.sh adds to CATALINA_OPTS or JAVA_OPTS: `export CATALINA_OPTS="$CATALINA_OPTS
 * -Dx=y"`, `JAVA_OPTS='-Dx=y'`, one assignment a line (a `\` continues it). A value the lab cannot
 * pass as written (a command substitution, a variable other than the options themselves) is an
 * error naming the line.
 */
export function readSetenv(text: string, file: string): JvmOptions {
  const properties: Record<string, string> = {}
  const ignored: string[] = []
  const perNode: string[] = []
  const lines = text.replace(/^\uFEFF/, '').replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const m = /^\s*(?:export\s+)?(CATALINA_OPTS|JAVA_OPTS)=(?:"([^"]*)"|'([^']*)'|(\S*))\s*(?:#.*)?$/.exec(raw)
    if (!m) continue
    const value = (m[2] ?? m[3] ?? m[4] ?? '').replace(new RegExp(`\\$\\{?${m[1]}\\}?`, 'g'), ' ')
    if (/[$`]/.test(value)) {
      throw new LabError(`${file}:${i + 1}: ${m[1]} uses ${/`|\$\(/.test(value) ? 'a command substitution' : 'a shell variable'} the lab cannot know: ` +
        'write the options as literal values (the lab starts every node with them)')
    }
    for (const option of value.trim().split(/\s+/).filter(Boolean)) {
      const d = /^-D([^=]+)=(.*)$/.exec(option)
      if (d && PER_NODE.test(d[1]!)) perNode.push(option)
      else if (d) properties[d[1]!] = d[2]!
      else ignored.push(option)
    }
  }
  return { properties, ignored, perNode }
}

/** The properties as java options, each one word: the node's entrypoint appends them. */
export function propertyOptions(properties: Record<string, string>): string {
  return Object.entries(properties).map(([k, v]) => `-D${k}=${v}`).join(' ')
}
