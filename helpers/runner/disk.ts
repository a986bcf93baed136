/**
 * The runner VM's disk, built locally from Debian packages and cached by its inputs:
 *   1. the image helpers/runner/image/Dockerfile (labelled with the hash of its files and the base
 *      image, as the lab's images are), exported to a directory and written to an ext4 file with
 *      `mke2fs -d` (no loop mount, no root-only mount needed);
 *   2. baked: the VM boots once with the lab's images as a `docker save` tar on its second drive and
 *      `docker load`s them, so each run starts with them on its disk (a load is 1–2 minutes under TCG).
 * The cache directory (CACHE) is named by a hash of the runner image and of the baked images' ids: a new
 * lab image makes a new disk, and the old one is removed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { LabError, tail } from '../errors.ts'
import { INPUTS_LABEL, imageInputsHash } from '../lab/image-inputs.ts'
import { type ImageName, ensureImage, imageId, imageLabel, tomcatImage } from '../lab/images.ts'
import { detail, say, step } from '../progress.ts'
import { LABEL, TOMCAT_VERSIONS, baseImage, labels, repoRoot, resourceName } from '../settings.ts'
import { type RunnerKernel, bootRunner } from './vm.ts'

export interface RunnerDisk extends RunnerKernel {
  disk: string
  /** How long each part took when it was made (0 when it came from the cache). */
  timings: { imageMs: number; diskMs: number; bakeMs: number }
}

const RUNNER_IMAGE = `${LABEL}/runner:latest`
const RUNNER_INPUTS = ['helpers/runner/image']
/**
 * Per machine, not per checkout, as Docker's images are: a fresh clone on the same machine (CI's)
 * finds the baked disk, which takes about 10 minutes to make. LAB_RUNNER_CACHE moves it.
 */
const CACHE = process.env.LAB_RUNNER_CACHE || '/var/cache/lb-e2e/runner'
/** Sparse: only what is written takes space (the baked disk is about 5 GB). */
const DISK_SIZE = '24G'

/** The lab's images a runner's setup expects to find (scripts/build-lab.ts builds the same set). */
export const BAKED_IMAGES: ImageName[] = ['apache', 'director', ...TOMCAT_VERSIONS.map(tomcatImage)]

/** The baked disk, its kernel and initrd: from .cache/runner/<key>/, or made now (about 5 minutes). */
export async function ensureRunnerDisk(): Promise<RunnerDisk> {
  const timings = { imageMs: 0, diskMs: 0, bakeMs: 0 }
  const imageStarted = performance.now()
  const runnerId = await ensureRunnerImage()
  const tags = [baseImage(), ...await Promise.all(BAKED_IMAGES.map((name) => ensureImage(name)))]
  timings.imageMs = performance.now() - imageStarted
  const ids = await Promise.all(tags.map(async (tag) => `${tag} ${await imageId(tag)}`))
  const key = createHash('sha256').update(`runner ${runnerId}\n${ids.join('\n')}\n`).digest('hex').slice(0, 16)
  const dir = path.join(CACHE, key)
  const done: RunnerDisk = { kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), disk: path.join(dir, 'disk.img'), timings }
  if (existsSync(path.join(dir, 'baked'))) {
    detail(`runner disk ${key} from the cache`)
    return done
  }

  const staging = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`
  await fs.mkdir(staging, { recursive: true })
  try {
    const diskStarted = performance.now()
    await step('runner VM disk (export, mke2fs -d)', () => makeDisk(staging))
    timings.diskMs = performance.now() - diskStarted
    const bakeStarted = performance.now()
    await step(`runner VM bake (docker load of ${tags.length} images under TCG, 2–6 minutes)`, () => bake(staging, tags))
    timings.bakeMs = performance.now() - bakeStarted
    await fs.writeFile(path.join(staging, 'baked'), `${ids.join('\n')}\n`)
    // Older disks are other inputs' (5 GB each): keep only this one.
    for (const old of await fs.readdir(CACHE)) {
      if (old !== path.basename(staging) && old !== 'bake.console.log') await fs.rm(path.join(CACHE, old), { recursive: true, force: true })
    }
    await fs.rename(staging, dir)
    return done
  } finally {
    await fs.rm(staging, { recursive: true, force: true })
  }
}

/** Builds lb-e2e/runner unless its inputs label is current; returns its id. */
async function ensureRunnerImage(): Promise<string> {
  const inputs = imageInputsHash(await imageId(baseImage()), repoRoot, RUNNER_INPUTS)
  if (await imageLabel(RUNNER_IMAGE, INPUTS_LABEL) !== inputs) {
    await step(`image ${RUNNER_IMAGE} (Debian kernel, Docker, packages: about 2 minutes)`, async () => {
      const build = await execa('docker', [
        'build', '--force-rm', '--build-arg', `BASE=${baseImage()}`, '--label', `${LABEL}=true`, '--label', `${INPUTS_LABEL}=${inputs}`,
        '-t', RUNNER_IMAGE, '.',
      ], { cwd: path.join(repoRoot, 'helpers/runner/image'), all: true, reject: false, env: { DOCKER_BUILDKIT: '0' } })
      if (build.exitCode !== 0) throw new LabError(`docker build of helpers/runner/image failed:\n${tail(build.all ?? '')}`)
    })
  }
  return imageId(RUNNER_IMAGE)
}

/** The runner image's file system as an ext4 file, and its kernel and initrd beside it. */
async function makeDisk(dir: string): Promise<void> {
  const root = path.join(dir, 'rootfs')
  await fs.mkdir(root)
  const container = resourceName('runner-export')
  try {
    // The run's labels: its Ctrl-C sweep removes the container if the export is interrupted.
    const label = Object.entries(labels()).flatMap(([key, value]) => ['--label', `${key}=${value}`])
    await execa('docker', ['create', '--name', container, ...label, RUNNER_IMAGE, '/none'])
    await execa('sh', ['-c', `docker export "$1" | tar -x -C "$2" --numeric-owner`, 'export', container, root])
  } finally {
    await execa('docker', ['rm', '-f', container], { reject: false })
  }
  // Docker's own marker: testcontainers (and the lab) would believe they run in a container.
  await fs.rm(path.join(root, '.dockerenv'), { force: true })
  const boot = await fs.readdir(path.join(root, 'boot'))
  const kernel = boot.find((f) => f.startsWith('vmlinuz-'))
  const initrd = boot.find((f) => f.startsWith('initrd.img-'))
  if (!kernel || !initrd) throw new LabError(`${RUNNER_IMAGE} has no /boot/vmlinuz-* and /boot/initrd.img-* (found: ${boot.join(' ')})`)
  await fs.copyFile(path.join(root, 'boot', kernel), path.join(dir, 'vmlinuz'))
  await fs.copyFile(path.join(root, 'boot', initrd), path.join(dir, 'initrd.img'))
  detail(`kernel ${kernel.slice('vmlinuz-'.length)}`)
  const mkfs = await execa('mke2fs', ['-q', '-t', 'ext4', '-L', 'lb-e2e-runner', '-d', root, path.join(dir, 'disk.img'), DISK_SIZE], { all: true, reject: false })
  if (mkfs.exitCode !== 0) throw new LabError(`mke2fs -d of the runner's root failed:\n${tail(mkfs.all ?? '')}`)
  await fs.rm(root, { recursive: true, force: true })
}

/** One boot that `docker load`s the lab's images into the disk, which is written in place. */
async function bake(dir: string, tags: string[]): Promise<void> {
  const tar = path.join(dir, 'images.tar')
  await execa('docker', ['save', '-o', tar, ...tags])
  detail(`images tar ${((await fs.stat(tar)).size / 2 ** 20).toFixed(0)} MiB`)
  const exit = await bootRunner({
    mode: 'bake', kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), disk: path.join(dir, 'disk.img'),
    // Beside the staging directory, so it outlives a failed bake.
    second: tar, consoleLog: path.join(CACHE, 'bake.console.log'), timeoutMs: 25 * 60_000,
    onLine: (line) => { if (line.startsWith('lb-e2e runner:')) say(`    ${line}`) },
  })
  await fs.rm(tar, { force: true })
  if (exit.status !== 0) throw new LabError(`the runner VM's bake did not load the images (status ${exit.status ?? 'none'}); console ends:\n${tail(exit.console, 40)}`)
  // docker load names each tag it loaded.
  const missing = tags.filter((tag) => !exit.console.includes(`Loaded image: ${tag}`))
  if (missing.length) throw new LabError(`after the bake the runner VM lists no ${missing.join(', ')}; console ends:\n${tail(exit.console, 40)}`)
}
