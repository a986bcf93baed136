/** The one error type of the lab: a message that names what failed, where, and what to do next. */
export class LabError extends Error {
  override name = 'LabError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/**
 * A lab, or a part of it, that could not be set up (Docker, an image, the IPVS backend, a container
 * that never became ready): no verdict on the configuration. The gate exits 3 for it and
 * `npm run mutate` never counts it as a kill; vitest's JUnit report names it by this `name`.
 */
export class LabSetupError extends LabError {
  override name = 'LabSetupError'
}

/** `error` as the failure of setting up `title` (its message kept, prefixed with the title); one that already is one is returned as is. */
export function asSetupError(title: string, error: unknown): LabSetupError {
  if (error instanceof LabSetupError) return error
  return new LabSetupError(`${title}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
}

/** Last `n` lines of a long output, for error messages that must stay readable. */
export function tail(text: string, n = 30): string {
  const lines = text.trimEnd().split('\n')
  return (lines.length > n ? ['…', ...lines.slice(-n)] : lines).join('\n')
}
