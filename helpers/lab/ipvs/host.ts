/**
 * The `host` backend: ipvsadm on the host kernel, as the original post did (a GitHub runner after
 * `sudo modprobe ip_vs`). The VIP goes on the lab's own bridge; masquerading for clients on that
 * bridge needs conntrack and a MASQUERADE rule, both tagged with the run id and removed on stop.
 *
 * The host's kernel may hold virtual services that are not the lab's, so this backend changes
 * nothing it did not create:
 * - setUpHostDirector refuses a VIP that already has a virtual service;
 * - localRunner never passes `-C` to ipvsadm, writes every service it adds to the run's ledger (a
 *   file, since test workers add services and the main process removes them), and refuses any other
 *   change to a service that is not in the ledger;
 * - stop() deletes the ledger's services, the NAT rule, the conntrack setting and the VIP — and so
 *   does an exit hook if the process ends first (a crash, process.exit, or Ctrl-C / SIGTERM, which
 *   removeRunOnExit and vitest turn into process.exit). Synchronously: the exit hook gets no second turn.
 */
import { appendFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa, execaSync } from 'execa'
import { LabError } from '../../errors.ts'
import { ownerPid, runId } from '../../settings.ts'
import type { CommandRunner } from './director.ts'
import { serviceId } from './rules.ts'
import { parseTable } from './table.ts'

export const localRunner: CommandRunner = {
  async run(argv, input) {
    const [file, ...args] = argv
    const change = file === 'ipvsadm' ? await checkIpvsadm(args, input) : undefined
    // Owned before running, as in IpvsDirector: what a failing batch did add is still removed later.
    if (change?.added.length) appendFileSync(ledgerFile(), change.added.map((id) => `+${id}\n`).join(''))
    const result = await execa(file!, args, { input, reject: false, timeout: 30_000 })
    if (result.exitCode === 0 && change?.deleted.length) appendFileSync(ledgerFile(), change.deleted.map((id) => `-${id}\n`).join(''))
    return { exitCode: result.exitCode ?? 1, stdout: result.stdout, stderr: result.stderr }
  },
  async close() {},
}

/**
 * The virtual services this run added on the host: lines `+tcp:VIP:80`, and `-tcp:VIP:80` once
 * deleted. Named after the run and its owner process, so `npm run clean` can tell an orphan's.
 */
function ledgerFile(): string {
  return path.join(os.tmpdir(), `lb-e2e-${runId()}-${ownerPid()}-ipvs-services`)
}

/** Ledgers in the temporary directory: `lb-e2e-<run>-<owner pid>-ipvs-services`. */
export const LEDGER_NAME = /^lb-e2e-([0-9a-z]+)-(\d+)-ipvs-services$/

function ownedServices(file = ledgerFile()): Set<string> {
  const owned = new Set<string>()
  let text = ''
  try { text = readFileSync(file, 'utf8') } catch { /* nothing added yet */ }
  for (const line of text.split('\n')) {
    if (line.startsWith('+')) owned.add(line.slice(1))
    else if (line.startsWith('-')) owned.delete(line.slice(1))
  }
  return owned
}

const READ_ONLY = new Set(['-L', '-l', '--list', '-S', '--save'])
const CHANGES = new Set(['-A', '-E', '-D', '-a', '-e', '-d', '-Z'])

/** `tcp:10.0.0.1:80` as ipvsadm shows it: `TCP 10.0.0.1:80`. */
const shown = (id: string) => id.replace(/^(tcp|udp):/, (_, p: string) => `${p.toUpperCase()} `)

/**
 * Refuses, before anything runs, an ipvsadm call (or any line of an `-R` batch) that clears, or
 * changes a virtual service this run did not add; returns the services it adds and deletes.
 */
async function checkIpvsadm(args: string[], input?: string): Promise<{ added: string[]; deleted: string[] }> {
  const added: string[] = []
  const deleted: string[] = []
  if (READ_ONLY.has(args[0] ?? '')) return { added, deleted }
  const batch = args[0] === '-R' || args[0] === '--restore'
  const lines = batch ? (input ?? '').split('\n').map((l) => l.trim().split(/\s+/)).filter((w) => w[0]) : [args]
  const before = ownedServices()
  const owned = new Set(before)
  for (const [verb = '', ...rest] of lines) {
    if (verb === '-C' || verb === '--clear') {
      throw new LabError('ipvsadm -C would clear every virtual service on this host, including ones the lab did not create; the host backend never runs it')
    }
    const flag = rest.findIndex((w) => w === '-t' || w === '-u')
    const endpoint = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(rest[flag + 1] ?? '')
    if (!CHANGES.has(verb) || flag < 0 || !endpoint) {
      throw new LabError(`ipvsadm ${[verb, ...rest].join(' ')}: not a command the lab runs on a host; it changes only virtual services it created, named by -t/-u ADDRESS:PORT`)
    }
    const id = `${rest[flag] === '-t' ? 'tcp' : 'udp'}:${endpoint[1]}:${endpoint[2]}`
    if (verb === '-A') { owned.add(id); added.push(id); continue }
    if (!owned.has(id)) throw new LabError(`ipvsadm: ${shown(id)} is not a virtual service this lab run created; the lab never touches one it did not create`)
    if (verb === '-D') { owned.delete(id); deleted.push(id) }
  }
  if (added.length) {
    const present = new Set(parseTable(await ipvsadmList()).map(serviceId))
    const taken = added.filter((id) => present.has(id) && !before.has(id))
    if (taken.length) throw new LabError(`virtual service ${taken.map(shown).join(', ')} already exists on this host; the lab never touches a service it did not create`)
  }
  return { added, deleted }
}

async function ipvsadmList(): Promise<string> {
  const r = await execa('ipvsadm', ['-L', '-n', '--exact'], { reject: false, timeout: 30_000 })
  if (r.exitCode !== 0) throw new LabError(`host director: ipvsadm -L -n --exact failed: ${r.stderr.trim()}`)
  return r.stdout
}

/**
 * Deletes the services in a ledger (default: this run's), one by one, and the ledger: for stop(),
 * the exit hook, and `npm run clean` for a run that was SIGKILLed.
 */
export function removeOwnedServices(file = ledgerFile()): void {
  for (const id of ownedServices(file)) {
    const [protocol, address, port] = id.split(':')
    execaSync('ipvsadm', ['-D', protocol === 'tcp' ? '-t' : '-u', `${address}:${port}`], { reject: false, timeout: 30_000 })
  }
  rmSync(file, { force: true })
}

const CONNTRACK = '/proc/sys/net/ipv4/vs/conntrack'

export interface HostDirectorSetup { stop(): Promise<void> }

/** `conntrack` is the net.ipv4.vs.conntrack sysctl file; tests point it at a file of their own. */
export async function setUpHostDirector(opts: { bridge: string; vip: string; conntrack?: string }): Promise<HostDirectorSetup> {
  const conntrack = opts.conntrack ?? CONNTRACK
  const comment = `lb-e2e-${runId()}-${ownerPid()}` // `npm run clean` keeps rules of live runs
  // Only what IPVS forwards by masquerading (-m), not direct routing or tunnelling, as the director's
  // own rule (lb-e2e-director-setup); the words as `iptables -S` prints them back (xt_ipvs prints a
  // /32 --vaddr without its mask: seen on kernel 6.12 with iptables-nft in the runner VM).
  const rule = ['-m', 'ipvs', '--vaddr', opts.vip, '--vdir', 'ORIGINAL', '--vmethod', 'MASQ',
    '-m', 'comment', '--comment', comment, '-j', 'MASQUERADE']
  const taken = parseTable(await ipvsadmList()).filter((s) => s.address === opts.vip)
  if (taken.length) {
    throw new LabError(`virtual service ${taken.map((s) => shown(serviceId(s))).join(', ')} already exists on this host at the lab's VIP; ` +
      'the lab never touches a service it did not create: remove it (ipvsadm -D -t|-u ADDRESS:PORT) or give the lab another network')
  }
  const run = async (file: string, args: string[]) => {
    const r = await execa(file, args, { reject: false })
    if (r.exitCode !== 0) throw new LabError(`host director: ${file} ${args.join(' ')} failed: ${r.stderr.trim()}`)
  }
  // What it changed, undone in reverse; a DisposableStack, since the exit hook must finish synchronously.
  const undo = new DisposableStack()
  const stopNow = () => {
    process.off('exit', stopNow)
    try { undo.dispose() } catch { /* best effort: every step has still run */ }
  }
  process.prependListener('exit', stopNow)
  try {
    await run('ip', ['addr', 'add', `${opts.vip}/32`, 'dev', opts.bridge])
    undo.defer(() => execaSync('ip', ['addr', 'del', `${opts.vip}/32`, 'dev', opts.bridge], { reject: false }))
    const before = (await readFile(conntrack, 'utf8')).trim()
    if (before !== '1') {
      await writeFile(conntrack, '1')
      undo.defer(() => writeFileSync(conntrack, before))
    }
    await run('iptables', ['-t', 'nat', '-I', 'POSTROUTING', '1', ...rule])
    undo.defer(() => execaSync('iptables', ['-t', 'nat', '-D', 'POSTROUTING', ...rule], { reject: false }))
    undo.defer(() => removeOwnedServices()) // undone first: the services, then the NAT rule and the VIP they use
    return { stop: async () => stopNow() }
  } catch (error) {
    stopNow()
    throw error
  }
}
