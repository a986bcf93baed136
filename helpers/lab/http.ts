/**
 * The lab's HTTP client. IPVS schedules connections, not requests, so every request here opens a
 * new TCP connection and closes it (keep-alive would hide the balancing). Timeouts bound every call.
 */
import net from 'node:net'
import { CookieJar } from 'tough-cookie'
import { Client } from 'undici'

export interface Reply {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
  elapsedMs: number
}

export interface FreshRequest {
  timeoutMs?: number
  headers?: Record<string, string>
  /** GET unless told (balancer-manager takes its updates as a POSTed form). */
  method?: 'GET' | 'POST'
  body?: string
}

/** One request (GET unless `method` says) on its own connection; throws on connect/read timeout or a refused connection. */
export async function fetchOnce(url: string, options: FreshRequest = {}): Promise<Reply> {
  const timeoutMs = options.timeoutMs ?? 5000
  const target = new URL(url)
  const client = new Client(target.origin, {
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    pipelining: 0,
  })
  const started = performance.now()
  try {
    const response = await client.request({
      method: options.method ?? 'GET',
      path: target.pathname + target.search,
      headers: options.headers,
      ...(options.body !== undefined ? { body: options.body } : {}),
      reset: true, // `Connection: close`: the next request must open a new connection
      signal: AbortSignal.timeout(timeoutMs),
    })
    const body = await response.body.text()
    return { status: response.statusCode, body, headers: response.headers, elapsedMs: performance.now() - started }
  } finally {
    await client.destroy().catch(() => undefined)
  }
}

/** The outcome of a request in a series: a reply, or the error that stood in for one. */
export type Outcome = { ok: true; reply: Reply } | { ok: false; error: string; elapsedMs: number }

export async function attempt(url: string, options?: FreshRequest): Promise<Outcome> {
  const started = performance.now()
  try {
    return { ok: true, reply: await fetchOnce(url, options) }
  } catch (error) {
    return { ok: false, error: (error as Error).message, elapsedMs: performance.now() - started }
  }
}

/**
 * A simulated browser user: a cookie jar of its own (path, replacement on a new Set-Cookie) and a
 * new connection per request, so the balancer decides every time.
 */
export class Browser {
  readonly jar = new CookieJar()

  async get(url: string, options: FreshRequest = {}): Promise<Reply> {
    const cookie = await this.jar.getCookieString(url)
    const reply = await fetchOnce(url, { ...options, headers: { ...options.headers, ...(cookie ? { cookie } : {}) } })
    const setCookie = reply.headers['set-cookie']
    for (const header of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      await this.jar.setCookie(header, url)
    }
    return reply
  }

  async cookie(url: string, name: string): Promise<string | undefined> {
    return (await this.jar.getCookies(url)).find((c) => c.key === name)?.value
  }
}

/**
 * A long-held connection: the request line and one header are sent, the rest waits until
 * `finish()`. The director counts it as an active connection the whole time (lc, draining).
 * Apache's request-read timeout (20 s on Debian) bounds how long it can be held.
 */
export interface HeldConnection {
  /** Completes the request and resolves with the response body. */
  finish(timeoutMs?: number): Promise<string>
  close(): void
}

export async function holdConnection(host: string, port = 80, timeoutMs = 5000): Promise<HeldConnection> {
  const socket = net.connect({ host, port })
  socket.setTimeout(timeoutMs)
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
    socket.once('timeout', () => reject(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`)))
  })
  socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\n`)
  return {
    finish: (finishTimeoutMs = 5000) => new Promise<string>((resolve, reject) => {
      let response = ''
      socket.setTimeout(finishTimeoutMs)
      socket.on('data', (chunk) => { response += chunk.toString() })
      socket.once('end', () => resolve(response.split('\r\n\r\n').slice(1).join('\r\n\r\n')))
      socket.once('error', reject)
      socket.once('timeout', () => { socket.destroy(); reject(new Error(`held connection to ${host}: no response within ${finishTimeoutMs} ms`)) })
      socket.write('Connection: close\r\n\r\n')
    }),
    close: () => { socket.destroy() },
  }
}
