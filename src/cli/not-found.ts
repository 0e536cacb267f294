import type {Hook} from '@oclif/core'
import {lazy} from '../lazy.js'
import {DoctorError} from '../errors.js'

const levenshtein = lazy<{get(a: string, b: string): number}>('fast-levenshtein')

/** The command a typo most likely meant: the nearest id within a third of its length (at least 2 edits). */
export function closestCommand(typed: string, ids: readonly string[]): string | undefined {
  let best: {id: string; d: number} | undefined
  for (const id of ids) {
    const d = levenshtein().get(typed, id)
    if (!best || d < best.d) best = {id, d}
  }
  return best && best.d <= Math.max(2, Math.floor(typed.length / 3)) ? best.id : undefined
}

/**
 * `gt-doctor chek`: on a terminal, @oclif/plugin-not-found's "Did you mean check?" prompt (it runs the
 * command on yes); in a script, one line with the suggestion and exit 2, as every usage error here.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const visible = opts.config.commands.filter((c) => !c.hidden)
  const ids = [...visible.map((c) => c.id), ...visible.flatMap((c) => c.aliases)]
  const typed = opts.id.replaceAll(':', ' ')
  const near = closestCommand(opts.id, ids)
  if (near && process.stdin.isTTY && process.stderr.isTTY) {
    const {default: prompt} = await import('@oclif/plugin-not-found')
    return prompt.call(this, opts)
  }
  const hint = near ? `; did you mean "${near.replaceAll(':', ' ')}"?` : ''
  throw new DoctorError(`command ${typed} not found${hint} (${opts.config.bin} help lists the commands)`)
}

export default hook
