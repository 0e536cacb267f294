import {parseCmdline, parseStat, parseStatus, readText} from '../snapshot/proc.js'

/** A process as it is right now, read immediately before the engine decides to signal it. */
export interface LiveProcess {
  pid: number
  startTicks: number
  ppid: number
  uid?: number
  /** Kernel state letter: R S D Z T X ... */
  state: string
  comm: string
}

export type KillResult = 'sent' | 'ESRCH' | 'EPERM'

/**
 * The engine's only window on the system: reading one process and signalling one. Tests replace it to
 * simulate PID reuse, another user's process, a process that vanishes or survives SIGKILL.
 */
export interface ProcessProbe {
  /** undefined when there is no such process (any more). */
  read(pid: number): LiveProcess | undefined
  /** argv of a process, only asked for a parent the engine must judge (is it a subreaper?). */
  argv(pid: number): string[] | undefined
  kill(pid: number, signal: 'SIGTERM' | 'SIGKILL'): KillResult
}

/** The real probe: /proc/PID/stat and /proc/PID/status, and kill(2). `read` reads files (tests race it). */
export function procProbe(procRoot = '/proc', read: (path: string) => string | undefined = readText): ProcessProbe {
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
      return {pid, startTicks: stat.startTicks, ppid: stat.ppid, uid, state: stat.state, comm: stat.comm}
    },
    argv(pid) {
      const text = read(`${procRoot}/${pid}/cmdline`)
      return text === undefined ? undefined : parseCmdline(text)
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
