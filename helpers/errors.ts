/** The one error type of the lab: a message that names what failed, where, and what to do next. */
export class LabError extends Error {
  override name = 'LabError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** Last `n` lines of a long output, for error messages that must stay readable. */
export function tail(text: string, n = 30): string {
  const lines = text.trimEnd().split('\n')
  return (lines.length > n ? ['…', ...lines.slice(-n)] : lines).join('\n')
}
