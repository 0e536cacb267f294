import {existsSync} from 'node:fs'
import os from 'node:os'
import {CLOCK_TICKS, readProcessTable, TMUX_SERVER_COMM, type ListedProcess} from './process-table.js'
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

export type {ListedProcess}

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

/**
 * Collects the one snapshot every check reads: processes first, tmux panes after, so a process that
 * appears without a pane is not a start-up race. The only entry point that reads the system for detection.
 */
export async function collectSnapshot(opts: CollectOptions = {}): Promise<Snapshot> {
  const procRoot = opts.procRoot ?? '/proc'
  const linux = (opts.procRoot !== undefined || process.platform === 'linux') && existsSync(`${procRoot}/self/stat`)

  opts.onProgress?.({step: 'processes'})
  const tmuxVersionP = runTmux(['-V'], 2000, opts.tmuxBin)
  const {processes, serverTmpdirs, bootTimeMs, limitations} = await readProcessTable({
    linux,
    procRoot,
    listProcesses: opts.listProcesses,
    pssFor: opts.pssFor,
    cgroupFor: opts.cgroupFor,
    ownChildren: opts.procRoot === undefined && opts.listProcesses === undefined,
  })

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
