// The QMP client that saves and restores the director VM, against a fake QEMU on a unix socket:
// the greeting and capabilities handshake, events skipped, errors named, silence bounded.
import fs from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { Qmp } from '../../helpers/lab/ipvs/qmp.ts'

const servers: net.Server[] = []
const dirs: string[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  await Promise.all(dirs.splice(0).map((dir) => fs.rm(dir, { recursive: true, force: true })))
})

/** A fake QEMU: greets, then answers each command with `reply(command)` (no line: silence). */
async function fakeQemu(reply: (command: string) => string[]): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lb-e2e-qmp-'))
  dirs.push(dir)
  const socketPath = path.join(dir, 'qmp')
  const server = net.createServer((socket) => {
    socket.write(`${JSON.stringify({ QMP: { version: {}, capabilities: [] } })}\n`)
    let buffer = ''
    socket.on('data', (chunk) => {
      buffer += chunk.toString()
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const { execute } = JSON.parse(buffer.slice(0, nl)) as { execute: string }
        buffer = buffer.slice(nl + 1)
        for (const line of execute === 'qmp_capabilities' ? ['{"return": {}}'] : reply(execute)) socket.write(`${line}\n`)
      }
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  return socketPath
}

describe('QMP client (helpers/lab/ipvs/qmp.ts)', () => {
  test('returns a command\'s answer, skipping the events QEMU sends before it', async () => {
    const qmp = await Qmp.connect(await fakeQemu(() => ['{"event": "STOP", "data": {}}', '{"return": {"status": "paused", "running": false}}']))
    await expect(qmp.execute('query-status')).resolves.toEqual({ status: 'paused', running: false })
    qmp.close()
  })

  test('a QMP error names the command, its class and description', async () => {
    const qmp = await Qmp.connect(await fakeQemu(() => ['{"error": {"class": "GenericError", "desc": "no migration in progress"}}']))
    await expect(qmp.execute('migrate_cancel')).rejects.toThrow('QMP migrate_cancel: GenericError: no migration in progress')
    qmp.close()
  })

  test('a QEMU that never answers fails within the bound', async () => {
    const qmp = await Qmp.connect(await fakeQemu(() => []))
    await expect(qmp.execute('query-migrate', undefined, 200)).rejects.toThrow('QMP: no answer within 200 ms')
    qmp.close()
  })

  test('no socket: the connect error names the path', async () => {
    await expect(Qmp.connect('/nonexistent/lb-e2e.qmp', 500)).rejects.toThrow(/QMP \/nonexistent\/lb-e2e\.qmp: .*ENOENT/)
  })
})
