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
  // oclif's flag validation heads its list with "The following error occurred:": the error is the next line.
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l && !/^The following errors? occurred:?$/i.test(l))
  // oclif puts the reason of a flag parse error on the line after "Parsing --flag".
  if (/^Parsing --\S+$/.test(lines[0] ?? '') && lines[1]) return `${lines[0].replace(/^Parsing /, '')}: ${lines[1]}`
  return lines[0] ?? 'unknown error'
}
