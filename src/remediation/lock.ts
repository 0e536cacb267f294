/**
 * One `--fix` (or `session stop`) at a time per user: two would race to judge and signal the same trees.
 *
 * The lock is per uid, not per path: it lives in one directory that no environment variable moves (the state
 * directory under the home of the passwd entry), so two runs with different XDG_STATE_HOMEs still take turns,
 * and only the user can write there, so nobody else can plant a lock that shuts them out.
 *
 * proper-lockfile was dropped: its staleness is time-based (a holder killed with SIGKILL blocked the next
 * run for 15 s; a live holder that missed a refresh lost its lock). Here each taker creates its own file,
 * `fix-PID-STARTTICKS-RANDOM.lock` (O_EXCL), then lists the directory: it holds the lock when no other file names a
 * live process, else it removes its own and tries again. Two takers cannot both hold it: the later of the two
 * listings sees the other's file. A file whose process is gone, or whose pid now belongs to a process started
 * at another time (pid reuse), is removed by whoever finds it, at once.
 */
import {randomBytes, randomInt} from 'node:crypto'
import fs, {constants as C} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {DoctorError} from '../errors.js'
import {ensurePrivateDir, errnoReason, invokingUid, modeOf, notPrivate, UnsafeFile, writeAll} from '../safe-fs.js'
import {homeStateDir} from '../state-dir.js'
import {procProbe, type ProcessProbe} from './probe.js'

export interface FixLock {
  readonly path: string
  release(): Promise<void>
}

export interface LockOptions {
  /** How long to wait for another `--fix` to finish before refusing (default 3 s). */
  waitMs?: number
  probe?: ProcessProbe
}

const LOCK_FILE = /^fix-(\d+)-(\d+)-[0-9a-f]+\.lock$/

/**
 * The lock directory of the invoking user: `~/.local/state/gt-doctor` under the passwd home (not $HOME nor
 * XDG_STATE_HOME), created 0700. Without a usable home (none, or it cannot be written), `gt-doctor-UID` in
 * /tmp, created 0700 and checked to be the user's own. An existing directory that others can write to is refused.
 */
export function fixLockDir(opts: {home?: string; tmp?: string; uid?: number} = {}): string {
  const uid = opts.uid ?? invokingUid()
  const home = opts.home ?? passwdHome()
  if (home && isDir(home)) {
    const dir = homeStateDir(home)
    try {
      ensurePrivateDir(dir, uid)
      return dir
    } catch (error) {
      if (error instanceof UnsafeFile) throw unsafe(dir, error)
      // A home that cannot be written (read-only, not the user's): the fallback, the same one every time.
    }
  }
  const dir = path.join(opts.tmp ?? '/tmp', `gt-doctor-${uid}`)
  try {
    // Not recursive: /tmp exists; a name already taken by someone else must fail the check below, not be used.
    fs.mkdirSync(dir, {mode: 0o700})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new DoctorError(`cannot create the lock directory ${dir}: ${errnoReason(error)}`)
  }
  // The name is predictable: anything but the user's own plain 0700 directory there was planted.
  const st = fs.lstatSync(dir)
  const problem = st.isSymbolicLink()
    ? 'it is a symbolic link'
    : (notPrivate(st, uid) ?? (st.mode & 0o077 ? `readable by others (mode ${modeOf(st)}); chmod 700 it` : undefined))
  if (problem) throw unsafe(dir, new UnsafeFile(problem))
  return dir
}

function passwdHome(): string | undefined {
  try {
    return os.userInfo().homedir || undefined
  } catch {
    return undefined
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory()
  } catch {
    return false
  }
}

const unsafe = (dir: string, error: UnsafeFile) => new DoctorError(`unsafe lock directory ${dir}: ${error.message}`)

interface Holder {
  file: string
  pid: number
  startTicks: number
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    return undefined
  }
}

/** What tells two processes with the same pid and start ticks apart: another boot, another PID namespace. */
function machineIdentity(): {bootId?: string; pidNamespace?: string} {
  let pidNamespace: string | undefined
  try {
    pidNamespace = fs.readlinkSync('/proc/self/ns/pid')
  } catch {}
  return {bootId: readText('/proc/sys/kernel/random/boot_id'), pidNamespace}
}

/** Whether the process a lock file names still runs: same pid, same start time, same boot. */
function holderAlive(holder: Holder, probe: ProcessProbe, here: ReturnType<typeof machineIdentity>): boolean {
  let recorded: {bootId?: string; pidNamespace?: string} = {}
  try {
    const fd = fs.openSync(holder.file, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
    try {
      const buffer = Buffer.alloc(4096)
      recorded = JSON.parse(buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8'))
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    // Empty (its taker is writing it right now) or unreadable: the name alone says who took it.
  }
  if (recorded.bootId && here.bootId && recorded.bootId !== here.bootId) return false
  // A holder in another PID namespace cannot be looked up from here: it counts as alive (report, don't guess).
  if (recorded.pidNamespace && here.pidNamespace && recorded.pidNamespace !== here.pidNamespace) return true
  const live = probe.read(holder.pid)
  if (live) return live.startTicks === holder.startTicks && live.state !== 'Z' && live.state !== 'X'
  if (holder.startTicks !== 0) return false
  // No /proc (not Linux): only whether the pid exists.
  try {
    process.kill(holder.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Every lock file in `dir` but `mine`; the ones whose holder is gone are removed on the way. */
function liveHolders(
  dir: string,
  mine: string,
  probe: ProcessProbe,
  here: ReturnType<typeof machineIdentity>,
): Holder[] {
  const live: Holder[] = []
  for (const name of fs.readdirSync(dir)) {
    const m = LOCK_FILE.exec(name)
    const file = path.join(dir, name)
    if (!m || file === mine) continue
    const holder = {file, pid: Number(m[1]), startTicks: Number(m[2])}
    if (holderAlive(holder, probe, here)) live.push(holder)
    else fs.rmSync(file, {force: true})
  }
  return live
}

/**
 * Takes the fix lock in `dir` (a directory private to the user: `fixLockDir()`, or one a test gives), waiting
 * up to `waitMs` for a live holder to finish.
 */
export async function acquireFixLock(dir: string, opts: LockOptions = {}): Promise<FixLock> {
  const probe = opts.probe ?? procProbe()
  const waitMs = opts.waitMs ?? 3000
  try {
    ensurePrivateDir(dir)
  } catch (error) {
    if (error instanceof UnsafeFile) throw unsafe(dir, error)
    throw new DoctorError(`cannot take the fix lock in ${dir}: ${errnoReason(error)}`)
  }
  const here = machineIdentity()
  const startTicks = probe.read(process.pid)?.startTicks ?? 0
  // The random part tells two takers of one process apart: a process that takes the lock twice waits for itself.
  const mine = path.join(dir, `fix-${process.pid}-${startTicks}-${randomBytes(4).toString('hex')}.lock`)
  const record =
    JSON.stringify({
      pid: process.pid,
      startTicks,
      ...here,
      since: new Date().toISOString(),
      argv: process.argv.slice(2),
    }) + '\n'
  const deadline = Date.now() + waitMs
  for (;;) {
    let fd: number
    try {
      fd = fs.openSync(mine, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600)
    } catch (error) {
      throw new DoctorError(`cannot take the fix lock ${mine}: ${errnoReason(error)}`)
    }
    try {
      writeAll(fd, record)
    } finally {
      fs.closeSync(fd)
    }
    const others = liveHolders(dir, mine, probe, here)
    if (others.length === 0) {
      let released = false
      return {
        path: mine,
        release: async () => {
          if (!released) fs.rmSync(mine, {force: true})
          released = true
        },
      }
    }
    fs.rmSync(mine, {force: true})
    if (Date.now() >= deadline) {
      const [first] = others
      throw new DoctorError(
        `another gt-doctor --fix is running (pid ${first.pid}, lock ${first.file} held for more than ${waitMs / 1000} s); run again when it has finished`,
      )
    }
    // Two takers that saw each other both stepped back: a random pause lets one of them go first next time.
    await sleep(Math.min(randomInt(20, 120), Math.max(1, deadline - Date.now())))
  }
}
