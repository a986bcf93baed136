// A client for QEMU's machine protocol (QMP) over the unix socket the director VM exposes: how its
// state is saved (stop, migrate to a file) and how a restore is let run (cont). One command at a time.
import net from 'node:net'
import readline from 'node:readline'
import { LabError } from '../../errors.ts'

export class QmpError extends LabError {
  override name = 'QmpError'
}

interface QmpMessage {
  QMP?: unknown
  event?: string
  return?: unknown
  error?: { class?: string; desc?: string }
}

export class Qmp {
  #socket: net.Socket
  #lines: AsyncIterator<string>

  private constructor(socket: net.Socket) {
    this.#socket = socket
    this.#lines = readline.createInterface({ input: socket })[Symbol.asyncIterator]()
  }

  /** Connects, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(socketPath: string, timeoutMs = 5_000): Promise<Qmp> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection({ path: socketPath })
      const timer = setTimeout(() => { s.destroy(); reject(new QmpError(`QMP ${socketPath}: connect timed out after ${timeoutMs} ms`)) }, timeoutMs)
      s.once('connect', () => { clearTimeout(timer); resolve(s) })
      s.once('error', (error) => { clearTimeout(timer); reject(new QmpError(`QMP ${socketPath}: ${error.message}`)) })
    })
    const qmp = new Qmp(socket)
    try {
      const greeting = await qmp.#next(timeoutMs)
      if (!greeting.QMP) throw new QmpError(`QMP ${socketPath}: no greeting (got ${JSON.stringify(greeting)})`)
      await qmp.execute('qmp_capabilities')
      return qmp
    } catch (error) {
      qmp.close()
      throw error
    }
  }

  /** Runs one command and returns its `return`; a QMP error becomes a QmpError naming the command. */
  async execute(command: string, args?: Record<string, unknown>, timeoutMs = 10_000): Promise<unknown> {
    this.#socket.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`)
    for (;;) {
      const message = await this.#next(timeoutMs)
      if (message.event) continue
      if (message.error) throw new QmpError(`QMP ${command}: ${message.error.class ?? 'error'}: ${message.error.desc ?? ''}`)
      return message.return
    }
  }

  close(): void {
    this.#socket.destroy()
  }

  async #next(timeoutMs: number): Promise<QmpMessage> {
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QmpError(`QMP: no answer within ${timeoutMs} ms`)), timeoutMs)
    })
    try {
      const line = await Promise.race([this.#lines.next(), timeout])
      if (line.done) throw new QmpError('QMP: connection closed')
      return JSON.parse(line.value) as QmpMessage
    } finally {
      clearTimeout(timer)
    }
  }
}
