/**
 * The summary line's counts: what the machine runs (claudes, sessions, MCP servers, per agent) and what the
 * checks found, counted by finding kind so that a check a plugin adds is counted like a built-in one.
 */
import type {CheckResult} from '../checks/runner.js'
import type {CheckStatus, Finding, FindingKind} from '../checks/api.js'
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import {classify} from '../analysis/classify.js'
import {isMcpChainHead} from '../analysis/orphans.js'
import {treeOf} from '../tree/process-tree.js'

/** The counts of the summary line, and the worst status of any check. */
export interface ReportSummary {
  /** `crashed` if any check crashed, else the worst finding severity (`ok` when none). */
  status: 'ok' | 'warning' | 'error' | 'crashed'
  /** Live Claude processes on the machine. */
  claudeProcesses: number
  /** tmux sessions across every server that answered. */
  tmuxSessions: number
  /** Sessions named like agent sessions or with a Claude process in one of their live panes. */
  agentSessions?: number
  /** Orphan Claude findings (trees). */
  orphanClaude: number
  /** Orphaned MCP servers, inside orphan Claude trees or on their own. */
  orphanMcp: number
  /** Memory held by every orphan tree. */
  orphanMemoryBytes: number
  /** Live MCP servers on the machine (each launcher chain, `npm exec` → `sh -c` → `node`, counted once). */
  mcpServers: number
  /** Detached headless runs (detached-run findings): jobs, not orphans; not in `orphanClaude` nor in the orphan memory. */
  detachedRuns?: number
  /** Trees Claude Code started that outlived their claude (agent-leftover findings); their memory is in `orphanMemoryBytes`. */
  leftovers?: number
  /**
   * Per agent of the rules' table (`claude`, `codex`, …), for the agents seen: live processes (a launcher
   * and the native binary it runs counted once), orphan findings, detached runs and leftovers. `orphanClaude`,
   * `detachedRuns` and `leftovers` above are the sums over every agent.
   */
  agents?: Record<string, AgentCounts>
  /** How many checks ended in each status. */
  checks: {passed: number; warnings: number; errors: number; crashed: number; skipped: number}
  /** Findings fixed (after --fix). */
  fixed?: number
  /** Memory freed by the fix (after --fix). */
  freedMemoryBytes?: number
  /** Of `orphanMcp`, the servers inside orphan claude trees (the orphan-mcp check lists only the others). */
  orphanMcpInClaudeTrees?: number
  /** Counts above that no check that ran measures (`--only`, `--skip`, a crash): 0 there means "not looked". */
  notChecked?: SummaryCount[]
}

/** One agent's share of the summary counts. */
export interface AgentCounts {
  processes: number
  orphans: number
  detachedRuns: number
  leftovers: number
}

/** The summary counts that depend on which checks ran. */
export type SummaryCount = 'orphanClaude' | 'orphanMcp' | 'orphanMemoryBytes' | 'detachedRuns' | 'leftovers'

/** Sessions that are agent sessions: named so by the rules, or holding a live Claude process in a pane. */
export function countAgentSessions(snapshot: Snapshot, rules: Rules): number {
  const tree = treeOf(snapshot)
  const keys = new Set<string>()
  for (const s of snapshot.tmux.servers)
    for (const p of s.panes) if (rules.isAgentSession(p.session)) keys.add(`${s.socket}\u0000${p.sessionId}`)
  for (const p of classify(snapshot, rules).claudes) {
    if (p.state === 'Z' || p.state === 'X') continue
    const owner = tree.paneOwner(p)
    if (owner) keys.add(`${owner.server.socket}\u0000${owner.pane.sessionId}`)
  }
  return keys.size
}

/** Distinct sessions across every server that answered. */
export function countSessions(snapshot: Snapshot): number {
  const keys = new Set<string>()
  for (const s of snapshot.tmux.servers) for (const p of s.panes) keys.add(`${s.socket}\u0000${p.sessionId}`)
  return keys.size
}

function sumBy(findings: Finding[], key: (f: Finding) => number): number {
  return findings.reduce((n, f) => n + key(f), 0)
}

/** Each agent's counts: its processes (not one under its own launcher) and the findings that name it. */
function agentCounts(
  tree: ReturnType<typeof treeOf>,
  rules: Rules,
  agents: readonly ProcessInfo[],
  findings: Record<'orphans' | 'detachedRuns' | 'leftovers', Finding[]>,
): Record<string, AgentCounts> {
  const out: Record<string, AgentCounts> = {}
  const of = (id: string): AgentCounts => (out[id] ??= {processes: 0, orphans: 0, detachedRuns: 0, leftovers: 0})
  for (const p of agents) {
    const id = rules.agentOf(p)
    if (id === undefined) continue
    const parent = tree.parent(p)
    if (parent && rules.agentOf(parent) === id) continue
    of(id).processes++
  }
  for (const key of ['orphans', 'detachedRuns', 'leftovers'] as const) {
    for (const f of findings[key]) {
      const id = f.data?.agent
      if (typeof id === 'string') of(id)[key]++
    }
  }
  return out
}

export function summarize(snapshot: Snapshot, results: CheckResult[], rules: Rules): ReportSummary {
  const tree = treeOf(snapshot)
  const cls = classify(snapshot, rules)
  const live = (p: ProcessInfo) => p.state !== 'Z' && p.state !== 'X'
  // Which findings are orphans the checks say through their kind, never through their ids.
  const all = (kind: FindingKind) => results.filter((r) => r.kind === kind).flatMap((r) => r.findings)
  // An info finding of an orphan or leftover check is one the doctor could not verify, or a supervised
  // service: not an orphan.
  const of = (kind: FindingKind) => all(kind).filter((f) => f.severity !== 'info')
  const orphanAgents = of('orphan-agent')
  const orphanTrees = [...orphanAgents, ...of('orphan-tree')]
  const leftovers = of('leftover')
  const detachedRuns = all('detached-run')
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length
  // A kind is measured when a check of that kind ran to the end.
  const ran = (...kinds: FindingKind[]) =>
    results.some(
      (r) => r.kind !== undefined && kinds.includes(r.kind) && r.status !== 'crashed' && r.status !== 'skipped',
    )
  const notChecked: SummaryCount[] = [
    ...(ran('orphan-agent') ? [] : (['orphanClaude'] as const)),
    ...(ran('orphan-agent', 'orphan-tree') ? [] : (['orphanMcp'] as const)),
    ...(ran('orphan-agent', 'orphan-tree', 'leftover') ? [] : (['orphanMemoryBytes'] as const)),
    ...(ran('detached-run') ? [] : (['detachedRuns'] as const)),
    ...(ran('leftover') ? [] : (['leftovers'] as const)),
  ]
  const status: ReportSummary['status'] =
    count('crashed') > 0 ? 'crashed' : count('error') > 0 ? 'error' : count('warning') > 0 ? 'warning' : 'ok'
  return {
    status,
    // Claude Code's processes only, as the name says; every agent's are in `agents`.
    claudeProcesses: cls.claudes.filter((p) => live(p) && rules.agentOf(p) === 'claude').length,
    tmuxSessions: countSessions(snapshot),
    agentSessions: countAgentSessions(snapshot, rules),
    orphanClaude: orphanAgents.length,
    // Each orphaned MCP server once, whether its own finding or inside an orphaned claude's tree.
    orphanMcp: sumBy(orphanTrees, (f) => Number(f.data?.mcpServers ?? 0)),
    orphanMemoryBytes: sumBy([...orphanTrees, ...leftovers], (f) => f.memoryBytes ?? 0),
    // One launcher chain (npm exec → sh -c → node) is one server, as in every finding.
    mcpServers: cls.mcpOrEnv.filter((p) => live(p) && isMcpChainHead(tree, rules, p)).length,
    detachedRuns: detachedRuns.length,
    leftovers: leftovers.length,
    agents: agentCounts(tree, rules, cls.claudes.filter(live), {
      orphans: orphanAgents,
      detachedRuns,
      leftovers,
    }),
    checks: {
      passed: count('ok'),
      warnings: count('warning'),
      errors: count('error'),
      crashed: count('crashed'),
      skipped: count('skipped'),
    },
    orphanMcpInClaudeTrees: sumBy(orphanAgents, (f) => Number(f.data?.mcpServers ?? 0)),
    ...(notChecked.length > 0 ? {notChecked} : {}),
  }
}
