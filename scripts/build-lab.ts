// Builds every image of the lab and, where the VM backend will run, the director VM's artifacts.
import { ensureImage, tomcatImage } from '../helpers/lab/images.ts'
import { TOMCAT_VERSIONS } from '../helpers/settings.ts'
import { choose, probe } from '../helpers/lab/ipvs/pick.ts'
import { ensureVmArtifacts } from '../helpers/lab/ipvs/vm.ts'
import { say, seconds } from '../helpers/progress.ts'

const started = performance.now()
// The base image first (the others build on it), then the rest one after another: two cores.
// Every Tomcat version: the default run smoke-tests each (suites/tomcat-versions.test.ts).
for (const name of ['apache', 'director', ...TOMCAT_VERSIONS.map(tomcatImage)] as const) await ensureImage(name)
const { backend, reason } = choose(await probe())
say(`IPVS director backend for this machine: ${backend} (${reason})`)
if (backend === 'vm') await ensureVmArtifacts()
say(`lab built in ${seconds(started)}`)
