import type {CheckResult} from '../checks/runner.js'
import type {CheckStatus, Finding} from '../checks/api.js'
import type {Rules} from '../rules/rules.js'
import type {Snapshot} from '../snapshot/types.js'
import {treeOf} from '../tree/process-tree.js'

export const REPORT_SCHEMA_VERSION = 1

/** What the remediation engine did for one finding. */
export interface FixOutcome {
  outcome: 'fixed' | 'already-gone' | 'skipped' | 'failed' | 'planned'
  detail: string
  signalled: number[]
  freedBytes: number
}

export type ReportFinding = Finding & {fix?: FixOutcome}

export interface ReportCheck {
  id: string
  title: string
  status: CheckStatus
  durationMs: number
  source: string
  error?: string
  findings: ReportFinding[]
}

export interface ReportSummary {
  status: 'ok' | 'warning' | 'error' | 'crashed'
  claudeProcesses: number
  tmuxSessions: number
  orphanClaude: number
  orphanMcp: number
  orphanMemoryBytes: number
  mcpServers: number
  checks: {passed: number; warnings: number; errors: number; crashed: number; skipped: number}
  fixed?: number
  freedMemoryBytes?: number
}

/** The public JSON contract (schemaVersion 1): see test/report.schema.json and the README. */
export interface Report {
  schemaVersion: typeof REPORT_SCHEMA_VERSION
  tool: {name: string; version: string}
  generatedAt: string
  host: {platform: string; release: string; wsl: boolean; totalMemoryBytes: number; tmuxVersion: string | null}
  summary: ReportSummary
  checks: ReportCheck[]
  /** What could not be measured on this host. */
  limitations: string[]
  /** Findings the fix handled, as they were before the fix (present after --fix). */
  fixed?: ReportFinding[]
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

export function summarize(snapshot: Snapshot, results: CheckResult[], rules: Rules): ReportSummary {
  const tree = treeOf(snapshot)
  const live = snapshot.processes.filter((p) => p.state !== 'Z' && p.state !== 'X')
  const of = (id: string) => results.find((r) => r.id === id)?.findings.filter((f) => f.severity !== 'info') ?? []
  const orphanTrees = [...of('orphan-claude'), ...of('orphan-mcp')]
  const count = (s: CheckStatus) => results.filter((r) => r.status === s).length
  const status: ReportSummary['status'] = count('crashed') > 0 ? 'crashed' : count('error') > 0 ? 'error' : count('warning') > 0 ? 'warning' : 'ok'
  return {
    status,
    claudeProcesses: live.filter((p) => rules.isClaude(p)).length,
    tmuxSessions: countSessions(snapshot),
    orphanClaude: of('orphan-claude').length,
    // Each orphaned MCP server once, whether its own finding or inside an orphaned claude's tree.
    orphanMcp: sumBy(orphanTrees, (f) => Number(f.data?.mcpServers ?? 0)),
    orphanMemoryBytes: sumBy(orphanTrees, (f) => f.memoryBytes ?? 0),
    // An MCP server tree counts once: a launcher (npm exec) and the server it starts are one server.
    mcpServers: live.filter((p) => {
      const parent = tree.get(p.ppid)
      return rules.isMcpServer(p) && !(parent && rules.isMcpServer(parent))
    }).length,
    checks: {passed: count('ok'), warnings: count('warning'), errors: count('error'), crashed: count('crashed'), skipped: count('skipped')},
  }
}

export function buildReport(opts: {
  snapshot: Snapshot
  results: CheckResult[]
  rules: Rules
  tool: {name: string; version: string}
  now?: Date
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
    limitations: snapshot.limitations,
  }
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
