/**
 * What every lab container shares: the lb-e2e name and labels, and control by id (stop, kill,
 * start again) that works in any process of the run — the LVS lab is started in vitest's main
 * process and driven from the test workers.
 */
import { GenericContainer, type StartedTestContainer, Wait, getContainerRuntimeClient } from 'testcontainers'
import { LabError, tail } from '../errors.ts'
import { labels, resourceName } from '../settings.ts'

/** A container of the lab: named `lb-e2e-<run>-<what>`, labelled for cleanup. */
export function labContainer(image: string, what: string): GenericContainer {
  return new GenericContainer(image).withName(resourceName(what)).withLabels(labels())
}

/**
 * A fixed address on the lab network, so a stopped and restarted container comes back where the
 * director and the balancer expect it (Docker otherwise re-allocates on start).
 */
export function withStaticAddress<T extends GenericContainer>(container: T, network: string, address: string, aliases: string[] = []): T {
  const { createOpts } = container as unknown as { createOpts: { NetworkingConfig?: unknown } }
  // This endpoint config replaces the one testcontainers would make, so network aliases go here too.
  createOpts.NetworkingConfig = { EndpointsConfig: { [network]: { IPAMConfig: { IPv4Address: address }, ...(aliases.length ? { Aliases: aliases } : {}) } } }
  return container.withNetworkMode(network)
}

/** Namespaced sysctls at creation (Docker mounts /proc/sys read-only inside the container). */
export function withSysctls<T extends GenericContainer>(container: T, sysctls: Record<string, string>): T {
  // testcontainers has no withSysctls; its host config is the extension point.
  const { hostConfig } = container as unknown as { hostConfig: { Sysctls?: Record<string, string> } }
  hostConfig.Sysctls = { ...hostConfig.Sysctls, ...sysctls }
  return container
}

/**
 * `ready`'s value (the started container made ready: a readiness poll, a setup command), or else
 * the container removed before `ready`'s error propagates, as testcontainers does when its own wait
 * strategy fails. A failed removal is ignored: the error that counts is why it was not ready.
 */
export async function startedOrRemoved<T>(started: Pick<StartedTestContainer, 'stop'>, ready: () => Promise<T>): Promise<T> {
  try {
    return await ready()
  } catch (error) {
    await started.stop({ remove: true, removeVolumes: true, timeout: 0 }).catch(() => undefined)
    throw error
  }
}

export interface ContainerControl {
  readonly id: string
  /** Graceful stop (SIGTERM, then SIGKILL after `timeoutS`). The container stays, to start again. */
  stop(timeoutS?: number): Promise<void>
  /** SIGKILL: a crash, no shutdown hooks. */
  kill(): Promise<void>
  start(): Promise<void>
  /** Remove the container and its volumes (gone for good). */
  remove(): Promise<void>
  running(): Promise<boolean>
  exec(argv: string[], env?: Record<string, string>): Promise<{ exitCode: number; stdout: string; stderr: string }>
  /** Like exec, but a non-zero exit is an error naming the command and its output. */
  execOk(argv: string[], env?: Record<string, string>): Promise<string>
  logs(): Promise<string>
  /** CPU time the container's processes used so far (Docker's stats, on cgroup v1 and v2 alike). */
  cpuSeconds(): Promise<number>
}

export async function controlContainer(id: string): Promise<ContainerControl> {
  const client = await getContainerRuntimeClient()
  const container = client.container.getById(id)
  const control: ContainerControl = {
    id,
    stop: async (timeoutS = 10) => { await container.stop({ t: timeoutS }).catch(ignoreNotModified) },
    kill: async () => { await container.kill({ signal: 'SIGKILL' }).catch(ignoreNotModified) },
    start: async () => { await container.start().catch(ignoreNotModified) },
    remove: async () => { await container.remove({ force: true, v: true }).catch(ignoreMissing) },
    running: async () => (await container.inspect()).State.Running,
    exec: (argv, env = {}) => client.container.exec(container, argv, { env }),
    execOk: async (argv, env) => {
      const result = await control.exec(argv, env)
      if (result.exitCode !== 0) {
        throw new LabError(`${argv.join(' ')} in container ${id.slice(0, 12)} exited ${result.exitCode}:\n${tail(result.stderr || result.stdout)}`)
      }
      return result.stdout
    },
    logs: async () => demux(await container.logs({ stdout: true, stderr: true, follow: false })),
    cpuSeconds: async () => (await container.stats({ stream: false })).cpu_stats.cpu_usage.total_usage / 1e9,
  }
  return control
}

function ignoreMissing(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 404) throw error
}

// Docker answers 304 when the container is already in the requested state.
function ignoreNotModified(error: unknown): void {
  if ((error as { statusCode?: number }).statusCode !== 304) throw error
}

/** Docker's log stream for a non-TTY container: frames of an 8-byte header (stream, size) and data. */
function demux(buffer: Buffer): string {
  const parts: Buffer[] = []
  for (let at = 0; at + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(at + 4)
    parts.push(buffer.subarray(at + 8, at + 8 + size))
    at += 8 + size
  }
  return Buffer.concat(parts).toString('utf8')
}

/**
 * A program's verdict on a file (`apache2 -t`, Tomcat's configtest): one run in a throwaway
 * container without a network, its output and exit code, and the container removed at once.
 */
export async function runCheck(image: string, what: string, options: { env?: Record<string, string>; files: { source: string; target: string }[]; command: string }): Promise<{ exitCode: number; output: string }> {
  const started = await labContainer(image, `${what}-${++checks}`)
    .withEnvironment(options.env ?? {})
    .withCopyFilesToContainer(options.files)
    .withNetworkMode('none')
    .withEntrypoint(['sh', '-c', `${options.command} 2>&1; echo "exit=$?"`])
    .withWaitStrategy(Wait.forOneShotStartup())
    .start()
  const control = await controlContainer(started.getId())
  try {
    const output = await control.logs()
    const exitCode = Number(/exit=(\d+)\s*$/.exec(output)?.[1] ?? -1)
    return { exitCode, output: output.replace(/exit=\d+\s*$/, '').trim() }
  } finally {
    await control.remove()
  }
}

let checks = 0
