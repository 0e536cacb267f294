/**
 * Which files may tell the doctor what to do. A configuration decides what root kills (JSON alone can name
 * `localChecks` and widen what counts as an orphan) and a module runs as whoever runs the doctor, so, like
 * ssh's StrictModes and git's safe.directory, only a file the invoking user or root owns and nobody else can
 * change, in a directory of the same kind (a sticky, world-writable /tmp is not), is ever read.
 */
import fs from 'node:fs'
import path from 'node:path'
import {errnoReason, invokingUid, MiB, notRegular, untrusted} from '../safe-fs.js'

export type Examined =
  | {status: 'absent'}
  /** Not trusted: never read. */
  | {status: 'refused'; reason: string}
  /** Trusted, but not a file to read (a FIFO, a device, too large): an error, not a fallback. */
  | {status: 'unreadable'; reason: string}
  /** `real`: the path with links resolved, the file that was checked. */
  | {status: 'ok'; real: string}

/** Looks at a file without opening it: whether it exists, may be trusted, and may be read. */
export function examine(file: string, maxBytes: number, opts: {uid?: number; tooLarge?: string} = {}): Examined {
  const uid = opts.uid ?? invokingUid()
  let real: string
  let st: fs.Stats
  let dirSt: fs.Stats
  try {
    real = fs.realpathSync(file)
    st = fs.statSync(real)
    dirSt = fs.statSync(path.dirname(real))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {status: 'absent'}
    return {status: 'unreadable', reason: errnoReason(error)}
  }
  // The directory first: whatever sits in one that others can write to (a FIFO planted in /tmp) is theirs, refused, not an error.
  const dirRefused = prefixed(`its directory ${path.dirname(real)} is`, untrusted(dirSt, uid))
  if (dirRefused) return {status: 'refused', reason: dirRefused}
  const problem =
    notRegular(st) ??
    (st.size > maxBytes ? `larger than ${maxBytes / MiB} MiB${opts.tooLarge ? `: ${opts.tooLarge}` : ''}` : undefined)
  if (problem) return {status: 'unreadable', reason: problem}
  const refused = untrusted(st, uid)
  return refused ? {status: 'refused', reason: refused} : {status: 'ok', real}
}

const prefixed = (prefix: string, reason: string | undefined) => reason && `${prefix} ${reason}`

/** Whether a directory on the way up may be searched: one owned by someone else is not entered. */
export function ownedByUserOrRoot(dir: string, uid = invokingUid()): boolean {
  try {
    const st = fs.statSync(dir)
    return st.uid === uid || st.uid === 0
  } catch {
    return false
  }
}
