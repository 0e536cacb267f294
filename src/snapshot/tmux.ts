import {lstatSync, readdirSync, type Stats} from 'node:fs'
import {join, resolve} from 'node:path'
import {plural} from '../words.js'
import {failureLine, runBounded, type BoundedRunResult} from './run-bounded.js'
import {tmuxSocketOf} from './tmux-env.js'
import type {ProcessInfo, TmuxPane, TmuxServer} from './types.js'

type FoundBy = TmuxServer['foundBy'][number]

/** Field separator for list-panes: a control character no session name contains. */
const SEP = '\u001f'
export const LIST_PANES_FORMAT = [
  '#{pid}',
  '#{session_name}',
  '#{session_id}',
  '#{window_index}',
  '#{pane_id}',
  '#{pane_pid}',
  '#{pane_dead}',
  '#{pane_current_command}',
].join(SEP)

export type TmuxRunResult = BoundedRunResult

/**
 * Runs the tmux binary once. The only way the collector talks to tmux. `-u`: outside a UTF-8 locale (cron,
 * systemd units, CI: LANG unset) tmux rewrites every non-printable character of its answer to `_`, the
 * field separator included, and list-panes would read as a server without panes.
 */
export function runTmux(args: string[], timeoutMs: number, tmuxBin = 'tmux'): Promise<TmuxRunResult> {
  return runBounded(tmuxBin, ['-u', ...args], {timeoutMs, maxBuffer: 64 * 1024 * 1024})
}

const PID = /^[1-9][0-9]*$/

/**
 * Parses `tmux list-panes -a -F LIST_PANES_FORMAT` output: the server pid and every pane. A line it cannot
 * read is counted, never skipped silently: an answer with unread lines does not prove which panes exist.
 */
export function parseListPanes(stdout: string): {serverPid?: number; panes: TmuxPane[]; unreadable: number} {
  const panes: TmuxPane[] = []
  let serverPid: number | undefined
  let unreadable = 0
  for (const line of stdout.split('\n')) {
    if (!line) continue
    const f = line.split(SEP)
    if (f.length < 8 || !PID.test(f[0]) || !PID.test(f[5])) {
      unreadable++
      continue
    }
    serverPid ??= Number(f[0])
    panes.push({
      session: f[1],
      sessionId: f[2],
      windowIndex: Number(f[3]),
      paneId: f[4],
      panePid: Number(f[5]),
      dead: f[6] === '1',
      // A command name may hold the separator itself: everything after the seventh field is the command.
      currentCommand: f.slice(7).join(SEP),
    })
  }
  return {serverPid, panes, unreadable}
}

/** The socket a tmux server process serves, from its original command line (`-L name`, `-S path`). */
export function socketFromServerArgv(argv: string[], uid: number | undefined, tmuxTmpdir: string | undefined): string {
  let label = 'default'
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]
    if (a === '-S' && argv[i + 1]) return resolve(argv[i + 1])
    if (a.startsWith('-S') && a.length > 2) return resolve(a.slice(2))
    if (a === '-L' && argv[i + 1]) label = argv[++i]
    else if (a.startsWith('-L') && a.length > 2) label = a.slice(2)
    else if (a === '-f' || a === '-c' || a === '-T')
      i++ // global options that take a value
    else if (!a.startsWith('-')) break // the tmux command (new-session, ...) ends the global options
  }
  return join(tmuxTmpdir || '/tmp', `tmux-${uid ?? process.getuid?.() ?? 0}`, label)
}

export {socketFromTmuxEnv} from './tmux-env.js'

export interface SocketCandidate {
  path: string
  foundBy: FoundBy[]
}

/**
 * Every socket file in a socket directory (`$TMUX_TMPDIR/tmux-UID`, screen's SCREENDIR), as paths; `accept`
 * says which entries count (GNU screen may use FIFOs). Nothing when the directory cannot be read.
 */
export function socketsInDir(dir: string, accept: (st: Stats) => boolean = (st) => st.isSocket()): string[] {
  try {
    return readdirSync(dir)
      .map((name) => join(dir, name))
      .filter((path) => {
        try {
          return accept(lstatSync(path))
        } catch {
          return false
        }
      })
  } catch {
    return []
  }
}

/**
 * Where tmux servers may listen: the user's socket directory, the sockets named by running server
 * processes, the sockets processes' TMUX variables point at, and the ones the user names.
 */
export function discoverSockets(opts: {
  processes: readonly ProcessInfo[]
  isTmuxServer: (p: ProcessInfo) => boolean
  serverTmpdirs: ReadonlyMap<number, string | undefined>
  uid: number
  tmuxTmpdir?: string
  extra: string[]
}): SocketCandidate[] {
  const found = new Map<string, Set<FoundBy>>()
  // Thousands of processes name the same few sockets in their TMUX variable: resolve each path once.
  const resolved = new Map<string, string>()
  const add = (path: string, by: FoundBy) => {
    let key = resolved.get(path)
    if (key === undefined) resolved.set(path, (key = resolve(path)))
    const set = found.get(key) ?? new Set<FoundBy>()
    set.add(by)
    found.set(key, set)
  }
  for (const path of opts.extra) add(path, 'flag')
  for (const path of socketsInDir(join(opts.tmuxTmpdir || '/tmp', `tmux-${opts.uid}`))) add(path, 'socket-dir')
  for (const p of opts.processes) {
    if (opts.isTmuxServer(p)) add(socketFromServerArgv(p.argv, p.uid, opts.serverTmpdirs.get(p.pid)), 'process')
    const tmuxEnv = tmuxSocketOf(p)
    if (tmuxEnv) add(tmuxEnv, 'env')
  }
  return [...found].map(([path, by]) => ({path, foundBy: [...by]}))
}

/** Lists one server's panes with a single tmux call. Never throws: failures become the server's status. */
export async function queryServer(
  candidate: SocketCandidate,
  timeoutMs: number,
  tmuxBin?: string,
): Promise<TmuxServer> {
  const base = {socket: candidate.path, foundBy: candidate.foundBy, panes: [] as TmuxPane[]}
  const r = await runTmux(['-S', candidate.path, 'list-panes', '-a', '-F', LIST_PANES_FORMAT], timeoutMs, tmuxBin)
  if (r.timedOut) return {...base, status: 'unresponsive', error: `no answer within ${timeoutMs} ms`}
  if (r.code !== 0) {
    const err = failureLine(r, `tmux exited with ${r.code}`)
    const stale = /no server running|connection refused|no such file or directory/i.test(err)
    return {...base, status: stale ? 'stale' : 'error', error: err}
  }
  const {serverPid, panes, unreadable} = parseListPanes(r.stdout)
  // Not knowing a server's panes must never read as knowing it has none: its processes stay unverifiable.
  if (unreadable > 0)
    return {
      ...base,
      status: 'error',
      error: `answered list-panes in a form the doctor cannot read (${plural(unreadable, 'line')})`,
    }
  return {...base, status: 'ok', pid: serverPid, panes}
}
