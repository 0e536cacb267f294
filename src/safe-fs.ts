/**
 * Opening the files the doctor reads and writes on the user's behalf, often as root, in places others may
 * write to (/tmp, a CI workspace). Reads never block on a FIFO nor run on forever (/dev/zero): only a
 * regular file is read, up to a limit. Writes never go through a symbolic link nor into a file that is not
 * regular. Every refusal is an `UnsafeFile` whose message is the reason alone; callers add what and where.
 */
import {randomBytes} from 'node:crypto'
import fs, {constants as C} from 'node:fs'
import path from 'node:path'

export const MiB = 1024 * 1024

/** A file the doctor will not read or write; the message is the reason, without the path. */
export class UnsafeFile extends Error {
  constructor(
    reason: string,
    /** The errno code when a system call failed (ENOENT: there is no such file). */
    readonly code?: string,
  ) {
    super(reason)
    this.name = 'UnsafeFile'
  }
}

/** The user the doctor acts as: what it writes belongs to them, what it trusts belongs to them or to root. */
export const invokingUid = (): number => process.geteuid?.() ?? 0

const KINDS: Array<[keyof fs.Stats, string]> = [
  ['isFIFO', 'a FIFO'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
  ['isSocket', 'a socket'],
  ['isSymbolicLink', 'a symbolic link'],
]

/** Why `st` is not a file to read or replace, or undefined when it is a regular file. */
export function notRegular(st: fs.Stats): string | undefined {
  if (st.isFile()) return undefined
  if (st.isDirectory()) return 'it is a directory'
  const kind = KINDS.find(([is]) => (st[is] as () => boolean).call(st))?.[1] ?? 'not a file'
  return `not a regular file (${kind})`
}

export const modeOf = (st: fs.Stats): string => (st.mode & 0o7777).toString(8).padStart(4, '0')

const notYours = (uid: number, orRoot: boolean) =>
  !orRoot ? `not by you (uid ${uid})` : uid === 0 ? 'not by root' : `not by you (uid ${uid}) or root`

/**
 * Why a file or directory must not be trusted to say what the doctor does (ssh's StrictModes): owned by
 * someone other than the user or root, or writable by its group or by everyone (a sticky /tmp included).
 */
export function untrusted(st: fs.Stats, uid = invokingUid()): string | undefined {
  if (st.uid !== uid && st.uid !== 0) return `owned by uid ${st.uid} (mode ${modeOf(st)}), ${notYours(uid, true)}`
  if (st.mode & 0o002) return `writable by others (mode ${modeOf(st)})`
  if (st.mode & 0o020) return `writable by its group (mode ${modeOf(st)})`
  return undefined
}

/** Why a directory the doctor keeps its own state in is not private to the user, or undefined. */
export function notPrivate(st: fs.Stats, uid = invokingUid()): string | undefined {
  if (!st.isDirectory()) return 'not a directory'
  if (st.uid !== uid) return `owned by uid ${st.uid} (mode ${modeOf(st)}), ${notYours(uid, false)}; it must be yours`
  if (st.mode & 0o022) return `${untrusted(st, uid)}; chmod 700 it`
  return undefined
}

/** The reason of a failed system call, in words (ENOENT -> no such file ...). */
export function errnoReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  switch (e.code) {
    case 'ENOENT':
      return 'no such file'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EISDIR':
      return 'it is a directory'
    case 'ENOTDIR':
      return 'a parent is not a directory'
    case 'EEXIST':
      return 'something that is not a directory is in the way'
    case 'ELOOP':
      return 'it is a symbolic link (the doctor never writes through one)'
    case 'ENXIO':
      return 'not a regular file (a FIFO)'
    case 'ENOSPC':
      return 'no space left on the device'
    case 'EROFS':
      return 'read-only file system'
    default:
      return e instanceof UnsafeFile ? e.message : (e?.message ?? String(error)).split('\n')[0]
  }
}

/** The open file's stat, refused unless it is still the regular file `before` was taken of. */
function sameFileOpened(fd: number, before: fs.Stats): fs.Stats {
  const st = fs.fstatSync(fd)
  if (st.ino !== before.ino || st.dev !== before.dev || !st.isFile())
    throw new UnsafeFile('it changed while being opened')
  return st
}

/**
 * Reads a regular file whole, at most `maxBytes` (more is refused: `tooLarge` says what it then is not).
 * The path is checked before it is opened, so a FIFO is never opened (it would block) and a device never
 * touched; the descriptor is checked again after, against a swap in between.
 */
export function readRegularFile(
  file: string,
  maxBytes: number,
  tooLarge = 'too large',
): {text: string; stat: fs.Stats} {
  const before = statOrThrow(file)
  const problem =
    notRegular(before) ?? (before.size > maxBytes ? `larger than ${formatLimit(maxBytes)}: ${tooLarge}` : undefined)
  if (problem) throw new UnsafeFile(problem)
  const fd = openOrThrow(file, C.O_RDONLY | C.O_NONBLOCK)
  try {
    const st = sameFileOpened(fd, before)
    const buffer = Buffer.alloc(Math.min(st.size, maxBytes) + 1)
    let length = 0
    for (;;) {
      if (length === buffer.length) throw new UnsafeFile(`larger than ${formatLimit(maxBytes)}: ${tooLarge}`)
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) break
      length += n
    }
    return {text: buffer.subarray(0, length).toString('utf8'), stat: st}
  } finally {
    fs.closeSync(fd)
  }
}

/** Reads the last `maxBytes` of a regular file (the whole file when smaller), and how many bytes came before. */
export function readRegularTail(file: string, maxBytes: number): {text: string; skippedBytes: number} {
  const before = statOrThrow(file)
  const problem = notRegular(before)
  if (problem) throw new UnsafeFile(problem)
  const fd = openOrThrow(file, C.O_RDONLY | C.O_NONBLOCK)
  try {
    const st = sameFileOpened(fd, before)
    const start = Math.max(0, st.size - maxBytes)
    const buffer = Buffer.alloc(Math.min(st.size, maxBytes))
    let length = 0
    while (length < buffer.length) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, start + length)
      if (n === 0) break
      length += n
    }
    return {text: buffer.subarray(0, length).toString('utf8'), skippedBytes: start}
  } finally {
    fs.closeSync(fd)
  }
}

/** Reads a stream (standard input) to its end, refusing past `maxBytes` instead of growing without bound. */
export async function readStreamBounded(
  stream: NodeJS.ReadableStream,
  maxBytes: number,
  tooLarge = 'too large',
): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    length += b.length
    if (length > maxBytes) {
      ;(stream as NodeJS.ReadableStream & {destroy?: () => void}).destroy?.()
      throw new UnsafeFile(`larger than ${formatLimit(maxBytes)}: ${tooLarge}`)
    }
    chunks.push(b)
  }
  return Buffer.concat(chunks).toString('utf8')
}

const formatLimit = (bytes: number) => (bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${bytes} bytes`)

function statOrThrow(file: string): fs.Stats {
  try {
    return fs.statSync(file)
  } catch (error) {
    throw new UnsafeFile(errnoReason(error), (error as NodeJS.ErrnoException).code)
  }
}

function openOrThrow(file: string, flags: number, mode?: number): number {
  try {
    return fs.openSync(file, flags, mode)
  } catch (error) {
    throw new UnsafeFile(errnoReason(error), (error as NodeJS.ErrnoException).code)
  }
}

/**
 * Opens a log for appending (O_APPEND: each write(2) of a line lands whole at the end), creating it 0600.
 * Never through a symbolic link (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK), and only a regular file
 * with one name that the user (or root) owns: a hard link planted to a root-only file would be written too.
 */
export function openAppendOnly(file: string, uid = invokingUid()): number {
  const fd = openOrThrow(file, C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK, 0o600)
  try {
    const st = fs.fstatSync(fd)
    const problem =
      notRegular(st) ??
      (st.nlink > 1 ? `it has ${st.nlink} hard links (writing to it would change another file too)` : undefined) ??
      (st.uid !== uid && st.uid !== 0 ? `owned by uid ${st.uid}, ${notYours(uid, true)}` : undefined)
    if (problem) throw new UnsafeFile(problem)
    return fd
  } catch (error) {
    fs.closeSync(fd)
    throw error
  }
}

/** Writes `text` whole on `fd` (a short write is continued, not lost). */
export function writeAll(fd: number, text: string): void {
  const data = Buffer.from(text)
  for (let at = 0; at < data.length; ) at += fs.writeSync(fd, data, at, data.length - at)
}

/**
 * Creates `dir` (and missing parents) 0700 and checks that it is the user's own directory, writable by
 * nobody else: what is kept there (who was killed, the fix lock) must not be planted or read by others. A
 * symbolic link there is followed only when it is the user's own (as fs.protected_symlinks would have it):
 * one that someone else planted, in /tmp say, could send the doctor's files anywhere.
 */
export function ensurePrivateDir(dir: string, uid = invokingUid()): void {
  // A failure to create is the system's error (errnoReason words it); a directory that exists but is not private is an UnsafeFile.
  makeDirectories(dir)
  const link = fs.lstatSync(dir)
  if (link.isSymbolicLink() && link.uid !== uid)
    throw new UnsafeFile(`it is a symbolic link owned by uid ${link.uid}, ${notYours(uid, false)}`)
  const problem = notPrivate(fs.statSync(dir), uid)
  if (problem) throw new UnsafeFile(problem)
}

/** Kernel file systems: nothing the doctor keeps belongs there, and node's recursive mkdir loops forever under /proc. */
const KERNEL_FS = /^\/(?:proc|sys)(?:\/|$)/

/**
 * `mkdir -p` one level at a time, 0700: node's `{recursive: true}` loops forever under /proc (it takes the
 * ENOENT of /proc/self/x for a missing parent and retries). A path under /proc or /sys is refused outright.
 */
export function makeDirectories(dir: string): void {
  const target = path.resolve(dir)
  if (KERNEL_FS.test(target))
    throw new UnsafeFile(`${target.split('/').slice(0, 2).join('/')} is a kernel file system, not a place for files`)
  const missing: string[] = []
  for (let at = target; !fs.existsSync(at); at = path.dirname(at)) {
    missing.push(at)
    if (path.dirname(at) === at) break
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, {mode: 0o700})
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

/**
 * Replaces `file` with `text` atomically: a reader (node_exporter, a CI step) sees the old file or the new
 * one, never half of it. write-file-atomic was not used: it resolves a symbolic link at the target and
 * opens its temporary file without O_EXCL, so a link planted there redirected the write. Here the target must
 * be a regular file or absent; the temporary file is created O_EXCL|O_NOFOLLOW with a random name in the
 * same directory, fsynced, given the old file's mode (0644 for a new one), and renamed over the target.
 */
export function replaceFileAtomically(file: string, text: string): void {
  let existing: fs.Stats | undefined
  try {
    existing = fs.lstatSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new UnsafeFile(errnoReason(error))
  }
  if (existing?.isSymbolicLink()) throw new UnsafeFile(errnoReason({code: 'ELOOP'}))
  const problem = existing && notRegular(existing)
  if (problem) throw new UnsafeFile(problem)
  const dir = path.dirname(file)
  const temp = path.join(dir, `.${path.basename(file).slice(0, 200)}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openOrThrow(temp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)
  try {
    try {
      writeAll(fd, text)
      fs.fchmodSync(fd, existing ? existing.mode & 0o777 : 0o644)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(temp, file)
  } catch (error) {
    fs.rmSync(temp, {force: true})
    throw new UnsafeFile(errnoReason(error))
  }
}
