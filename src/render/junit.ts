import type {FailOn, Report, ReportCheck, ReportFinding} from '../report/model.js'
import type {Snapshot} from '../snapshot/types.js'
import {formatBytes, formatElapsed, formatPids} from './format.js'
import {elapsedMsOf, formatTree, processIndex, treeLines} from './tree.js'

export interface JunitOptions {
  /** Findings at or above this level are `<failure>`s; the others are listed in `<system-out>`. */
  failOn: FailOn
}

/**
 * Text XML 1.0 can carry: characters it forbids (control characters, lone surrogates) are written as
 * `\xNN` / U+FFFD instead, so a command line with an escape sequence cannot make the file unparsable.
 */
export function xmlText(text: string): string {
  return text
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .replace(
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g,
      (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
}

/** An attribute value: quotes escaped, and line breaks and tabs kept as references (a parser would fold them to spaces). */
export function xmlAttr(text: string): string {
  return xmlText(text)
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;')
    .replace(/\t/g, '&#9;')
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${xmlAttr(String(v))}"`)
    .join('')
}

const RANK = {info: 0, warning: 1, error: 2} as const
const THRESHOLD: Record<FailOn, number> = {error: 2, warning: 1, never: Number.POSITIVE_INFINITY}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3)
}

/** What a CI page shows under a failure: the finding in plain words, then its process tree. */
function details(finding: ReportFinding, snapshot: Snapshot | undefined): string {
  const proc = finding.pid === undefined || !snapshot ? undefined : processIndex(snapshot).get(finding.pid)
  const lines = [
    `${finding.severity}: ${finding.message}`,
    `why: ${finding.reason}`,
    `pid: ${formatPids(finding.pid, finding.pids)}`,
  ]
  if (snapshot && proc) lines.push(`elapsed: ${formatElapsed(elapsedMsOf(snapshot, proc))}`)
  if (finding.session) lines.push(`session: ${finding.session}`)
  if (finding.memoryBytes !== undefined) lines.push(`memory: ${formatBytes(finding.memoryBytes)}`)
  if (finding.fix) lines.push(`fix: ${finding.fix.outcome}${finding.fix.detail ? ` (${finding.fix.detail})` : ''}`)
  if (snapshot && finding.pid !== undefined && finding.pids.length > 0) {
    const tree = formatTree(treeLines(snapshot, finding.pids))
    if (tree.length > 0) lines.push('tree:', ...tree)
  }
  return lines.join('\n')
}

function testcase(
  check: ReportCheck,
  snapshot: Snapshot | undefined,
  threshold: number,
): {xml: string[]; failed: boolean} {
  const open = `    <testcase${attrs({classname: 'gt-doctor', name: `${check.id}: ${check.title}`, time: seconds(check.durationMs)})}`
  if (check.status === 'skipped') {
    return {
      xml: [`${open}>`, `      <skipped${attrs({message: check.error ?? 'skipped'})}/>`, '    </testcase>'],
      failed: false,
    }
  }
  if (check.status === 'crashed') {
    const message = check.error ?? 'crashed'
    return {
      xml: [
        `${open}>`,
        `      <error${attrs({message, type: 'crashed'})}>${xmlText(`the check crashed: ${message}`)}</error>`,
        '    </testcase>',
      ],
      failed: false,
    }
  }
  const failing = check.findings.filter((f) => RANK[f.severity] >= threshold)
  const other = check.findings.filter((f) => RANK[f.severity] < threshold)
  if (failing.length === 0 && other.length === 0) return {xml: [`${open}/>`], failed: false}
  const xml = [`${open}>`]
  for (const f of failing)
    xml.push(
      `      <failure${attrs({message: f.message, type: f.severity})}>${xmlText(details(f, snapshot))}</failure>`,
    )
  if (other.length > 0)
    xml.push(`      <system-out>${xmlText(other.map((f) => details(f, snapshot)).join('\n\n'))}</system-out>`)
  xml.push('    </testcase>')
  return {xml, failed: failing.length > 0}
}

/**
 * JUnit XML: one testcase per check, one `<failure>` per finding at or above the fail level (several per
 * testcase, as Jenkins' schema allows), `<skipped>` for skipped checks, `<error>` for crashed ones.
 */
export function renderJunit(report: Report, snapshot: Snapshot | undefined, opts: JunitOptions): string {
  const threshold = THRESHOLD[opts.failOn]
  const cases = report.checks.map((c) => testcase(c, snapshot, threshold))
  const s = report.summary
  const counts = {
    tests: report.checks.length,
    failures: cases.filter((c) => c.failed).length,
    errors: report.checks.filter((c) => c.status === 'crashed').length,
    skipped: report.checks.filter((c) => c.status === 'skipped').length,
    time: seconds(report.checks.reduce((n, c) => n + c.durationMs, 0)),
    // JUnit's timestamp is a dateTime without a zone: the report's UTC time.
    timestamp: report.generatedAt.replace(/(\.\d+)?Z$/, ''),
  }
  const properties: Record<string, string | number | undefined> = {
    'gt-doctor.version': report.tool.version,
    claudeProcesses: s.claudeProcesses,
    tmuxSessions: s.tmuxSessions,
    agentSessions: s.agentSessions,
    mcpServers: s.mcpServers,
    orphanClaude: s.orphanClaude,
    orphanMcp: s.orphanMcp,
    orphanMemoryBytes: s.orphanMemoryBytes,
    failOn: opts.failOn,
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attrs({name: 'gt-doctor', ...counts})}>`,
    `  <testsuite${attrs({name: 'gt-doctor', ...counts})}>`,
    '    <properties>',
    ...Object.entries(properties)
      .filter(([, v]) => v !== undefined)
      .map(([name, value]) => `      <property${attrs({name, value})}/>`),
    '    </properties>',
    ...cases.flatMap((c) => c.xml),
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n')
}
