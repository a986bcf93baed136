// The bench's `--only levers` part: the start-time levers of #16, measured on a Tomcat node. Each
// lever is an A/B: one node starts `trials` times each way, alternating so both see the same
// machine load, beside a peer that is already up, as the second node of every lab starts. Per
// start: container start → "Server startup in" (Docker's own timestamps), start() → serving
// ExSession (tomcat-node.ts's readiness), and start() → the peer listing it as a member.
// - Class-data sharing: the image's AppCDS archive (LAB_TOMCAT_CDS=1) or not (0).
// - McastService frequency: Tomcat sleeps 2 × frequency at each of its two membership start
//   levels ("Sleeping for [1000] milliseconds to establish cluster membership" at 500), so a
//   lower heartbeat frequency shortens every node start.
// - JIT: the image's JAVA_OPTS (client compiler only, -XX:TieredStopAtLevel=1) against the same
//   without it (C1 and C2). Mostly a CPU lever: a start's core-seconds, which two cores share
//   with the rest of the run, more than its own wall time.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { percentile } from '../../helpers/checks/tally.ts'
import { LabError, tail } from '../../helpers/errors.ts'
import { removeInTurn } from '../../helpers/lab/cleanup.ts'
import { ensureImage, imageTag, tomcatImage } from '../../helpers/lab/images.ts'
import { type LabNetwork, createLabNetwork } from '../../helpers/lab/network.ts'
import { type StartedTomcatNode, TomcatNodeContainer } from '../../helpers/lab/tomcat-node.ts'
import { type TomcatVersion, baseImage, fixturesDir, repoRoot, runId } from '../../helpers/settings.ts'
import { readServerXml } from '../../helpers/validate/tomcat.ts'
import { outcome, settle, until } from '../../helpers/wait.ts'

export interface BenchRow { what: string; value: string; detail?: string }

export interface LeverStart {
  /** This start had the lever (the archive, the quicker heartbeat); false: the same node without it. */
  lever: boolean
  /** Container started → Tomcat's "Server startup in" line, by Docker's timestamps. */
  toStartupLineMs: number
  /** Tomcat's own figure in that line (Catalina.start, after the JVM and Catalina.load). */
  tomcatReportedMs: number
  /** start() called → ExSession's /cluster answering (what every lab waits for). */
  toServingMs: number
  /** start() called → the peer listing this node as a member. */
  toMemberMs: number
  /** The JVM said it could not use the archive (a mismatch): the start ran without it. */
  archiveRejected: boolean
  /** CPU time the node used from its start until it served ExSession. */
  cpuToServingS: number
}

export interface LeverOptions {
  trials: number
  tomcat: TomcatVersion
  /** The image to measure (BENCH_CDS_IMAGE in bench.ts); default: the lab's, or, when it has no archive, one built with CDS=1. */
  image?: string
  say?: (line: string) => void
}

/** One side of a lever: how the timed node and its peer start. */
interface Side { serverXml: string; environment: Record<string, string> }

const SERVER_XML = `${fixturesDir}/tomcat/server.xml`
const ARCHIVE = '/opt/lb-e2e/tomcat.jsa'

export async function cdsBench(options: LeverOptions): Promise<{ rows: BenchRow[]; starts: LeverStart[]; image: string; archive: { bytes: number; fits: boolean } }> {
  const image = options.image ?? await withArchive(options.tomcat, options.say)
  const archive = await archiveCheck(image)
  const starts = await leverStarts('CDS', image, options,
    { serverXml: SERVER_XML, environment: { LAB_TOMCAT_CDS: '1' } }, { serverXml: SERVER_XML, environment: { LAB_TOMCAT_CDS: '0' } })
  const rejected = starts.filter((x) => x.lever && x.archiveRejected).length
  return {
    rows: [...rows('CDS lever', starts), {
      what: 'CDS lever: the archive', value: archive.bytes ? `${(archive.bytes / 1e6).toFixed(1)} MB, ${archive.fits ? 'fits' : 'does not fit'} the JVM` : 'none in the image',
      detail: `${image}${archive.bytes && archive.fits ? '' : ': both columns ran without it'}; a [cds] warning in ${rejected} start(s) with it`,
    }],
    starts, image, archive,
  }
}

/** The McastService heartbeat and drop time of the fixture's server.xml (or of `xml`), as the gate reads them (Tomcat's defaults where unwritten). */
export function fixtureHeartbeat(xml = readFileSync(SERVER_XML, 'utf8')): { frequencyMs: number; dropTimeMs: number } {
  const multicast = readServerXml(xml, SERVER_XML, {}).cluster?.multicast
  if (multicast?.frequency.value === undefined || multicast.dropTime.value === undefined) throw new LabError(`${SERVER_XML}: no McastService with a numeric frequency and dropTime`)
  return { frequencyMs: multicast.frequency.value, dropTimeMs: multicast.dropTime.value }
}

/** The fixture's McastService heartbeat (the lever) against another frequency, the post's 500 ms by default, with the post's dropTime 3000; on the lab's image. */
export async function frequencyBench(options: LeverOptions & { againstMs: number }): Promise<{ rows: BenchRow[]; starts: LeverStart[]; fixtureFrequencyMs: number }> {
  const xml = readFileSync(SERVER_XML, 'utf8')
  const { frequencyMs } = fixtureHeartbeat(xml)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-levers-'))
  try {
    const other = path.join(dir, 'server.xml')
    // The other heartbeat keeps the post's dropTime with it, so that its peer does not drop members it still hears.
    writeFileSync(other, xml.replace(/(<Membership[^>]*\sfrequency=")\d+"/, `$1${options.againstMs}"`).replace(/(<Membership[^>]*\sdropTime=")\d+"/, '$13000"'))
    const image = await ensureImage(tomcatImage(options.tomcat))
    const starts = await leverStarts(`frequency ${frequencyMs} ms`, image, options,
      { serverXml: SERVER_XML, environment: {} }, { serverXml: other, environment: {} })
    return { rows: rows(`McastService frequency ${frequencyMs} ms (the fixture's) against ${options.againstMs} ms`, starts), starts, fixtureFrequencyMs: frequencyMs }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The image's JAVA_OPTS against the same options without -XX:TieredStopAtLevel=1 (C2 as well), on the lab's image. */
export async function jitBench(options: LeverOptions): Promise<{ rows: BenchRow[]; starts: LeverStart[]; javaOpts: string }> {
  const image = await ensureImage(tomcatImage(options.tomcat))
  const javaOpts = await imageJavaOpts(image)
  if (!/-XX:TieredStopAtLevel=1\b/.test(javaOpts)) throw new LabError(`${image}: its JAVA_OPTS (${javaOpts}) has no -XX:TieredStopAtLevel=1, the lever measured here`)
  const both = javaOpts.replace(/\s*-XX:TieredStopAtLevel=1\b/, '')
  const starts = await leverStarts('JIT', image, options,
    { serverXml: SERVER_XML, environment: { JAVA_OPTS: javaOpts } }, { serverXml: SERVER_XML, environment: { JAVA_OPTS: both } })
  return { rows: rows('JIT: -XX:TieredStopAtLevel=1 (the image\'s) against C1 + C2', starts), starts, javaOpts }
}

/** The default JAVA_OPTS of the image's entrypoint, as it would start a node. */
async function imageJavaOpts(image: string): Promise<string> {
  const { stdout } = await execa('docker', ['run', '--rm', '--network', 'none', '--label', 'lb-e2e=true', '--label', `lb-e2e.run=${runId()}`,
    '--entrypoint', 'sh', image, '-c', 'sed -n \'s/^: "${JAVA_OPTS:=\\(.*\\)}"$/\\1/p\' /usr/local/bin/tomcat-foreground'])
  if (!stdout.trim()) throw new LabError(`${image}: no default JAVA_OPTS in /usr/local/bin/tomcat-foreground`)
  return stdout.trim()
}

/**
 * Starts of one node with the lever and without it, alternating. Each side has its own network and
 * peer, up before any timed start (two nodes starting together can block 60 s in state transfer),
 * so the new node meets a peer configured as itself and the two sides' multicast never mix.
 */
async function leverStarts(lever: string, image: string, options: LeverOptions, on: Side, off: Side): Promise<LeverStart[]> {
  const node = (name: string, network: LabNetwork, at: number, side: Side) => {
    const container = new TomcatNodeContainer(name, name, 'levers', options.tomcat)
      .withServerXml(side.serverXml).withEnvironment(side.environment).onNetwork(network.name, network.address(at))
    return image === imageTag(tomcatImage(options.tomcat)) ? container : onImage(container, image)
  }
  const starts: LeverStart[] = []
  const labs: { network: LabNetwork; peer?: StartedTomcatNode }[] = []
  try {
    for (const side of [on, off]) {
      const lab: { network: LabNetwork; peer?: StartedTomcatNode } = { network: await createLabNetwork(`levers-${side === on ? 'on' : 'off'}`) }
      labs.push(lab)
      lab.peer = await node(`node01-${labs.length}`, lab.network, 130, side).start()
    }
    for (let i = 0; i < options.trials; i++) {
      // Alternate which goes first, so a drift in machine load falls on both.
      for (const withLever of i % 2 ? [false, true] : [true, false]) {
        const { network, peer } = labs[withLever ? 0 : 1]!
        options.say?.(`  levers: ${lever} ${withLever ? 'on' : 'off'}, trial ${i + 1}/${options.trials}`)
        starts.push(await timedStart(withLever, () => node(`node02-${i}-${withLever ? 'on' : 'off'}`, network, 131, withLever ? on : off).start(), peer!))
      }
    }
  } finally {
    await removeInTurn(labs.flatMap((lab) => [async () => { await lab.peer?.remove() }, () => lab.network.remove()]))
  }
  return starts
}

async function timedStart(lever: boolean, start: () => Promise<StartedTomcatNode>, peer: StartedTomcatNode): Promise<LeverStart> {
  const since = performance.now()
  // The peer's view is watched while the node starts, not after: membership can come before serving.
  const member = settle(until('the peer listing the new node', async () => {
    if (!(await peer.members()).length) throw new Error('no member yet')
    return performance.now() - since
  }, { timeoutMs: 180_000, intervalMs: 50 }))
  const node = await start()
  const toServingMs = performance.now() - since
  const cpuToServingS = await node.cpuSeconds()
  try {
    const toMemberMs = outcome(await member)
    const { toStartupLineMs, tomcatReportedMs, archiveRejected } = await startupLine(node.getId())
    return { lever, toStartupLineMs, tomcatReportedMs, toServingMs, toMemberMs, archiveRejected, cpuToServingS }
  } finally {
    // Gracefully, so the peer drops it at once (a SIGKILL would cost dropTime per trial).
    await node.shutdown()
    await node.remove()
    // The peer must have dropped it before the next start, or that start's membership is this one's.
    await until('the peer dropping the removed node', async () => {
      if ((await peer.members()).length) throw new Error('still a member')
    }, { timeoutMs: 30_000, intervalMs: 100 })
  }
}

/** Docker's timestamps: the container's start and the line "Server startup in [N] milliseconds". */
async function startupLine(id: string): Promise<{ toStartupLineMs: number; tomcatReportedMs: number; archiveRejected: boolean }> {
  const { stdout: startedAt } = await execa('docker', ['inspect', '--format', '{{.State.StartedAt}}', id])
  const { all } = await execa('docker', ['logs', '--timestamps', id], { all: true })
  const line = (all ?? '').split('\n').find((l) => l.includes('Server startup in'))
  const match = line && /^(\S+)\s.*Server startup in \[([\d,.]+)\]/.exec(line)
  if (!match) throw new Error(`container ${id.slice(0, 12)}: no "Server startup in" line in its log`)
  return {
    toStartupLineMs: nanoTime(match[1]!) - nanoTime(startedAt.trim()),
    tomcatReportedMs: Number(match[2]!.replace(/[,.]/g, '')),
    // The JVM's warnings when an archive does not fit (-Xshare:auto goes on without it).
    archiveRejected: /\[cds\].*(mismatch|error|disabled)|shared archive file.*(not|fail)/i.test(all ?? ''),
  }
}

/** RFC 3339 with nanoseconds (Docker's) to epoch ms, keeping the sub-millisecond digits Date drops. */
function nanoTime(stamp: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(stamp)
  if (!m) throw new Error(`not a Docker timestamp: ${stamp}`)
  return Date.parse(`${m[1]}${m[3]}`) + Number(`0.${m[2] ?? '0'}`) * 1000
}

/**
 * The lab's image when it carries an archive; else the same Dockerfile with CDS=1 into a bench tag
 * (the layer cache makes that the archive step alone), so both columns run on one image.
 */
async function withArchive(tomcat: TomcatVersion, say?: (line: string) => void): Promise<string> {
  const lab = await ensureImage(tomcatImage(tomcat))
  if ((await archiveCheck(lab)).bytes) return lab
  const tag = `lb-e2e-bench/${tomcatImage(tomcat)}:cds`
  say?.(`  levers: ${lab} has no CDS archive: building ${tag} (CDS=1)`)
  const build = await execa('docker', ['build', '--force-rm', '--build-arg', `BASE=${baseImage()}`, '--build-arg', `TOMCAT=${tomcat.split('.')[0]}`,
    '--build-arg', 'CDS=1', '--label', 'lb-e2e=true', '-t', tag, '-f', 'helpers/lab/images/tomcat/Dockerfile', '.'],
  { cwd: repoRoot, all: true, reject: false, env: { DOCKER_BUILDKIT: '0' } })
  if (build.exitCode !== 0) throw new LabError(`docker build of ${tag} (CDS=1) failed:\n${tail(build.all ?? '')}`)
  return tag
}

/**
 * The image's archive: its size, and whether this image's JVM and classpath can map it. Under
 * -Xshare:auto a misfit is a warning at most (some, like another GC or heap mode, say nothing), so
 * the check runs configtest once with -Xshare:on, which refuses to start without the archive.
 */
async function archiveCheck(image: string): Promise<{ bytes: number; fits: boolean }> {
  const run = (entrypoint: string, args: string[], env: string[] = []) => execa('docker', ['run', '--rm', '--network', 'none',
    '--label', 'lb-e2e=true', '--label', `lb-e2e.run=${runId()}`, ...env, '--entrypoint', entrypoint, image, ...args], { reject: false, all: true })
  const size = await run('sh', ['-c', `wc -c < ${ARCHIVE} 2>/dev/null || echo 0`])
  const bytes = size.exitCode === 0 ? Number(size.stdout.trim()) : 0
  if (!bytes) return { bytes, fits: false }
  const strict = await run('/usr/local/bin/tomcat-foreground', ['configtest'], ['-e', `JAVA_OPTS=${await imageJavaOpts(image)} -Xshare:on`])
  return { bytes, fits: !/\[error\]\[cds\]|Error occurred during initialization of VM/.test(strict.all ?? '') }
}

/** testcontainers takes the image in the constructor only; its create options are the extension point (as in containers.ts). */
function onImage<T extends TomcatNodeContainer>(container: T, image: string): T {
  (container as unknown as { createOpts: { Image: string } }).createOpts.Image = image
  return container
}

function rows(lever: string, starts: LeverStart[]): BenchRow[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const of = (lever: boolean, pick: (x: LeverStart) => number) => {
    const sorted = starts.filter((x) => x.lever === lever).map(pick).sort((a, b) => a - b)
    return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }
  }
  // Each measure in ms; the CPU one too (core-ms), so one formatter serves all.
  const measures: [string, (x: LeverStart) => number, string][] = [
    ['container start → "Server startup in"', (x) => x.toStartupLineMs, 'faster'],
    ['Tomcat\'s own "Server startup in"', (x) => x.tomcatReportedMs, 'faster'],
    ['start() → serving ExSession', (x) => x.toServingMs, 'faster'],
    ['start() → member of the peer', (x) => x.toMemberMs, 'faster'],
    ['CPU time of the start, to serving ExSession (core-s)', (x) => x.cpuToServingS * 1000, 'less'],
  ]
  return measures.map(([what, pick, better]) => {
    const on = of(true, pick), off = of(false, pick)
    return {
      what: `${lever}: ${what} (${on.n} + ${off.n} trials)`,
      value: `${s(off.p50 - on.p50)} ${better} (p50)`,
      detail: `with p50 ${s(on.p50)} p95 ${s(on.p95)}; without p50 ${s(off.p50)} p95 ${s(off.p95)}; p95 difference ${s(off.p95 - on.p95)}`,
    }
  })
}
