/**
 * `--migrate-war`: a team's javax.servlet war made a jakarta.servlet one for Tomcat 10.1/11 by the
 * Apache Tomcat migration tool as Debian packages it (tomcat-jakartaee-migration's javax2jakarta,
 * in the lab's image of that Tomcat), in a container without network. The team's file is left as
 * it is: the copy, under the same name (its name is its context path), is what the labs deploy.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { LabError, tail } from '../errors.ts'
import { step } from '../progress.ts'
import { type TomcatVersion, displayPath, labels } from '../settings.ts'
import { ensureImage, tomcatImage } from './images.ts'
import { servletReferences } from './war.ts'

/** The migrated copy of `war` (removed when the process exits); an error when the tool fails or leaves javax.servlet behind. */
export async function migrateWar(war: string, tomcat: TomcatVersion): Promise<string> {
  const image = await ensureImage(tomcatImage(tomcat))
  const out = mkdtempSync(path.join(os.tmpdir(), 'lb-e2e-migrated-'))
  process.once('exit', () => rmSync(out, { recursive: true, force: true }))
  const name = path.basename(war)
  const migrated = path.join(out, name)
  return step(`${displayPath(war)}: javax → jakarta (tomcat-jakartaee-migration, Tomcat ${tomcat})`, async () => {
    const label = Object.entries(labels()).flatMap(([k, v]) => ['--label', `${k}=${v}`])
    const run = await execa('docker', ['run', '--rm', ...label, '--network', 'none', '--user', `${process.getuid?.() ?? 0}`,
      '-v', `${path.dirname(path.resolve(war))}:/in:ro`, '-v', `${out}:/out`, '--entrypoint', 'javax2jakarta', image, `/in/${name}`, `/out/${name}`],
    { all: true, reject: false })
    if (run.exitCode !== 0) throw new LabError(`${displayPath(war)}: the migration to jakarta.servlet failed (javax2jakarta exit ${run.exitCode}):\n${tail(run.all ?? '')}`)
    const left = servletReferences(migrated).javax
    if (left.length) throw new LabError(`${displayPath(war)}: still names javax.servlet after the migration (${left.slice(0, 3).join(', ')}): rebuild it against jakarta.servlet`)
    return migrated
  })
}
