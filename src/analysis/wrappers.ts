import {SHELL_COMMAND_FLAG, SHELL_RE as SHELLS} from '../rules/argv.js'
import type {ProcessInfo} from '../snapshot/types.js'

/**
 * A process that only runs a command for someone else: a non-interactive shell (`sh -c '…'`, `bash -c -l …`)
 * or `env` / `timeout`. Never somebody's program: ending one ends nothing a person works in. An
 * interactive shell (`-bash`, `zsh`) is not one.
 */
export function isCommandWrapper(p: ProcessInfo): boolean {
  const base = (p.argv[0] ?? p.comm).split('/').pop() ?? ''
  if (SHELLS.test(base)) return p.argv.slice(1).some((a) => SHELL_COMMAND_FLAG.test(a))
  return base === 'env' || base === 'timeout'
}

/** A non-interactive shell whose command is a loop (`for`, `while`, `until`): ending its step starts the next. */
export function isShellLoop(p: ProcessInfo): boolean {
  const base = (p.argv[0] ?? p.comm).split('/').pop() ?? ''
  return SHELLS.test(base) && isCommandWrapper(p) && p.argv.some((a) => /(?:^|[\s;&|(])(?:for|while|until)\s/.test(a))
}
