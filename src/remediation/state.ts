import {mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * Where gt-doctor keeps what must outlive a run (the audit log, the fix lock): `$XDG_STATE_HOME/gt-doctor`,
 * by default `~/.local/state/gt-doctor`. A relative XDG_STATE_HOME is invalid per the XDG spec and ignored.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const xdg = env.XDG_STATE_HOME
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'state')
  return path.join(base, 'gt-doctor')
}

/** Creates the state directory (and missing parents) private to the user: it records what was killed. */
export function ensureStateDir(dir: string): string {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  return dir
}
