import path from 'node:path'
import type lockfile from 'proper-lockfile'
import {DoctorError} from '../errors.js'
import {ensureStateDir} from './state.js'
import {lazy} from '../lazy.js'

const properLockfile = lazy<typeof lockfile>('proper-lockfile')

export interface FixLock {
  readonly path: string
  release(): Promise<void>
}

export interface LockOptions {
  /** How long to wait for another `--fix` to finish before refusing (default 3 s). */
  waitMs?: number
  /** Warns when the lock was lost mid-run (its directory removed or not refreshed). */
  onCompromised?: (error: Error) => void
}

/**
 * One `--fix` at a time per user: two would race to judge and signal the same trees. proper-lockfile
 * holds `<state>/fix.lock` (an atomic mkdir, refreshed while held, stale after 15 s if its holder died).
 */
export async function acquireFixLock(dir: string, opts: LockOptions = {}): Promise<FixLock> {
  ensureStateDir(dir)
  const target = path.join(dir, 'fix')
  const waitMs = opts.waitMs ?? 3000
  const step = 100
  try {
    const release = await properLockfile().lock(target, {
      realpath: false,
      stale: 15_000,
      update: 5_000,
      retries: {retries: Math.max(0, Math.ceil(waitMs / step)), factor: 1, minTimeout: step, maxTimeout: step},
      onCompromised: opts.onCompromised ?? (() => {}),
    })
    return {path: `${target}.lock`, release: () => release().catch(() => undefined)}
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new DoctorError(`another gt-doctor --fix is running (lock ${target}.lock held for more than ${waitMs / 1000} s); run again when it has finished`)
    }
    throw new DoctorError(`cannot take the fix lock ${target}.lock: ${(error as Error).message}`)
  }
}
