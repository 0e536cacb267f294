/**
 * The verdict on one Claude process: orphan, healthy, cannot verify, or supervised, with the evidence and the
 * sentence that says why. Pure; it reads the process, its ancestors and their owners in the tree, never
 * the trees below it (those are `orphans.ts`'s).
 */
import type {Rules} from '../rules/rules.js'
import {tmuxSocketOf} from '../snapshot/tmux-env.js'
import type {ProcessInfo, TmuxServer} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {answeringServer, judgeMultiplexer, judgeServerChild, windowWhere} from './owners.js'
import {supervisionOf} from './supervision.js'
import type {ClaudeVerdict} from './verdicts.js'

function serverOf(tree: ProcessTree, p: ProcessInfo): TmuxServer | undefined {
  const socket = tmuxSocketOf(p)
  return socket ? tree.server(socket) : undefined
}

/** Does the process or any ancestor up to the first reaper still hold a controlling terminal? */
function attachedToTerminal(tree: ProcessTree, rules: Rules, p: ProcessInfo): boolean | undefined {
  let cur: ProcessInfo | undefined = p
  const seen = new Set<number>()
  while (cur && !rules.isReaper(cur) && !rules.isTmuxServer(cur) && !seen.has(cur.pid)) {
    if (cur.ttyNr === undefined) return undefined
    if (cur.ttyNr !== 0) return true
    seen.add(cur.pid)
    cur = tree.parent(cur)
  }
  return false
}

/**
 * Judges one Claude process: orphan, healthy, "cannot verify" when the tmux server that would say did not
 * answer, or supervised when it would be an orphan but a supervisor runs it. `protect` holds pids never to
 * judge an orphan (the doctor and its ancestors, PID 1).
 */
export function judgeClaude(tree: ProcessTree, rules: Rules, p: ProcessInfo, protect: Set<number>): ClaudeVerdict {
  const verdict = judgeOwnership(tree, rules, p, protect)
  if (verdict.kind !== 'orphan') return verdict
  const supervised = supervisionOf(tree, rules, p)
  return supervised
    ? {...verdict, kind: 'supervised', evidence: undefined, why: supervised.why, supervisor: supervised.by}
    : verdict
}

/** judgeClaude before supervision: does anything own it? */
function judgeOwnership(tree: ProcessTree, rules: Rules, p: ProcessInfo, protect: Set<number>): ClaudeVerdict {
  const lastSocket = tmuxSocketOf(p)
  const base = {proc: p, lastSocket, lastPane: p.env.TMUX_PANE}
  if (protect.has(p.pid)) return {...base, kind: 'healthy', why: 'the doctor itself or one of its ancestors'}
  const owner = tree.paneOwner(p)
  if (owner)
    return {...base, kind: 'healthy', why: `runs in pane ${owner.pane.paneId} of session ${owner.pane.session}`}
  const window = tree.windowOwner(p)
  if (window) return {...base, kind: 'healthy', why: `runs in ${windowWhere(window)}`}
  const mux = judgeMultiplexer(tree, p)
  if (mux?.kind === 'cannot-verify') return {...base, kind: 'cannot-verify', why: mux.why}
  if (mux?.kind === 'orphan') return {...base, kind: 'orphan', evidence: 'parent-is-multiplexer', why: mux.why}
  const muxGone = mux?.kind === 'session-gone' ? `; ${mux.why}` : ''

  // A server that could not be listed may own this process: say so, never guess.
  const unanswered = (s: TmuxServer | undefined) =>
    s !== undefined && (s.status === 'unresponsive' || s.status === 'error')
  const serverAncestor = tree.nearestAncestor(p, (a) => rules.isTmuxServer(a))
  const ancestorServer = serverAncestor && tree.serverByPid(serverAncestor.pid)
  if (serverAncestor && ancestorServer?.status !== 'ok') {
    if (!ancestorServer || unanswered(ancestorServer)) {
      return {...base, kind: 'cannot-verify', why: `its tmux server (pid ${serverAncestor.pid}) could not be queried`}
    }
  }
  const envServer = serverOf(tree, p)
  if (unanswered(envServer)) {
    return {
      ...base,
      kind: 'cannot-verify',
      why: `its tmux server ${envServer!.socket} did not answer (${envServer!.error ?? envServer!.status})`,
    }
  }

  const parent = tree.parent(p)
  if (parent && rules.isTmuxServer(parent)) {
    const server = answeringServer(tree, parent)
    if (!server)
      return {...base, kind: 'cannot-verify', why: `its tmux server (pid ${parent.pid}) could not be queried`}
    const child = judgeServerChild(tree, p, parent, server)
    return child.kind === 'orphan'
      ? {...base, kind: 'orphan', evidence: 'parent-is-tmux-server', why: child.why}
      : {...base, kind: child.kind, why: child.why}
  }
  if (p.ppid === 1) {
    return {
      ...base,
      kind: 'orphan',
      evidence: 'parent-is-init',
      why: `reparented to init (PPID 1) and not in any live tmux pane${muxGone}`,
    }
  }
  if (parent && rules.isReaper(parent)) {
    return {
      ...base,
      kind: 'orphan',
      evidence: 'parent-is-subreaper',
      why: `reparented to ${parent.argv.join(' ') || parent.comm} (pid ${parent.pid}) and not in any live tmux pane${muxGone}`,
    }
  }
  // Like a pane that is gone: its screen or zellij session was killed, and no terminal holds it.
  if (mux?.kind === 'session-gone' && attachedToTerminal(tree, rules, p) === false) {
    return {...base, kind: 'orphan', evidence: 'pane-gone', why: `${mux.why} and no terminal holds it`}
  }
  if (p.env.TMUX_PANE && lastSocket) {
    const server = tree.server(lastSocket)
    const paneGone =
      server === undefined ||
      server.status === 'stale' ||
      (server.status === 'ok' && !server.panes.some((x) => x.paneId === p.env.TMUX_PANE && !x.dead))
    // A pane that is gone proves nothing while the chain still holds a live terminal (a shell the user opened).
    if (paneGone && attachedToTerminal(tree, rules, p) === false) {
      return {
        ...base,
        kind: 'orphan',
        evidence: 'pane-gone',
        why: `its pane ${p.env.TMUX_PANE} on ${lastSocket} no longer exists and no terminal holds it`,
      }
    }
  }
  return {
    ...base,
    kind: 'healthy',
    why: parent ? `its parent ${parent.comm} (pid ${parent.pid}) is alive and not a reaper` : 'parent unknown',
  }
}
