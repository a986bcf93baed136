/**
 * The runner VM: a QEMU (TCG) machine that stands in for a GitHub ubuntu runner, on a kernel with
 * IPVS, which this machine's kernel lacks. It has no network device: nothing it runs can reach
 * anything outside it, and the lab's containers live on Docker networks inside it. Its disk is
 * built and baked by disk.ts; here it boots once for one job (helpers/runner/image/init's modes),
 * prints its serial console as it goes, and powers itself off.
 */
import { createReadStream } from 'node:fs'
import fs from 'node:fs/promises'
import { execa } from 'execa'
import { LabError, tail } from '../errors.ts'
import { resourceName } from '../settings.ts'

export interface RunnerKernel {
  kernel: string
  initrd: string
}

export interface RunnerBoot extends RunnerKernel {
  /** `bake` loads images into `disk` (written in place); `job` runs the project copy's .runner/job.sh. */
  mode: 'bake' | 'job'
  /** The root disk (ext4, raw). In a job it is used through a throw-away overlay (snapshot=on). */
  disk: string
  /** /dev/vdb: the images tar (bake, read-only) or the project copy (job, ext4, written). */
  second: string
  /** Shared with the guest as /out over 9p (job): its exit code and reports land there. */
  outDir?: string
  /** The serial console, as a file. */
  consoleLog: string
  /** Bound for the whole boot, job and power-off. */
  timeoutMs: number
  /** Each console line, as it arrives (progress). */
  onLine?: (line: string) => void
}

/** What the VM's init printed last: `<mode> finished: <status>`, or undefined if it never got there. */
export interface RunnerExit {
  status: number | undefined
  ms: number
  console: string
}

const FINISHED = /^lb-e2e runner: (?:bake|job) finished: (\d+)/m

/** Boots the runner VM for one job and resolves when it has powered off (or was killed at the bound). */
export async function bootRunner(boot: RunnerBoot): Promise<RunnerExit> {
  // Named after the run: its Ctrl-C sweep (removeRunOnExit) and `npm run clean` find the VM by it.
  const name = resourceName(`runner-${boot.mode}`)
  await fs.writeFile(boot.consoleLog, '')
  const append = [
    'root=/dev/vda', 'rw', 'console=ttyS0', 'panic=-1', 'quiet', 'loglevel=4',
    'init=/usr/local/sbin/lb-e2e-runner-init', `lbe2e.mode=${boot.mode}`,
  ].join(' ')
  const second = boot.mode === 'bake'
    ? `file=${boot.second},format=raw,if=virtio,readonly=on`
    : `file=${boot.second},format=raw,if=virtio,cache=unsafe`
  const args = [
    '-name', name,
    // TCG (KVM hangs on these machines: LAB-NOTES), one vCPU on one host thread: with two vCPUs on
    // two threads (thread=multi) the guest kernel died in its first minutes of the LVS suites
    // (`Oops: int3` in get_page_from_freelist, runc creating a cgroup: code being patched under a
    // vCPU that still ran the old translation, on a busy host).
    '-machine', 'q35', '-accel', 'tcg,thread=single,tb-size=512', '-cpu', 'max', '-smp', '1', '-m', '4096',
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-kernel', boot.kernel, '-initrd', boot.initrd, '-append', append,
    '-serial', `file:${boot.consoleLog}`,
    // cache=unsafe: the overlay and the project copy are thrown away (or checked) after the run.
    '-drive', `file=${boot.disk},format=raw,if=virtio,cache=unsafe${boot.mode === 'job' ? ',snapshot=on' : ''}`,
    '-drive', second,
  ]
  if (boot.outDir) args.push('-virtfs', `local,path=${boot.outDir},mount_tag=out,security_model=none,id=out`)

  const started = performance.now()
  const qemu = execa('qemu-system-x86_64', args, { reject: false, stdin: 'ignore', timeout: boot.timeoutMs, forceKillAfterDelay: 5_000 })
  const follow = followLines(boot.consoleLog, (line) => boot.onLine?.(line))
  const result = await qemu
  await follow.stop()
  const text = await fs.readFile(boot.consoleLog, 'utf8')
  const ms = performance.now() - started
  if (result.timedOut) throw new LabError(`runner VM ${name} (${boot.mode}) did not power off within ${boot.timeoutMs / 1000} s; console ends:\n${tail(text, 40)}`)
  const finished = FINISHED.exec(text)
  if (result.exitCode !== 0 && !finished) {
    throw new LabError(`QEMU for runner VM ${name} exited ${result.exitCode}: ${result.stderr.trim() || '(no stderr)'}; console ends:\n${tail(text, 40)}`)
  }
  return { status: finished ? Number(finished[1]) : undefined, ms, console: text }
}

/** Calls `onLine` for every complete line appended to `file`, until stop(). */
function followLines(file: string, onLine: (line: string) => void): { stop(): Promise<void> } {
  let offset = 0
  let partial = ''
  let reading: Promise<void> = Promise.resolve()
  const read = () => (reading = reading.then(async () => {
    const stat = await fs.stat(file).catch(() => undefined)
    if (!stat || stat.size <= offset) return
    const stream = createReadStream(file, { start: offset, end: stat.size - 1, encoding: 'utf8' })
    let chunk = ''
    for await (const piece of stream) chunk += piece as string
    offset = stat.size
    const lines = (partial + chunk).split(/\r?\n/)
    partial = lines.pop() ?? ''
    for (const line of lines) onLine(line)
  }))
  const timer = setInterval(() => void read(), 500)
  return {
    async stop() {
      clearInterval(timer)
      await read()
      if (partial) onLine(partial)
    },
  }
}
