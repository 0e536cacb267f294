import {closeSync, openSync, readFileSync, readSync} from 'node:fs'
import {KEPT_ENV_KEYS, type KeptEnvKey} from './types.js'

/** Fields of /proc/PID/stat that the doctor uses. */
export interface StatFields {
  comm: string
  state: string
  ppid: number
  pgid: number
  sid: number
  ttyNr: number
  startTicks: number
  /** PF_KTHREAD in the flags field: a kernel thread, with no cmdline, environ or memory of its own. */
  kernelThread: boolean
}

const PF_KTHREAD = 0x00200000

/**
 * Parses /proc/PID/stat. The command name sits in parentheses and may itself contain spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseStat(text: string): StatFields | undefined {
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  if (open < 0 || close < open) return undefined
  const rest = text.slice(close + 2).split(' ')
  // rest[0] is field 3 (state); field N is rest[N - 3].
  const num = (field: number) => Number(rest[field - 3])
  const fields = {
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: num(4),
    pgid: num(5),
    sid: num(6),
    ttyNr: num(7),
    startTicks: num(22),
    kernelThread: (num(9) & PF_KTHREAD) !== 0,
  }
  return Number.isFinite(fields.ppid) && Number.isFinite(fields.startTicks) ? fields : undefined
}

/** Real uid and VmRSS (bytes) from /proc/PID/status. Kernel threads have no VmRSS. */
export function parseStatus(text: string): {uid?: number; rssBytes?: number} {
  const out: {uid?: number; rssBytes?: number} = {}
  const uid = /^Uid:\s+(\d+)/m.exec(text)
  if (uid) out.uid = Number(uid[1])
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(text)
  if (rss) out.rssBytes = Number(rss[1]) * 1024
  return out
}

/** Pss (bytes) from /proc/PID/smaps_rollup. */
export function parseSmapsRollup(text: string): number | undefined {
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(text)
  return m ? Number(m[1]) * 1024 : undefined
}

/** argv from /proc/PID/cmdline: NUL-separated, usually NUL-terminated. A process that rewrote its title may use spaces. */
export function parseCmdline(text: string): string[] {
  if (text.length === 0) return []
  const parts = text.split('\0')
  // A process that set its title (Claude Code sets `claude`) leaves the rest of argv's space as NULs.
  while (parts.length > 0 && parts.at(-1) === '') parts.pop()
  return parts
}

/** Only the kept keys of /proc/PID/environ; the rest of the environment is never returned. */
export function parseEnviron(text: string): Partial<Record<KeptEnvKey, string>> {
  const env: Partial<Record<KeptEnvKey, string>> = {}
  for (const key of KEPT_ENV_KEYS) {
    const at = text.startsWith(`${key}=`) ? 0 : text.indexOf(`\0${key}=`)
    if (at < 0) continue
    const start = at === 0 ? key.length + 1 : at + key.length + 2
    const end = text.indexOf('\0', start)
    env[key] = text.slice(start, end < 0 ? undefined : end)
  }
  return env
}

/** The value of one variable in an environ blob (used only for tmux servers' TMUX_TMPDIR, never stored). */
export function environValue(text: string, key: string): string | undefined {
  const at = text.startsWith(`${key}=`) ? 0 : text.indexOf(`\0${key}=`)
  if (at < 0) return undefined
  const start = at === 0 ? key.length + 1 : at + key.length + 2
  const end = text.indexOf('\0', start)
  return text.slice(start, end < 0 ? undefined : end)
}

/**
 * The cgroup path systemd placed a process in, from /proc/PID/cgroup: the unified hierarchy's (`0::/path`),
 * unless that is the root and the `name=systemd` hierarchy (cgroup v1, hybrid) names more.
 */
export function parseCgroup(text: string): string | undefined {
  let unified: string | undefined
  let systemd: string | undefined
  for (const line of text.split('\n')) {
    if (line.startsWith('0::')) unified = line.slice(3)
    else {
      const at = line.indexOf(':name=systemd:')
      if (at > 0) systemd = line.slice(at + 14)
    }
  }
  if (unified !== undefined && unified !== '/') return unified
  return systemd ?? unified
}

/** btime from /proc/stat, in ms since the epoch. */
export function parseBootTime(procStat: string): number | undefined {
  const m = /^btime\s+(\d+)/m.exec(procStat)
  return m ? Number(m[1]) * 1000 : undefined
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

let buffer = Buffer.allocUnsafe(64 * 1024)

/**
 * Reads a whole /proc file into one reused buffer (valid until the next call): the collector reads five
 * files for each of thousands of processes, and this skips readFileSync's fstat, its per-call allocation
 * and, for files it only searches, decoding the whole text. The bytes read, or -1 when the file cannot be
 * read (gone, another user's).
 */
function readIntoBuffer(path: string): number {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return -1
  }
  try {
    let length = 0
    for (;;) {
      if (length === buffer.length) {
        const bigger = Buffer.allocUnsafe(buffer.length * 2)
        buffer.copy(bigger, 0, 0, length)
        buffer = bigger
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null)
      if (n === 0) return length
      length += n
    }
  } catch {
    return -1
  } finally {
    closeSync(fd)
  }
}

/**
 * A /proc file's text (what readText returns), or undefined when it cannot be read. `latin1` for files
 * that are ASCII where it matters (status, smaps_rollup): decoding them is a copy.
 */
export function readProcText(path: string, encoding: 'utf8' | 'latin1' = 'utf8'): string | undefined {
  const length = readIntoBuffer(path)
  return length < 0 ? undefined : buffer.toString(encoding, 0, length)
}

const NEEDLES = new Map<string, {first: Buffer; inner: Buffer}>()
const needle = (key: string) => {
  let n = NEEDLES.get(key)
  if (!n) NEEDLES.set(key, (n = {first: Buffer.from(`${key}=`), inner: Buffer.from(`\0${key}=`)}))
  return n
}

function valueIn(bytes: Buffer, key: string): string | undefined {
  const {first, inner} = needle(key)
  let start: number
  if (bytes.length >= first.length && bytes.compare(first, 0, first.length, 0, first.length) === 0) start = first.length
  else {
    const at = bytes.indexOf(inner)
    if (at < 0) return undefined
    start = at + inner.length
  }
  const end = bytes.indexOf(0, start)
  return bytes.toString('utf8', start, end < 0 ? bytes.length : end)
}

/**
 * /proc/PID/environ as parseEnviron (and environValue for `extraKey`) would read it, searched in place:
 * an environment is kilobytes, of which the doctor keeps a few variables (KEPT_ENV_KEYS). undefined when unreadable.
 */
export function readProcEnviron(
  path: string,
  extraKey?: string,
): {env: Partial<Record<KeptEnvKey, string>>; extra?: string} | undefined {
  const length = readIntoBuffer(path)
  if (length < 0) return undefined
  const bytes = buffer.subarray(0, length)
  const env: Partial<Record<KeptEnvKey, string>> = {}
  for (const key of KEPT_ENV_KEYS) {
    const value = valueIn(bytes, key)
    if (value !== undefined) env[key] = value
  }
  return extraKey === undefined ? {env} : {env, extra: valueIn(bytes, extraKey)}
}
