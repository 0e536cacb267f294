import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {PairCache} from './memo.js'

/**
 * What the environment Claude Code gives its children says about who started a process:
 * `owned`: CLAUDE_PID (or, without it, the pid CLAUDE_CODE_MESSAGING_SOCKET is named after) names a live
 * claude that started before it, or, with neither, its CLAUDE_CODE_SESSION_ID is shared with a process still
 * inside a live claude's tree; `claude-gone`: that pid names no live process; `pid-reused`: it now names
 * another program, or a claude that started after it; `none`: nothing to go by (tree shape only).
 */
export type ClaudeTie =
  | {kind: 'owned'; claude: ProcessInfo; by: ClaudePidSource | 'CLAUDE_CODE_SESSION_ID'}
  | {kind: 'claude-gone'; claudePid: number; by: ClaudePidSource}
  | {kind: 'pid-reused'; claudePid: number; by: ClaudePidSource; now: ProcessInfo; startedAfter: boolean}
  | {kind: 'none'}

/** Where a claude's pid was read: CLAUDE_PID, or the name of the messaging socket (`…/cc-socks/PID.sock`). */
export type ClaudePidSource = 'CLAUDE_PID' | 'CLAUDE_CODE_MESSAGING_SOCKET'

/** The ties of one snapshot, as `claudeTies` builds them. */
export interface ClaudeTies {
  /** What ties `p` to a claude. */
  tieOf(p: ProcessInfo): ClaudeTie
}

const isGone = (p: ProcessInfo) => p.state === 'Z' || p.state === 'X'
/** `$XDG_RUNTIME_DIR/cc-socks/<claude pid>.sock`, as Claude Code 2.1 names the socket of its MCP servers. */
const SOCKET_PID = /\/cc-socks\/([1-9]\d*)\.sock$/

/** Did `a` start no later than `b`? Unknown start times answer yes: the doubt goes to "owned". */
function startedNoLater(a: ProcessInfo, b: ProcessInfo): boolean {
  if (a.startTicks !== undefined && b.startTicks !== undefined) return a.startTicks <= b.startTicks
  if (a.startTimeMs !== undefined && b.startTimeMs !== undefined) return a.startTimeMs <= b.startTimeMs
  return true
}

const cache = new PairCache<ProcessTree, Rules, ClaudeTies>()

/**
 * CLAUDE_PID, the messaging socket and CLAUDE_CODE_SESSION_ID: stronger evidence than tree shape of which
 * claude a process belongs to, and it survives reparenting to init. A pid names exactly one claude, so when
 * there is one it decides alone: a session id shared with a live claude does not outweigh a CLAUDE_PID whose
 * claude is gone (a resumed session does not adopt the old session's tools or servers). Memoised per tree and rules; building it
 * walks each process with a session id up to its nearest claude once, sharing walks.
 */
export function claudeTies(tree: ProcessTree, rules: Rules): ClaudeTies {
  return cache.get(tree, rules, () => tiesOf(tree, rules))
}

function tiesOf(tree: ProcessTree, rules: Rules): ClaudeTies {
  // Session ids of processes still inside a live claude's tree, and that claude.
  const liveSessions = new Map<string, ProcessInfo>()
  const claudeAbove = new Map<number, ProcessInfo | null>()
  for (const p of tree.snapshot.processes) {
    const session = p.env.CLAUDE_CODE_SESSION_ID
    if (!session || liveSessions.has(session)) continue
    const walked: number[] = []
    let found: ProcessInfo | null = null
    // A hand-edited snapshot may hold a parent cycle: no chain is longer than the process table.
    for (
      let cur = tree.parent(p), steps = 0;
      cur && cur.pid !== p.pid && steps < tree.byPid.size;
      cur = tree.parent(cur), steps++
    ) {
      const memo = claudeAbove.get(cur.pid)
      if (memo !== undefined) {
        found = memo
        break
      }
      walked.push(cur.pid)
      if (rules.isClaude(cur) && !isGone(cur)) {
        found = cur
        break
      }
    }
    for (const pid of walked) claudeAbove.set(pid, found)
    if (found) liveSessions.set(session, found)
  }

  const ties: ClaudeTies = {
    tieOf(p) {
      // The claude that started it, by pid: CLAUDE_PID (the Bash tool's commands) or, for an MCP server, the
      // pid its messaging socket is named after. Either names exactly one claude, so it decides alone.
      const named = p.env.CLAUDE_PID ?? SOCKET_PID.exec(p.env.CLAUDE_CODE_MESSAGING_SOCKET ?? '')?.[1]
      if (named !== undefined && /^[1-9]\d*$/.test(named)) {
        const claudePid = Number(named)
        const by: ClaudePidSource = p.env.CLAUDE_PID === undefined ? 'CLAUDE_CODE_MESSAGING_SOCKET' : 'CLAUDE_PID'
        const now = tree.get(claudePid)
        if (!now || isGone(now)) return {kind: 'claude-gone', claudePid, by}
        if (rules.isClaude(now) && startedNoLater(now, p)) return {kind: 'owned', claude: now, by}
        return {kind: 'pid-reused', claudePid, by, now, startedAfter: rules.isClaude(now)}
      }
      const session = p.env.CLAUDE_CODE_SESSION_ID
      const claude = session ? liveSessions.get(session) : undefined
      return claude ? {kind: 'owned', claude, by: 'CLAUDE_CODE_SESSION_ID'} : {kind: 'none'}
    },
  }
  return ties
}
