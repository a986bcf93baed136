// The corpus (examples/corpus/, verdicts.json): configurations in the shapes teams keep them,
// each with its expected verdict. Here, without Docker: the refusals (intake and validation, the
// gate's exit 2) and, for the others, the mapping the intake prints. `npm run corpus` runs the
// ones that start labs.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { checkInput } from '../../helpers/cli/input.ts'
import { type Intake, describeIntake, intake, removeIntake } from '../../helpers/intake/intake.ts'

interface Verdict { shape: string; verdict: 'passes' | 'fails' | 'refused'; message?: string; mapping?: string[]; unused?: string[]; args?: string[] }
const CORPUS = 'examples/corpus'
const verdicts = JSON.parse(readFileSync(path.join(CORPUS, 'verdicts.json'), 'utf8')) as Record<string, Verdict>
const taken: Intake[] = []
afterEach(() => { for (const t of taken.splice(0)) removeIntake(t); delete process.env.LAB_FIXTURES })

/** What the gate says before any lab: the intake's refusal, or validation's errors; else the intake. */
function gateInput(name: string): { refusal?: string; taken?: Intake } {
  const dir = path.join(CORPUS, name)
  let t: Intake
  try {
    t = intake(path.resolve(dir))
  } catch (error) {
    return { refusal: (error as Error).message }
  }
  taken.push(t)
  process.env.LAB_FIXTURES = t.overlay // as the CLI sets it: messages name the team's files
  const errors = checkInput({ fixtures: t.overlay, ...(t.war ? { war: t.war } : {}) }).errors
  return errors.length ? { refusal: errors.join('\n'), taken: t } : { taken: t }
}

describe('the corpus', () => {
  test('at least 10 directories, each with a verdict', () => {
    expect(Object.keys(verdicts).length).toBeGreaterThanOrEqual(10)
  })

  test.each(Object.entries(verdicts).filter(([, v]) => v.verdict === 'refused'))('%s is refused, naming the file and line', (name, v) => {
    const { refusal } = gateInput(name)
    expect(refusal, v.shape).toContain(v.message)
    expect(refusal).toContain(`${CORPUS}/${name}`)
  })

  test.each(Object.entries(verdicts).filter(([, v]) => v.verdict !== 'refused'))('%s is taken in: the mapping it prints, nothing refused', (name, v) => {
    const { refusal, taken: t } = gateInput(name)
    expect(refusal, v.shape).toBeUndefined()
    const printed = describeIntake(t!)
    for (const line of v.mapping ?? []) expect(printed).toContain(line)
    expect(t!.unused.map((u) => u.file).sort()).toEqual([...(v.unused ?? [])].sort())
  })
})
