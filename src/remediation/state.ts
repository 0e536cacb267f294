import os from 'node:os'
import path from 'node:path'
import {DoctorError} from '../errors.js'
import {ensurePrivateDir, errnoReason, UnsafeFile} from '../safe-fs.js'

/**
 * Where gt-doctor keeps what must outlive a run (the audit log, the history): `$XDG_STATE_HOME/gt-doctor`,
 * by default `~/.local/state/gt-doctor`. A relative XDG_STATE_HOME is invalid per the XDG spec and ignored.
 * (The fix lock does not live here: it must not move with the environment; see lock.ts.)
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const xdg = env.XDG_STATE_HOME
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, '.local', 'state')
  return path.join(base, 'gt-doctor')
}

/**
 * Creates the state directory (and missing parents) private to the user, or checks that it is: it records
 * what was killed, and a directory others can write to would let them plant links where the doctor writes.
 */
export function ensureStateDir(dir: string, what = 'state directory'): string {
  try {
    ensurePrivateDir(dir)
  } catch (error) {
    if (error instanceof UnsafeFile) throw new DoctorError(`unsafe ${what} ${dir}: ${error.message}`)
    throw new DoctorError(`cannot create the ${what} ${dir}: ${errnoReason(error)}`)
  }
  return dir
}
