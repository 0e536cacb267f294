/**
 * The orphan picture of one snapshot: each claude's verdict (`claude-verdict.ts`), then the trees that
 * can be ended and who holds them (orphan claudes, detached runs, MCP trees whose claude is gone,
 * leftovers, trees that cannot be proven), each process in one tree at the most.
 */
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {climbChain, isGone, isLauncherLink, isSessionServer, killableSubtree, mcpServersIn} from './chains.js'
import {judgeClaude} from './claude-verdict.js'
import {classify} from './classify.js'
import {detachedWhy, judgeDetached} from './detached.js'
import {PairCache} from './memo.js'
import {answeringServer, judgeServerChild, unaskedMultiplexer, unaskedOwner} from './owners.js'
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
      isSessionServer(tree, rules, p) ||
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
    const orphaned = up === undefined ? root.ppid === 1 : rules.isReaper(up) || isSessionServer(tree, rules, up)
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
