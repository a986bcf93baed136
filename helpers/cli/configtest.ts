/**
 * The programs' own verdict on the files before any lab starts: `apache2 -t` on each balancer
 * file and Tomcat's `configtest` on each node's server.xml, in throwaway containers without a
 * network, removed at once. Tomcat's configtest passes a file whose attributes it ignores, so its
 * "failed to set property" warnings are errors here: a misspelt attribute silently
 * keeps Tomcat's default.
 */
import { checkBalancerConfig } from '../lab/balancer.ts'
import { runCheck } from '../lab/containers.ts'
import { LabError, tail } from '../errors.ts'
import { ensureImage, imageTag, tomcatImage } from '../lab/images.ts'
import { CHECK_ADDRESSES, type NodePlan, type Plan, memberVariables, runnableLayouts } from '../intake/plan.ts'
import { BALANCER_FILES, planTomcatLab } from '../lab/tomcat-lab.ts'
import { step } from '../progress.ts'
import { addressEnvironment, nodeEnvironment } from '../lab/tomcat-node.ts'
import { type TomcatVersion, displayPath } from '../settings.ts'



/** Every problem httpd or Tomcat reports for the files under test; empty when both accept them. */
export async function configTest(runPlan: Plan): Promise<string[]> {
  await Promise.all([ensureImage('apache'), ensureImage(tomcatImage(runPlan.tomcat))])
  return step('configuration check (apache2 -t, Tomcat configtest)', async () => {
    const topology = runnableLayouts(runPlan)[0]!
    const balancerProblem = async (balancer: string) => {
      const plan = planTomcatLab(runPlan, { topology, balancer })
      const members = memberVariables(plan.nodes, (i) => (topology === 'single-host' ? '127.0.0.1' : `10.0.0.${i + 1}`))
      try {
        await checkBalancerConfig(plan.balancer, members)
        return undefined
      } catch (error) {
        if (!(error instanceof LabError)) throw error
        return error.message
      }
    }
    // Side by side: each check is a JVM or httpd start of a few seconds.
    const found = await Promise.all([...BALANCER_FILES.filter((f) => runPlan.files[f] !== undefined).map(balancerProblem), ...runPlan.nodes[topology].map((n) => tomcatConfigTest(n, runPlan.tomcat))])
    const problems = [...new Set(found.filter((p): p is string => p !== undefined))]
    return problems
  })
}

/** `configtest` of one node's server.xml with the lab's system properties; a problem, or undefined. */
export async function tomcatConfigTest(node: NodePlan, tomcat: TomcatVersion): Promise<string | undefined> {
  const { exitCode, output } = await runCheck(imageTag(tomcatImage(tomcat)), `configtest-${node.name}`, {
    env: {
      ...nodeEnvironment(node.name, node.route, node.file), HTTP_PORT: String(node.http), SHUTDOWN_PORT: String(node.shutdown),
      ...addressEnvironment(CHECK_ADDRESSES),
    },
    files: [{ source: node.file, target: '/opt/tomcat/conf/server.xml' }],
    command: 'tomcat-foreground configtest',
  })
  const file = displayPath(node.file)
  if (exitCode !== 0) return `${file}: Tomcat ${tomcat} rejects this server.xml for ${node.name} (configtest):\n${tail(readable(output), 12)}`
  // Tomcat 9's wording: "Match [Server/…/Manager] failed to set property [x] to [y]".
  const ignored = [...output.matchAll(/Match \[([^\]]*)\] failed to set property \[([^\]]*)\] to \[([^\]]*)\]/g)]
    .map((m) => `<${m[1]!.split('/').at(-1)}> ${m[2]}="${m[3]}"`)
  if (!ignored.length) return undefined
  return `${file}: Tomcat ignores ${[...new Set(ignored)].join(', ')} (configtest: "failed to set property"): ` +
    'a misspelt or misplaced attribute keeps the default silently; fix the name or move it to the element that has it'
}

/** Tomcat's log without stack frames and timestamps: the messages a person reads. */
function readable(log: string): string {
  return log.split('\n').filter((line) => !/^\s+(at |\.\.\. \d+ more)/.test(line))
    .map((line) => line.replace(/^\d{2}-\w{3}-\d{4} [\d:.]+ /, '')).join('\n')
}
