import type {CheckStatus, Severity} from '../checks/api.js'
import type {Report} from '../report/model.js'

/**
 * `gt_doctor_check_status{check}` values: one series per check, its status as a number so that alert rules
 * can compare (`> 0` means something is wrong, `== 3` a crash, `< 0` the check could not run here).
 */
export const CHECK_STATUS_VALUE: Record<CheckStatus, number> = {ok: 0, warning: 1, error: 2, crashed: 3, skipped: -1}

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info']

/** A label value in the text exposition format: backslash, double quote and line feed escaped. */
export function promLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function promHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

type Sample = {labels?: Record<string, string>; value: number}

function metric(name: string, help: string, samples: Sample[]): string[] {
  const lines = [`# HELP ${name} ${promHelp(help)}`, `# TYPE ${name} gauge`]
  for (const s of samples) {
    const labels = s.labels
      ? `{${Object.entries(s.labels)
          .map(([k, v]) => `${k}="${promLabel(v)}"`)
          .join(',')}}`
      : ''
    lines.push(`${name}${labels} ${Number.isFinite(s.value) ? String(s.value) : 'NaN'}`)
  }
  return lines
}

const AGENT_MEASURES = [
  [
    'gt_doctor_agent_processes',
    'Processes of each agent CLI (a launcher and its native binary count once).',
    'processes',
  ],
  ['gt_doctor_agent_orphans', 'Orphaned interactive processes of each agent CLI.', 'orphans'],
  ['gt_doctor_agent_detached_runs', 'Detached headless runs of each agent CLI (jobs, not orphans).', 'detachedRuns'],
  ['gt_doctor_agent_leftover_trees', 'Process trees each agent CLI started that outlived it.', 'leftovers'],
] as const

function perAgent(agents: Report['summary']['agents']): string[] {
  const ids = Object.keys(agents ?? {}).sort()
  if (!agents || ids.length === 0) return []
  return AGENT_MEASURES.flatMap(([name, help, key]) =>
    metric(
      name,
      help,
      ids.map((agent) => ({labels: {agent}, value: agents[agent][key]})),
    ),
  )
}

/**
 * The Prometheus text exposition format (0.0.4), for node_exporter's textfile collector: write it with
 * `--output /var/lib/node_exporter/textfile/gt-doctor.prom` (the write is atomic, as the collector needs).
 * Every series is a gauge; `gt_doctor_findings` has a sample for every check and severity, zeros included,
 * so that a rule sees a finding disappear rather than a series go stale.
 */
export function renderPrometheus(report: Report): string {
  const s = report.summary
  const lines = [
    ...metric('gt_doctor_claude_processes', 'Claude Code processes running.', [{value: s.claudeProcesses}]),
    ...metric('gt_doctor_tmux_sessions', 'tmux sessions across every tmux server that answered.', [
      {value: s.tmuxSessions},
    ]),
    ...metric(
      'gt_doctor_agent_sessions',
      'tmux sessions that are agent sessions (by name, or holding a Claude process).',
      [{value: s.agentSessions ?? 0}],
    ),
    ...metric('gt_doctor_mcp_servers', 'MCP server processes running (a launcher and its server count once).', [
      {value: s.mcpServers ?? 0},
    ]),
    ...metric('gt_doctor_orphan_claude', 'Claude Code processes that no live tmux pane holds.', [
      {value: s.orphanClaude},
    ]),
    ...metric('gt_doctor_orphan_mcp', 'MCP servers with no live Claude Code process above them.', [
      {value: s.orphanMcp},
    ]),
    ...metric(
      'gt_doctor_detached_runs',
      'Detached headless Claude Code runs (jobs, not orphans; not in the orphan counts or memory).',
      [{value: s.detachedRuns ?? 0}],
    ),
    ...metric(
      'gt_doctor_agent_leftovers',
      'Process trees Claude Code started that outlived their claude (their memory is in the orphan memory).',
      [{value: s.leftovers ?? 0}],
    ),
    // Per agent of the rules' table, for the agents seen in this run (summary.agents): the totals above say
    // how many, these say whose. Series with the same measure share one name and differ by the agent label.
    ...perAgent(s.agents),
    ...metric(
      'gt_doctor_orphan_memory_bytes',
      'Memory held by orphan process trees (PSS where readable, RSS otherwise), each process once.',
      [{value: s.orphanMemoryBytes}],
    ),
    ...metric(
      'gt_doctor_findings',
      'Findings per check and severity.',
      report.checks.flatMap((c) =>
        SEVERITIES.map((severity) => ({
          labels: {check: c.id, severity},
          value: c.findings.filter((f) => f.severity === severity).length,
        })),
      ),
    ),
    ...metric(
      'gt_doctor_check_status',
      'Status of each check: 0 ok, 1 warning, 2 error, 3 crashed, -1 skipped.',
      report.checks.map((c) => ({labels: {check: c.id}, value: CHECK_STATUS_VALUE[c.status]})),
    ),
  ]
  if (s.fixed !== undefined) {
    lines.push(...metric('gt_doctor_fixed_findings', 'Findings the last run fixed.', [{value: s.fixed}]))
    lines.push(
      ...metric('gt_doctor_freed_memory_bytes', 'Memory the last run freed.', [{value: s.freedMemoryBytes ?? 0}]),
    )
  }
  lines.push(
    ...metric('gt_doctor_last_run_timestamp_seconds', 'When gt-doctor last ran, in seconds since the epoch.', [
      {value: Date.parse(report.generatedAt) / 1000},
    ]),
  )
  return `${lines.join('\n')}\n`
}
