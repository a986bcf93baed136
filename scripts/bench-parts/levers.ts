// The bench's `--only levers` part: the start-time levers of #16, measured on a Tomcat node.
// Class-data sharing: one node starts `trials` times with the image's AppCDS archive
// (LAB_TOMCAT_CDS=1) and as many times without it (0), alternating so both see the same machine
// load, beside a peer that is already up, as the second node of every lab starts. Per start:
// container start → "Server startup in" (Docker's own timestamps), start() → serving ExSession
// (tomcat-node.ts's readiness), and start() → the peer listing it as a member.
import { execa } from 'execa'
import { percentile } from '../../helpers/checks/tally.ts'
import { LabError, tail } from '../../helpers/errors.ts'
import { ensureImage, imageTag, tomcatImage } from '../../helpers/lab/images.ts'
import { createLabNetwork } from '../../helpers/lab/network.ts'
import { type StartedTomcatNode, TomcatNodeContainer } from '../../helpers/lab/tomcat-node.ts'
import { type TomcatVersion, baseImage, fixturesDir, repoRoot, runId } from '../../helpers/settings.ts'
import { outcome, settle, until } from '../../helpers/wait.ts'

export interface BenchRow { what: string; value: string; detail?: string }

export interface CdsStart {
  cds: boolean
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
}

export interface CdsOptions {
  trials: number
  tomcat: TomcatVersion
  /** The image to measure (BENCH_CDS_IMAGE in bench.ts); default: the lab's, or, when it has no archive, one built with CDS=1. */
  image?: string
  say?: (line: string) => void
}

const SERVER_XML = `${fixturesDir}/tomcat/server.xml`
const ARCHIVE = '/opt/lb-e2e/tomcat.jsa'

export async function cdsBench(options: CdsOptions): Promise<{ rows: BenchRow[]; starts: CdsStart[]; image: string; archive: { bytes: number; fits: boolean } }> {
  const image = options.image ?? await withArchive(options.tomcat, options.say)
  const archive = await archiveCheck(image)
  const network = await createLabNetwork('levers')
  const starts: CdsStart[] = []
  try {
    const node = (name: string, at: number, cds: boolean) => {
      const container = new TomcatNodeContainer(name, name, 'levers', options.tomcat)
        .withServerXml(SERVER_XML).withEnvironment({ LAB_TOMCAT_CDS: cds ? '1' : '0' }).onNetwork(network.name, network.address(at))
      return image === imageTag(tomcatImage(options.tomcat)) ? container : onImage(container, image)
    }
    // The peer, up before any timed start (two nodes starting together can block 60 s in state transfer).
    const peer = await node('node01', 130, true).start()
    try {
      for (let i = 0; i < options.trials; i++) {
        // Alternate which goes first, so a drift in machine load falls on both.
        for (const cds of i % 2 ? [false, true] : [true, false]) {
          options.say?.(`  levers: CDS ${cds ? 'on' : 'off'}, trial ${i + 1}/${options.trials}`)
          starts.push(await timedStart(cds, () => node(`node02-${i}-${cds ? 'cds' : 'nocds'}`, 131, cds).start(), peer))
        }
      }
    } finally {
      await peer.remove()
    }
  } finally {
    await network.remove()
  }
  return { rows: rows(starts, image, archive), starts, image, archive }
}

async function timedStart(cds: boolean, start: () => Promise<StartedTomcatNode>, peer: StartedTomcatNode): Promise<CdsStart> {
  const since = performance.now()
  // The peer's view is watched while the node starts, not after: membership can come before serving.
  const member = settle(until('the peer listing the new node', async () => {
    if (!(await peer.members()).length) throw new Error('no member yet')
    return performance.now() - since
  }, { timeoutMs: 180_000, intervalMs: 50 }))
  const node = await start()
  const toServingMs = performance.now() - since
  try {
    const toMemberMs = outcome(await member)
    const { toStartupLineMs, tomcatReportedMs, archiveRejected } = await startupLine(node.getId())
    return { cds, toStartupLineMs, tomcatReportedMs, toServingMs, toMemberMs, archiveRejected }
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
  const strict = await run('/usr/local/bin/tomcat-foreground', ['configtest'], ['-e', 'JAVA_OPTS=-Xms64m -Xmx256m -XX:+UseSerialGC -Xshare:on'])
  return { bytes, fits: !/\[error\]\[cds\]|Error occurred during initialization of VM/.test(strict.all ?? '') }
}

/** testcontainers takes the image in the constructor only; its create options are the extension point (as in containers.ts). */
function onImage<T extends TomcatNodeContainer>(container: T, image: string): T {
  (container as unknown as { createOpts: { Image: string } }).createOpts.Image = image
  return container
}

function rows(starts: CdsStart[], image: string, archive: { bytes: number; fits: boolean }): BenchRow[] {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const of = (cds: boolean, pick: (x: CdsStart) => number) => {
    const sorted = starts.filter((x) => x.cds === cds).map(pick).sort((a, b) => a - b)
    return { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95) }
  }
  const measures: [string, (x: CdsStart) => number][] = [
    ['container start → "Server startup in"', (x) => x.toStartupLineMs],
    ['Tomcat\'s own "Server startup in"', (x) => x.tomcatReportedMs],
    ['start() → serving ExSession', (x) => x.toServingMs],
    ['start() → member of the peer', (x) => x.toMemberMs],
  ]
  const rejected = starts.filter((x) => x.cds && x.archiveRejected).length
  const out: BenchRow[] = measures.map(([what, pick]) => {
    const on = of(true, pick), off = of(false, pick)
    return {
      what: `CDS lever: ${what} (${on.n} + ${off.n} trials)`,
      value: `${s(off.p50 - on.p50)} faster (p50)`,
      detail: `with p50 ${s(on.p50)} p95 ${s(on.p95)}; without p50 ${s(off.p50)} p95 ${s(off.p95)}; p95 difference ${s(off.p95 - on.p95)}`,
    }
  })
  out.push({ what: 'CDS lever: the archive', value: archive.bytes ? `${(archive.bytes / 1e6).toFixed(1)} MB, ${archive.fits ? 'fits' : 'does not fit'} the JVM` : 'none in the image',
    detail: `${image}${archive.bytes && archive.fits ? '' : ': both columns ran without it'}; a [cds] warning in ${rejected} start(s) with it` })
  return out
}
