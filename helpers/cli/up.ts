/**
 * `lb-e2e up`: the labs for a person to explore, as the post's author did — the VIP to curl, the
 * balancer to open in a browser, nodes to stop — until Ctrl-C, which removes everything. The
 * running lab is described in .cache/up.json (or LB_E2E_UP_FILE) so `lb-e2e ipvsadm` and
 * `lb-e2e down` find it.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { alive, describeLeftovers, findLeftovers, removeLeftovers, removeRunOnExit } from '../lab/cleanup.ts'
import { LabError } from '../errors.ts'
import { connectDirector } from '../lab/ipvs/pick.ts'
import type { View } from '../lab/ipvs/director.ts'
import { type LvsLabInfo, LvsLab, startLvsLab } from '../lab/lvs-lab.ts'
import { type Topology, planFile, readPlan, runnableLayouts } from '../intake/plan.ts'
import { TomcatLab } from '../lab/tomcat-lab.ts'
import { cacheDir, displayPath, runId } from '../settings.ts'
import { NotReached, until } from '../wait.ts'

/** Where the running `up` describes itself: .cache/up.json, or LB_E2E_UP_FILE (the gate's tests use a scratch one). */
export function upFile(): string {
  const file = process.env.LB_E2E_UP_FILE
  return file ? path.resolve(file) : path.join(cacheDir, 'up.json')
}

interface UpState {
  pid: number
  run: string
  lvs?: LvsLabInfo
}

export interface UpOptions {
  labs: ('lvs' | 'tomcat')[]
  layout?: Topology
}

/** Starts the labs, prints how to use them, and resolves when they have been removed (Ctrl-C). */
export async function up(options: UpOptions): Promise<void> {
  const previous = readState()
  if (previous && alive(previous.pid)) throw new LabError(`a lab is already up (process ${previous.pid}, run ${previous.run}): use it, or \`npx lb-e2e down\` first`)
  removeRunOnExit()
  const state: UpState = { pid: process.pid, run: runId() }
  mkdirSync(path.dirname(upFile()), { recursive: true })
  writeFileSync(upFile(), JSON.stringify(state))
  // When up ends (Ctrl-C, or a lab failing to start): the labs removed in reverse, then up.json.
  await using undo = new AsyncDisposableStack()
  undo.defer(() => rmSync(upFile(), { force: true }))
  const lines: string[] = []
  if (options.labs.includes('lvs')) {
    const lab = await startLvsLab(readPlan())
    // A lab that fails to stop must not become up's error: the run's exit sweep removes what it left, and says so.
    undo.defer(() => lab.stop().catch(() => undefined))
    state.lvs = lab.info
    writeFileSync(upFile(), JSON.stringify(state))
    // The guest agent takes one client at a time: let go of it, so `lb-e2e ipvsadm` can talk to the director.
    const attached = await LvsLab.attach(lab.info)
    try {
      await attached.apply('rr.rules')
    } finally {
      await attached.director.close() // not detach(): that would remove the service just applied
    }
    const [n1] = lab.info.nodes
    lines.push(
      `LVS lab (director: ${lab.info.director.backend} backend — ${lab.info.director.reason})`,
      `  rules        ${displayPath(planFile(readPlan(), 'ipvs/rr.rules'))} applied`,
      `  try          for i in 1 2 3 4; do curl -s http://${lab.info.vip}/; done     # alternates node 1 / node 2`,
      `  counters     npx lb-e2e ipvsadm --stats        (also: npx lb-e2e ipvsadm, npx lb-e2e ipvsadm --rate)`,
      `  real servers ${lab.info.nodes.map((n) => `${n.name} ${n.address}`).join(', ')}`,
      `  stop one     docker stop ${n1?.id.slice(0, 12)}     (${n1?.name}; start it again: docker start ${n1?.id.slice(0, 12)})`,
    )
  }
  if (options.labs.includes('tomcat')) {
    const plan = readPlan()
    const topology = options.layout ?? runnableLayouts(plan)[0]!
    const skip = plan.layouts.find((l) => l.topology === topology)?.skip
    if (skip) throw new LabError(`the ${topology} layout cannot run this configuration: ${skip}; use --layout ${runnableLayouts(plan)[0] ?? 'single-host'}`)
    const lab = await TomcatLab.start(plan, { topology })
    undo.defer(() => lab.stop().catch(() => undefined))
    lines.push(
      `Tomcat lab (${topology})`,
      `  open         ${lab.balancerUrl}${lab.plan.exSessionPath}/          (the lab's ExSession; add ?dataName=color&dataValue=blue to set an attribute)`,
      ...(lab.plan.war ? [`  your webapp  ${lab.balancerUrl}/${path.basename(lab.plan.war, '.war')}/`] : []),
      `  balancer     ${lab.balancerUrl}/balancer-manager     ${lab.balancerUrl}/server-status`,
      ...lab.plan.nodes.map((n) => `  ${n.name}       jvmRoute ${n.route}, ${lab.node(n.route).url}, ${displayPath(n.file)}`),
      `  stop a node  docker stop ${lab.plan.nodes.map((n) => containerName(lab, n.route)).join(' | ')}   (start it again: docker start <name>)`,
    )
  }
  process.stdout.write(`\n${lines.join('\n')}\n\nThe labs stay up until Ctrl-C, which removes them.\n`)
  // Signal listeners do not keep Node running: a timer does, until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 60_000)
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
  })
  clearInterval(keepAlive)
}

/** `lb-e2e down`: the running `up` is asked to stop; what a dead one left behind is removed. */
export async function down(): Promise<string> {
  const state = readState()
  const removed: string[] = []
  if (state && alive(state.pid)) {
    process.kill(state.pid, 'SIGINT')
    // One that has not stopped within a minute: what it left behind is removed below all the same.
    await until(`the lab of process ${state.pid} stopping`, async () => {
      if (alive(state.pid)) throw new Error('still running')
    }, { timeoutMs: 60_000, intervalMs: 250 }).catch((error: unknown) => {
      if (!(error instanceof NotReached)) throw error
    })
    removed.push(`stopped the lab of process ${state.pid}`)
  }
  if (state) {
    const left = findLeftovers({ run: state.run })
    removeLeftovers(left)
    if (describeLeftovers(left) !== 'nothing') removed.push(`removed ${describeLeftovers(left)}`)
  }
  const orphans = findLeftovers('orphans')
  removeLeftovers(orphans)
  if (describeLeftovers(orphans) !== 'nothing') removed.push(`removed leftovers of earlier runs: ${describeLeftovers(orphans)}`)
  rmSync(upFile(), { force: true })
  return removed.length ? removed.join('\n') : 'no lab was up, nothing left behind'
}

/** `lb-e2e ipvsadm [--stats|--rate]`: the director's table of the lab that is up. */
export async function ipvsadm(view: View): Promise<string> {
  const state = readState()
  if (!state?.lvs || !alive(state.pid)) throw new LabError('no LVS lab is up: start one with `npx lb-e2e up lvs`')
  const director = await connectDirector(state.lvs.director)
  try {
    return await director.show(view)
  } finally {
    await director.close()
  }
}

function containerName(lab: TomcatLab, route: string): string {
  return lab.node(route).getName().replace(/^\//, '')
}

function readState(): UpState | undefined {
  const file = upFile()
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as UpState
  } catch {
    return undefined
  }
}
