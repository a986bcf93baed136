/**
 * The IPVS director: one interface, several backends. The backends differ only in *where* ipvsadm
 * runs (a `CommandRunner`); building argument lists and parsing output are shared, so the host path
 * GitHub runners take is the same code the VM path proves here.
 */
import { LabError } from '../../errors.ts'
import {
  type RuleCommand, type ServerKey, type ServerSpec, type ServiceKey, type ServiceSpec,
  formatRules, serviceId, toArgs,
} from './rules.ts'
import {
  type Counters, type Rates, type ServiceFigures, type ServiceRow,
  parseRates, parseStats, parseTable,
} from './table.ts'

export type Backend = 'vm' | 'host' | 'container'

export interface CommandResult { exitCode: number; stdout: string; stderr: string }

/** Where a command runs: locally (execa), in the VM (guest agent), in a container (exec). */
export interface CommandRunner {
  run(argv: string[], input?: string): Promise<CommandResult>
  close(): Promise<void>
}

export type View = 'table' | 'stats' | 'rate'

export interface Director {
  readonly backend: Backend
  /** Apply rules in one batch (`ipvsadm -R`); services added here are owned and removed later. */
  apply(commands: RuleCommand[]): Promise<void>
  addService(service: ServiceSpec): Promise<void>
  editService(service: ServiceSpec): Promise<void>
  deleteService(service: ServiceKey): Promise<void>
  addServer(service: ServiceKey, server: ServerSpec): Promise<void>
  editServer(service: ServiceKey, server: ServerSpec): Promise<void>
  deleteServer(service: ServiceKey, server: ServerKey): Promise<void>
  /** Zero the counters of one service (or of every service the lab owns). */
  zero(service?: ServiceKey): Promise<void>
  table(): Promise<ServiceRow[]>
  stats(): Promise<ServiceFigures<Counters>[]>
  rates(): Promise<ServiceFigures<Rates>[]>
  /** The raw `ipvsadm -L -n --exact` text of a view, for failure messages. */
  show(view?: View): Promise<string>
  /** Delete the virtual services this director created (never any other). */
  removeOwnServices(): Promise<void>
  close(): Promise<void>
}

const VIEW_FLAGS: Record<View, string[]> = { table: [], stats: ['--stats'], rate: ['--rate'] }

export class IpvsDirector implements Director {
  readonly backend: Backend
  readonly #runner: CommandRunner
  readonly #owned = new Map<string, ServiceKey>()

  constructor(backend: Backend, runner: CommandRunner) {
    this.backend = backend
    this.#runner = runner
  }

  async apply(commands: RuleCommand[]): Promise<void> {
    const adds = commands.filter((c) => c.op === 'add-service')
    if (adds.length) {
      const existing = new Set((await this.table()).map(serviceId))
      const clash = adds.find((c) => existing.has(serviceId(c.service)))
      if (clash) {
        throw new LabError(`virtual service ${toArgs(clash).slice(1, 3).join(' ')} already exists on the ${this.backend} director; ` +
          'the lab never edits a service it did not create: remove it or choose another VIP')
      }
    }
    // Owned before running: if the batch fails half-way, what it did add is still removed later.
    for (const c of adds) this.#owned.set(serviceId(c.service), c.service)
    const rules = formatRules(commands)
    await this.#ipvsadm(['-R'], rules)
    for (const c of commands) if (c.op === 'delete-service') this.#owned.delete(serviceId(c.service))
  }

  addService(service: ServiceSpec) { return this.apply([{ op: 'add-service', service }]) }
  editService(service: ServiceSpec) { return this.apply([{ op: 'edit-service', service }]) }
  deleteService(service: ServiceKey) { return this.apply([{ op: 'delete-service', service }]) }
  addServer(service: ServiceKey, server: ServerSpec) { return this.apply([{ op: 'add-server', service, server }]) }
  editServer(service: ServiceKey, server: ServerSpec) { return this.apply([{ op: 'edit-server', service, server }]) }
  deleteServer(service: ServiceKey, server: ServerKey) { return this.apply([{ op: 'delete-server', service, server }]) }

  async zero(service?: ServiceKey): Promise<void> {
    const targets = service ? [service] : [...this.#owned.values()]
    for (const key of targets) await this.#ipvsadm(['-Z', key.protocol === 'tcp' ? '-t' : '-u', `${key.address}:${key.port}`])
  }

  async table() { return parseTable(await this.show('table')) }
  async stats() { return parseStats(await this.show('stats')) }
  async rates() { return parseRates(await this.show('rate')) }

  show(view: View = 'table'): Promise<string> {
    return this.#ipvsadm(['-L', '-n', '--exact', ...VIEW_FLAGS[view]])
  }

  async removeOwnServices(): Promise<void> {
    const present = new Set((await this.table()).map(serviceId))
    const mine = [...this.#owned.values()].filter((key) => present.has(serviceId(key)))
    this.#owned.clear()
    if (mine.length) await this.apply(mine.map((service) => ({ op: 'delete-service', service })))
  }

  close(): Promise<void> { return this.#runner.close() }

  async #ipvsadm(args: string[], input?: string): Promise<string> {
    const result = await this.#runner.run(['ipvsadm', ...args], input)
    if (result.exitCode !== 0) {
      const stdin = input ? `\nwith input:\n${input}` : ''
      throw new LabError(`ipvsadm ${args.join(' ')} failed on the ${this.backend} director (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}${stdin}`)
    }
    return result.stdout
  }
}
