// A client for the QEMU guest agent (qemu-ga) over the unix socket QEMU exposes for it: the
// director VM's command channel. One request at a time; guest-exec runs a program in the guest.
import net from 'node:net'
import { LabError } from '../../errors.ts'
import { GiveUp, NotReached, until } from '../../wait.ts'

export interface GuestExecOptions {
  /** Written to the program's stdin (guest-exec input-data). */
  input?: string
  /** Bound for the whole command, from guest-exec to its exit. Default 30 s. */
  timeoutMs?: number
}

export interface GuestExecResult {
  /** The exit code, or 128 + signal number when a signal ended the program. */
  exitCode: number
  stdout: string
  stderr: string
}

export interface GuestAgentConnectOptions {
  /** Bound for connecting and the guest-sync-delimited handshake. Default 5 s. */
  timeoutMs?: number
}

export class GuestAgentError extends LabError {
  override name = 'GuestAgentError'
}

const SYNC_DELIMITER = Buffer.from([0xff])
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000
const DEFAULT_EXEC_TIMEOUT_MS = 30_000
const REQUEST_TIMEOUT_MS = 10_000
// guest-exec-status poll interval: each poll is one round trip to the guest (about 1-5 ms under TCG).
const POLL_INTERVAL_MS = 20

interface QgaResponse {
  return?: unknown
  error?: { class?: string; desc?: string }
}

interface ExecStatus {
  exited: boolean
  exitcode?: number
  signal?: number
  'out-data'?: string
  'err-data'?: string
  'out-truncated'?: boolean
  'err-truncated'?: boolean
}

export class GuestAgent {
  readonly socketPath: string
  #socket: net.Socket
  #buffer = ''
  #synced = false
  #waiter: { resolve: (r: QgaResponse) => void; reject: (e: Error) => void } | undefined
  #closedError: Error | undefined
  #queue: Promise<unknown> = Promise.resolve()

  private constructor(socketPath: string, socket: net.Socket) {
    this.socketPath = socketPath
    this.#socket = socket
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (error) => this.#fail(new GuestAgentError(`guest agent ${socketPath}: ${error.message}`)))
    socket.on('close', () => this.#fail(new GuestAgentError(`guest agent ${socketPath}: connection closed`)))
  }

  /** Connects and synchronises (guest-sync-delimited); rejects within timeoutMs if the agent does not answer. */
  static async connect(socketPath: string, options: GuestAgentConnectOptions = {}): Promise<GuestAgent> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path: socketPath })
      const timer = setTimeout(() => {
        s.destroy()
        reject(new GuestAgentError(`guest agent ${socketPath}: connect timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      s.once('connect', () => {
        clearTimeout(timer)
        s.removeAllListeners('error')
        resolve(s)
      })
      s.once('error', (error) => {
        clearTimeout(timer)
        reject(new GuestAgentError(`guest agent ${socketPath}: ${error.message}`))
      })
    })
    const agent = new GuestAgent(socketPath, socket)
    try {
      await agent.#sync(timeoutMs)
    } catch (error) {
      await agent.close()
      throw error
    }
    return agent
  }

  /** Runs argv[0] (searched in the guest's PATH) with arguments; resolves with any exit code. */
  async exec(argv: string[], options: GuestExecOptions = {}): Promise<GuestExecResult> {
    return this.#exclusive(async () => {
      const [path, ...args] = argv
      if (path === undefined) throw new GuestAgentError('exec: empty argv')
      const command = argv.join(' ')
      const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS
      const deadline = Date.now() + timeoutMs
      const started = (await this.#request('guest-exec', {
        path,
        arg: args,
        'capture-output': true,
        ...(options.input === undefined ? {} : { 'input-data': Buffer.from(options.input).toString('base64') }),
      })) as { pid: number }
      // Polled until the program exits; a failed request ends the wait at once (GiveUp).
      const status = await until(`\`${command}\` in the guest exiting`, async () => {
        const status = await this.#status(started.pid)
        if (!status.exited) throw new Error('still running')
        return status
      }, { timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: POLL_INTERVAL_MS }).catch(async (error: unknown) => {
        if (!(error instanceof NotReached)) throw error
        await this.#killQuietly(started.pid)
        throw new GuestAgentError(`\`${command}\` in the guest did not exit within ${timeoutMs} ms; killed it (guest pid ${started.pid})`)
      })
      if (status['out-truncated'] || status['err-truncated']) {
        throw new GuestAgentError(`\`${command}\` in the guest: output truncated by the guest agent`)
      }
      return {
        exitCode: status.exitcode ?? 128 + (status.signal ?? 0),
        stdout: decode(status['out-data']),
        stderr: decode(status['err-data']),
      }
    })
  }

  /** Like exec, but a non-zero exit is an error naming the command and its stderr; resolves with stdout. */
  async run(argv: string[], options: GuestExecOptions = {}): Promise<string> {
    const result = await this.exec(argv, options)
    if (result.exitCode !== 0) {
      throw new GuestAgentError(
        `\`${argv.join(' ')}\` in the guest exited ${result.exitCode}: ${result.stderr.trim() || result.stdout.trim() || '(no output)'}`,
      )
    }
    return result.stdout
  }

  // qemu-ga 7.2 has no guest-exec-terminate: kill through another guest-exec, then collect both.
  async #killQuietly(pid: number): Promise<void> {
    try {
      const killer = (await this.#request('guest-exec', { path: 'kill', arg: ['-KILL', String(pid)] })) as { pid: number }
      for (const target of [killer.pid, pid]) {
        // At most 50 polls each, however long they take; one still running after them is left, the next collected.
        await until(`guest pid ${target} exiting`, async () => {
          if (!(await this.#status(target)).exited) throw new Error('still running')
        }, { timeoutMs: Infinity, intervalMs: POLL_INTERVAL_MS, attempts: 50 }).catch((error: unknown) => {
          if (!(error instanceof NotReached)) throw error
        })
      }
    } catch {
      // Best effort: the timeout error that follows is what the caller needs to see.
    }
  }

  async close(): Promise<void> {
    this.#fail(new GuestAgentError(`guest agent ${this.socketPath}: closed`))
    if (this.#socket.destroyed) return
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve())
      this.#socket.destroy()
    })
  }

  async #sync(timeoutMs: number): Promise<void> {
    const id = Math.floor(Math.random() * 2 ** 31)
    this.#synced = false
    this.#buffer = ''
    // A lone 0xFF makes qemu-ga drop any partial input; it must be a raw byte, not a JS string.
    this.#socket.write(SYNC_DELIMITER)
    const response = await this.#send({ execute: 'guest-sync-delimited', arguments: { id } }, timeoutMs)
    // Answers are read only after the 0xFF that precedes the sync reply, so anything else is a protocol error.
    if (response.return !== id) {
      throw new GuestAgentError(`guest agent ${this.socketPath}: guest-sync-delimited answered ${JSON.stringify(response)}, expected ${id}`)
    }
  }

  /** guest-exec-status of `pid`; a failed request is final for the poll that asks (GiveUp). */
  async #status(pid: number): Promise<ExecStatus> {
    try {
      return (await this.#request('guest-exec-status', { pid })) as ExecStatus
    } catch (error) {
      throw new GiveUp(error as Error)
    }
  }

  async #request(command: string, args: Record<string, unknown>): Promise<unknown> {
    const response = await this.#send({ execute: command, arguments: args }, REQUEST_TIMEOUT_MS)
    if (response.error) throw new GuestAgentError(`guest agent ${command}: ${describe(response)}`)
    return response.return
  }

  #send(message: object, timeoutMs: number): Promise<QgaResponse> {
    if (this.#closedError) return Promise.reject(this.#closedError)
    return new Promise<QgaResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined
        // The stream is out of step now; nothing sent later could be matched to its answer.
        const error = new GuestAgentError(
          `guest agent ${this.socketPath}: no answer to ${JSON.stringify(message)} within ${timeoutMs} ms`,
        )
        reject(error)
        this.#fail(error)
        this.#socket.destroy()
      }, timeoutMs)
      this.#waiter = {
        resolve: (r) => {
          clearTimeout(timer)
          resolve(r)
        },
        reject: (e) => {
          clearTimeout(timer)
          reject(e)
        },
      }
      this.#socket.write(JSON.stringify(message) + '\n')
      this.#drain()
    })
  }

  #onData(chunk: Buffer): void {
    let text: string
    if (!this.#synced) {
      // Everything up to the last 0xFF is noise from before our sync request.
      const at = chunk.lastIndexOf(0xff)
      if (at < 0) return
      this.#synced = true
      this.#buffer = ''
      text = chunk.subarray(at + 1).toString('utf8')
    } else {
      text = chunk.toString('utf8')
    }
    this.#buffer += text
    this.#drain()
  }

  #drain(): void {
    if (!this.#waiter) return
    for (;;) {
      const newline = this.#buffer.indexOf('\n')
      if (newline < 0) return
      const line = this.#buffer.slice(0, newline).trim()
      this.#buffer = this.#buffer.slice(newline + 1)
      if (line === '') continue
      let parsed: QgaResponse
      try {
        parsed = JSON.parse(line) as QgaResponse
      } catch {
        this.#fail(new GuestAgentError(`guest agent ${this.socketPath}: unparsable answer ${JSON.stringify(line)}`))
        return
      }
      const waiter = this.#waiter
      this.#waiter = undefined
      waiter.resolve(parsed)
      return
    }
  }

  #fail(error: Error): void {
    this.#closedError ??= error
    const waiter = this.#waiter
    this.#waiter = undefined
    waiter?.reject(error)
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn, fn)
    this.#queue = next.catch(() => undefined)
    return next
  }
}

function decode(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8')
}

function describe(response: QgaResponse): string {
  return `${response.error?.class ?? 'error'}: ${response.error?.desc ?? JSON.stringify(response)}`
}
