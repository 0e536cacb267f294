import type {Report, ReportCheck, ReportFinding} from '../report/model.js'
import type {Snapshot} from '../snapshot/types.js'
import {formatBytes, formatElapsed, formatPids, maxOf, plural} from './format.js'
import {elapsedMsOf, formatTree, processIndex, treeLines} from './tree.js'

export interface MarkdownOptions {
  /** Whether secrets and home directories were redacted (the footer says so). */
  redacted: boolean
}

/**
 * Inline text that cannot break out of a table cell or a paragraph: line breaks become spaces, every
 * character Markdown (or GitHub: `$` math, `@` mentions) gives a meaning to is escaped. `@scope/pkg` is
 * put in a code span, the only form in which GitHub neither mentions nor links it.
 */
export function mdText(text: string): string {
  const flat = text.replace(/\r\n|\r|\n|\t/g, ' ')
  // Brackets are escaped, so parentheses cannot form a link; `~` is GFM strikethrough, `$` GitHub math.
  const escapeMarkdown = (s: string) => s.replace(/[\\`*_[\]<>|~&$]/g, '\\$&')
  let out = ''
  let last = 0
  // GitHub mentions after any character that is not part of a word (`x;@octocat`, `'@octocat'`); an
  // e-mail address (`a@b.org`) is not a mention.
  for (const m of flat.matchAll(/(^|[^A-Za-z0-9_@.+-])(@[\w.@/:+-]+)/g)) {
    const start = m.index + m[1].length
    out += escapeMarkdown(flat.slice(last, start)) + codeSpan(m[2])
    last = start + m[2].length
  }
  return out + escapeMarkdown(flat.slice(last))
}

/** A code span around any text: a backtick fence longer than any run inside, pipes escaped for tables. */
export function codeSpan(text: string): string {
  const flat = text.replace(/\r\n|\r|\n/g, ' ')
  const longest = maxOf(Array.from(flat.matchAll(/`+/g), (m) => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const pad = flat.startsWith('`') || flat.endsWith('`') || /^ .* $/.test(flat) ? ' ' : ''
  return `${fence}${pad}${flat.replace(/\|/g, '\\|')}${pad}${fence}`
}

/** A fenced code block that no line of `lines` can close. */
export function codeBlock(lines: readonly string[], info = 'text'): string {
  const longest = maxOf(lines.flatMap((l) => Array.from(l.matchAll(/`+/g), (m) => m[0].length)))
  const fence = '`'.repeat(Math.max(3, longest + 1))
  return [`${fence}${info}`, ...lines, fence].join('\n')
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(' | ')} |`
}

const SYMBOL: Record<ReportCheck['status'], string> = {ok: '✔', warning: '⚠', error: '✖', crashed: '✖', skipped: '➖'}

function title(report: Report): string {
  const s = report.summary
  const parts: string[] = []
  if (s.orphanClaude > 0) parts.push(plural(s.orphanClaude, 'orphan Claude process', 'orphan Claude processes'))
  if (s.orphanMcp > 0) parts.push(plural(s.orphanMcp, 'orphan MCP server'))
  if (parts.length > 0)
    return `gt-doctor report: ${parts.join(', ')}, ${formatBytes(s.orphanMemoryBytes)} held by orphans`
  if (s.status === 'ok') return 'gt-doctor report: no orphans found'
  const c = s.checks
  return `gt-doctor report: no orphans; ${[plural(c.errors, 'error'), plural(c.warnings, 'warning'), c.crashed ? `${c.crashed} crashed` : ''].filter(Boolean).join(', ')}`
}

function environment(report: Report): string[] {
  const h = report.host
  const os = h.platform === 'linux' ? (h.wsl ? 'Linux (WSL2)' : 'Linux') : h.platform
  return [
    `- **OS**: ${mdText(os)}`,
    `- **Kernel**: ${mdText(h.release)}`,
    `- **WSL**: ${h.wsl ? 'yes' : 'no'}`,
    `- **Total RAM**: ${formatBytes(h.totalMemoryBytes)}`,
    `- **tmux**: ${h.tmuxVersion ? mdText(h.tmuxVersion) : 'not found'}`,
    `- **Claude Code**: ${h.claudeVersion ? mdText(h.claudeVersion) : 'version not readable'}`,
  ]
}

/** The investigation's "Current System State", counted by the doctor. */
function summary(report: Report): string[] {
  const s = report.summary
  const lines = [
    `- **${s.claudeProcesses}** Claude processes running`,
    `- **${s.tmuxSessions}** tmux sessions active${s.agentSessions === undefined ? '' : ` (**${s.agentSessions}** agent sessions)`}`,
    `- **${s.orphanClaude}** orphaned Claude processes (no live tmux pane holds them)`,
    `- **${s.mcpServers ?? 0}** MCP server processes running`,
    `- **${s.orphanMcp}** orphaned MCP servers`,
    `- **${formatBytes(s.orphanMemoryBytes)}** memory held by orphans`,
  ]
  // Jobs and leftovers, not orphans: said apart (reports from before they existed have neither field).
  if (s.detachedRuns !== undefined)
    lines.push(`- **${s.detachedRuns}** detached headless run${s.detachedRuns === 1 ? '' : 's'} (jobs, not orphans)`)
  if (s.leftovers !== undefined)
    lines.push(`- **${s.leftovers}** process tree${s.leftovers === 1 ? '' : 's'} left behind by agent tools`)
  if (s.fixed !== undefined) lines.push(`- **${s.fixed}** fixed, **${formatBytes(s.freedMemoryBytes ?? 0)}** freed`)
  return lines
}

function parentOf(snapshot: Snapshot | undefined, finding: ReportFinding): string {
  const fromData = finding.data?.parentPid
  const proc = finding.pid === undefined || !snapshot ? undefined : processIndex(snapshot).get(finding.pid)
  const ppid = typeof fromData === 'number' ? fromData : proc?.ppid
  if (ppid === undefined) return '-'
  const parent = snapshot && processIndex(snapshot).get(ppid)
  return parent ? `${ppid} (${mdText(parent.comm)})` : String(ppid)
}

function elapsedOf(snapshot: Snapshot | undefined, finding: ReportFinding): string {
  if (finding.pid === undefined || !snapshot) return '-'
  return formatElapsed(elapsedMsOf(snapshot, processIndex(snapshot).get(finding.pid)))
}

const SEVERITY_RANK = {info: 0, warning: 1, error: 2} as const

function findingTable(check: ReportCheck, snapshot: Snapshot | undefined): string[] {
  const top = check.findings.reduce((n, f) => Math.max(n, SEVERITY_RANK[f.severity]), 0)
  const lines = [row(['PID', 'Elapsed', 'Parent', 'Session', 'Memory', 'Finding', 'Why']), row(Array(7).fill('---'))]
  for (const f of check.findings) {
    const message = SEVERITY_RANK[f.severity] < top ? `(${f.severity}) ${f.message}` : f.message
    const fix = f.fix ? ` — fix: ${f.fix.outcome}${f.fix.detail ? ` (${f.fix.detail})` : ''}` : ''
    lines.push(
      row([
        formatPids(f.pid, f.pids),
        elapsedOf(snapshot, f),
        parentOf(snapshot, f),
        f.session ? mdText(f.session) : '-',
        formatBytes(f.memoryBytes),
        mdText(message + fix),
        mdText(f.reason),
      ]),
    )
  }
  return lines
}

function statusLine(check: ReportCheck): string {
  if (check.status === 'skipped' || check.status === 'crashed')
    return `${check.status}${check.error ? `: ${mdText(check.error.replace(/^skipped:\s*/, ''))}` : ''}`
  return check.status === 'ok' ? 'passed' : check.status
}

function checks(report: Report, snapshot: Snapshot | undefined): string[] {
  const out: string[] = []
  const quiet: string[] = []
  for (const check of report.checks) {
    const name = `${mdText(check.title)} (${codeSpan(check.id)})`
    if (check.findings.length === 0) {
      quiet.push(`- ${SYMBOL[check.status]} ${name}: ${statusLine(check)}`)
      continue
    }
    const counts = (['error', 'warning', 'info'] as const)
      .map((sev) => [sev, check.findings.filter((f) => f.severity === sev).length] as const)
      .filter(([, n]) => n > 0)
      .map(([sev, n]) => plural(n, sev))
    out.push(`#### ${SYMBOL[check.status]} ${name}: ${counts.join(', ')}`, '', ...findingTable(check, snapshot), '')
  }
  if (quiet.length > 0) out.push('#### Checks without findings', '', ...quiet, '')
  return out
}

/** Every finding's process tree once (by root), in a block GitHub folds away. */
function trees(report: Report, snapshot: Snapshot | undefined): string[] {
  if (!snapshot) return []
  const shown = new Set<number>()
  const blocks: string[] = []
  let processes = 0
  for (const check of report.checks) {
    for (const f of check.findings) {
      if (f.pid === undefined || f.pids.length === 0 || shown.has(f.pid)) continue
      const lines = treeLines(snapshot, f.pids)
      if (lines.length === 0) continue
      shown.add(f.pid)
      processes += lines.length
      const memory = f.memoryBytes === undefined ? '' : `, ${formatBytes(f.memoryBytes)}`
      blocks.push(
        `**${codeSpan(check.id)} ${f.pid}** (${plural(lines.length, 'process', 'processes')}${memory})`,
        '',
        codeBlock(formatTree(lines)),
        '',
      )
    }
  }
  if (blocks.length === 0) return []
  return [
    '<details>',
    `<summary>Process trees of ${plural(shown.size, 'finding')} (${plural(processes, 'process', 'processes')})</summary>`,
    '',
    ...blocks,
    '</details>',
    '',
  ]
}

/** The report as GitHub-flavoured Markdown, ready to paste into an issue. */
export function renderMarkdown(report: Report, snapshot: Snapshot | undefined, opts: MarkdownOptions): string {
  const s = report.summary
  const c = s.checks
  const status = [plural(c.errors, 'error'), plural(c.warnings, 'warning'), `${c.passed} passed`]
  if (c.crashed) status.push(`${c.crashed} crashed`)
  if (c.skipped) status.push(`${c.skipped} skipped`)
  const lines = [
    `## ${mdText(title(report))}`,
    '',
    `Status: **${s.status}** (${status.join(', ')}). Snapshot taken ${mdText(snapshot?.collectedAt ?? report.generatedAt)}, report by ${mdText(`${report.tool.name} ${report.tool.version}`)}.`,
    '',
    '### Environment',
    '',
    ...environment(report),
    '',
    '### Current system state',
    '',
    ...summary(report),
    '',
    '### Findings',
    '',
    ...checks(report, snapshot),
    ...trees(report, snapshot),
  ]
  if (report.limitations.length > 0)
    lines.push('### Limitations', '', ...report.limitations.map((l) => `- ${mdText(l)}`), '')
  lines.push(
    opts.redacted
      ? '_Command lines are redacted: secrets masked as `***`, home directories shown as `~`._'
      : '_Not redacted (`--no-redact`): check command lines for secrets before sharing._',
  )
  return `${lines.join('\n')}\n`
}
