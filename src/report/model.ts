import {MAX_FINDINGS_PER_CHECK, type CheckResult} from '../checks/runner.js'
import type {CheckStatus, Finding, FindingKind} from '../checks/api.js'
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import {classify} from '../analysis/classify.js'
import {isMcpChainHead} from '../analysis/orphans.js'
import {treeOf} from '../tree/process-tree.js'
import type {FixOutcome} from '../remediation/outcome.js'

export const REPORT_SCHEMA_VERSION = 1

export type {FixOutcome}

/** A finding as the report carries it, with what the fix did to it (after --fix). */
export type ReportFinding = Finding & {fix?: FixOutcome}

/** One check's result in the report; `source` is `built-in`, `plugin:name@version` or `local:/path`. */
export interface ReportCheck {
  /** The check's id. */
  id: string
  /** The check's title. */
  title: string
  /** How the check ended. */
  status: CheckStatus
  /** How long detect took. */
  durationMs: number
  /** Where the check came from. */
  source: string
  /** Why it crashed or was skipped. */
  error?: string
  /** Its findings, after severity overrides and ignore rules. */
  findings: ReportFinding[]
}

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

/** The public JSON contract (schemaVersion 1): see test/report.schema.json and the README. */
export interface Report {
  /** 1: fields may be added, none removed or changed in meaning without a new version. */
  schemaVersion: typeof REPORT_SCHEMA_VERSION
  /** The doctor that wrote the report. */
  tool: {name: string; version: string}
  /** ISO time the report was built. */
  generatedAt: string
  /** The machine the snapshot was taken on. */
  host: {
    platform: string
    release: string
    wsl: boolean
    totalMemoryBytes: number
    tmuxVersion: string | null
    claudeVersion?: string
  }
  /** The counts of the summary line. */
  summary: ReportSummary
  /** Every check that ran, in registration order. */
  checks: ReportCheck[]
  /** What could not be measured on this host. */
  limitations: string[]
  /** Findings the fix handled, as they were before the fix (present after --fix). */
  fixed?: ReportFinding[]
}

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
  const orphanTrees = [...of('orphan-agent'), ...of('orphan-tree')]
  const leftovers = of('leftover')
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
    orphanClaude: of('orphan-agent').length,
    // Each orphaned MCP server once, whether its own finding or inside an orphaned claude's tree.
    orphanMcp: sumBy(orphanTrees, (f) => Number(f.data?.mcpServers ?? 0)),
    orphanMemoryBytes: sumBy([...orphanTrees, ...leftovers], (f) => f.memoryBytes ?? 0),
    // One launcher chain (npm exec → sh -c → node) is one server, as in every finding.
    mcpServers: cls.mcpOrEnv.filter((p) => live(p) && isMcpChainHead(tree, rules, p)).length,
    detachedRuns: all('detached-run').length,
    leftovers: leftovers.length,
    agents: agentCounts(tree, rules, cls.claudes.filter(live), {
      orphans: of('orphan-agent'),
      detachedRuns: all('detached-run'),
      leftovers,
    }),
    checks: {
      passed: count('ok'),
      warnings: count('warning'),
      errors: count('error'),
      crashed: count('crashed'),
      skipped: count('skipped'),
    },
    orphanMcpInClaudeTrees: sumBy(of('orphan-agent'), (f) => Number(f.data?.mcpServers ?? 0)),
    ...(notChecked.length > 0 ? {notChecked} : {}),
  }
}

export function buildReport(opts: {
  snapshot: Snapshot
  results: CheckResult[]
  rules: Rules
  tool: {name: string; version: string}
  now?: Date
  /** What limited the run before the snapshot: configuration files that were not trusted. */
  limitations?: string[]
}): Report {
  const {snapshot, results} = opts
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: opts.tool,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    host: {
      platform: snapshot.host.platform,
      release: snapshot.host.release,
      wsl: snapshot.host.wsl,
      totalMemoryBytes: snapshot.host.totalMemoryBytes,
      tmuxVersion: snapshot.tmux.version ?? null,
      ...(snapshot.host.claudeVersion ? {claudeVersion: snapshot.host.claudeVersion} : {}),
    },
    summary: summarize(snapshot, results, opts.rules),
    checks: results.map((r) => ({
      id: r.id,
      title: r.title,
      status: r.status,
      durationMs: Math.round(r.durationMs * 1000) / 1000,
      source: r.source.kind === 'built-in' ? 'built-in' : `${r.source.kind}:${r.source.name ?? ''}`,
      ...(r.error ? {error: r.error} : {}),
      findings: r.findings,
    })),
    limitations: [
      ...(opts.limitations ?? []),
      ...results
        .filter((r) => r.dropped)
        .map(
          (r) =>
            `check ${r.id} returned more findings than one check may report: the first ${MAX_FINDINGS_PER_CHECK.toLocaleString('en-US')} were kept, ${r.dropped!.toLocaleString('en-US')} dropped`,
        ),
      ...snapshot.limitations,
      ...coverageLimitations(snapshot, results),
    ],
  }
}

/**
 * What the run could not look at, as limitations: every tmux server that was asked and did not answer
 * (its sessions are not in the report), every socket the user named that has no live server, every
 * check that did not run to the end.
 */
export function coverageLimitations(snapshot: Snapshot, results: CheckResult[]): string[] {
  const out: string[] = []
  for (const s of snapshot.tmux.servers) {
    const named = s.foundBy.includes('flag') || s.foundBy.includes('config')
    if (s.status === 'unresponsive')
      out.push(
        `tmux server ${s.socket}${s.pid ? ` (pid ${s.pid})` : ''} did not answer (${s.error ?? 'timed out'}; --tmux-timeout sets the bound): its sessions and panes are not checked`,
      )
    else if (s.status === 'error')
      out.push(
        `tmux server ${s.socket} could not be listed (${s.error ?? 'error'}): its sessions and panes are not checked`,
      )
    else if (s.status === 'stale' && named)
      out.push(
        `--socket ${s.socket} is not a live tmux server (${s.error ?? 'stale socket'}): nothing was checked there`,
      )
  }
  for (const r of results) {
    if (r.status === 'skipped') out.push(`check ${r.id} did not run: ${r.error ?? 'skipped'}`)
    else if (r.status === 'crashed')
      out.push(`check ${r.id} crashed: ${r.error ?? 'no reason given'}; what it looks for was not checked`)
  }
  return out
}

/** Exit codes: 0 clean, 1 findings at or above the fail level, 2 the doctor could not run, 3 a fix failed. */
export const EXIT = {ok: 0, findings: 1, usage: 2, fixFailed: 3} as const

export type FailOn = 'error' | 'warning' | 'never'

export function exitCodeFor(report: Report, failOn: FailOn = 'error'): number {
  if (report.summary.status === 'crashed') return EXIT.usage
  const fixFailed = (f: ReportFinding) => f.fix?.outcome === 'failed'
  if (report.checks.some((c) => c.findings.some(fixFailed)) || report.fixed?.some(fixFailed)) return EXIT.fixFailed
  if (failOn === 'never') return EXIT.ok
  const bad = failOn === 'warning' ? ['warning', 'error'] : ['error']
  return report.checks.some((c) => c.findings.some((f) => bad.includes(f.severity))) ? EXIT.findings : EXIT.ok
}
