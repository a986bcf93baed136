/**
 * IPVS rules in the format LVS users already keep: `ipvsadm-save` / `ipvsadm-restore` lines
 * (`-A -t VIP:80 -s rr`, `-a -t VIP:80 -r node1:80 -m -w 1`). Addresses may be symbolic (VIP,
 * node1 …) and are resolved to the lab's addresses. Pure functions: parsed, checked, re-serialised.
 */
import { LabError } from '../../errors.ts'

export type Protocol = 'tcp' | 'udp'
export type Forward = 'masq' | 'route' | 'tunnel'
export type Scheduler = 'rr' | 'wrr' | 'lc' | 'wlc' | 'lblc' | 'lblcr' | 'dh' | 'sh' | 'sed' | 'nq' | 'fo' | 'ovf' | 'mh'

export interface ServiceKey { protocol: Protocol; address: string; port: number }
export interface ServiceSpec extends ServiceKey { scheduler: Scheduler; persistence?: number }
export interface ServerKey { address: string; port: number }
export interface ServerSpec extends ServerKey { forward: Forward; weight: number }

export type RuleCommand =
  | { op: 'add-service'; service: ServiceSpec }
  | { op: 'edit-service'; service: ServiceSpec }
  | { op: 'delete-service'; service: ServiceKey }
  | { op: 'add-server'; service: ServiceKey; server: ServerSpec }
  | { op: 'edit-server'; service: ServiceKey; server: ServerSpec }
  | { op: 'delete-server'; service: ServiceKey; server: ServerKey }

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'])
const OPS: Record<string, RuleCommand['op']> = {
  '-A': 'add-service', '-E': 'edit-service', '-D': 'delete-service',
  '-a': 'add-server', '-e': 'edit-server', '-d': 'delete-server',
}
const FORWARD_FLAGS: Record<string, Forward> = { '-m': 'masq', '-g': 'route', '-i': 'tunnel' }

/** Parses ipvsadm-save text; `file` names the source in errors (`fixtures/ipvs/rr.rules:3: …`). */
export function parseRules(text: string, file: string): RuleCommand[] {
  const commands: RuleCommand[] = []
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) return
    const fail = (problem: string): never => { throw new LabError(`${file}:${index + 1}: ${problem}\n  ${raw.trim()}`) }
    commands.push(parseLine(line.split(/\s+/), fail))
  })
  return commands
}

function parseLine(words: string[], fail: (problem: string) => never): RuleCommand {
  const [verb, ...rest] = words
  if (verb === '-C' || verb === '--clear') fail('-C would clear every virtual service on the director, including ones the lab did not create; list the services to add instead')
  const op = OPS[verb ?? '']
  if (!op) fail(`unknown command ${verb}: expected one of -A -E -D (virtual service) or -a -e -d (real server)`)
  let service: ServiceKey | undefined
  let server: ServerKey | undefined
  let scheduler: string | undefined
  let persistence: number | undefined
  let forward: Forward | undefined
  let weight: number | undefined
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i]!
    const value = () => rest[++i] ?? fail(`${flag} needs a value`)
    if (flag === '-t' || flag === '-u') service = { protocol: flag === '-t' ? 'tcp' : 'udp', ...endpoint(value(), fail) }
    else if (flag === '-r') server = endpoint(value(), fail)
    else if (flag === '-s') scheduler = value()
    else if (flag === '-w') weight = integer(value(), 'weight', fail)
    else if (flag === '-p') persistence = /^\d+$/.test(rest[i + 1] ?? '') ? integer(value(), 'persistence', fail) : 300
    else if (flag in FORWARD_FLAGS) forward = FORWARD_FLAGS[flag]
    else fail(`unsupported option ${flag}`)
  }
  if (!service) fail('no virtual service: expected -t ADDRESS:PORT or -u ADDRESS:PORT')
  if (scheduler !== undefined && !SCHEDULERS.has(scheduler)) fail(`unknown scheduler ${scheduler}`)
  if (op === 'add-service' || op === 'edit-service') {
    return { op, service: { ...service!, scheduler: (scheduler ?? 'wlc') as Scheduler, ...(persistence !== undefined ? { persistence } : {}) } }
  }
  if (op === 'delete-service') return { op, service: service! }
  if (!server) fail('no real server: expected -r ADDRESS:PORT')
  if (op === 'delete-server') return { op, service: service!, server: server! }
  return { op, service: service!, server: { ...server!, forward: forward ?? 'route', weight: weight ?? 1 } }
}

function endpoint(text: string, fail: (problem: string) => never): { address: string; port: number } {
  const m = /^([A-Za-z0-9_.-]+):(\d+)$/.exec(text)
  if (!m) fail(`${text} is not ADDRESS:PORT`)
  return { address: m![1]!, port: integer(m![2]!, 'port', fail) }
}

function integer(text: string, what: string, fail: (problem: string) => never): number {
  if (!/^\d+$/.test(text)) fail(`${what} ${text} is not a number`)
  return Number(text)
}

/** Replaces symbolic addresses (VIP, node1 …) with the lab's; unknown names are an error. */
export function resolveRules(commands: RuleCommand[], names: Record<string, string>, file: string): RuleCommand[] {
  const resolve = <T extends { address: string }>(e: T): T => {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(e.address)) return e
    const address = names[e.address]
    if (!address) throw new LabError(`${file}: unknown host ${e.address}; the lab knows ${Object.keys(names).join(', ')}`)
    return { ...e, address }
  }
  return commands.map((c) => ({ ...c, service: resolve(c.service), ...('server' in c ? { server: resolve(c.server) } : {}) }) as RuleCommand)
}

/** One command as ipvsadm arguments (also one line of `ipvsadm -R` input). */
export function toArgs(command: RuleCommand): string[] {
  const verb = Object.entries(OPS).find(([, op]) => op === command.op)![0]
  const svc = command.service
  const args = [verb, svc.protocol === 'tcp' ? '-t' : '-u', `${svc.address}:${svc.port}`]
  if (command.op === 'add-service' || command.op === 'edit-service') {
    args.push('-s', command.service.scheduler)
    if (command.service.persistence !== undefined) args.push('-p', String(command.service.persistence))
  } else if (command.op !== 'delete-service') {
    args.push('-r', `${command.server.address}:${command.server.port}`)
    if (command.op !== 'delete-server') {
      const flag = Object.entries(FORWARD_FLAGS).find(([, f]) => f === command.server.forward)![0]
      args.push(flag, '-w', String(command.server.weight))
    }
  }
  return args
}

export function formatRules(commands: RuleCommand[]): string {
  return commands.map((c) => toArgs(c).join(' ')).join('\n') + '\n'
}

export function serviceId(key: ServiceKey): string {
  return `${key.protocol}:${key.address}:${key.port}`
}
