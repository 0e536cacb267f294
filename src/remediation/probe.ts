import {readdirSync} from 'node:fs'
import {parseCmdline, parseStat, parseStatus, readProcText} from '../snapshot/proc.js'

/** A process as it is right now, read immediately before the engine decides to signal it. */
export interface LiveProcess {
  pid: number
  startTicks: number
  ppid: number
  uid?: number
  /** Kernel state letter: R S D Z T X ... */
  state: string
  comm: string
  /** Session and process group: what a child that escaped its tree (reparented to init) still shares with it. */
  sid?: number
  pgid?: number
}

/** SIGSTOP freezes a tree (nothing in it can fork any more), SIGCONT lets a pending SIGTERM act. */
export type Signal = 'SIGSTOP' | 'SIGTERM' | 'SIGCONT' | 'SIGKILL'

export type KillResult = 'sent' | 'ESRCH' | 'EPERM'

/**
 * The engine's only window on the system: reading one process, listing its children, signalling one. Tests
 * replace it to simulate PID reuse, another user's process, a process that vanishes, forks or survives SIGKILL.
 */
export interface ProcessProbe {
  /** undefined when there is no such process (any more). */
  read(pid: number): LiveProcess | undefined
  /** argv of a process, only asked for a parent the engine must judge (is it a subreaper?). */
  argv(pid: number): string[] | undefined
  /** The pids whose parent is `pid` now. Complete only while `pid` is stopped (it cannot fork meanwhile). */
  children(pid: number): number[]
  kill(pid: number, signal: Signal): KillResult
}

const listDir = (dir: string): string[] | undefined => {
  try {
    return readdirSync(dir)
  } catch {
    return undefined
  }
}

/**
 * The real probe: /proc/PID/stat and /proc/PID/status, /proc/PID/task/TID/children, and kill(2). `read` and
 * `list` read files and directories (tests race them).
 */
export function procProbe(
  procRoot = '/proc',
  read: (path: string) => string | undefined = (file) => readProcText(file),
  list = listDir,
): ProcessProbe {
  /** Without /proc/PID/task/TID/children (a kernel built without CONFIG_PROC_CHILDREN): every stat's ppid. */
  const scan = (pid: number) =>
    (list(procRoot) ?? [])
      .filter((name) => /^\d+$/.test(name) && parseStat(read(`${procRoot}/${name}/stat`) ?? '')?.ppid === pid)
      .map(Number)
  return {
    read(pid) {
      const stat = parseStat(read(`${procRoot}/${pid}/stat`) ?? '')
      if (!stat) return undefined
      const status = read(`${procRoot}/${pid}/status`)
      if (status === undefined) {
        // A process that exits (a wrapper's child ending with its tree) can vanish between the two reads:
        // then it is gone, not "a process whose owner cannot be read", which would spare its whole tree.
        const again = parseStat(read(`${procRoot}/${pid}/stat`) ?? '')
        if (!again || again.startTicks !== stat.startTicks) return undefined
      }
      const {uid} = parseStatus(status ?? '')
      return {
        pid,
        startTicks: stat.startTicks,
        ppid: stat.ppid,
        uid,
        state: stat.state,
        comm: stat.comm,
        sid: stat.sid,
        pgid: stat.pgid,
      }
    },
    argv(pid) {
      const text = read(`${procRoot}/${pid}/cmdline`)
      return text === undefined ? undefined : parseCmdline(text)
    },
    children(pid) {
      const tasks = list(`${procRoot}/${pid}/task`)
      if (!tasks) return []
      const out = new Set<number>()
      for (const tid of tasks) {
        const text = read(`${procRoot}/${pid}/task/${tid}/children`)
        if (text === undefined) {
          // The main thread always has the file where the kernel offers it; a thread may just have ended.
          if (tid === String(pid) && read(`${procRoot}/${pid}/stat`) !== undefined) return scan(pid)
          continue
        }
        for (const word of text.split(' ')) if (/^\d+$/.test(word)) out.add(Number(word))
      }
      return [...out]
    },
    kill(pid, signal) {
      try {
        process.kill(pid, signal)
        return 'sent'
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code === 'ESRCH' || code === 'EPERM') return code
        throw error
      }
    },
  }
}

/** How the engine waits: the real clock, or a fake one in tests. */
export interface Clock {
  now(): number
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
}
