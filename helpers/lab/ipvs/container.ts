/**
 * The `container` backend: a director container (NET_ADMIN, the host's ip_vs modules) on the lab
 * network, for kernels with IPVS where ipvsadm is not installed on the host. IPVS state, conntrack
 * and iptables are per network namespace, so nothing on the host changes.
 */
import { type ContainerControl, controlContainer, labContainer, startedOrRemoved, withSysctls } from '../containers.ts'
import { imageTag } from '../images.ts'
import type { CommandRunner } from './director.ts'

export async function startDirectorContainer(opts: { network: string; vip: string }): Promise<ContainerControl> {
  const container = labContainer(imageTag('director'), 'director')
    .withNetworkMode(opts.network)
    .withAddedCapabilities('NET_ADMIN')
    .withCommand(['sleep', 'infinity'])
  withSysctls(container, { 'net.ipv4.ip_forward': '1', 'net.ipv4.vs.conntrack': '1' })
  const started = await container.start()
  return startedOrRemoved(started, async () => {
    const director = await controlContainer(started.getId())
    await director.execOk(['/usr/local/sbin/lb-e2e-director-setup', opts.vip, 'eth0'])
    return director
  })
}

/** Runs ipvsadm in the director container; stdin travels in an environment variable. */
export function containerRunner(director: ContainerControl): CommandRunner {
  return {
    run: (argv, input) => input === undefined
      ? director.exec(argv)
      : director.exec(['sh', '-c', 'printf %s "$LB_E2E_INPUT" | "$@"', 'sh', ...argv], { LB_E2E_INPUT: input }),
    close: async () => {},
  }
}
