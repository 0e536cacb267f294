/**
 * Launcher chains and the trees hanging from them: the one climb from a process up through the links that
 * started it (`climbChain`), the subtree a fix may end, and the MCP servers in a tree counted once. The
 * orphan analysis, the detached-run judgement and the collector's PSS candidates all climb through
 * `climbChain`, so the candidates cannot drift from what the analysis walks.
 */
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {classify, type Classified} from './classify.js'
import {PairCache} from './memo.js'
import {isCommandWrapper} from './wrappers.js'

/** A zombie or a dead process: it holds nothing, so no tree takes it and no verdict is passed on it. */
export const isGone = (p: ProcessInfo) => p.state === 'Z' || p.state === 'X'

/** Where a climb ended: the chain's top (the start when nothing was climbed), and what is above the top. */
export interface Climb {
  readonly top: ProcessInfo
  /** The parent of `top` that stopped the climb; undefined when it is not in the process table. */
  readonly above: ProcessInfo | undefined
  /** The climb met a process it had already passed: a PPID cycle, nobody provably adopted the chain. */
  readonly cycle: boolean
}

/**
 * Climbs from `p` through its parents while each is a `link`, stopping below a reaper, a tmux server, a
 * claude, a PPID cycle, or whatever `stop` names. Every caller climbs here, with its own `link` and `stop`:
 * a caller that must see a superset of another's chains passes a weaker link and fewer stops.
 */
export function climbChain(
  p: ProcessInfo,
  parentOf: (q: ProcessInfo) => ProcessInfo | undefined,
  rules: Rules,
  link: (q: ProcessInfo) => boolean,
  stop?: (q: ProcessInfo) => boolean,
): Climb {
  let top = p
  let up = parentOf(p)
  const seen = new Set<number>([p.pid])
  while (
    up &&
    !seen.has(up.pid) &&
    !stop?.(up) &&
    !rules.isReaper(up) &&
    !rules.isTmuxServer(up) &&
    !rules.isClaude(up) &&
    link(up)
  ) {
    seen.add(up.pid)
    top = up
    up = parentOf(up)
  }
  return {top, above: up, cycle: up !== undefined && seen.has(up.pid)}
}

/** The link of a detached headless job: a command wrapper (`bash -c`, `env`, ...) that holds no terminal. */
export const detachedShellLink = (q: ProcessInfo): boolean => isCommandWrapper(q) && q.ttyNr === 0

/** A multiplexer's server (tmux, GNU screen, zellij): it holds sessions, it is never part of a tree that ends. */
export function isSessionServer(tree: ProcessTree, rules: Rules, p: ProcessInfo): boolean {
  return rules.isTmuxServer(p) || tree.isMultiplexerServer(p)
}

/**
 * The subtree of `root` that may be ended (root first): pruned at anything that must never be signalled (a tmux
 * server, a live pane, a reaper, a supervisor and its services, the doctor's chain) and without zombies, which
 * hold nothing.
 */
export function killableSubtree(
  tree: ProcessTree,
  rules: Rules,
  root: ProcessInfo,
  protect: Set<number>,
): ProcessInfo[] {
  const out: ProcessInfo[] = []
  const stack = [root]
  const seen = new Set<number>()
  while (stack.length > 0) {
    const p = stack.pop()!
    if (seen.has(p.pid)) continue
    seen.add(p.pid)
    if (
      protect.has(p.pid) ||
      isSessionServer(tree, rules, p) ||
      rules.isReaper(p) ||
      (p !== root && (rules.isSupervisor(p) || tree.isInLivePane(p)))
    )
      continue
    if (!isGone(p)) out.push(p)
    stack.push(...tree.children(p.pid))
  }
  return out.sort((a, b) => (a === root ? -1 : b === root ? 1 : a.pid - b.pid))
}

/** MCP servers of a set of processes, each launcher chain counted once (see isMcpChainHead). */
export function mcpServersIn(tree: ProcessTree, rules: Rules, members: readonly ProcessInfo[]): ProcessInfo[] {
  return members.filter((m) => isMcpChainHead(tree, rules, m))
}

/** Per tree and rules: the classified processes, and for each launcher link walked, whether an MCP process is at or above it. */
const chainCache = new PairCache<ProcessTree, Rules, {cls: Classified; mcpAbove: Map<number, boolean>}>()

/**
 * Whether an MCP process heads its launcher chain: no other MCP process above it through launcher links.
 * `npm exec mcp-server-memory` → `sh -c mcp-server-memory` → `node …/.bin/mcp-server-memory` is one server,
 * headed by `npm exec`; two servers side by side under one claude are two. Every count of MCP servers (the
 * findings, the summary, and so the markdown and the metrics) asks this one question. Memoised per tree and
 * rules along the walked chain, and asked of the classified sets rather than the rules, so asking it of
 * every process is linear.
 */
export function isMcpChainHead(tree: ProcessTree, rules: Rules, p: ProcessInfo): boolean {
  const {cls, mcpAbove} = chainCache.get(tree, rules, () => ({
    cls: classify(tree.snapshot, rules),
    mcpAbove: new Map(),
  }))
  if (!cls.mcp.has(p.pid)) return false
  const walked: number[] = []
  let above = false
  // A hand-edited snapshot may hold a parent cycle: no chain is longer than the process table.
  for (let up = tree.parent(p), steps = 0; up && steps < tree.byPid.size; up = tree.parent(up), steps++) {
    const known = mcpAbove.get(up.pid)
    if (known !== undefined) {
      above = known
      break
    }
    // A launcher link (as isLauncherLink says), from the classified sets.
    const link =
      !cls.claude.has(up.pid) && (cls.mcp.has(up.pid) || cls.claudeCodeEnv.has(up.pid) || isCommandWrapper(up))
    if (up.pid === p.pid || !link || rules.isReaper(up) || rules.isTmuxServer(up)) break
    walked.push(up.pid)
    if (cls.mcp.has(up.pid)) {
      above = true
      break
    }
  }
  for (const pid of walked) mcpAbove.set(pid, above)
  return !above
}

/**
 * A link that may stand between an orphan MCP server and its reaper without being somebody's program:
 * another MCP process or launcher, a Claude Code child, or a non-interactive `sh -c` / `env` / `timeout`.
 * A generic `node app.js` or an interactive shell is not a link: the chain is then owned by that program.
 */
export function isLauncherLink(rules: Rules, p: ProcessInfo): boolean {
  if (rules.isClaude(p)) return false
  return rules.isMcpServer(p) || rules.hasClaudeCodeEnv(p) || isCommandWrapper(p)
}

/**
 * Every process an orphan tree could hold, from the processes alone (no tmux, no verdicts): each Claude,
 * MCP and CLAUDECODE=1 process, the launcher chain above it (climbed as `analyzeOrphans` climbs, but past
 * the doctor's own chain; for a headless claude, the shells of a detached job), and everything below those.
 * A superset of the members of every tree `analyzeOrphans` can return (leftovers and detached runs too),
 * whatever tmux answers, so the collector reads PSS for these and loses nothing.
 */
export function orphanTreeCandidates(processes: readonly ProcessInfo[], rules: Rules): Set<number> {
  const byPid = new Map<number, ProcessInfo>()
  const children = new Map<number, ProcessInfo[]>()
  for (const p of processes) byPid.set(p.pid, p)
  const parentOf = (q: ProcessInfo) => byPid.get(q.ppid)
  for (const p of processes) {
    if (p.ppid === p.pid) continue
    const list = children.get(p.ppid)
    if (list) list.push(p)
    else children.set(p.ppid, [p])
  }
  const out = new Set<number>()
  for (const p of processes) {
    const claude = rules.isClaude(p)
    if (!claude && !rules.isMcpServer(p) && !rules.hasClaudeCodeEnv(p)) continue
    // A headless claude's job may start at the detached shell above it (judgeDetached climbs the same wrappers,
    // held to no terminal: isCommandWrapper alone is the weaker link). No `stop`: past the doctor's chain too.
    const link = claude
      ? rules.headlessFlag(p) === undefined
        ? undefined
        : isCommandWrapper
      : (q: ProcessInfo) => isLauncherLink(rules, q)
    const top = link ? climbChain(p, parentOf, rules, link).top : p
    // Already inside a subtree taken whole: everything below it is in too.
    if (out.has(top.pid)) continue
    const stack = [top]
    while (stack.length > 0) {
      const q = stack.pop()!
      if (out.has(q.pid)) continue
      out.add(q.pid)
      const kids = children.get(q.pid)
      if (kids) for (const k of kids) stack.push(k)
    }
  }
  return out
}
