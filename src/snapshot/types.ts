/**
 * The snapshot is the only view of the machine that checks ever see: collected once, frozen, and
 * JSON-serialisable so that a recorded one (fixtures/, `gt-doctor snapshot`) behaves exactly like a live one.
 */

/** Bumped whenever a field changes meaning; `check --from` refuses versions it does not know. */
export const SNAPSHOT_VERSION = 1

/** The only environment keys the collector keeps. Everything else in /proc/PID/environ is never stored. */
export const KEPT_ENV_KEYS = ['TMUX', 'TMUX_PANE', 'CLAUDECODE', 'CLAUDE_CODE_SESSION_ID'] as const
export type KeptEnvKey = (typeof KEPT_ENV_KEYS)[number]

export interface ProcessInfo {
  pid: number
  ppid: number
  /** Process group and session id (Linux: /proc/PID/stat). */
  pgid?: number
  sid?: number
  /** Controlling terminal device number, 0 when none. */
  ttyNr?: number
  /** One-letter kernel state: R S D Z T t X I. */
  state?: string
  uid?: number
  /** Kernel command name (15 chars max on Linux). */
  comm: string
  /** argv as the kernel holds it (/proc/PID/cmdline), or ps-list's split fallback. */
  argv: string[]
  /**
   * Start time as clock ticks since boot (stat field 22): the exact identity of a process together with
   * its pid. Compared verbatim to detect PID reuse.
   */
  startTicks?: number
  /** Start time in ms since the epoch (boot time + startTicks / CLK_TCK). */
  startTimeMs?: number
  rssBytes?: number
  /** Proportional set size from smaps_rollup, when readable: shared pages counted once across processes. */
  pssBytes?: number
  /** Only the KEPT_ENV_KEYS that were present and readable. */
  env: Partial<Record<KeptEnvKey, string>>
}

export interface TmuxPane {
  session: string
  sessionId: string
  windowIndex: number
  paneId: string
  panePid: number
  dead: boolean
  currentCommand: string
}

export type TmuxServerStatus = 'ok' | 'stale' | 'unresponsive' | 'error'

export interface TmuxServer {
  /** Absolute socket path: the identity of a server. */
  socket: string
  /** Server pid as reported by the server itself (#{pid}) or found in the process table. */
  pid?: number
  status: TmuxServerStatus
  /** Why the server could not be listed (stale socket, timeout, error text). */
  error?: string
  /** How the socket was found: directory scan, a server's command line, or the user's --socket. */
  foundBy: Array<'socket-dir' | 'process' | 'env' | 'flag' | 'config'>
  panes: TmuxPane[]
}

export interface HostFacts {
  platform: string
  release: string
  wsl: boolean
  hostname: string
  totalMemoryBytes: number
  /** Boot time in ms since the epoch, used to turn start ticks into wall time. */
  bootTimeMs?: number
  clockTicksPerSecond: number
  /** The uid the doctor runs as; fixes act only on this uid's processes unless told otherwise. */
  uid: number
  doctorPid: number
  /** The doctor's parent chain up to PID 1: never a target. */
  doctorAncestors: number[]
  /** The Claude Code version most Claude processes run (native binary path or the npm package's package.json). */
  claudeVersion?: string
}

export interface Snapshot {
  snapshotVersion: typeof SNAPSHOT_VERSION
  collectedAt: string
  host: HostFacts
  processes: ProcessInfo[]
  tmux: {
    available: boolean
    version?: string
    servers: TmuxServer[]
  }
  /** What could not be measured on this host (non-Linux, unreadable /proc files, ...), in plain words. */
  limitations: string[]
}
