/**
 * An ipvsadm-save rules file beyond its syntax (helpers/lab/ipvs/rules.ts parses it): names the lab can
 * resolve, real servers added to services that exist, and what a user loses with a rule that is
 * valid but starves a node (weight 0) or serves nothing (a service without real servers).
 */
import type { LabError } from '../errors.ts'
import { type RuleCommand, parseRules, serviceId } from '../lab/ipvs/rules.ts'
import { type Finding, type Report, finding, labError } from './findings.ts'

export interface RulesCheckOptions {
  /** Symbolic names the lab resolves (VIP, node1 …); IPv4 addresses are always accepted. */
  hosts?: string[]
}

export function checkRules(text: string, file: string, options: RulesCheckOptions = {}): Report & { commands: RuleCommand[] } {
  let commands: RuleCommand[]
  try {
    commands = parseRules(text, file)
  } catch (error) {
    return { commands: [], errors: [error as LabError], findings: [] }
  }
  // parseRules skips blank and comment lines; the commands are the remaining lines, in order.
  const lines = text.split('\n').flatMap((raw, i) => (raw.replace(/#.*/, '').trim() ? [i + 1] : []))
  const errors: LabError[] = []
  const findings: Finding[] = []
  const services = new Map<string, { line: number; servers: Set<string> }>()
  const named = (address: string) => /^\d+\.\d+\.\d+\.\d+$/.test(address) || !options.hosts || options.hosts.includes(address)

  commands.forEach((command, index) => {
    const at = { line: lines[index]! }
    const service = `${command.service.address}:${command.service.port}`
    for (const address of [command.service.address, ...('server' in command ? [command.server.address] : [])]) {
      if (!named(address)) errors.push(labError(file, at, `unknown host ${address}: the lab resolves ${options.hosts!.join(', ')}; use one of those or an IPv4 address`))
    }
    const id = serviceId(command.service)
    if (command.op === 'add-service') {
      if (services.has(id)) errors.push(labError(file, at, `${service} is already added at line ${services.get(id)!.line}: ipvsadm -A fails with "Service already exists"; use -E to edit it`))
      else services.set(id, { line: at.line, servers: new Set() })
      return
    }
    if (command.op === 'delete-service') { services.delete(id); return }
    const known = services.get(id)
    if (!known) {
      errors.push(labError(file, at, `${service} is not added before this line: ipvsadm fails with "Service not defined"; add it first with -A`))
      return
    }
    if (command.op === 'edit-service') return
    const server = `${command.server.address}:${command.server.port}`
    if (command.op === 'add-server') {
      if (known.servers.has(server)) errors.push(labError(file, at, `real server ${server} is already in ${service}: ipvsadm fails with "Destination already exists"; use -e to edit it`))
      known.servers.add(server)
    }
    if (command.op === 'delete-server') known.servers.delete(server)
    if ((command.op === 'add-server' || command.op === 'edit-server') && command.server.weight === 0) {
      findings.push(finding('warning', file, at, `real server ${server} has weight 0: it receives no new connections (drained), so ${service} runs on the others alone; use -w 1 or remove the line`))
    }
  })
  for (const [id, s] of services) {
    if (s.servers.size === 0) {
      findings.push(finding('warning', file, { line: s.line }, `virtual service ${id.replace(/^\w+:/, '')} has no real servers: every connection to it fails; add -a lines`))
    }
  }
  return { commands, errors, findings }
}
