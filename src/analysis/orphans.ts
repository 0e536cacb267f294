import type {Rules} from '../rules/rules.js'
import {socketFromTmuxEnv} from '../snapshot/tmux.js'
import type {ProcessInfo, Snapshot, TmuxServer} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {classify, type Classified} from './classify.js'
import {detachedWhy, judgeDetached, type Detachment} from './detached.js'
import {claudeTies, type ClaudeTie} from './ties.js'
import {isCommandWrapper} from './wrappers.js'
import {answeringServer, judgeServerChild, unaskedOwner} from './owners.js'
import {supervisionOf} from './supervision.js'

/** Why a Claude process is judged an orphan. */
export type OrphanEvidence = 'parent-is-init' | 'parent-is-subreaper' | 'parent-is-tmux-server' | 'pane-gone'

/** The judgement of one Claude process. */
export interface ClaudeVerdict {
  /** The Claude process judged. */
  proc: ProcessInfo
  /**
   * `cannot-verify`: the tmux server that would own it did not answer (or what it is could not be read), so
   * the doctor will not call it an orphan. `supervised`: it looks orphaned, but a supervisor (a systemd unit,
   * PM2, ...) runs it. `detached`: a headless run nothing holds, detached on purpose (a job, never an orphan).
   */
  kind: 'orphan' | 'cannot-verify' | 'supervised' | 'healthy' | 'detached'
  /** For an orphan: which fact proves it. */
  evidence?: OrphanEvidence
  /** One sentence of evidence for the report. */
  why: string
  /** The tmux server and pane this claude last belonged to, from its own TMUX variables. */
  lastSocket?: string
  /** The pane id (`%7`) from its TMUX_PANE variable. */
  lastPane?: string
  /** For a detached run: how it is detached and the top of its job. */
  detached?: Detachment
  /** For `supervised`: who supervises it (`claude-agent.service`, `PM2 (pid 42)`). */
  supervisor?: string
}

/** One orphaned process tree, as a fix would end it. */
export interface OrphanTree {
  /** The orphan: an orphaned Claude process, or the top of an orphaned MCP launcher chain. */
  root: ProcessInfo
  /** Root first, every member once; never a tmux server, a live pane, a reaper or the doctor's chain. */
  members: ProcessInfo[]
  /** The MCP server processes in the tree, each server counted once (a launcher and its server are one). */
  mcpServers: ProcessInfo[]
  /** One sentence of evidence for the report. */
  why: string
  /** Matched only through CLAUDECODE=1, not as an MCP server by program/script: a leftover (see `leftovers`). */
  envOnly: boolean
}

/** A tree Claude Code started (CLAUDECODE=1) that outlived its claude: no MCP server in it, no claude above it. */
export interface LeftoverTree extends OrphanTree {
  /** What CLAUDE_PID says: the claude that started it is gone, its pid now runs something else, or no CLAUDE_PID. */
  tie: Extract<ClaudeTie, {kind: 'claude-gone' | 'pid-reused' | 'none'}>
}

/** A detached headless run (`claude -p … & disown`, `setsid -f claude -p`, a setsid'd loop) and its whole job. */
export interface DetachedRun {
  /** The top of the job: the detached shell of a loop, else the claude. */
  root: ProcessInfo
  /** Root first, every member once, pruned as `killableSubtree` prunes. */
  members: ProcessInfo[]
  /** The MCP servers in the job, each launcher chain once. */
  mcpServers: ProcessInfo[]
  /** The headless claudes of the job, oldest first (a loop may run steps side by side). */
  claudes: ProcessInfo[]
  /** The `claude.headless` spelling of the oldest claude (`-p`, `--output-format=stream-json`). */
  headless: string
  /** How it is detached. */
  detachment: Detachment
  /** One sentence of evidence for the report. */
  why: string
}

/**
 * An MCP tree or leftover that looks orphaned but that the doctor will not end: reported as info, never
 * fixed (`envOnly` tells which check reports it: agent-leftover, else orphan-mcp).
 */
export interface UnprovenTree extends OrphanTree {
  /** `cannot-verify`: a tmux server that would own it did not answer; `supervised`: a supervisor runs it. */
  kind: 'cannot-verify' | 'supervised'
  /** For `supervised`: who supervises it. */
  supervisor?: string
}

/** The orphan picture of one snapshot, as `analyzeOrphans` returns it. */
export interface OrphanAnalysis {
  /** A verdict for every live Claude process. */
  claudes: ClaudeVerdict[]
  /** The orphans among `claudes`, without those inside another orphan's tree. */
  orphanClaudes: ClaudeVerdict[]
  /** Orphan claudes with their whole trees. */
  claudeTrees: Map<number, OrphanTree>
  /** MCP trees with no live Claude ancestor, not already inside an orphan claude's tree, no process of them tied to a live claude. */
  mcpTrees: OrphanTree[]
  /** Trees Claude Code started (CLAUDECODE=1, no MCP server) that outlived their claude. */
  leftovers: LeftoverTree[]
  /** MCP trees and leftovers that would be orphans but for an owner the doctor could not ask, or a supervisor. */
  unprovenTrees: UnprovenTree[]
  /** Detached headless runs, each job once (not orphans: not in `orphanClaudes`, `claudeTrees` or the orphan memory). */
  detachedRuns: DetachedRun[]
}

const isGone = (p: ProcessInfo) => p.state === 'Z' || p.state === 'X'

/** Processes the doctor must never judge an orphan or put in a tree: itself and its ancestors. */
function protectedPids(snapshot: Snapshot): Set<number> {
  return new Set([snapshot.host.doctorPid, ...snapshot.host.doctorAncestors, 1])
}

function serverOf(tree: ProcessTree, p: ProcessInfo): TmuxServer | undefined {
  const socket = p.env.TMUX ? socketFromTmuxEnv(p.env.TMUX) : undefined
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
  return supervised ? {...verdict, kind: 'supervised', evidence: undefined, why: supervised.why, supervisor: supervised.by} : verdict
}

/** judgeClaude before supervision: does anything own it? */
function judgeOwnership(tree: ProcessTree, rules: Rules, p: ProcessInfo, protect: Set<number>): ClaudeVerdict {
  const lastSocket = p.env.TMUX ? socketFromTmuxEnv(p.env.TMUX) : undefined
  const base = {proc: p, lastSocket, lastPane: p.env.TMUX_PANE}
  if (protect.has(p.pid)) return {...base, kind: 'healthy', why: 'the doctor itself or one of its ancestors'}
  const owner = tree.paneOwner(p)
  if (owner) return {...base, kind: 'healthy', why: `runs in pane ${owner.pane.paneId} of session ${owner.pane.session}`}

  // A server that could not be listed may own this process: say so, never guess.
  const unanswered = (s: TmuxServer | undefined) => s !== undefined && (s.status === 'unresponsive' || s.status === 'error')
  const serverAncestor = tree.nearestAncestor(p, (a) => rules.isTmuxServer(a))
  const ancestorServer = serverAncestor && tree.serverByPid(serverAncestor.pid)
  if (serverAncestor && (!ancestorServer || ancestorServer.status !== 'ok')) {
    if (!ancestorServer || unanswered(ancestorServer)) {
      return {...base, kind: 'cannot-verify', why: `its tmux server (pid ${serverAncestor.pid}) could not be queried`}
    }
  }
  const envServer = serverOf(tree, p)
  if (unanswered(envServer)) {
    return {...base, kind: 'cannot-verify', why: `its tmux server ${envServer!.socket} did not answer (${envServer!.error ?? envServer!.status})`}
  }

  const parent = tree.parent(p)
  if (parent && rules.isTmuxServer(parent)) {
    const server = answeringServer(tree, parent)
    if (!server) return {...base, kind: 'cannot-verify', why: `its tmux server (pid ${parent.pid}) could not be queried`}
    const child = judgeServerChild(tree, p, parent, server)
    return child.kind === 'orphan' ? {...base, kind: 'orphan', evidence: 'parent-is-tmux-server', why: child.why} : {...base, kind: child.kind, why: child.why}
  }
  if (p.ppid === 1) {
    return {...base, kind: 'orphan', evidence: 'parent-is-init', why: 'reparented to init (PPID 1) and not in any live tmux pane'}
  }
  if (parent && rules.isReaper(parent)) {
    return {...base, kind: 'orphan', evidence: 'parent-is-subreaper', why: `reparented to ${parent.argv.join(' ') || parent.comm} (pid ${parent.pid}) and not in any live tmux pane`}
  }
  if (p.env.TMUX_PANE && lastSocket) {
    const server = tree.server(lastSocket)
    const paneGone = server === undefined || server.status === 'stale' || (server.status === 'ok' && !server.panes.some((x) => x.paneId === p.env.TMUX_PANE && !x.dead))
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
  return {...base, kind: 'healthy', why: parent ? `its parent ${parent.comm} (pid ${parent.pid}) is alive and not a reaper` : 'parent unknown'}
}

/**
 * The subtree of `root` that may be ended (root first): pruned at anything that must never be signalled (a tmux
 * server, a live pane, a reaper, a supervisor and its services, the doctor's chain) and without zombies, which
 * hold nothing.
 */
export function killableSubtree(tree: ProcessTree, rules: Rules, root: ProcessInfo, protect: Set<number>): ProcessInfo[] {
  const out: ProcessInfo[] = []
  const stack = [root]
  const seen = new Set<number>()
  while (stack.length > 0) {
    const p = stack.pop()!
    if (seen.has(p.pid)) continue
    seen.add(p.pid)
    if (protect.has(p.pid) || rules.isTmuxServer(p) || rules.isReaper(p) || (p !== root && (rules.isSupervisor(p) || tree.isInLivePane(p)))) continue
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
const chainCache = new WeakMap<ProcessTree, WeakMap<Rules, {cls: Classified; mcpAbove: Map<number, boolean>}>>()

/**
 * Whether an MCP process heads its launcher chain: no other MCP process above it through launcher links.
 * `npm exec mcp-server-memory` → `sh -c mcp-server-memory` → `node …/.bin/mcp-server-memory` is one server,
 * headed by `npm exec`; two servers side by side under one claude are two. Every count of MCP servers (the
 * findings, the summary, and so the markdown and the metrics) asks this one question. Memoised per tree and
 * rules along the walked chain, and asked of the classified sets rather than the rules, so asking it of
 * every process is linear.
 */
export function isMcpChainHead(tree: ProcessTree, rules: Rules, p: ProcessInfo): boolean {
  let perRules = chainCache.get(tree)
  if (!perRules) chainCache.set(tree, (perRules = new WeakMap()))
  let ctx = perRules.get(rules)
  if (!ctx) perRules.set(rules, (ctx = {cls: classify(tree.snapshot, rules), mcpAbove: new Map()}))
  const {cls, mcpAbove} = ctx
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
    const link = !cls.claude.has(up.pid) && (cls.mcp.has(up.pid) || cls.claudeCodeEnv.has(up.pid) || isCommandWrapper(up))
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
function isLauncherLink(rules: Rules, p: ProcessInfo): boolean {
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
    let top = p
    // A headless claude's job may start at the detached shell above it (judgeDetached climbs the same wrappers).
    const link = claude ? (rules.headlessFlag(p) === undefined ? undefined : isCommandWrapper) : (q: ProcessInfo) => isLauncherLink(rules, q)
    if (link) {
      const seen = new Set<number>([p.pid])
      let up = byPid.get(p.ppid)
      while (up && !seen.has(up.pid) && !rules.isReaper(up) && !rules.isTmuxServer(up) && !rules.isClaude(up) && link(up)) {
        seen.add(up.pid)
        top = up
        up = byPid.get(up.ppid)
      }
    }
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

/** The evidence of a leftover, as the first half of its reason. */
function leftoverEvidence(tie: LeftoverTree['tie']): string {
  if (tie.kind === 'none') return 'started by Claude Code (CLAUDECODE=1) but no Claude process is above it (tree shape only: no CLAUDE_PID)'
  const named = tie.by === 'CLAUDE_PID' ? `CLAUDE_PID=${tie.claudePid}` : `its messaging socket names claude ${tie.claudePid}`
  if (tie.kind === 'claude-gone') return `started by Claude Code (CLAUDECODE=1, ${named}) and no process ${tie.claudePid} runs any more: its claude is gone`
  const now = tie.startedAfter ? 'a claude that started after it' : (tie.now.argv[0] ?? tie.now.comm).split('/').pop() || tie.now.comm
  return `started by Claude Code (CLAUDECODE=1, ${named}), but PID ${tie.claudePid} is now ${now} (PID reuse): its claude is gone`
}

/**
 * The detached runs, one per job: claudes of one detached shell share its tree. Members already in an
 * orphan claude's tree stay there (`covered`), and the jobs' members are added to it.
 */
function collectDetachedRuns(tree: ProcessTree, rules: Rules, verdicts: readonly ClaudeVerdict[], protect: Set<number>, covered: Set<number>): DetachedRun[] {
  const byRoot = new Map<number, DetachedRun>()
  const oldestFirst = [...verdicts].sort((a, b) => (a.proc.startTicks ?? 0) - (b.proc.startTicks ?? 0) || a.proc.pid - b.proc.pid)
  for (const v of oldestFirst) {
    const d = v.detached!
    const known = byRoot.get(d.root.pid)
    if (known) {
      known.claudes.push(v.proc)
      continue
    }
    const members = killableSubtree(tree, rules, d.root, protect).filter((m) => !covered.has(m.pid))
    byRoot.set(d.root.pid, {root: d.root, members, mcpServers: mcpServersIn(tree, rules, members), claudes: [v.proc], headless: rules.headlessFlag(v.proc)!, detachment: d, why: v.why})
  }
  const runs = [...byRoot.values()].sort((a, b) => a.root.pid - b.root.pid)
  for (const r of runs) for (const m of r.members) covered.add(m.pid)
  return runs
}

/**
 * What keeps a tree that hangs from a reaper or a tmux server from being an orphan: an owner the doctor could
 * not ask (cannot verify), a tmux popup or job (healthy: not reported), or a supervisor.
 */
function holdTree(tree: ProcessTree, rules: Rules, t: OrphanTree, up: ProcessInfo | undefined): UnprovenTree | 'healthy' | undefined {
  const unasked = unaskedOwner(tree, rules, up, t.members)
  if (unasked) return {...t, kind: 'cannot-verify', why: unasked}
  const server = up && rules.isTmuxServer(up) ? answeringServer(tree, up) : undefined
  if (up && server) {
    const child = judgeServerChild(tree, t.root, up, server)
    if (child.kind === 'healthy') return 'healthy'
    if (child.kind === 'cannot-verify') return {...t, kind: 'cannot-verify', why: child.why}
  }
  const supervised = supervisionOf(tree, rules, t.root)
  return supervised ? {...t, kind: 'supervised', why: supervised.why, supervisor: supervised.by} : undefined
}

const cache = new WeakMap<Snapshot, WeakMap<Rules, OrphanAnalysis>>()

/**
 * The orphan picture of one snapshot, shared by orphan-claude, orphan-mcp and orphan-memory so that
 * each tree is judged once and counted once. Pure; memoised per snapshot and rules.
 */
export function analyzeOrphans(tree: ProcessTree, rules: Rules): OrphanAnalysis {
  const snapshot = tree.snapshot
  let perRules = cache.get(snapshot)
  if (!perRules) cache.set(snapshot, (perRules = new WeakMap()))
  const hit = perRules.get(rules)
  if (hit) return hit

  const protect = protectedPids(snapshot)
  const cls = classify(snapshot, rules)
  const claudes: ClaudeVerdict[] = []
  for (const p of cls.claudes) {
    if (isGone(p)) continue
    const verdict = judgeClaude(tree, rules, p, protect)
    const detached = judgeDetached(tree, rules, verdict, protect)
    claudes.push(detached ? {...verdict, kind: 'detached', evidence: undefined, detached, why: detachedWhy(tree, rules, detached, p, rules.headlessFlag(p)!)} : verdict)
  }
  // A claude inside another orphan's or detached run's tree (claude run by claude) belongs to the outer one.
  const outerPids = new Set(claudes.filter((c) => c.kind === 'orphan' || c.kind === 'detached').map((c) => c.proc.pid))
  const isOuter = (c: ClaudeVerdict) => !tree.nearestAncestor(c.proc, (a) => outerPids.has(a.pid))
  const orphanClaudes = claudes.filter((c) => c.kind === 'orphan' && isOuter(c))

  const claudeTrees = new Map<number, OrphanTree>()
  const covered = new Set<number>()
  for (const c of orphanClaudes) {
    const members = killableSubtree(tree, rules, c.proc, protect)
    for (const m of members) covered.add(m.pid)
    claudeTrees.set(c.proc.pid, {root: c.proc, members, mcpServers: mcpServersIn(tree, rules, members), why: c.why, envOnly: false})
  }
  const detachedRuns = collectDetachedRuns(tree, rules, claudes.filter((c) => c.kind === 'detached' && isOuter(c)), protect, covered)

  const ties = claudeTies(tree, rules)
  const mcpTrees: OrphanTree[] = []
  const leftovers: LeftoverTree[] = []
  const unprovenTrees: UnprovenTree[] = []
  const rooted = new Set<number>()
  for (const p of cls.mcpOrEnv) {
    if (isGone(p) || covered.has(p.pid) || protect.has(p.pid)) continue
    if (rules.isClaude(p) || rules.isTmuxServer(p) || rules.isReaper(p) || rules.isSupervisor(p) || tree.isInLivePane(p)) continue
    // Climb the launcher chain (npm exec, sh -c, uv, ...) to whatever started it; a PPID cycle ends the climb.
    let root = p
    let up = tree.parent(p)
    const climbed = new Set<number>([p.pid])
    while (up && !climbed.has(up.pid) && !protect.has(up.pid) && !rules.isReaper(up) && !rules.isTmuxServer(up) && !rules.isClaude(up) && !rules.isSupervisor(up) && isLauncherLink(rules, up)) {
      climbed.add(up.pid)
      root = up
      up = tree.parent(up)
    }
    if (up && climbed.has(up.pid)) continue // a cycle: nobody provably adopted it
    // Only a chain that ends at a reaper or a tmux server is orphaned; under a live app or claude it is owned.
    // Parent 0 outside PID 1 is a parent outside this PID namespace (docker exec): alive, for all we know.
    const orphaned = up === undefined ? root.ppid === 1 : rules.isReaper(up) || rules.isTmuxServer(up)
    if (!orphaned || rooted.has(root.pid) || covered.has(root.pid)) continue
    const members = killableSubtree(tree, rules, root, protect)
    rooted.add(root.pid)
    if (members.some((m) => rules.isClaude(m))) continue // a live claude below: its own verdict rules
    // CLAUDE_PID, the messaging socket or the session id ties it to a live claude: owned, wherever it was reparented.
    const memberTies = members.map((m) => ties.tieOf(m))
    if (memberTies.some((t) => t.kind === 'owned')) continue
    for (const m of members) covered.add(m.pid)
    const mcpServers = mcpServersIn(tree, rules, members)
    const holder = up ? (rules.isTmuxServer(up) ? `the tmux server (pid ${up.pid})` : up.pid === 1 ? 'init (PPID 1)' : `${up.comm} (pid ${up.pid})`) : 'nobody'
    // The root's own CLAUDE_PID speaks first, then the first member's that has one.
    const tie = (memberTies.find((t) => t.kind !== 'none') ?? {kind: 'none'}) as LeftoverTree['tie']
    const t: OrphanTree =
      mcpServers.length > 0
        ? {root, members, mcpServers, envOnly: false, why: `an MCP server with no Claude process above it; its tree hangs from ${holder}`}
        : {root, members, mcpServers, envOnly: true, why: `${leftoverEvidence(tie)}; its tree hangs from ${holder}`}
    const held = holdTree(tree, rules, t, up)
    if (held === 'healthy') continue
    if (held) unprovenTrees.push(held)
    else if (t.envOnly) leftovers.push({...t, tie})
    else mcpTrees.push(t)
  }

  const analysis = {claudes, orphanClaudes, claudeTrees, mcpTrees, leftovers, unprovenTrees, detachedRuns}
  perRules.set(rules, analysis)
  return analysis
}
