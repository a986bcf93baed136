/**
 * The CI cache of the lab's images, which does not need the classic builder's parent links (moby is
 * deprecating them): an image is current when its `lb-e2e.inputs` label equals the hash of what it
 * is built from, so a loaded image needs no layer cache, only that label.
 *
 *   node scripts/lab-images-cache.ts key BASE_IMAGE   prints (and writes to $GITHUB_OUTPUT) hash=…
 *   node scripts/lab-images-cache.ts save TAR HASH    docker save of exactly the lb-e2e/* tags labelled HASH
 *   node scripts/lab-images-cache.ts load TAR HASH    docker load, then names the loaded tags labelled HASH
 *
 * No npm dependencies (node:child_process, not execa): the workflow computes the key before `npm ci`.
 */
import { execFileSync } from 'node:child_process'
import { appendFileSync, existsSync, realpathSync, rmSync, statSync } from 'node:fs'
import { INPUTS_LABEL, imageInputsHash } from '../helpers/lab/image-inputs.ts'

const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()

/** The lb-e2e/* tags whose inputs label is `hash`. */
function currentTags(hash: string): string[] {
  return docker('image', 'ls', '--filter', 'reference=lb-e2e/*', '--filter', `label=${INPUTS_LABEL}=${hash}`,
    '--format', '{{.Repository}}:{{.Tag}}').split('\n').filter((t) => t && !t.includes('<none>')).sort()
}

function fail(message: string): never {
  console.log(`::warning::${message}`)
  process.exit(1)
}

function main([command, arg, hash]: string[]): void {
  if (command === 'key' && arg) {
    const line = `hash=${imageInputsHash(docker('image', 'inspect', '--format', '{{.Id}}', arg))}`
    console.log(line)
    if (process.env.GITHUB_OUTPUT) appendFileSync(process.env.GITHUB_OUTPUT, `${line}\n`)
  } else if (command === 'save' && arg && hash) {
    const tags = currentTags(hash)
    if (!tags.length) fail(`no lb-e2e/* image has the label ${INPUTS_LABEL}=${hash} (does helpers/lab/images.ts label its builds?): nothing to cache`)
    docker('save', '-o', arg, ...tags)
    console.log(`saved ${tags.join(' ')} to ${arg} (${(statSync(arg).size / 2 ** 20).toFixed(0)} MiB)`)
  } else if (command === 'load' && arg && hash) {
    if (!existsSync(arg)) fail(`${arg} is missing: the images will be built`)
    try { docker('load', '-q', '-i', arg) } finally { rmSync(arg, { force: true }) }
    const tags = currentTags(hash)
    if (!tags.length) fail(`the cached images do not have the label ${INPUTS_LABEL}=${hash}: they will be rebuilt`)
    console.log(`loaded ${tags.join(' ')}: current for inputs ${hash.slice(0, 12)}, setup will not rebuild them`)
  } else {
    console.error('usage: node scripts/lab-images-cache.ts key BASE_IMAGE | save TAR HASH | load TAR HASH')
    process.exit(2)
  }
}

if (process.argv[1] && import.meta.filename === realpathSync(process.argv[1])) main(process.argv.slice(2))
