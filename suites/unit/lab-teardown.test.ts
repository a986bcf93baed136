// What a lab leaves when something fails: a container whose readiness check fails is removed before
// the error propagates; a teardown tries every removal even after one failed; and the error a person
// sees is why the lab failed, not the network refusing removal because a container is still on it.
// Against a fake Docker: containers and the network are sets, readiness fails on demand.
import { GenericContainer } from 'testcontainers'
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest'
import { BalancerContainer } from '../../helpers/lab/balancer.ts'
import { startedOrRemoved } from '../../helpers/lab/containers.ts'
import { startDirectorContainer } from '../../helpers/lab/ipvs/container.ts'
import { startLvsLab } from '../../helpers/lab/lvs-lab.ts'
import { readPlan } from '../../helpers/intake/plan.ts'
import { TomcatLab, TomcatLabPool } from '../../helpers/lab/tomcat-lab.ts'
import { RealServerContainer } from '../../helpers/lab/realserver.ts'
import { fixturePath } from '../../helpers/settings.ts'
import { TomcatNodeContainer } from '../../helpers/lab/tomcat-node.ts'
import { NotReached } from '../../helpers/wait.ts'

/** The fake Docker: running containers by short name (tc1-node01, node2, client …), what must fail. */
const docker = vi.hoisted(() => ({
  running: new Set<string>(),
  networkRemoved: 0,
  /** Containers whose removal fails (a stuck container). */
  stuck: new Set<string>(),
  /** Readiness checks (until's `what`) that never succeed. */
  notReady: [] as RegExp[],
  /** Containers whose setup command fails. */
  execFails: new Set<string>(),
  directorStopFails: false,
  /** What containers printed (their `docker logs`), by the end of their name. */
  output: new Map<string, string>(),
}))

const short = (name: string) => name.replace(/^lb-e2e-[0-9a-z]+-/, '')
const removeContainer = async (name: string) => {
  if (docker.stuck.has(name)) throw new Error(`(HTTP code 500) cannot remove container ${name}: device or resource busy`)
  docker.running.delete(name)
}

vi.mock('../../helpers/lab/containers.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../helpers/lab/containers.ts')>()
  return {
    ...real,
    runCheck: async () => ({ exitCode: 0, output: '' }),
    controlContainer: async (id: string) => {
      const name = id.replace(/^id:/, '')
      return {
        id,
        remove: () => removeContainer(name),
        running: async () => docker.running.has(name),
        execOk: async (argv: string[]) => {
          if (docker.execFails.has(name)) throw new Error(`${argv.join(' ')} in container ${name} exited 1`)
          return ''
        },
        exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }),
        stop: async () => undefined, kill: async () => undefined, start: async () => undefined, logs: async () => [...docker.output].find(([ending]) => name.endsWith(ending))?.[1] ?? '',
      }
    },
  }
})
vi.mock('../../helpers/wait.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../helpers/wait.ts')>()
  return {
    ...real,
    until: async (what: string) => {
      if (docker.notReady.some((r) => r.test(what))) throw new real.NotReached(`${what}: not reached after 90.0 s`)
      return undefined
    },
  }
})
vi.mock('../../helpers/lab/images.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../helpers/lab/images.ts')>()),
  ensureImage: async () => 'fake',
}))
vi.mock('../../helpers/lab/network.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../helpers/lab/network.ts')>()),
  createLabNetwork: async (purpose: string) => ({
    name: `lb-e2e-fake-${purpose}`, id: 'net', bridge: 'lb-e2e-fake', subnet: '172.29.9.0', prefixLength: 24, gateway: '172.29.9.1',
    address: (n: number) => `172.29.9.${n}`,
    // As Docker does: a network with a container on it cannot be removed.
    remove: async () => {
      if (docker.running.size) throw new Error(`network lb-e2e-fake-${purpose} has active endpoints (${[...docker.running].join(', ')})`)
      docker.networkRemoved++
    },
  }),
}))
vi.mock('../../helpers/lab/ipvs/pick.ts', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../helpers/lab/ipvs/pick.ts')>()),
  startDirector: async () => ({
    info: { backend: 'vm', reason: 'fake' },
    stop: async () => { if (docker.directorStopFails) throw new Error('the director VM did not stop') },
  }),
}))

afterEach(() => { vi.restoreAllMocks() })
beforeEach(() => {
  docker.running.clear()
  docker.stuck.clear()
  docker.execFails.clear()
  docker.notReady = []
  docker.networkRemoved = 0
  docker.directorStopFails = false
  docker.output.clear()
  // testcontainers' start: the container runs; its stop({ remove }) removes it.
  vi.spyOn(GenericContainer.prototype, 'start').mockImplementation(async function (this: GenericContainer) {
    const name = short((this as unknown as { createOpts: { name: string } }).createOpts.name)
    docker.running.add(name)
    return {
      getId: () => `id:${name}`, getName: () => `/${name}`, getIpAddress: () => '172.29.9.131',
      stop: async () => { await removeContainer(name); return {} },
    } as never
  })
})

describe('startedOrRemoved', () => {
  test("the container is removed and ready's error propagates, even when the removal fails", async () => {
    const why = new Error('not ready')
    const stop = vi.fn(async () => { throw new Error('removal failed') })
    await expect(startedOrRemoved({ stop }, async () => { throw why })).rejects.toBe(why)
    expect(stop).toHaveBeenCalledWith({ remove: true, removeVolumes: true, timeout: 0 })
  })

  test('a ready container is kept', async () => {
    const stop = vi.fn()
    await expect(startedOrRemoved({ stop }, async () => 'ready')).resolves.toBe('ready')
    expect(stop).not.toHaveBeenCalled()
  })
})

describe('a container whose readiness check fails is removed before the error propagates', () => {
  test('a Tomcat node that never serves ExSession', async () => {
    docker.notReady = [/Tomcat node01 serving/]
    const node = new TomcatNodeContainer('node01', 'node01', 'tc9', '9').withServerXml(fixturePath('tomcat/server.xml')).onNetwork('net', '172.29.9.141')
    await expect(node.start()).rejects.toThrow(/Tomcat node01 serving ExSession .*not reached/)
    expect([...docker.running]).toEqual([])
  })

  test("why it never served goes with the error: the end of the node's Tomcat output", async () => {
    docker.notReady = [/Tomcat node01 serving/]
    const deploying = Array.from({ length: 60 }, (_, i) => `line ${i}`).join('\n')
    docker.output.set('node01', `${deploying}\nWARNING [main] org.apache.catalina.ha.session.DeltaManager.waitForSendAllSessions Manager [localhost#/ExSession]: No session state sent at 01-Dec-2026 ... received, timing out after 60,008 ms.`)
    const node = new TomcatNodeContainer('node01', 'node01', 'tc9', '9').withServerXml(fixturePath('tomcat/server.xml')).onNetwork('net', '172.29.9.141')
    const error = await node.start().then(() => new Error('it started'), (e: unknown) => e as Error)
    expect(error).toBeInstanceOf(NotReached)
    expect(error.message).toMatch(/not reached after 90.0 s\nthe last lines of node01's Tomcat output:\n…\n/)
    expect(error.message).toContain('No session state sent')
    expect(error.message, 'only the last lines').not.toContain('line 20\n')
    expect([...docker.running]).toEqual([])
  })

  test('a real server that never answers as itself', async () => {
    docker.notReady = [/real server node1/]
    await expect(new RealServerContainer(1, 'net', '172.29.9.131', 'fixtures/httpd/realserver.conf').start()).rejects.toThrow(/real server node1 .*not reached/)
    expect([...docker.running]).toEqual([])
  })

  test('a balancer that never serves /server-status', async () => {
    docker.notReady = [/balancer at .* serving/]
    const balancer = new BalancerContainer(fixturePath('httpd/balancer-sticky.conf'), {}, 'tc9').onNetwork('net', '172.29.9.140')
    await expect(balancer.start()).rejects.toThrow(/server-status: not reached/)
    expect([...docker.running]).toEqual([])
  })

  test('a director container whose setup fails', async () => {
    docker.execFails.add('director')
    await expect(startDirectorContainer({ network: 'net', vip: '172.29.9.200' })).rejects.toThrow(/lb-e2e-director-setup .* exited 1/)
    expect([...docker.running]).toEqual([])
  })
})

describe('the LVS lab', () => {
  test('a real server that fails: the others, the client and the network are removed; its error is the one thrown', async () => {
    docker.notReady = [/real server node2/]
    docker.stuck.add('node1') // its removal fails, so the network then has an active endpoint
    await expect(startLvsLab(readPlan())).rejects.toThrow(/real server node2 .*not reached/)
    expect([...docker.running]).toEqual(['node1'])
  })

  test('stop tries every removal when one fails, then throws that failure', async () => {
    const lab = await startLvsLab(readPlan())
    expect([...docker.running].sort()).toEqual(['client', 'node1', 'node2', 'node3'])
    docker.directorStopFails = true
    await expect(lab.stop()).rejects.toThrow('the director VM did not stop')
    expect([...docker.running]).toEqual([])
    expect(docker.networkRemoved).toBe(1)
  })

  test('when several removals fail, stop throws the first one as it was, not a SuppressedError', async () => {
    const lab = await startLvsLab(readPlan())
    docker.stuck.add('client') // the network, with the client still on it, then fails too
    await expect(lab.stop()).rejects.toThrow('cannot remove container client')
    expect([...docker.running]).toEqual(['client'])
    expect(docker.networkRemoved).toBe(0)
  })
})

describe('the Tomcat lab', () => {
  test("a node that never serves: what did start is removed, and the node's error is thrown, not the network's", async () => {
    docker.notReady = [/Tomcat node02 serving/]
    docker.stuck = new Set(['tc1-node01', 'tc2-node01']) // left on the network: its removal then fails with "active endpoints"
    await expect(TomcatLab.start(readPlan(), { topology: 'multi-host' })).rejects.toThrow(/Tomcat node02 serving ExSession .*not reached/)
    expect([...docker.running]).toEqual([expect.stringMatching(/^tc\d-node01$/)])
  })

  test('stop removes the balancer and the network after a node fails to go, then throws that failure', async () => {
    const lab = await TomcatLab.start(readPlan(), { topology: 'multi-host' })
    const [balancer, node01, node02] = [...docker.running].sort()
    expect([balancer, node01, node02]).toEqual([expect.stringMatching(/-balancer$/), expect.stringMatching(/-node01$/), expect.stringMatching(/-node02$/)])
    docker.stuck.add(node01!)
    await expect(lab.stop()).rejects.toThrow(`cannot remove container ${node01}`)
    expect([...docker.running]).toEqual([node01])
    docker.stuck.clear()
    await lab.stop()
    expect(docker.networkRemoved).toBe(1)
  })

  test("the pool stops every lab when one fails to stop, then throws that lab's failure", async () => {
    vi.spyOn(TomcatLab.prototype, 'restore').mockResolvedValue()
    const pool = new TomcatLabPool(readPlan())
    await pool.get({ topology: 'multi-host' })
    const first = [...docker.running].find((name) => name.endsWith('-balancer'))!
    await pool.get({ topology: 'single-host' })
    expect(docker.running.size).toBe(6)
    docker.stuck.add(first)
    await expect(pool.stopAll()).rejects.toThrow(`cannot remove container ${first}`)
    expect([...docker.running]).toEqual([first])
  })
})
