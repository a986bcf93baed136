/**
 * What the lab's images are built from, as one hash: the label `lb-e2e.inputs` every build carries,
 * so an image whose label equals the current hash is current without a build — also one CI's cache
 * loaded with `docker load`, which brings no layer cache and no parent links. No npm dependencies:
 * scripts/lab-images-cache.ts computes the key before `npm ci`.
 */
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import path from 'node:path'

/** The label that carries an image's inputs hash (`docker build --label lb-e2e.inputs=…`). */
export const INPUTS_LABEL = 'lb-e2e.inputs'

/**
 * What the images are built from: the build context (.dockerignore lets helpers/lab/images, webapp
 * and an example webapp through) and how they are built (targets and build args in images.ts).
 */
export const IMAGE_INPUTS = ['.dockerignore', 'helpers/lab/images.ts', 'helpers/lab/image-inputs.ts', 'helpers/lab/images', 'webapp', 'examples/src']

const repoRoot = path.resolve(import.meta.dirname, '../..')

/**
 * sha256 of the base image's id and of every input file's path, executable bit and content; `inputs`
 * other than the lab's serve images built from other files (the runner VM's, helpers/runner/disk.ts).
 */
export function imageInputsHash(baseImageId: string, root: string = repoRoot, inputs: readonly string[] = IMAGE_INPUTS): string {
  const hash = createHash('sha256').update(`lb-e2e image inputs v1\nbase ${baseImageId.replace(/^sha256:/, '')}\n`)
  for (const input of inputs) {
    const files = existsSync(path.join(root, input)) ? filesUnder(root, input) : []
    if (!files.length) hash.update(`missing ${input}\n`)
    for (const file of files) {
      const full = path.join(root, file)
      const stat = lstatSync(full)
      const content = stat.isSymbolicLink() ? `-> ${readlinkSync(full)}` : readFileSync(full)
      const kind = stat.isSymbolicLink() ? 'l' : stat.mode & 0o111 ? 'x' : 'f'
      hash.update(`${createHash('sha256').update(content).digest('hex')} ${kind} ${file}\n`)
    }
  }
  return hash.digest('hex')
}

/** Files under `dir` (relative to root, '/'-separated), sorted the same on every machine. */
function filesUnder(root: string, dir: string): string[] {
  if (!statSync(path.join(root, dir)).isDirectory()) return [dir]
  const found: string[] = []
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`
    if (entry.isDirectory()) found.push(...filesUnder(root, rel))
    else found.push(rel)
  }
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}
