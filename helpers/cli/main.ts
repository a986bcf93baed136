// The lb-e2e command: its options, the intake of a team's directory, and the dispatch to verify,
// up, down, rolling-restart and ipvsadm. What starts labs (testcontainers and the lab helpers,
// about 0.7 s to load) is imported by the commands that start one, so that --help and a refusal
// (exit 2) answer without loading it.
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { LabError } from '../errors.ts'
import { LAYOUT } from './input.ts'
import { type Intake, describeIntake, intake, removeIntake } from '../intake/intake.ts'
import { repoRoot, tomcatVersion } from '../settings.ts'
import { type Area, AREAS, refuse, report, verify } from './verify.ts'
import { TOPOLOGIES, type Topology } from '../intake/plan.ts'

const HELP = `lb-e2e — proves by measurement that a load-balancer and Tomcat configuration does what it claims

Usage:
  npx lb-e2e verify [options]        validate the configuration, then run the suites against it
  npx lb-e2e up [lvs|tomcat] [options]
                                     start a lab to explore by hand (both when none is named);
                                     prints the URLs and commands; Ctrl-C removes it
  npx lb-e2e down                    remove a lab left up (and leftovers of crashed runs)
  npx lb-e2e rolling-restart [options]
                                     restart every Tomcat node in turn under clicking users: each
                                     drained through balancer-manager, its requests in flight
                                     finished, stopped, started, back in the cluster, enabled;
                                     prints each step and the tally; exit 0 when no request
                                     failed and no session was lost, 1 otherwise
  npx lb-e2e ipvsadm [--stats|--rate]
                                     ipvsadm -L -n [--stats|--rate] in the director of the lab that is up

Options (verify, up):
  --fixtures <dir>        your configuration as you keep it (also LAB_FIXTURES). Intake reads
                          every file and tells each by its content: httpd configuration (its
                          Include/IncludeOptional followed inside the directory), a Tomcat
                          server.xml (root <Server>: one for every node, or one per node), a
                          web.xml (root <web-app>), a .war, ipvsadm-save rules. It prints what it
                          took each file as, and the files it did not use (READMEs, compose
                          files …). What your files leave out stays the lab's (fixtures/). Files
                          named as in fixtures/ keep that role:
${LAYOUT.map((l) => `                            ${l.what}`).join('\n')}
                          Two to four Tomcat nodes, as many as the files describe (a server.xml
                          a node, or a shared one on as many nodes as the balancer has members);
                          with only Tomcat files the lab's own balancer fronts them all.
                          Members on hosts the lab does not have (http://tomcat-node-1:8080,
                          ajp://10.0.0.64:8009) are mapped onto its nodes, by route= or by order:
                          no packet goes to your addresses. Ports, connectors (HTTP, AJP and its
                          secret), jvmRoutes (a \${jvmRoute} takes its member's route=), routes and
                          how the balancer sticks (the session id's route suffix, or a ROUTEID
                          cookie of its own) are read from the files into one plan, printed and
                          saved as reports/plan.json. Where the content cannot tell (two sticky
                          balancers, three server.xml for two members), name the files in <dir>/lb-e2e.json
                          ({ "httpd": [...], "serverXml": [...], "war": "..." }) or with:
  --httpd <file>          the httpd file holding the balancer (repeatable)
  --server-xml <file>     one server.xml for every node, or one per node in node order (repeat,
                          two to four times)
  --war <file.war>        your webapp (also LAB_WAR), deployed at /<name> beside the lab's ExSession;
                          its sessions are probed through its session cookie
  --tomcat <version>      9 (default, the original's), 10.1 or 11 (also LAB_TOMCAT): Debian 13's
                          Tomcat of that version on every node; the plan and the report name it.
                          Your war must be written for its servlet API (javax.servlet on 9,
                          jakarta.servlet on 10.1 and 11): the other one is refused, with where
  --migrate-war           on 10.1/11: migrate a javax war to jakarta first (Debian's
                          tomcat-jakartaee-migration, on a copy) instead of refusing it

Options (verify):
  --only <area>           lvs, tomcat or balancer; repeat for several (default: all)
  --suite <file>          run only this suite file (repeatable), e.g. suites/tomcat-failover.test.ts
  --max-failover-gap <s>  fail when a failover takes longer (default: reported as a warning)
  --max-stale-reads <n>   fail when more non-sticky reads are stale under asynchronous replication
                          (default: reported as a warning)
  --max-rejoin-time <s>   fail when a restarted node gets no new users for longer (default: a warning)
  --strict                hold your files to the limits the project's own fixtures meet
                          (helpers/checks/limits.ts), where no --max-… is given; without it the
                          measured findings are warnings (lenient: a first look at your files)
  --bail                  stop at the first failing test
  --junit <file>          where to write the run's JUnit report (default reports/junit.xml)

Options (up, rolling-restart):
  --layout <layout>       single-host or multi-host (default: the first your balancer file allows)

Options (rolling-restart; --fixtures, --httpd, --server-xml, --tomcat as for verify):
  --war <file.war>        the new version of your webapp, deployed on each node while it is down
                          (at the name of your directory's war, replacing it); the lab starts with
                          your directory's war, if it holds one
  --users <n>             users clicking throughout (default 50)
  --no-drain              the same restart without the balancer steps (stop and start under the
                          users' feet): shows what the drain prevents; exits 1 when requests fail

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
      httpd: { type: 'string', multiple: true },
      'server-xml': { type: 'string', multiple: true },
      war: { type: 'string' },
      tomcat: { type: 'string' },
      'migrate-war': { type: 'boolean' },
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
      users: { type: 'string' },
      'no-drain': { type: 'boolean' },
    },
  })
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(`${HELP}\n`)
    return command === undefined && !values.help ? 2 : 0
  }
  // The version the plan reads (LAB_TOMCAT), checked here: a wrong one is the input's fault.
  const tomcat = tomcatVersion(values.tomcat === undefined ? process.env : { LAB_TOMCAT: values.tomcat })
  process.env.LAB_TOMCAT = tomcat
  const migrateWar = values['migrate-war'] ?? false
  // Intake: the team's directory laid out as the lab reads it, once; the lab helpers read it
  // from the environment, in this process and in vitest's.
  const team = values.fixtures ?? process.env.LAB_FIXTURES
  // rolling-restart's --war is the new version it rolls out, not the webapp the lab starts with.
  const newWar = command === 'rolling-restart' ? values.war : undefined
  const labWar = newWar === undefined ? values.war : undefined
  let fixtures: string | undefined
  let taken: Intake | undefined
  if (team && (command === 'verify' || command === 'up' || command === 'rolling-restart')) {
    const dir = path.resolve(team)
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new LabError(`--fixtures ${team}: no such directory`)
    taken = intake(dir, { httpd: values.httpd, serverXml: values['server-xml'], war: labWar ? path.resolve(labWar) : undefined })
    const overlay = taken.overlay
    process.once('exit', () => removeIntake({ overlay }))
    // A signal ends the process without 'exit': the scratch layout goes with it all the same.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => { removeIntake({ overlay }); process.exit(signal === 'SIGINT' ? 130 : 143) })
    }
    process.stdout.write(`${describeIntake(taken)}\n`)
    mkdirSync(path.join(repoRoot, 'reports'), { recursive: true })
    writeFileSync(path.join(repoRoot, 'reports', 'intake.json'), `${JSON.stringify({ dir, mapping: taken.mapping, unused: taken.unused, origins: taken.origins, war: taken.war }, null, 2)}\n`)
    fixtures = overlay
    process.env.LAB_FIXTURES = overlay
  }
  const war = labWar ?? taken?.war ?? process.env.LAB_WAR
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
        ...(fixtures ? { fixtures } : {}), ...(war ? { war } : {}), tomcat, migrateWar, only, suites: values.suite ?? [], bail: values.bail ?? false, strict: values.strict ?? false, ...limits,
        ...(values.junit ? { junit: path.resolve(values.junit) } : {}),
      })
      process.stdout.write(`\n${report(result)}\n`)
      // vitest ran in this process: should anything of the run (a lab client's connection) keep it
      // alive after vitest closed, end it as vitest's CLI would, the 'exit' cleanups included.
      setTimeout(() => {
        process.stderr.write('lb-e2e: something of the vitest run still holds the process open after it closed; exiting\n')
        process.exit()
      }, 10_000).unref()
      return result.exitCode
    }
    case 'up': {
      const labs = rest.length ? rest : ['lvs', 'tomcat']
      for (const lab of labs) if (lab !== 'lvs' && lab !== 'tomcat') throw new LabError(`up ${lab}: expected lvs or tomcat`)
      if (values.layout !== undefined && !TOPOLOGIES.includes(values.layout as Topology)) throw new LabError(`--layout ${values.layout}: expected ${TOPOLOGIES.join(' or ')}`)
      if (migrateWar) throw new LabError('--migrate-war is for verify: up runs a war as it is (migrate it once with verify, or with javax2jakarta)')
      const refused = refuse({ ...(fixtures ? { fixtures } : {}), ...(war ? { war } : {}), tomcat })
      if (refused) {
        process.stdout.write(`${report(refused)}\n`)
        return 2
      }
      started = true
      const { up } = await import('./up.ts')
      await up({ labs: labs as ('lvs' | 'tomcat')[], ...(values.layout ? { layout: values.layout as Topology } : {}) })
      return 0
    }
    case 'rolling-restart': {
      if (rest.length) throw new LabError(`rolling-restart takes no arguments (got ${rest.join(' ')}); see --help`)
      if (values.layout !== undefined && !TOPOLOGIES.includes(values.layout as Topology)) throw new LabError(`--layout ${values.layout}: expected ${TOPOLOGIES.join(' or ')}`)
      if (migrateWar) throw new LabError('--migrate-war is for verify: rolling-restart deploys a war as it is')
      const users = values.users === undefined ? 50 : Number(values.users)
      if (!Number.isInteger(users) || users < 1 || users > 500) throw new LabError(`--users ${values.users}: expected a whole number from 1 to 500`)
      if (newWar !== undefined && (!existsSync(newWar) || !statSync(newWar).isFile() || !newWar.endsWith('.war'))) {
        throw new LabError(`--war ${newWar}: no such .war file (the new version of your webapp to deploy on each node as it restarts)`)
      }
      // The lab's files and webapp as \`up\` checks them, then the new war on its own: any error, nothing starts.
      const refused = refuse({ ...(fixtures ? { fixtures } : {}), ...(war ? { war } : {}), tomcat }) ??
        (newWar ? refuse({ war: path.resolve(newWar), tomcat }) : undefined)
      if (refused) {
        process.stdout.write(`${report(refused)}\n`)
        return 2
      }
      const { newWarProblem, rollingRestartCommand } = await import('./rolling-restart.ts')
      const clash = newWar && newWarProblem(path.resolve(newWar), values.layout as Topology | undefined)
      if (clash) throw new LabError(clash)
      started = true
      return rollingRestartCommand({
        users, drain: !values['no-drain'], ...(newWar ? { war: path.resolve(newWar) } : {}), ...(values.layout ? { layout: values.layout as Topology } : {}),
      })
    }
    case 'down': {
      const { down } = await import('./up.ts')
      process.stdout.write(`${await down()}\n`)
      return 0
    }
    case 'ipvsadm': {
      started = true
      const { ipvsadm } = await import('./up.ts')
      process.stdout.write(await ipvsadm(values.stats ? 'stats' : values.rate ? 'rate' : 'table'))
      return 0
    }
    default:
      throw new LabError(`unknown command ${command}: expected verify, up, down, ipvsadm or rolling-restart; see --help`)
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
