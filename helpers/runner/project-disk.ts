/**
 * The project as the runner VM sees it: the working tree (tracked and untracked files that git does
 * not ignore) and node_modules, on an ext4 file made with `mke2fs -d` (the VM reads it as /dev/vdb:
 * 9p would be far slower on node_modules' 11 000 files), and the job for this boot as .runner/job.sh.
 */
import fs from 'node:fs/promises'
import path from 'node:path'
import { execa } from 'execa'
import { LabError, tail } from '../errors.ts'
import { repoRoot } from '../settings.ts'

/** Sparse: the tree with node_modules is about 400 MB; the rest is room for the job's reports. */
const SIZE = '3G'

export async function makeProjectDisk(dir: string, job: string): Promise<string> {
  const tree = path.join(dir, 'tree')
  await fs.mkdir(tree, { recursive: true })
  const copy = await execa('bash', ['-c',
    'set -o pipefail; { git ls-files -z -co --exclude-standard; printf "node_modules\\0"; } | tar --null -T - -c | tar -x -C "$1"', 'copy', tree],
  { cwd: repoRoot, all: true, reject: false })
  if (copy.exitCode !== 0) throw new LabError(`copying the project for the runner VM failed:\n${tail(copy.all ?? '')}`)
  await fs.rm(path.join(tree, 'reports'), { recursive: true, force: true })
  await fs.mkdir(path.join(tree, '.runner'))
  await fs.writeFile(path.join(tree, '.runner', 'job.sh'), job, { mode: 0o755 })
  const disk = path.join(dir, 'project.img')
  const mkfs = await execa('mke2fs', ['-q', '-t', 'ext4', '-L', 'lb-e2e-project', '-d', tree, disk, SIZE], { all: true, reject: false })
  if (mkfs.exitCode !== 0) throw new LabError(`mke2fs -d of the project copy failed:\n${tail(mkfs.all ?? '')}`)
  await fs.rm(tree, { recursive: true, force: true })
  return disk
}
