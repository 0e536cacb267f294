import type {Rules} from '../rules/rules.js'
import {tmuxSocketOf} from '../snapshot/tmux-env.js'
import type {ProcessInfo, Snapshot, TmuxServer} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {climbChain, isGone, isLauncherLink, killableSubtree, mcpServersIn} from './chains.js'
import {classify} from './classify.js'
import {detachedWhy, judgeDetached} from './detached.js'
import {PairCache} from './memo.js'
import {
  answeringServer,
  judgeMultiplexer,
  judgeServerChild,
  unaskedMultiplexer,
  unaskedOwner,
  windowWhere,
} from './owners.js'
import {supervisionOf} from './supervision.js'
import {claudeTies} from './ties.js'
import type {ClaudeVerdict, DetachedRun, LeftoverTree, OrphanAnalysis, OrphanTree, UnprovenTree} from './verdicts.js'

export {isMcpChainHead, killableSubtree, mcpServersIn, orphanTreeCandidates} from './chains.js'
export type {
  ClaudeVerdict,
  DetachedRun,
  LeftoverTree,
  OrphanAnalysis,
  OrphanEvidence,
  OrphanTree,
  UnprovenTree,
} from './verdicts.js'

/** Processes the doctor must never judge an orphan or put in a tree: itself and its ancestors. */
function protectedPids(snapshot: Snapshot): Set<number> {
  return new Set([snapshot.host.doctorPid, ...snapshot.host.doctorAncestors, 1])
}

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

/** The evidence of a leftover, as the first half of its reason. */
function leftoverEvidence(rules: Rules, agent: string, tie: LeftoverTree['tie']): string {
  // Only Claude Code's children carry a pid tie; another agent's leftover is known by its marker and shape.
  if (agent !== 'claude')
    return `started by ${rules.agentName(agent)} (its environment marker) but no ${agent} process is above it (tree shape only)`
  if (tie.kind === 'none')
    return 'started by Claude Code (CLAUDECODE=1) but no Claude process is above it (tree shape only: no CLAUDE_PID)'
  const named =
    tie.by === 'CLAUDE_PID' ? `CLAUDE_PID=${tie.claudePid}` : `its messaging socket names claude ${tie.claudePid}`
  if (tie.kind === 'claude-gone')
    return `started by Claude Code (CLAUDECODE=1, ${named}) and no process ${tie.claudePid} runs any more: its claude is gone`
  const now = tie.startedAfter
    ? 'a claude that started after it'
    : (tie.now.argv[0] ?? tie.now.comm).split('/').pop() || tie.now.comm
  return `started by Claude Code (CLAUDECODE=1, ${named}), but PID ${tie.claudePid} is now ${now} (PID reuse): its claude is gone`
}

/**
 * The detached runs, one per job: claudes of one detached shell share its tree. Members already in an
 * orphan claude's tree stay there (`covered`), and the jobs' members are added to it.
 */
function collectDetachedRuns(
  tree: ProcessTree,
  rules: Rules,
  verdicts: readonly ClaudeVerdict[],
  protect: Set<number>,
  covered: Set<number>,
): DetachedRun[] {
  const byRoot = new Map<number, DetachedRun>()
  const oldestFirst = [...verdicts].sort(
    (a, b) => (a.proc.startTicks ?? 0) - (b.proc.startTicks ?? 0) || a.proc.pid - b.proc.pid,
  )
  for (const v of oldestFirst) {
    const d = v.detached!
    const known = byRoot.get(d.root.pid)
    if (known) {
      known.claudes.push(v.proc)
      continue
    }
    const members = killableSubtree(tree, rules, d.root, protect).filter((m) => !covered.has(m.pid))
    byRoot.set(d.root.pid, {
      root: d.root,
      members,
      mcpServers: mcpServersIn(tree, rules, members),
      claudes: [v.proc],
      headless: rules.headlessFlag(v.proc)!,
      detachment: d,
      why: v.why,
    })
  }
  const runs = [...byRoot.values()].sort((a, b) => a.root.pid - b.root.pid)
  for (const r of runs) for (const m of r.members) covered.add(m.pid)
  return runs
}

/**
 * What keeps a tree that hangs from a reaper or a tmux server from being an orphan: an owner the doctor could
 * not ask (cannot verify), a tmux popup or job (healthy: not reported), or a supervisor.
 */
function holdTree(
  tree: ProcessTree,
  rules: Rules,
  t: OrphanTree,
  up: ProcessInfo | undefined,
): UnprovenTree | 'healthy' | undefined {
  const unasked = unaskedOwner(tree, rules, up, t.members) ?? unaskedMultiplexer(tree, t.members)
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

const cache = new PairCache<Snapshot, Rules, OrphanAnalysis>()

/**
 * The orphan picture of one snapshot, shared by orphan-claude, orphan-mcp and orphan-memory so that
 * each tree is judged once and counted once. Pure; memoised per snapshot and rules.
 */
export function analyzeOrphans(tree: ProcessTree, rules: Rules): OrphanAnalysis {
  return cache.get(tree.snapshot, rules, () => analyzeOnce(tree, rules))
}

function analyzeOnce(tree: ProcessTree, rules: Rules): OrphanAnalysis {
  const snapshot = tree.snapshot

  const protect = protectedPids(snapshot)
  const cls = classify(snapshot, rules)
  const claudes: ClaudeVerdict[] = []
  for (const p of cls.claudes) {
    if (isGone(p)) continue
    const verdict = judgeClaude(tree, rules, p, protect)
    const detached = judgeDetached(tree, rules, verdict, protect)
    claudes.push(
      detached
        ? {
            ...verdict,
            kind: 'detached',
            evidence: undefined,
            detached,
            why: detachedWhy(tree, rules, detached, p, rules.headlessFlag(p)!),
          }
        : verdict,
    )
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
    claudeTrees.set(c.proc.pid, {
      root: c.proc,
      members,
      mcpServers: mcpServersIn(tree, rules, members),
      why: c.why,
      envOnly: false,
    })
  }
  const detachedRuns = collectDetachedRuns(
    tree,
    rules,
    claudes.filter((c) => c.kind === 'detached' && isOuter(c)),
    protect,
    covered,
  )

  const ties = claudeTies(tree, rules)
  const mcpTrees: OrphanTree[] = []
  const leftovers: LeftoverTree[] = []
  const unprovenTrees: UnprovenTree[] = []
  const rooted = new Set<number>()
  const parentOf = (q: ProcessInfo) => tree.parent(q)
  for (const p of cls.mcpOrEnv) {
    if (isGone(p) || covered.has(p.pid) || protect.has(p.pid)) continue
    if (
      rules.isClaude(p) ||
      rules.isTmuxServer(p) ||
      tree.isMultiplexerServer(p) ||
      rules.isReaper(p) ||
      rules.isSupervisor(p) ||
      tree.isInLivePane(p)
    )
      continue
    // Climb the launcher chain (npm exec, sh -c, uv, ...) to whatever started it; a PPID cycle ends the climb.
    const climb = climbChain(
      p,
      parentOf,
      rules,
      (q) => isLauncherLink(rules, q),
      (q) => protect.has(q.pid) || rules.isSupervisor(q),
    )
    if (climb.cycle) continue // nobody provably adopted it
    const {top: root, above: up} = climb
    // Only a chain that ends at a reaper or a tmux server is orphaned; under a live app or claude it is owned.
    // Parent 0 outside PID 1 is a parent outside this PID namespace (docker exec): alive, for all we know.
    // A screen / zellij server's child in no live window: its window was killed (or its session cannot be asked: held below).
    const orphaned =
      up === undefined ? root.ppid === 1 : rules.isReaper(up) || rules.isTmuxServer(up) || tree.isMultiplexerServer(up)
    if (!orphaned || rooted.has(root.pid) || covered.has(root.pid)) continue
    const members = killableSubtree(tree, rules, root, protect)
    rooted.add(root.pid)
    if (members.some((m) => rules.isClaude(m))) continue // a live claude below: its own verdict rules
    // CLAUDE_PID, the messaging socket or the session id ties it to a live claude: owned, wherever it was reparented.
    const memberTies = members.map((m) => ties.tieOf(m))
    if (memberTies.some((t) => t.kind === 'owned')) continue
    for (const m of members) covered.add(m.pid)
    const mcpServers = mcpServersIn(tree, rules, members)
    const holder = up
      ? rules.isTmuxServer(up)
        ? `the tmux server (pid ${up.pid})`
        : up.pid === 1
          ? 'init (PPID 1)'
          : `${up.comm} (pid ${up.pid})`
      : 'nobody'
    // The root's own CLAUDE_PID speaks first, then the first member's that has one.
    const tie = (memberTies.find((t) => t.kind !== 'none') ?? {kind: 'none'}) as LeftoverTree['tie']
    // Claude Code's marker speaks first (its ties are the strongest evidence), then the root's, then any member's.
    const agent = members.some((m) => rules.agentEnvOf(m) === 'claude')
      ? 'claude'
      : (members.map((m) => rules.agentEnvOf(m)).find((a) => a !== undefined) ?? 'claude')
    const t: OrphanTree =
      mcpServers.length > 0
        ? {
            root,
            members,
            mcpServers,
            envOnly: false,
            why: `an MCP server with no Claude process above it; its tree hangs from ${holder}`,
          }
        : {
            root,
            members,
            mcpServers,
            envOnly: true,
            why: `${leftoverEvidence(rules, agent, tie)}; its tree hangs from ${holder}`,
          }
    const held = holdTree(tree, rules, t, up)
    if (held === 'healthy') continue
    if (held) unprovenTrees.push(t.envOnly ? {...held, agent} : held)
    else if (t.envOnly) leftovers.push({...t, tie, agent})
    else mcpTrees.push(t)
  }

  return {claudes, orphanClaudes, claudeTrees, mcpTrees, leftovers, unprovenTrees, detachedRuns}
}
