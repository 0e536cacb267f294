import {basename} from 'node:path'
import {userInfo} from 'node:os'
import {failureLine, runBounded, type BoundedRunResult} from './run-bounded.js'
import {socketsInDir} from './tmux.js'
import type {MultiplexerSession, ProcessInfo, Snapshot} from './types.js'

/**
 * GNU screen and zellij, collected the way tmux servers are: found by their socket directory, their server
 * processes and the variables they give their windows' processes (STY, ZELLIJ_SESSION_NAME), then asked once
 * each, bounded in time. A session that does not answer is `unresponsive` or `error`, and the analysis then
 * says "cannot verify" for whatever it might own.
 */

/** Runs a multiplexer binary once; never throws. The seam tests replace. */
export type MuxRunner = (bin: string, args: string[], timeoutMs: number) => Promise<BoundedRunResult>

export const runMux: MuxRunner = (bin, args, timeoutMs) =>
  // SHELL unset (cron, CI) makes screen fall back to the passwd shell; asking it a query starts nothing, but be explicit.
  runBounded(bin, args, {
    timeoutMs,
    maxBuffer: 4 * 1024 * 1024,
    env: {...process.env, SHELL: process.env.SHELL || '/bin/sh'},
  })

/** A GNU screen server: screen renames its backend `SCREEN` (the attaching client stays `screen`). */
export function isScreenServerProcess(p: Pick<ProcessInfo, 'argv' | 'comm'>): boolean {
  return p.argv[0] === 'SCREEN' || /(?:^|\/)SCREEN$/.test(p.argv[0] ?? '')
}

/** The socket a zellij server serves: it runs as `zellij --server SOCKET` (zellij-client spawn_server). */
export function zellijServerSocket(p: Pick<ProcessInfo, 'argv'>): string | undefined {
  if (!/(?:^|\/)zellij$/.test(p.argv[0] ?? '')) return undefined
  const i = p.argv.indexOf('--server')
  return i > 0 && p.argv[i + 1] ? p.argv[i + 1] : undefined
}

/** Which multiplexer's server `p` is, if it is a GNU screen or zellij server. */
export function multiplexerServerKind(p: Pick<ProcessInfo, 'argv' | 'comm'>): 'screen' | 'zellij' | undefined {
  return isScreenServerProcess(p) ? 'screen' : zellijServerSocket(p) !== undefined ? 'zellij' : undefined
}

/** `pid.name`, the STY value and the name of a screen socket file. */
const SCREEN_ID = /^(\d+)\.(.+)$/

/** Window numbers of `screen -Q windows` (`0 sh  1* claude  2- bash`). */
export function parseScreenWindows(stdout: string): number[] {
  const out: number[] = []
  for (const m of stdout.matchAll(/(?:^|\s\s)(\d+)[*\-$!@&Z]*\s/g)) out.push(Number(m[1]))
  return out
}

/**
 * `zellij list-sessions --no-formatting`: `NAME [Created 2h 3m ago] SUFFIX`, SUFFIX empty, `(current)` or
 * `(EXITED - attach to resurrect)` (zellij-utils/src/sessions.rs print_sessions). An exited session is a
 * layout on disk with no server: nothing runs in it.
 */
export function parseZellijSessions(stdout: string): Array<{name: string; exited: boolean}> {
  const out: Array<{name: string; exited: boolean}> = []
  for (const line of stdout.split('\n')) {
    const m = /^(.+?) \[Created .*? ago\]\s*(.*)$/.exec(line.trim())
    if (m) out.push({name: m[1], exited: /EXITED/.test(m[2])})
  }
  return out
}

/** screen's socket directory: $SCREENDIR, else /run/screen/S-USER (Debian's build). */
export function screenDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SCREENDIR) return env.SCREENDIR
  let user = env.USER ?? env.LOGNAME
  try {
    user ??= userInfo().username
  } catch {
    user ??= 'root'
  }
  return `/run/screen/S-${user}`
}

export interface MuxOptions {
  timeoutMs?: number
  run?: MuxRunner
  screenBin?: string
  zellijBin?: string
  screenDir?: string
}

/** Every screen and zellij session found, each asked once. */
export async function collectMultiplexers(
  processes: readonly ProcessInfo[],
  opts: MuxOptions = {},
): Promise<NonNullable<Snapshot['multiplexers']>> {
  const run = opts.run ?? runMux
  const timeoutMs = opts.timeoutMs ?? 3000
  const [screen, zellij] = await Promise.all([
    collectScreen(processes, run, timeoutMs, opts),
    collectZellij(processes, run, timeoutMs, opts),
  ])
  return {screen, zellij}
}

type Found = Map<string, {pid?: number; foundBy: Set<MultiplexerSession['foundBy'][number]>}>

function note(found: Found, id: string, by: MultiplexerSession['foundBy'][number], pid?: number): void {
  const entry = found.get(id) ?? {pid, foundBy: new Set()}
  entry.pid ??= pid
  entry.foundBy.add(by)
  found.set(id, entry)
}

async function collectScreen(
  processes: readonly ProcessInfo[],
  run: MuxRunner,
  timeoutMs: number,
  opts: MuxOptions,
): Promise<NonNullable<Snapshot['multiplexers']>['screen']> {
  const found: Found = new Map()
  const dir = opts.screenDir ?? screenDir()
  for (const name of socketsInDir(dir, (st) => st.isSocket() || st.isFIFO()).map((path) => basename(path))) {
    const m = SCREEN_ID.exec(name)
    if (m) note(found, name, 'socket-dir', Number(m[1]))
  }
  const serverPids = new Set<number>()
  for (const p of processes) {
    if (isScreenServerProcess(p)) serverPids.add(p.pid)
    const m = p.env.STY ? SCREEN_ID.exec(p.env.STY) : null
    if (m) note(found, p.env.STY!, 'env', Number(m[1]))
  }
  // A SCREEN process whose socket was not in the directory: its session name is unknown until asked.
  for (const pid of serverPids)
    if (![...found.values()].some((f) => f.pid === pid)) note(found, String(pid), 'process', pid)
  if (found.size === 0) return {available: true, sessions: []}
  const bin = opts.screenBin ?? 'screen'
  const sessions = await Promise.all(
    [...found].map(async ([id, f]): Promise<MultiplexerSession> => {
      const base = {
        kind: 'screen' as const,
        id,
        name: SCREEN_ID.exec(id)?.[2] ?? id,
        pid: f.pid,
        foundBy: [...f.foundBy],
        socketDir: dir,
      }
      const r = await run(bin, ['-S', id, '-Q', 'windows'], timeoutMs)
      if (r.missing) return {...base, status: 'error', error: 'screen not found'}
      if (r.timedOut) return {...base, status: 'unresponsive', error: `no answer within ${timeoutMs} ms`}
      const text = (r.stdout + r.stderr).trim()
      if (/no screen session found/i.test(text)) {
        // Its server still runs but its socket is not where this doctor looks: it cannot be asked.
        const alive = f.pid !== undefined && serverPids.has(f.pid)
        return alive
          ? {...base, status: 'error', error: `its SCREEN process (pid ${f.pid}) runs but has no socket in ${dir}`}
          : {...base, status: 'stale', error: text.split('\n')[0]}
      }
      if (r.code !== 0) return {...base, status: 'error', error: text.split('\n')[0] || `screen exited with ${r.code}`}
      return {...base, status: 'ok', windows: parseScreenWindows(`${r.stdout} `)}
    }),
  )
  return {available: true, sessions: sessions.sort((a, b) => a.id.localeCompare(b.id))}
}

async function collectZellij(
  processes: readonly ProcessInfo[],
  run: MuxRunner,
  timeoutMs: number,
  opts: MuxOptions,
): Promise<NonNullable<Snapshot['multiplexers']>['zellij']> {
  const found: Found = new Map()
  for (const p of processes) {
    const socket = zellijServerSocket(p)
    if (socket) note(found, basename(socket), 'process', p.pid)
    if (p.env.ZELLIJ_SESSION_NAME) note(found, p.env.ZELLIJ_SESSION_NAME, 'env')
  }
  if (found.size === 0) return {available: true, sessions: []}
  // zellij has no per-session query that does not attach; list-sessions connects to every socket once.
  const r = await run(opts.zellijBin ?? 'zellij', ['list-sessions', '--no-formatting'], timeoutMs)
  const listed =
    r.code === 0 || /no active zellij sessions/i.test(r.stdout + r.stderr)
      ? new Map(parseZellijSessions(r.stdout).map((s) => [s.name, s]))
      : undefined
  const sessions = [...found].map(([id, f]): MultiplexerSession => {
    const base = {kind: 'zellij' as const, id, name: id, pid: f.pid, foundBy: [...f.foundBy]}
    if (r.missing) return {...base, status: 'error', error: 'zellij not found'}
    if (r.timedOut) return {...base, status: 'unresponsive', error: `no answer within ${timeoutMs} ms`}
    if (!listed) return {...base, status: 'error', error: failureLine(r, `zellij exited with ${r.code}`)}
    const s = listed.get(id)
    if (s && !s.exited) return {...base, status: 'ok'}
    // Its server process still runs but the session was not listed: it cannot be asked.
    if (f.pid !== undefined)
      return {...base, status: 'error', error: `its server (pid ${f.pid}) runs but zellij does not list the session`}
    return {...base, status: 'stale', error: s ? 'exited (resurrectable layout only)' : 'no such session'}
  })
  return {available: !r.missing, sessions: sessions.sort((a, b) => a.id.localeCompare(b.id))}
}
