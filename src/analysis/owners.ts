/**
 * Who owns a process that no live pane holds, when the owner is a tmux server: the server starts pane
 * programs, but also popups (`display-popup`) and jobs (`run-shell`, `if-shell`, `#()` in the status line),
 * which no pane lists. tmux sets TMUX_PANE only for a pane's program (spawn.c); popups and jobs get TMUX
 * alone, and a popup runs on a pty of its own. So only a TMUX_PANE naming a pane that is gone, or that now
 * runs another program, proves that a pane once held the process and lost it. And a server the doctor could
 * not ask proves nothing either way.
 */
import type {Rules} from '../rules/rules.js'
import {tmuxSocketOf} from '../snapshot/tmux-env.js'
import {isScreenServerProcess} from '../snapshot/multiplexers.js'
import type {MultiplexerSession, ProcessInfo, TmuxServer} from '../snapshot/types.js'
import type {ProcessTree, WindowOwner} from '../tree/process-tree.js'

/** The judgement of a tmux server's direct child that no live pane holds. */
export interface ServerChildVerdict {
  kind: 'orphan' | 'healthy' | 'cannot-verify'
  why: string
}

/** The server a tmux server process is, when one answered; undefined when none maps to it or it did not answer. */
export function answeringServer(tree: ProcessTree, serverProc: ProcessInfo): TmuxServer | undefined {
  const server = tree.serverByPid(serverProc.pid)
  return server?.status === 'ok' ? server : undefined
}

/**
 * `p`, a direct child of the tmux server process `serverProc` that answered as `server`, in no live pane:
 * the leftover of a killed (or respawned) pane, or a popup or job that never had one.
 */
export function judgeServerChild(
  tree: ProcessTree,
  p: ProcessInfo,
  serverProc: ProcessInfo,
  server: TmuxServer,
): ServerChildVerdict {
  const at = `the tmux server (pid ${serverProc.pid})`
  if (p.ttyNr !== undefined && p.ttyNr !== 0) {
    // A killed pane's terminal is hung up (tty 0); a popup keeps its own open.
    return {kind: 'healthy', why: `a popup of ${at}: it holds a live terminal that is no pane's`}
  }
  if (p.envUnreadable)
    return {
      kind: 'cannot-verify',
      why: `its parent is ${at}, but its environment could not be read: a popup or job cannot be told from a killed pane`,
    }
  const paneId = p.env.TMUX_PANE
  if (!paneId) return {kind: 'healthy', why: `a job of ${at} (run-shell, if-shell): tmux gives those no TMUX_PANE`}
  // The same server may answer on two spellings of its socket path: compare servers, not paths.
  const socket = tmuxSocketOf(p)
  if (socket !== undefined && tree.server(socket)?.pid !== serverProc.pid) {
    return {
      kind: 'cannot-verify',
      why: `its parent is ${at}, but its TMUX names another server (${socket}): its TMUX_PANE ${paneId} is not this server's to check`,
    }
  }
  // A server started from another server's pane keeps that TMUX_PANE in its environment, and its jobs inherit it.
  if (serverProc.envUnreadable)
    return {
      kind: 'cannot-verify',
      why: `its parent is ${at}, whose environment could not be read: its TMUX_PANE ${paneId} may be inherited from it`,
    }
  if (serverProc.env.TMUX_PANE === paneId)
    return {
      kind: 'healthy',
      why: `a job of ${at}: its TMUX_PANE ${paneId} is the one the server itself inherited, not a pane of this server`,
    }
  const pane = tree.findPane(server.socket, paneId)
  if (!pane) return {kind: 'orphan', why: `its parent is ${at} but no pane holds it: its session was killed`}
  if (pane.panePid !== p.pid)
    return {
      kind: 'orphan',
      why: `its parent is ${at} and its pane ${paneId} now runs pid ${pane.panePid}: the pane was respawned without it`,
    }
  return {
    kind: 'healthy',
    why: `its pane ${paneId} of session ${pane.session} still exists (dead, kept by remain-on-exit)`,
  }
}

/**
 * Why the owner of a tree could not be asked: a tmux server process that no answering socket maps to (it
 * did not answer, its socket is gone, or its `-S` path was relative), or a TMUX variable of any member naming
 * a server that did not answer. undefined when every owner the tree names answered (or is gone for good).
 */
export function unaskedOwner(
  tree: ProcessTree,
  rules: Rules,
  up: ProcessInfo | undefined,
  members: readonly ProcessInfo[],
): string | undefined {
  for (const m of members) {
    const socket = tmuxSocketOf(m)
    const server = socket === undefined ? undefined : tree.server(socket)
    if (server && (server.status === 'unresponsive' || server.status === 'error')) {
      return `its tmux server ${server.socket} (named by the TMUX of pid ${m.pid}) did not answer (${server.error ?? server.status})`
    }
  }
  if (up && rules.isTmuxServer(up) && !answeringServer(tree, up)) {
    const server = tree.serverByPid(up.pid)
    return server
      ? `its tmux server (pid ${up.pid}) on ${server.socket} did not answer (${server.error ?? server.status})`
      : `its tmux server (pid ${up.pid}) could not be queried: no socket that answered is that server's`
  }
  return undefined
}

/** A screen session (`screen session 123.name`) or zellij session (`zellij session name`) for the report. */
export function muxSessionName(s: Pick<MultiplexerSession, 'kind' | 'id'>): string {
  return `${s.kind} session ${s.id}`
}

/** Where a process in a live screen window or zellij pane runs, for the report. */
export function windowWhere(w: WindowOwner): string {
  const unit = w.session.kind === 'screen' ? 'window' : 'pane'
  return `${w.window === undefined ? `a ${unit}` : `${unit} ${w.window}`} of ${muxSessionName(w.session)}`
}

/** The judgement of a process no live screen window or zellij pane holds, as far as those multiplexers know. */
export type MultiplexerVerdict =
  | {kind: 'cannot-verify' | 'orphan'; why: string}
  /** The session its STY / ZELLIJ_SESSION_NAME names is gone: an orphan unless a terminal still holds it. */
  | {kind: 'session-gone'; why: string}

/**
 * `p` is in no live window: what screen and zellij say of it. Under a server whose session did not answer,
 * or naming one that did not: cannot verify. A direct child of a server that answered without its window:
 * the window was killed and its program survived. Naming a session that is gone: `session-gone`.
 * undefined: neither multiplexer has a say (the other rules judge it).
 */
export function judgeMultiplexer(tree: ProcessTree, p: ProcessInfo): MultiplexerVerdict | undefined {
  const server = tree.nearestAncestor(p, (a) => tree.isMultiplexerServer(a))
  if (server) {
    const session = tree.multiplexerSession(server.pid)
    const kind = isScreenServerProcess(server) ? 'screen' : 'zellij'
    if (session?.status !== 'ok') {
      return {
        kind: 'cannot-verify',
        why: `its ${kind} server (pid ${server.pid}) could not be asked${session?.error ? ` (${session.error})` : ''}`,
      }
    }
    if (tree.parent(p) !== server) return undefined
    const window = kind === 'screen' ? p.env.WINDOW : p.env.ZELLIJ_PANE_ID
    return {
      kind: 'orphan',
      why: `its parent is the ${kind} server (pid ${server.pid}) of ${muxSessionName(session)}, which no longer lists its window ${window ?? '?'}: the window was killed`,
    }
  }
  const snapshot = tree.snapshot
  if (!snapshot.multiplexers) return undefined
  const named = p.env.STY
    ? snapshot.multiplexers.screen.sessions.find((s) => s.id === p.env.STY)
    : p.env.ZELLIJ_SESSION_NAME
      ? snapshot.multiplexers.zellij.sessions.find((s) => s.id === p.env.ZELLIJ_SESSION_NAME)
      : undefined
  if (!named) return undefined
  if (named.status === 'unresponsive' || named.status === 'error') {
    return {kind: 'cannot-verify', why: `its ${muxSessionName(named)} did not answer (${named.error ?? named.status})`}
  }
  if (named.status === 'stale') return {kind: 'session-gone', why: `its ${muxSessionName(named)} no longer exists`}
  return undefined
}

/** Why an MCP tree's members name a screen or zellij session the doctor could not ask; undefined when none does. */
export function unaskedMultiplexer(tree: ProcessTree, members: readonly ProcessInfo[]): string | undefined {
  for (const m of members) {
    const v = judgeMultiplexer(tree, m)
    if (v?.kind === 'cannot-verify') return `${v.why} (pid ${m.pid})`
  }
  return undefined
}
