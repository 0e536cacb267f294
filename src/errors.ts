/** An error the user can act on: printed as one line, exit code 2 (or the code given). Never a stack trace. */
export class DoctorError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message)
    this.name = 'DoctorError'
  }
}

/** The first line of any thrown value: what a person sees when something fails. */
export function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  return message.split('\n').find((l) => l.trim()) ?? 'unknown error'
}
