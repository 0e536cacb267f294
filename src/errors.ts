import {escapeControls} from './words.js'
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
  const lines = message
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^The following errors? occurred:?$/i.test(l))
  // oclif puts the reason of a flag parse error on the line after "Parsing --flag".
  if (/^Parsing --\S+$/.test(lines[0] ?? '') && lines[1]) return `${lines[0].replace(/^Parsing /, '')}: ${lines[1]}`
  return lines[0] ?? 'unknown error'
}

/** Why a run failed, as a person sees it: one line, and the exit code (the error's own; oclif's generic 1 is 2). */
export function failureOf(error: unknown): {message: string; exitCode: number} {
  const e = error as {exitCode?: unknown; oclif?: {exit?: unknown}} | null | undefined
  const own = typeof e?.exitCode === 'number' ? e.exitCode : e?.oclif?.exit
  const exitCode = typeof own === 'number' && own !== 0 && own !== 1 ? own : 2
  return {message: oneLine(error).replace(/^Error:\s*/, ''), exitCode}
}

/**
 * The one error printer: `bin: message` on stderr and the exit code set, never a stack trace. Both the
 * commands (DoctorCommand.catch) and bin/run.js (what fails outside a command) print through it.
 */
export function printFailure(bin: string, error: unknown): {message: string; exitCode: number} {
  const failure = failureOf(error)
  process.exitCode = failure.exitCode
  // A path or a pattern in the message is the user's text: ESC[2J in it must not clear their screen.
  process.stderr.write(`${bin}: ${escapeControls(failure.message)}\n`)
  return failure
}
