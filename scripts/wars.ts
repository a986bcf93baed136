// The webapps as .war files, copied out of the tomcat image, whose build stage packs them with
// `jar` (helpers/lab/images/tomcat/make-war: sorted entries, one fixed date, no manifest, so the same
// sources give the same bytes):
//   node scripts/wars.ts              examples/blog-post/ExSession.war from examples/src/blog-post-ExSession/
//   node scripts/wars.ts --lab FILE   also the lab's own ExSession (webapp/) as FILE
// A LAB_WAR to try the gate with: LAB_WAR=examples/blog-post/ExSession.war npx vitest run --project tomcat
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { execa } from 'execa'
import { LabError } from '../helpers/errors.ts'
import { ensureImage } from '../helpers/lab/images.ts'
import { say } from '../helpers/progress.ts'
import { displayPath, labels, repoRoot } from '../helpers/settings.ts'

const { values } = parseArgs({ options: { lab: { type: 'string' } } })

// Tomcat 9's image: the wars are javax.servlet, as the post's.
const image = await ensureImage('tomcat-9')
const wars = [
  { from: '/opt/lb-e2e/wars/blog-post/ExSession.war', to: path.join(repoRoot, 'examples/blog-post/ExSession.war') },
  ...(values.lab ? [{ from: '/opt/lb-e2e/wars/ExSession.war', to: path.resolve(values.lab) }] : []),
]
for (const war of wars) {
  const label = Object.entries(labels()).flatMap(([k, v]) => ['--label', `${k}=${v}`])
  const read = await execa('docker', ['run', '--rm', ...label, '--network', 'none', '--entrypoint', 'cat', image, war.from],
    { encoding: 'buffer', reject: false })
  if (read.exitCode !== 0) throw new LabError(`${war.from} in ${image}: ${Buffer.from(read.stderr).toString().trim()}; rebuild the image (npm run build:lab)`)
  await writeFile(war.to, read.stdout)
  say(`${displayPath(war.to)}: ${read.stdout.length} bytes (${war.from} of ${image})`)
}
