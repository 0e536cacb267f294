/**
 * The /proc pass of collection: every process as the kernel shows it (stat, status, cmdline, environ),
 * parents repaired where a pid was reused mid-read, then PSS and cgroups for the processes that need them,
 * with a limitation for whatever could not be read. It asks no other program; collect.ts asks the
 * multiplexers and container runtimes afterwards, with this table in hand.
 */
import {readdirSync} from 'node:fs'
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
import type {ProcessInfo} from './types.js'
import {phase} from '../timing.js'
import {plural} from '../words.js'

/** What ps-list gives for a process: the table the /proc reads enrich. */
export interface ListedProcess {
  pid: number
  ppid: number
  uid?: number
  name: string
  cmd?: string
}

/** Linux has used 100 ticks per second on every mainstream architecture for decades. */
export const CLOCK_TICKS = 100
export const TMUX_SERVER_COMM = 'tmux: server'

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

export interface ProcessTableOptions {
  /** Whether /proc is there to be read; without it the table is ps-list's and the limitation says so. */
  linux: boolean
  procRoot: string
  listProcesses?: () => Promise<ListedProcess[]>
  pssFor?: (processes: readonly ProcessInfo[]) => ReadonlySet<number>
  cgroupFor?: (processes: readonly ProcessInfo[]) => ReadonlySet<number>
  /** Leave out the doctor's own children (off when the table is a recorded one). */
  ownChildren: boolean
}

export interface ProcessTable {
  processes: ProcessInfo[]
  /** Each tmux server's TMUX_TMPDIR, where it keeps its sockets. */
  serverTmpdirs: Map<number, string | undefined>
  bootTimeMs: number | undefined
  limitations: string[]
}

/** Every process of the machine with what /proc tells of it, and what could not be read as limitations. */
export async function readProcessTable(opts: ProcessTableOptions): Promise<ProcessTable> {
  const {linux, procRoot, ownChildren} = opts
  const limitations: string[] = []
  const listed = await (opts.listProcesses ?? (() => listProcesses(linux, procRoot)))()
  phase('collect.list')

  const serverTmpdirs = new Map<number, string | undefined>()
  const processes: ProcessInfo[] = []
  /** Processes with memory of their own (not kernel threads): the ones PSS is read for. */
  const userProcesses: ProcessInfo[] = []
  let unreadableEnv = 0
  const bootTimeMs = linux ? parseBootTime(readText(`${procRoot}/stat`) ?? '') : undefined

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
      `environment unreadable for ${plural(unreadableEnv, 'process', 'processes')}${which} (not permitted): their TMUX variables are unknown`,
    )
  }

  return {processes, serverTmpdirs, bootTimeMs, limitations}
}

/**
 * PSS from smaps_rollup for the chosen processes (every one with memory of its own unless `pssFor` says
 * otherwise), set on each before the snapshot is frozen.
 */
function readPss(
  processes: readonly ProcessInfo[],
  userProcesses: readonly ProcessInfo[],
  procRoot: string,
  pssFor: ProcessTableOptions['pssFor'],
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
