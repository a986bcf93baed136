/**
 * The lab's images, built locally (no registry is reachable): a Debian base from debootstrap unless
 * LAB_BASE_IMAGE names one, and the lab's images on top of it from helpers/lab/images/<name>/Dockerfile.
 * Docker's layer cache makes a warm build a no-op of about a second per image; an image whose
 * `lb-e2e.inputs` label matches the hash of what it is built from (helpers/lab/image-inputs.ts) is
 * not built at all, so images CI's cache loaded (`docker load`: no parent links, no layer cache)
 * count as current.
 *
 * Builds use the docker CLI rather than testcontainers' builder, which drops the build log and
 * reports every failure as "Failed to build image".
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { LabError, tail } from '../errors.ts'
import { detail, step } from '../progress.ts'
import { DEBIAN_SUITE, type TomcatVersion, baseImage, repoRoot } from '../settings.ts'
import { INPUTS_LABEL, imageInputsHash } from './image-inputs.ts'

/** One image per Tomcat version (LAB_TOMCAT): lb-e2e/tomcat-9, lb-e2e/tomcat-10.1, lb-e2e/tomcat-11. */
export type TomcatImage = `tomcat-${TomcatVersion}`
export type ImageName = 'apache' | 'director' | 'director-vm' | TomcatImage

export function tomcatImage(version: TomcatVersion): TomcatImage {
  return `tomcat-${version}`
}

interface Target { dockerfile: string; target?: string; args?: Record<string, string> }

function targetOf(name: ImageName): Target {
  switch (name) {
    case 'apache': return { dockerfile: 'helpers/lab/images/apache/Dockerfile' }
    case 'director': return { dockerfile: 'helpers/lab/images/director/Dockerfile', target: 'director' }
    case 'director-vm': return { dockerfile: 'helpers/lab/images/director/Dockerfile', target: 'vm' }
    default: {
      // Debian names its Tomcat packages by major: libtomcat10-java is 10.1.
      const version = name.slice('tomcat-'.length)
      return { dockerfile: 'helpers/lab/images/tomcat/Dockerfile', args: { TOMCAT: version.split('.')[0]! } }
    }
  }
}

export function imageTag(name: ImageName): string {
  return `lb-e2e/${name}:latest`
}

const built = new Map<ImageName, Promise<string>>()

/** Builds (or confirms from cache) one image of the lab, once per process. Returns its tag. */
export function ensureImage(name: ImageName): Promise<string> {
  let pending = built.get(name)
  if (!pending) {
    pending = buildImage(name)
    built.set(name, pending)
  }
  return pending
}

/**
 * `docker build` of one image, one progress line per step on a terminal; a failure shows the end of
 * the build log. `noCache` and another `tag` serve the benchmark's cold builds.
 */
export async function buildImage(name: ImageName, options: { tag?: string; noCache?: boolean } = {}): Promise<string> {
  const { dockerfile, target, args: buildArgs = {} } = targetOf(name)
  const tag = options.tag ?? imageTag(name)
  await ensureBaseImage()
  const inputs = await currentInputs()
  return step(`image ${tag}${options.noCache ? ' (no cache)' : ''}`, async () => {
    if (!options.tag && !options.noCache && await imageLabel(tag, INPUTS_LABEL) === inputs) {
      detail(`up to date (inputs ${inputs.slice(0, 12)})`)
      return tag
    }
    const args = ['build', '--force-rm', '--build-arg', `BASE=${baseImage()}`, '--label', `${INPUTS_LABEL}=${inputs}`, '-t', tag, '-f', dockerfile]
    for (const [key, value] of Object.entries(buildArgs)) args.push('--build-arg', `${key}=${value}`)
    if (target) args.push('--target', target)
    if (options.noCache) args.push('--no-cache')
    const build = execa('docker', [...args, '.'], {
      cwd: repoRoot, all: true, reject: false, env: { DOCKER_BUILDKIT: '0' },
    })
    build.all?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.startsWith('Step ')) detail(line.slice(0, 110))
    })
    const result = await build
    if (result.exitCode !== 0) {
      throw new LabError(`docker build of ${dockerfile}${target ? ` (target ${target})` : ''} failed:\n${tail(result.all ?? '')}`)
    }
    return tag
  })
}

let inputsHash: Promise<string> | undefined

/** The hash of what the images are built from, the base image's id included. */
function currentInputs(): Promise<string> {
  inputsHash ??= imageId(baseImage()).then((id) => imageInputsHash(id, repoRoot))
  return inputsHash
}

/** One label of a local image; undefined when there is no such image. */
export async function imageLabel(ref: string, label: string): Promise<string | undefined> {
  const { exitCode, stdout } = await execa('docker', ['image', 'inspect', '--format', `{{index .Config.Labels ${JSON.stringify(label)}}}`, ref], { reject: false })
  return exitCode === 0 ? stdout.trim() : undefined
}

let baseReady: Promise<void> | undefined

/** The base image: LAB_BASE_IMAGE must exist locally (never pulled); the default is made here. */
function ensureBaseImage(): Promise<void> {
  baseReady ??= (async () => {
    const base = baseImage()
    if (await imageExists(base)) return
    if (process.env.LAB_BASE_IMAGE) {
      throw new LabError(`LAB_BASE_IMAGE=${base} is not a local image: load or pull it before the run (the lab never pulls)`)
    }
    await step(`base image ${base} (debootstrap, about a minute)`, () => debootstrapImage(base))
  })()
  return baseReady
}

/** The Tomcat an image runs, as its ServerInfo says (e.g. "Apache Tomcat/11.0.22 (Debian)"), recorded at build. */
export async function serverInfo(tag: string): Promise<string> {
  const read = await execa('docker', ['run', '--rm', '--network', 'none', '--label', 'lb-e2e=true', '--entrypoint', 'cat', tag, '/opt/lb-e2e/server-info'], { reject: false })
  if (read.exitCode !== 0) throw new LabError(`${tag}: no /opt/lb-e2e/server-info (${read.stderr.trim()}); rebuild the image (npm run build:lab)`)
  return /^Server version:\s*(.+)$/m.exec(read.stdout)?.[1]?.trim() ?? read.stdout.trim()
}

export async function imageExists(ref: string): Promise<boolean> {
  const { exitCode } = await execa('docker', ['image', 'inspect', ref], { reject: false })
  return exitCode === 0
}

export async function imageId(ref: string): Promise<string> {
  const { stdout } = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])
  return stdout.trim().replace(/^sha256:/, '')
}

async function debootstrapImage(tag: string): Promise<void> {
  const mirror = await debianMirror()
  const root = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-rootfs-'))
  try {
    const boot = await execa('debootstrap', ['--variant=minbase', DEBIAN_SUITE, root, mirror], { all: true, reject: false })
    if (boot.exitCode !== 0) throw new LabError(`debootstrap ${DEBIAN_SUITE} from ${mirror} failed:\n${tail(boot.all ?? '')}`)
    await execa('sh', ['-c', `tar -C "$1" -c . | docker import -c 'CMD ["/bin/bash"]' - "$2"`, 'sh', root, tag])
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** The Debian mirror this host already uses (apt's deb822 or one-line sources), never a hard-coded one. */
export async function debianMirror(): Promise<string> {
  const dirs = ['/etc/apt/sources.list.d', '/etc/apt']
  for (const dir of dirs) {
    const files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.sources') || f === 'sources.list' || f.endsWith('.list'))
    for (const file of files) {
      const text = await readFile(path.join(dir, file), 'utf8')
      const uri = /^URIs:\s*(\S+)/m.exec(text)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\w+\s/m.exec(text)?.[1]
      if (uri && !uri.includes('security')) return uri
    }
  }
  throw new LabError('no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: set one up for apt first')
}
