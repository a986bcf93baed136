/**
 * The `host` backend: ipvsadm on the host kernel, as the original post did (a GitHub runner after
 * `sudo modprobe ip_vs`). The VIP goes on the lab's own bridge; masquerading for clients on that
 * bridge needs conntrack and a MASQUERADE rule, both tagged with the run id and removed on stop.
 * It never runs `ipvsadm -C` and never edits a virtual service it did not create (see Director).
 */
import { readFile, writeFile } from 'node:fs/promises'
import { execa } from 'execa'
import { LabError } from '../errors.ts'
import { ownerPid, runId } from '../settings.ts'
import type { CommandRunner } from './director.ts'

export const localRunner: CommandRunner = {
  async run(argv, input) {
    const [file, ...args] = argv
    const result = await execa(file!, args, { input, reject: false, timeout: 30_000 })
    return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr }
  },
  async close() {},
}

const CONNTRACK = '/proc/sys/net/ipv4/vs/conntrack'

export interface HostDirectorSetup { stop(): Promise<void> }

export async function setUpHostDirector(opts: { bridge: string; vip: string }): Promise<HostDirectorSetup> {
  const comment = `lb-e2e-${runId()}-${ownerPid()}` // `npm run clean` keeps rules of live runs
  const rule = ['-m', 'ipvs', '--vaddr', opts.vip, '-m', 'comment', '--comment', comment, '-j', 'MASQUERADE']
  const undo: (() => Promise<unknown>)[] = []
  const run = async (file: string, args: string[]) => {
    const r = await execa(file, args, { reject: false })
    if (r.exitCode !== 0) throw new LabError(`host director: ${file} ${args.join(' ')} failed: ${r.stderr.trim()}`)
  }
  const stop = async () => { for (const step of undo.reverse()) await step().catch(() => undefined); undo.length = 0 }
  try {
    await run('ip', ['addr', 'add', `${opts.vip}/32`, 'dev', opts.bridge])
    undo.push(() => execa('ip', ['addr', 'del', `${opts.vip}/32`, 'dev', opts.bridge], { reject: false }))
    const before = (await readFile(CONNTRACK, 'utf8')).trim()
    if (before !== '1') {
      await writeFile(CONNTRACK, '1')
      undo.push(() => writeFile(CONNTRACK, before))
    }
    await run('iptables', ['-t', 'nat', '-I', 'POSTROUTING', '1', ...rule])
    undo.push(() => execa('iptables', ['-t', 'nat', '-D', 'POSTROUTING', ...rule], { reject: false }))
    return { stop }
  } catch (error) {
    await stop()
    throw error
  }
}
