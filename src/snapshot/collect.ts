import {existsSync, readdirSync} from 'node:fs'
import os from 'node:os'
import {
  parseBootTime,
  parseCgroup,
  parseCmdline,
  parseSmapsRollup,
  parseStat,
  parseStatus,
  readProcEnviron,
  readProcText,
  readText,
} from './proc.js'
import {repairParentLinks} from './parents.js'
import {detectClaudeVersion, procVersionReaders} from './claude-version.js'
import {discoverSockets, queryServer, runTmux} from './tmux.js'
import {collectMultiplexers, type MuxRunner} from './multiplexers.js'
import {collectContainers} from './containers.js'
import {SNAPSHOT_VERSION, type HostFacts, type ProcessInfo, type Snapshot} from './types.js'
import {phase} from '../timing.js'
import {deepFreeze} from '../freeze.js'

/** Where collection is: the process table, then the tmux servers (asked together, `answered` of `total`). */
export type CollectStep =
  | {step: 'processes'}
  | {step: 'servers'; answered: number; total: number; waitingFor: string[]}
  | {step: 'done'}

export interface CollectOptions {
  /** Extra tmux sockets to query (from --socket and the config). */
  sockets?: string[]
  /** How long one tmux server may take to answer list-panes. */
  tmuxTimeoutMs?: number
  tmuxBin?: string
  /** How screen, zellij and container runtimes are asked (tests replay recorded answers). */
  muxRun?: MuxRunner
  /** screen's socket directory (default $SCREENDIR, else /run/screen/S-USER). */
  screenDir?: string
  /** Where to read process files from (tests point this at a recorded /proc). */
  procRoot?: string
  /** The process table (default: the pids in /proc on Linux, ps-list elsewhere); tests replay a recorded one. */
  listProcesses?: () => Promise<ListedProcess[]>
  /**
   * The processes to read PSS for (smaps_rollup, the costliest read: the kernel walks the page tables),
   * chosen from the processes as read without it. Default: every process. The others keep their RSS.
   */
  pssFor?: (processes: readonly ProcessInfo[]) => ReadonlySet<number>
  /**
   * The processes to read the cgroup of (what tells a supervised service from an orphan), tmux servers and
   * the doctor itself always included. Default: every process.
   */
  cgroupFor?: (processes: readonly ProcessInfo[]) => ReadonlySet<number>
  /** Told what collection is doing (a person watches a terminal): reading processes, asking each server. */
  onProgress?: (step: CollectStep) => void
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
 * Every process the system shows: on Linux the numeric directories of /proc (one readdir; the /proc reads
 * that follow give everything ps would), elsewhere ps-list (loaded only there: it runs ps twice and
 * resolves every executable, which on a crowded Linux machine costs more than all the /proc reads).
 */
async function listProcesses(linux: boolean, procRoot: string): Promise<ListedProcess[]> {
  if (!linux) {
    const {default: psList} = await import('ps-list')
    return psList({all: true})
  }
  const pids: number[] = []
  for (const name of readdirSync(procRoot)) {
    const c = name.charCodeAt(0)
    if (c >= 48 && c <= 57 && /^\d+$/.test(name)) pids.push(Number(name))
  }
  return pids.sort((a, b) => a - b).map((pid) => ({pid, ppid: 0, name: ''}))
}

/**
 * Collects the one snapshot every check reads: processes first, tmux panes after, so a process that
 * appears without a pane is not a start-up race. The only function that reads the system for detection.
 */
export async function collectSnapshot(opts: CollectOptions = {}): Promise<Snapshot> {
  const procRoot = opts.procRoot ?? '/proc'
  const linux = (opts.procRoot !== undefined || process.platform === 'linux') && existsSync(`${procRoot}/self/stat`)
  const limitations: string[] = []

  opts.onProgress?.({step: 'processes'})
  const tmuxVersionP = runTmux(['-V'], 2000, opts.tmuxBin)
  const listed = await (opts.listProcesses ?? (() => listProcesses(linux, procRoot)))()
  phase('collect.list')

  const serverTmpdirs = new Map<number, string | undefined>()
  const processes: ProcessInfo[] = []
  /** Processes with memory of their own (not kernel threads): the ones PSS is read for. */
  const userProcesses: ProcessInfo[] = []
  let unreadableEnv = 0
  const bootTimeMs = linux ? parseBootTime(readText(`${procRoot}/stat`) ?? '') : undefined
  const ownChildren = opts.procRoot === undefined && opts.listProcesses === undefined

  for (const entry of listed) {
    if (!linux) {
      processes.push({
        pid: entry.pid,
        ppid: entry.ppid,
        uid: entry.uid,
        comm: entry.name,
        argv: (entry.cmd ?? entry.name).split(' ').filter(Boolean),
        env: {},
      })
      continue
    }
    const dir = `${procRoot}/${entry.pid}`
    const stat = parseStat(readProcText(`${dir}/stat`) ?? '')
    // Gone between the listing and /proc: dropped, it no longer exists to be judged.
    if (!stat) continue
    // The doctor's own children (its `tmux -V`, mid-exec or a zombie) are not the machine's processes.
    if (ownChildren && stat.ppid === process.pid) continue
    const status = parseStatus(readProcText(`${dir}/status`, 'latin1') ?? '')
    const kernelThread = stat.kernelThread
    const argv = kernelThread ? [] : parseCmdline(readProcText(`${dir}/cmdline`) ?? '')
    let env: ProcessInfo['env'] = {}
    let envUnreadable = false
    if (!kernelThread) {
      const server = stat.comm === TMUX_SERVER_COMM
      const environ = readProcEnviron(`${dir}/environ`, server ? 'TMUX_TMPDIR' : undefined)
      if (environ === undefined) {
        unreadableEnv++
        envUnreadable = true
      } else {
        env = environ.env
        if (server) serverTmpdirs.set(entry.pid, environ.extra)
      }
    }
    const p: ProcessInfo = {
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
      startTimeMs:
        bootTimeMs === undefined ? undefined : Math.round(bootTimeMs + (stat.startTicks * 1000) / CLOCK_TICKS),
      rssBytes: status.rssBytes,
      pssBytes: undefined,
      env,
    }
    if (envUnreadable) p.envUnreadable = true
    processes.push(p)
    if (!kernelThread) userProcesses.push(p)
  }
  phase('collect.read')
  const cut = repairParentLinks(processes)
  if (cut.length > 0) {
    const some = cut.length > 5 ? `${cut.slice(0, 5).join(', ')}, …` : cut.join(', ')
    limitations.push(
      `${cut.length} process${cut.length === 1 ? '' : 'es'} (pid ${some}) named a parent that started after ${cut.length === 1 ? 'it' : 'them'} (pid reuse while /proc was read): parent unknown, not judged; run again`,
    )
  }
  if (linux) readPss(processes, userProcesses, procRoot, opts.pssFor, limitations)
  phase('collect.pss')
  if (linux) readCgroups(userProcesses, procRoot, opts.cgroupFor?.(processes))
  phase('collect.cgroup')
  if (!linux) {
    limitations.push(
      `${process.platform}: no /proc, so start times (PID reuse), memory, process groups and tmux variables are not measured; --fix is disabled`,
    )
  }
  if (unreadableEnv > 0) {
    const pids = processes.filter((p) => p.envUnreadable).map((p) => p.pid)
    const which = pids.length <= 5 ? ` (pid ${pids.join(', ')})` : ''
    limitations.push(
      `environment unreadable for ${unreadableEnv} process${unreadableEnv === 1 ? '' : 'es'}${which} (not permitted): their TMUX variables are unknown`,
    )
  }

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
  phase('collect.host')
  const timeoutMs = opts.tmuxTimeoutMs ?? 3000
  const waiting = new Set(candidates.map((c) => c.path))
  const tell = () =>
    opts.onProgress?.({
      step: 'servers',
      answered: candidates.length - waiting.size,
      total: candidates.length,
      waitingFor: [...waiting],
    })
  if (candidates.length > 0) tell()
  const [servers, multiplexers, containers] = await Promise.all([
    Promise.all(
      candidates.map(async (c) => {
        const server = await queryServer(c, timeoutMs, opts.tmuxBin)
        waiting.delete(c.path)
        tell()
        return server
      }),
    ),
    collectMultiplexers(processes, {timeoutMs, run: opts.muxRun, screenDir: opts.screenDir}),
    collectContainers(processes, {timeoutMs, run: opts.muxRun}),
  ])
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
    multiplexers,
    ...(containers ? {containers} : {}),
    limitations,
  }
  phase('collect.tmux')
  opts.onProgress?.({step: 'done'})
  // The processes have a known shape: freezing each one's argv and env directly is twice as fast as the
  // generic walk, and the result is the same (every object in the snapshot frozen).
  for (const p of processes) {
    Object.freeze(p.argv)
    Object.freeze(p.env)
    Object.freeze(p)
  }
  deepFreeze(snapshot)
  phase('collect.freeze')
  return snapshot
}

/**
 * PSS from smaps_rollup for the chosen processes (every one with memory of its own unless `pssFor` says
 * otherwise), set on each before the snapshot is frozen.
 */
function readPss(
  processes: readonly ProcessInfo[],
  userProcesses: readonly ProcessInfo[],
  procRoot: string,
  pssFor: CollectOptions['pssFor'],
  limitations: string[],
): void {
  const chosen = pssFor?.(processes)
  phase('collect.candidates')
  let unreadable = 0
  let skipped = 0
  for (const p of userProcesses) {
    if (chosen && !chosen.has(p.pid)) {
      skipped++
      continue
    }
    const smaps = readProcText(`${procRoot}/${p.pid}/smaps_rollup`, 'latin1')
    p.pssBytes = smaps === undefined ? undefined : parseSmapsRollup(smaps)
    if (smaps === undefined && p.rssBytes) unreadable++
  }
  if (unreadable > 0)
    limitations.push(
      `PSS unreadable for ${unreadable} process${unreadable === 1 ? '' : 'es'} (not permitted): RSS used for them`,
    )
  // With no process in a Claude Code, MCP or CLAUDECODE=1 tree there is no orphan memory to measure: no note.
  if (skipped > 0 && chosen !== undefined && chosen.size > 0) {
    limitations.push(
      `PSS read only for the ${(chosen?.size ?? 0).toLocaleString('en-US')} processes in Claude Code, MCP and CLAUDECODE=1 trees (every process an orphan tree can hold); RSS for the other ${skipped.toLocaleString('en-US')}`,
    )
  }
}

/**
 * The cgroup of the chosen processes (all by default), of every tmux server and of the doctor itself (the
 * analysis tells a supervising unit from the user's session by them), set before the snapshot is frozen.
 */
function readCgroups(
  userProcesses: readonly ProcessInfo[],
  procRoot: string,
  chosen: ReadonlySet<number> | undefined,
): void {
  for (const p of userProcesses) {
    if (chosen && !chosen.has(p.pid) && p.comm !== TMUX_SERVER_COMM && p.pid !== process.pid) continue
    const text = readProcText(`${procRoot}/${p.pid}/cgroup`, 'latin1')
    const cgroup = text === undefined ? undefined : parseCgroup(text)
    if (cgroup !== undefined) p.cgroup = cgroup
  }
}

function hostFacts(
  processes: readonly ProcessInfo[],
  uid: number,
  bootTimeMs: number | undefined,
  procRoot: string,
): HostFacts {
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
    claudeVersion: detectClaudeVersion(processes, procVersionReaders(procRoot)),
  }
}
