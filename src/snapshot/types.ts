/**
 * The snapshot is the only view of the machine that checks ever see: collected once, frozen, and
 * JSON-serialisable so that a recorded one (fixtures/, `gt-doctor snapshot`) behaves exactly like a live one.
 */

/** Bumped whenever a field changes meaning; `check --from` refuses versions it does not know. */
export const SNAPSHOT_VERSION = 1

/**
 * The only environment keys the collector keeps. Everything else in /proc/PID/environ is never stored
 * (CLAUDE_CODE_MESSAGING_TOKEN, beside the socket, is a per-session secret). CLAUDE_PID (set for the Bash
 * tool's commands), CLAUDE_CODE_MESSAGING_SOCKET (`…/cc-socks/<claude pid>.sock`, set for MCP servers) and
 * CLAUDE_CODE_SESSION_ID tie a process to its claude after reparenting; CLAUDE_CODE_ENTRYPOINT says how that
 * claude ran (`cli`, `sdk-cli` for `claude -p`). None of them is a secret.
 */
export const KEPT_ENV_KEYS = [
  'TMUX',
  'TMUX_PANE',
  'CLAUDECODE',
  'CLAUDE_CODE_SESSION_ID',
  'CLAUDE_PID',
  'CLAUDE_CODE_ENTRYPOINT',
  'CLAUDE_CODE_MESSAGING_SOCKET',
  // Other agents' markers for what they start (rules.agents[].env): flags, never secrets.
  'CODEX_MANAGED_BY_NPM',
  'CODEX_MANAGED_BY_BUN',
  'CODEX_MANAGED_BY_PNPM',
  'CODEX_SANDBOX_NETWORK_DISABLED',
  'GEMINI_CLI_NO_RELAUNCH',
  'OPENCODE',
  // GNU screen (`pid.name`, the window number) and zellij (session name, pane id) mark their windows' processes.
  'STY',
  'WINDOW',
  'ZELLIJ_SESSION_NAME',
  'ZELLIJ_PANE_ID',
] as const
export type KeptEnvKey = (typeof KEPT_ENV_KEYS)[number]

/** One process as the snapshot saw it. Optional fields are missing where they could not be read. */
export interface ProcessInfo {
  /** Process id. */
  pid: number
  /**
   * Parent pid (0 for PID 1 and kernel threads, and for a parent outside this PID namespace). Equal to `pid`
   * when the parent is unknown: the collector cut a link that PID reuse during collection made impossible.
   */
  ppid: number
  /** Process group and session id (Linux: /proc/PID/stat). */
  pgid?: number
  /** Session id (setsid), from /proc/PID/stat. */
  sid?: number
  /** Controlling terminal device number, 0 when none. */
  ttyNr?: number
  /** One-letter kernel state: R S D Z T t X I. */
  state?: string
  /** Real user id of the owner. */
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
  /** Resident set size. */
  rssBytes?: number
  /** Proportional set size from smaps_rollup, when readable: shared pages counted once across processes. */
  pssBytes?: number
  /** Only the KEPT_ENV_KEYS that were present and readable. */
  env: Partial<Record<KeptEnvKey, string>>
  /**
   * /proc/PID/environ could not be read (not permitted): `env` is empty because nothing is known, not because
   * the process has no TMUX variables. Absent when it was read (and for kernel threads, which have none).
   */
  envUnreadable?: true
  /**
   * The process's cgroup as systemd sees it (`/user.slice/user-1000.slice/user@1000.service/app.slice/x.service`):
   * the unified hierarchy's path (`0::`), or the `name=systemd` hierarchy's where that one says more (cgroup
   * v1). Read only for processes an orphan tree can hold, tmux servers and the doctor itself.
   */
  cgroup?: string
}

/** One pane of a tmux server that answered. */
export interface TmuxPane {
  /** Session name. */
  session: string
  /** Session id (`$3`), stable while the session lives; `TMUX` variables name it by its number. */
  sessionId: string
  /** Index of the pane's window in its session. */
  windowIndex: number
  /** Pane id (`%7`), the value of `TMUX_PANE` inside it. */
  paneId: string
  /** The pane's own process (usually a shell or the program it was started with). */
  panePid: number
  /** The pane's process exited and remain-on-exit keeps the pane. */
  dead: boolean
  /** tmux's #{pane_current_command}. */
  currentCommand: string
}

/**
 * `ok`: answered; `stale`: a socket with no server behind it (connection refused / no server running);
 * `unresponsive`: no answer in time; `error`: any other failure.
 */
export type TmuxServerStatus = 'ok' | 'stale' | 'unresponsive' | 'error'

/** One tmux server, found by its socket. */
export interface TmuxServer {
  /** Absolute socket path: the identity of a server. */
  socket: string
  /** Server pid as reported by the server itself (#{pid}) or found in the process table. */
  pid?: number
  /** Whether the server answered. */
  status: TmuxServerStatus
  /** Why the server could not be listed (stale socket, timeout, error text). */
  error?: string
  /** How the socket was found: directory scan, a server's command line, or the user's --socket. */
  foundBy: Array<'socket-dir' | 'process' | 'env' | 'flag' | 'config'>
  /** Every pane, live or dead (empty unless `status` is ok). */
  panes: TmuxPane[]
}

/** One GNU screen or zellij session, asked once like a tmux server. */
export interface MultiplexerSession {
  kind: 'screen' | 'zellij'
  /** screen: `pid.name` (the STY value; the pid alone when only its SCREEN process was seen); zellij: the session name. */
  id: string
  /** The session name. */
  name: string
  /** The server process (screen: the pid of its id; zellij: the `zellij --server` process), when known. */
  pid?: number
  /** As for tmux servers: `ok` answered, `stale` no server behind it, `unresponsive` / `error` could not be asked. */
  status: TmuxServerStatus
  error?: string
  foundBy: Array<'socket-dir' | 'process' | 'env'>
  /** screen: the window numbers it listed (`-Q windows`). */
  windows?: number[]
  /** screen: the socket directory it was asked in. */
  socketDir?: string
}

/** A container runtime (docker, podman) asked once for its running containers, because a `run` client runs. */
export interface ContainerRuntime {
  runtime: 'docker' | 'podman'
  /** `ok`: it answered `ps`; otherwise it could not be asked, and no container of it is guessed. */
  status: 'ok' | 'unresponsive' | 'error'
  error?: string
  /** Its running containers: full id, names, image as given to `run`. */
  containers: Array<{id: string; names: string[]; image: string}>
  /** The container id in each --cidfile a client names, where the file could be read. */
  cidfiles?: Record<string, string>
}

/** Facts about the machine and the doctor's own process. */
export interface HostFacts {
  /** `process.platform`: linux, darwin, ... */
  platform: string
  /** Kernel release. */
  release: string
  /** Running under Windows Subsystem for Linux. */
  wsl: boolean
  /** The machine's host name. */
  hostname: string
  /** Physical memory of the machine. */
  totalMemoryBytes: number
  /** Boot time in ms since the epoch, used to turn start ticks into wall time. */
  bootTimeMs?: number
  /** CLK_TCK: the unit of `ProcessInfo.startTicks`. */
  clockTicksPerSecond: number
  /** The uid the doctor runs as; fixes act only on this uid's processes unless told otherwise. */
  uid: number
  /** The doctor's own pid: never a target. */
  doctorPid: number
  /** The doctor's parent chain up to PID 1: never a target. */
  doctorAncestors: number[]
  /** The Claude Code version most Claude processes run (native binary path or the npm package's package.json). */
  claudeVersion?: string
}

/** One immutable picture of the machine: every check reads this and nothing else. */
export interface Snapshot {
  /** The layout version of this snapshot (SNAPSHOT_VERSION). */
  snapshotVersion: typeof SNAPSHOT_VERSION
  /** ISO time of the collection. */
  collectedAt: string
  /** Facts about the machine and the doctor's own process. */
  host: HostFacts
  /** Every process the doctor could see, sorted by pid. */
  processes: ProcessInfo[]
  /** tmux as found on the machine. */
  tmux: {
    /** A tmux binary was found. */
    available: boolean
    /** `tmux -V`, when available. */
    version?: string
    /** Every server found (socket directory, running servers, TMUX variables, --socket, config `sockets`). */
    servers: TmuxServer[]
  }
  /** GNU screen and zellij sessions (absent in snapshots recorded before they were collected). */
  multiplexers?: {
    screen: {available: boolean; sessions: MultiplexerSession[]}
    zellij: {available: boolean; sessions: MultiplexerSession[]}
  }
  /** Container runtimes asked because a `docker run` / `podman run` client runs (absent when none runs). */
  containers?: ContainerRuntime[]
  /** What could not be measured on this host (non-Linux, unreadable /proc files, ...), in plain words. */
  limitations: string[]
}
