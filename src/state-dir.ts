import os from 'node:os'
import path from 'node:path'
import {DoctorError} from './errors.js'
import {ensurePrivateDir, errnoReason, UnsafeFile} from './safe-fs.js'

/**
 * Where gt-doctor keeps what must outlive a run (the audit log, the history): `$XDG_STATE_HOME/gt-doctor`,
 * by default `~/.local/state/gt-doctor`. A relative XDG_STATE_HOME is invalid per the XDG spec and ignored.
 * (The fix lock does not follow XDG_STATE_HOME: it must not move with the environment; see remediation/lock.ts.)
 * Below the layers (beside safe-fs): the engine's audit and the monitor's history both keep files here.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const xdg = env.XDG_STATE_HOME
  return xdg && path.isAbsolute(xdg) ? path.join(xdg, 'gt-doctor') : homeStateDir(home)
}

/** The state directory under a home, whatever the environment says (the fix lock's, under the passwd home). */
export function homeStateDir(home: string): string {
  return path.join(home, '.local', 'state', 'gt-doctor')
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
