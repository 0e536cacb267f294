import {existsSync, readlinkSync} from 'node:fs'
import os from 'node:os'
import psList from 'ps-list'
import {
  environValue,
  parseBootTime,
  parseCmdline,
  parseEnviron,
  parseSmapsRollup,
  parseStat,
  parseStatus,
  readText,
} from './proc.js'
import {detectClaudeVersion} from './claude-version.js'
import {discoverSockets, queryServer, runTmux} from './tmux.js'
import {SNAPSHOT_VERSION, type HostFacts, type ProcessInfo, type Snapshot} from './types.js'

export interface CollectOptions {
  /** Extra tmux sockets to query (from --socket and the config). */
  sockets?: string[]
  /** How long one tmux server may take to answer list-panes. */
  tmuxTimeoutMs?: number
  tmuxBin?: string
  /** Where to read process files from (tests point this at a recorded /proc). */
  procRoot?: string
  /** The process table (default: ps-list); tests replay a recorded one. */
  listProcesses?: () => Promise<ListedProcess[]>
}

/** What ps-list gives for a process: the table the /proc reads enrich. */
export interface ListedProcess {
  pid: number
  ppid: number
  uid?: number
  name: string
  cmd?: string
}

/** Linux has used 100 ticks per second on every mainstream architecture for decades. */
const CLOCK_TICKS = 100
const TMUX_SERVER_COMM = 'tmux: server'

/**
 * Collects the one snapshot every check reads: processes first, tmux panes after, so a process that
 * appears without a pane is not a start-up race. The only function that reads the system for detection.
 */
export async function collectSnapshot(opts: CollectOptions = {}): Promise<Snapshot> {
  const procRoot = opts.procRoot ?? '/proc'
  const linux = (opts.procRoot !== undefined || process.platform === 'linux') && existsSync(`${procRoot}/self/stat`)
  const limitations: string[] = []

  const tmuxVersionP = runTmux(['-V'], 2000, opts.tmuxBin)
  const listed = await (opts.listProcesses ?? (() => psList({all: true})))()

  const serverTmpdirs = new Map<number, string | undefined>()
  const processes: ProcessInfo[] = []
  let unreadablePss = 0
  let unreadableEnv = 0
  const bootTimeMs = linux ? parseBootTime(readText(`${procRoot}/stat`) ?? '') : undefined

  for (const entry of listed) {
    if (!linux) {
      processes.push(
{
          pid: entry.pid,
          ppid: entry.ppid,
          uid: entry.uid,
          comm: entry.name,
          argv: (entry.cmd ?? entry.name).split(' ').filter(Boolean),
          env: {},
        },
      )
      continue
    }
    const dir = `${procRoot}/${entry.pid}`
    const stat = parseStat(readText(`${dir}/stat`) ?? '')
    // Gone between ps and /proc: dropped, it no longer exists to be judged.
    if (!stat) continue
    const status = parseStatus(readText(`${dir}/status`) ?? '')
    const kernelThread = stat.kernelThread
    const argv = kernelThread ? [] : parseCmdline(readText(`${dir}/cmdline`) ?? '')
    let pssBytes: number | undefined
    let env: ProcessInfo['env'] = {}
    if (!kernelThread) {
      const smaps = readText(`${dir}/smaps_rollup`)
      pssBytes = smaps === undefined ? undefined : parseSmapsRollup(smaps)
      if (smaps === undefined && status.rssBytes) unreadablePss++
      const environ = readText(`${dir}/environ`)
      if (environ === undefined) unreadableEnv++
      else {
        env = parseEnviron(environ)
        if (stat.comm === TMUX_SERVER_COMM) serverTmpdirs.set(entry.pid, environValue(environ, 'TMUX_TMPDIR'))
      }
    }
    processes.push({
        pid: entry.pid,
        ppid: stat.ppid,
        pgid: stat.pgid,
        sid: stat.sid,
        ttyNr: stat.ttyNr,
        state: stat.state,
        uid: status.uid ?? entry.uid,
        comm: stat.comm,
        argv,
        startTicks: stat.startTicks,
        startTimeMs: bootTimeMs === undefined ? undefined : Math.round(bootTimeMs + (stat.startTicks * 1000) / CLOCK_TICKS),
        rssBytes: status.rssBytes,
        pssBytes,
        env,
    })
  }
  if (!linux) {
    limitations.push(
      `${process.platform}: no /proc, so start times (PID reuse), memory, process groups and tmux variables are not measured; --fix is disabled`,
    )
  }
  if (unreadablePss > 0) limitations.push(`PSS unreadable for ${unreadablePss} processes (other users'): RSS used for them`)
  if (unreadableEnv > 0) limitations.push(`environment unreadable for ${unreadableEnv} processes (other users')`)

  const uid = process.getuid?.() ?? 0
  const tmuxVersion = await tmuxVersionP
  const available = !tmuxVersion.missing
  const candidates = available
    ? discoverSockets({
        processes,
        isTmuxServer: (p) => p.comm === TMUX_SERVER_COMM,
        serverTmpdirs,
        uid,
        tmuxTmpdir: process.env.TMUX_TMPDIR,
        extra: opts.sockets ?? [],
      })
    : []
  const servers = await Promise.all(candidates.map((c) => queryServer(c, opts.tmuxTimeoutMs ?? 3000, opts.tmuxBin)))
  if (!available) limitations.push('tmux not found: pane ownership cannot be checked')

  const snapshot: Snapshot = {
    snapshotVersion: SNAPSHOT_VERSION,
    collectedAt: new Date().toISOString(),
    host: hostFacts(processes, uid, bootTimeMs, procRoot),
    processes,
    tmux: {
      available,
      version: available ? tmuxVersion.stdout.trim().replace(/^tmux\s+/, '') || undefined : undefined,
      servers: servers.sort((a, b) => a.socket.localeCompare(b.socket)),
    },
    limitations,
  }
  return deepFreeze(snapshot)
}

function hostFacts(processes: readonly ProcessInfo[], uid: number, bootTimeMs: number | undefined, procRoot: string): HostFacts {
  const release = os.release()
  const byPid = new Map(processes.map((p) => [p.pid, p]))
  const ancestors: number[] = []
  let cur = byPid.get(process.pid)?.ppid ?? process.ppid
  const seen = new Set<number>()
  while (cur > 0 && !seen.has(cur)) {
    ancestors.push(cur)
    seen.add(cur)
    cur = byPid.get(cur)?.ppid ?? 0
  }
  return {
    platform: process.platform,
    release,
    wsl: /microsoft|wsl/i.test(release) || Boolean(process.env.WSL_DISTRO_NAME),
    hostname: os.hostname(),
    totalMemoryBytes: os.totalmem(),
    bootTimeMs,
    clockTicksPerSecond: CLOCK_TICKS,
    uid,
    doctorPid: process.pid,
    doctorAncestors: ancestors,
    claudeVersion: detectClaudeVersion(processes, {
      readExe: (pid) => {
        try {
          return readlinkSync(`${procRoot}/${pid}/exe`)
        } catch {
          return undefined
        }
      },
      readPackageVersion: (dir) => {
        try {
          const version: unknown = JSON.parse(readText(`${dir}/package.json`) ?? '{}').version
          return typeof version === 'string' ? version : undefined
        } catch {
          return undefined
        }
      },
    }),
  }
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
