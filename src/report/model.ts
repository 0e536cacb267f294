/**
 * The report: the public JSON contract every renderer reads, built from one snapshot and the checks'
 * results, with what limited the run and the exit code it earns. Its summary counts are `summary.ts`'s.
 */
import {MAX_FINDINGS_PER_CHECK, type CheckResult} from '../checks/runner.js'
import type {CheckStatus, Finding} from '../checks/api.js'
import type {Rules} from '../rules/rules.js'
import type {Snapshot} from '../snapshot/types.js'
import type {FixOutcome} from '../remediation/outcome.js'
import {summarize, type ReportSummary} from './summary.js'

export const REPORT_SCHEMA_VERSION = 1

export type {FixOutcome}
export type {AgentCounts, ReportSummary, SummaryCount} from './summary.js'

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
function coverageLimitations(snapshot: Snapshot, results: CheckResult[]): string[] {
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
