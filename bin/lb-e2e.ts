#!/usr/bin/env node
// lb-e2e: the regression gate for a team's load-balancer and Tomcat configuration, and the labs
// to explore by hand. `npx lb-e2e --help` documents every option.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { LabError } from '../helpers/errors.ts'
import { LAYOUT } from '../helpers/gate/input.ts'
import { type Area, AREAS, refuse, report, verify } from '../helpers/gate/verify.ts'
import { down, ipvsadm, up } from '../helpers/gate/up.ts'
import { TOPOLOGIES, type Topology } from '../helpers/labs/tomcat.ts'

const HELP = `lb-e2e — proves by measurement that a load-balancer and Tomcat configuration does what it claims

Usage:
  npx lb-e2e verify [options]        validate the configuration, then run the suites against it
  npx lb-e2e up [lvs|tomcat] [options]
                                     start a lab to explore by hand (both when none is named);
                                     prints the URLs and commands; Ctrl-C removes it
  npx lb-e2e down                    remove a lab left up (and leftovers of crashed runs)
  npx lb-e2e ipvsadm [--stats|--rate]
                                     ipvsadm -L -n [--stats|--rate] in the director of the lab that is up

Options (verify, up):
  --fixtures <dir>        your configuration, laid over the default fixtures/ file by file
                          (also LAB_FIXTURES). Files it may hold:
${LAYOUT.map((l) => `                            ${l.what}`).join('\n')}
                            <name>.war (as --war)
                          Balancer members: http://\${NODE01_ADDR}:\${NODE01_PORT} (any layout) or
                          http://127.0.0.1:8180 (the single-host layout); rules name VIP, node1, node2, node3.
                          Ports, jvmRoutes and routes are read from the files.
  --war <file.war>        your webapp (also LAB_WAR), deployed at /<name> beside the lab's ExSession;
                          its sessions are probed through its session cookie

Options (verify):
  --only <area>           lvs, tomcat or balancer; repeat for several (default: all)
  --suite <file>          run only this suite file (repeatable), e.g. suites/tomcat-failover.test.ts
  --max-failover-gap <s>  fail when a failover takes longer (default: reported as a warning)
  --max-stale-reads <n>   fail when more non-sticky reads are stale under asynchronous replication
                          (default: reported as a warning)
  --max-rejoin-time <s>   fail when a restarted node gets no new users for longer (default: a warning)
  --strict                hold your files to the limits the project's own fixtures meet
                          (helpers/limits.ts), where no --max-… is given; without it the
                          measured findings are warnings (lenient: a first look at your files)
  --bail                  stop at the first failing test
  --junit <file>          where to write the run's JUnit report (default reports/junit.xml)

Options (up):
  --layout <layout>       single-host or multi-host (default: the first your balancer file allows)

Exit codes: 0 passed; 1 a test failed; 2 the input was refused (nothing was started); 3 the lab
could not be set up (Docker, images, IPVS backend, a container that never became ready): no verdict
on the configuration, even if a test also failed. The last line of verify is "N passed, N failed".
Environment: LAB_IPVS_BACKEND=auto|vm|host|container, LAB_BASE_IMAGE=<debian image>.`

function number(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (!Number.isFinite(value) || value < 0) throw new LabError(`--${name} ${raw}: expected a number ≥ 0`)
  return value
}

/** Errors before this is set are about the input (exit 2); after it, about setting up the lab (exit 3). */
let started = false

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      fixtures: { type: 'string' },
      war: { type: 'string' },
      only: { type: 'string', multiple: true },
      suite: { type: 'string', multiple: true },
      'max-failover-gap': { type: 'string' },
      'max-stale-reads': { type: 'string' },
      'max-rejoin-time': { type: 'string' },
      strict: { type: 'boolean' },
      bail: { type: 'boolean' },
      junit: { type: 'string' },
      layout: { type: 'string' },
      stats: { type: 'boolean' },
      rate: { type: 'boolean' },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${HELP}\n`)
    return command === undefined && !values.help ? 2 : 0
  }
  // The lab helpers read the team's files from the environment, in this process and in vitest's.
  const fixtures = values.fixtures ?? process.env.LAB_FIXTURES
  const war = values.war ?? process.env.LAB_WAR
  if (fixtures) process.env.LAB_FIXTURES = path.resolve(fixtures)
  if (war) process.env.LAB_WAR = path.resolve(war)

  switch (command) {
    case 'verify': {
      if (rest.length) throw new LabError(`verify takes no arguments (got ${rest.join(' ')}); see --help`)
      const only = (values.only ?? []).map((a) => {
        if (!AREAS.includes(a as Area)) throw new LabError(`--only ${a}: expected one of ${AREAS.join(', ')}`)
        return a as Area
      })
      const limits = {
        maxFailoverGap: number('max-failover-gap', values['max-failover-gap']),
        maxStaleReads: number('max-stale-reads', values['max-stale-reads']),
        maxRejoinTime: number('max-rejoin-time', values['max-rejoin-time']),
      }
      started = true
      const result = await verify({
        ...(fixtures ? { fixtures } : {}), ...(war ? { war } : {}), only, suites: values.suite ?? [], bail: values.bail ?? false, strict: values.strict ?? false, ...limits,
        ...(values.junit ? { junit: path.resolve(values.junit) } : {}),
      })
      process.stdout.write(`\n${report(result)}\n`)
      return result.exitCode
    }
    case 'up': {
      const labs = rest.length ? rest : ['lvs', 'tomcat']
      for (const lab of labs) if (lab !== 'lvs' && lab !== 'tomcat') throw new LabError(`up ${lab}: expected lvs or tomcat`)
      if (values.layout !== undefined && !TOPOLOGIES.includes(values.layout as Topology)) throw new LabError(`--layout ${values.layout}: expected ${TOPOLOGIES.join(' or ')}`)
      const refused = refuse({ ...(fixtures ? { fixtures } : {}), ...(war ? { war } : {}) })
      if (refused) {
        process.stdout.write(`${report(refused)}\n`)
        return 2
      }
      started = true
      await up({ labs: labs as ('lvs' | 'tomcat')[], ...(values.layout ? { layout: values.layout as Topology } : {}) })
      return 0
    }
    case 'down':
      process.stdout.write(`${await down()}\n`)
      return 0
    case 'ipvsadm':
      started = true
      process.stdout.write(await ipvsadm(values.stats ? 'stats' : values.rate ? 'rate' : 'table'))
      return 0
    default:
      throw new LabError(`unknown command ${command}: expected verify, up, down or ipvsadm; see --help`)
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (error) {
  if (error instanceof LabError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`lb-e2e: ${(error as Error).message}\n`)
    process.exitCode = started ? 3 : 2
  } else {
    throw error
  }
}
