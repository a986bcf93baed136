/**
 * Parsers for `ipvsadm -L -n --exact` in its three views: the table (forward, weight, active and
 * inactive connections), `--stats` (totals since the last zero) and `--rate` (per-second rates).
 * Pure functions with unit tests on captured text.
 */
import { LabError } from '../../errors.ts'
import type { Forward, Protocol, Scheduler, ServerKey, ServiceKey } from './rules.ts'

export interface ServerRow extends ServerKey {
  forward: Forward
  weight: number
  activeConns: number
  inactiveConns: number
}

export interface ServiceRow extends ServiceKey {
  scheduler: Scheduler
  persistence?: number
  servers: ServerRow[]
}

export interface Counters { conns: number; inPkts: number; outPkts: number; inBytes: number; outBytes: number }
export interface Rates { cps: number; inPps: number; outPps: number; inBps: number; outBps: number }

export interface ServiceFigures<T> extends ServiceKey {
  totals: T
  servers: (ServerKey & T)[]
}

const FORWARD: Record<string, Forward> = { Masq: 'masq', Route: 'route', Local: 'route', Tunnel: 'tunnel' }
const SERVICE_LINE = /^(TCP|UDP)\s+(\d+\.\d+\.\d+\.\d+):(\d+)\s+(.*)$/
const SERVER_LINE = /^\s+->\s+(\d+\.\d+\.\d+\.\d+):(\d+)\s+(.*)$/

/** `ipvsadm -L -n --exact` */
export function parseTable(text: string): ServiceRow[] {
  const services: ServiceRow[] = []
  for (const line of dataLines(text)) {
    const svc = SERVICE_LINE.exec(line)
    if (svc) {
      const [scheduler, ...flags] = svc[4]!.trim().split(/\s+/)
      const persistent = flags.indexOf('persistent')
      services.push({
        ...serviceKey(svc), scheduler: scheduler as Scheduler, servers: [],
        ...(persistent >= 0 ? { persistence: Number(flags[persistent + 1]) } : {}),
      })
      continue
    }
    const srv = SERVER_LINE.exec(line)
    if (!srv) throw new LabError(`ipvsadm -L -n: unexpected line ${JSON.stringify(line)}`)
    const [forward, weight, active, inactive] = srv[3]!.trim().split(/\s+/)
    current(services, line).servers.push({
      address: srv[1]!, port: Number(srv[2]), forward: FORWARD[forward!] ?? 'route',
      weight: Number(weight), activeConns: Number(active), inactiveConns: Number(inactive),
    })
  }
  return services
}

/** `ipvsadm -L -n --exact --stats` */
export function parseStats(text: string): ServiceFigures<Counters>[] {
  return parseFigures(text, ([conns, inPkts, outPkts, inBytes, outBytes]) => ({ conns, inPkts, outPkts, inBytes, outBytes }))
}

/** `ipvsadm -L -n --exact --rate` */
export function parseRates(text: string): ServiceFigures<Rates>[] {
  return parseFigures(text, ([cps, inPps, outPps, inBps, outBps]) => ({ cps, inPps, outPps, inBps, outBps }))
}

type Five = [number, number, number, number, number]

function parseFigures<T>(text: string, shape: (numbers: Five) => T): ServiceFigures<T>[] {
  const services: ServiceFigures<T>[] = []
  const numbers = (rest: string, line: string) => {
    const values = rest.trim().split(/\s+/).map(Number)
    if (values.length !== 5 || values.some((v) => !Number.isFinite(v))) {
      throw new LabError(`ipvsadm -L -n --exact: expected five exact numbers in ${JSON.stringify(line)} (was --exact given?)`)
    }
    return shape(values as Five)
  }
  for (const line of dataLines(text)) {
    const svc = SERVICE_LINE.exec(line)
    if (svc) { services.push({ ...serviceKey(svc), totals: numbers(svc[4]!, line), servers: [] }); continue }
    const srv = SERVER_LINE.exec(line)
    if (!srv) throw new LabError(`ipvsadm -L -n: unexpected line ${JSON.stringify(line)}`)
    current(services, line).servers.push({ address: srv[1]!, port: Number(srv[2]), ...numbers(srv[3]!, line) })
  }
  return services
}

/** Lines after the headers: the header block ends with the `  -> RemoteAddress:Port …` line. */
function dataLines(text: string): string[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const header = lines.findIndex((l) => /->\s+RemoteAddress:Port/.test(l))
  if (!/^IP Virtual Server version/.test(lines[0] ?? '') || header < 0) {
    throw new LabError(`not ipvsadm -L -n output:\n${text.slice(0, 400)}`)
  }
  return lines.slice(header + 1)
}

function serviceKey(m: RegExpExecArray): ServiceKey {
  return { protocol: m[1]!.toLowerCase() as Protocol, address: m[2]!, port: Number(m[3]) }
}

function current<T>(services: T[], line: string): T {
  const last = services.at(-1)
  if (!last) throw new LabError(`ipvsadm -L -n: real server before any virtual service: ${JSON.stringify(line)}`)
  return last
}
