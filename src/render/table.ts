import type Table from 'cli-table3'
import type {Report, ReportCheck, ReportFinding} from '../report/model.js'
import type {Snapshot} from '../snapshot/types.js'
import {formatBytes, formatPids, plural} from './format.js'
import {formatTree, treeLines} from './tree.js'
import {lazy} from '../lazy.js'

/** Loaded when a table is drawn: a --json run never needs it. */
export const cliTable = lazy<typeof Table>('cli-table3')
const ansis = lazy<typeof import('ansis').default>('ansis')

export interface TableOptions {
  /** Colours and symbols: a colour terminal without NO_COLOR. */
  color: boolean
  verbose?: boolean
  quiet?: boolean
  /** Width of the finding column (default: from the terminal). */
  width?: number
  /** Where --verbose finds each finding's process tree (commands and memory); pids only without it. */
  snapshot?: Snapshot
}

const SYMBOL = {ok: '✔', warning: '⚠', error: '✖', crashed: '✖', skipped: '-', info: 'i'} as const

type Paint = (text: string) => string
/** Colour functions, or identities when colour is off: never decided per call by the library's own detection. */
export function painter(color: boolean): Record<'green' | 'yellow' | 'red' | 'gray' | 'cyan' | 'bold', Paint> {
  const plain: Paint = (t) => t
  if (!color) return {green: plain, yellow: plain, red: plain, gray: plain, cyan: plain, bold: plain}
  const a = ansis()
  return {green: a.green, yellow: a.yellow, red: a.red, gray: a.gray, cyan: a.cyan, bold: a.bold}
}

/**
 * The look every table shares. cli-table3 colours head and border itself and ignores NO_COLOR, so without
 * colour the styles are empty; compact rows (no separator between rows) let a group or a tree read as one block.
 */
export function tableStyle(color: boolean): Pick<Table.TableConstructorOptions, 'style'> {
  return {style: color ? {head: ['bold'], border: ['gray']} : {head: [], border: []}}
}
export const COMPACT_ROWS: Pick<Table.TableConstructorOptions, 'chars'> = {chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''}}

/** Whether stdout wants colour: a terminal, and neither NO_COLOR nor TERM=dumb. */
export function colorWanted(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

/** The human report: one row per finding grouped by check, passed checks as one row each, a summary line. */
export function renderTable(report: Report, opts: TableOptions): string {
  const c = painter(opts.color)
  const paint = {
    ok: c.green,
    warning: c.yellow,
    error: c.red,
    crashed: c.red,
    skipped: c.gray,
    info: c.cyan,
  }
  const label = (status: keyof typeof SYMBOL, text: string) => paint[status](opts.color ? `${SYMBOL[status]} ${text}` : text)
  const lines: string[] = []
  if (!opts.quiet) {
    const table = new (cliTable())({
      head: ['Check', 'Severity', 'PID', 'Session', 'Memory', 'Finding'],
      ...tableStyle(opts.color),
      wordWrap: true,
      // A check's name on its first row is the group separator.
      ...COMPACT_ROWS,
      colWidths: [null, null, null, null, null, opts.width ?? messageWidth()] as unknown as number[],
    })
    for (const check of report.checks) {
      const rows = rowsFor(check, opts.verbose ?? false, opts.snapshot)
      if (rows.length === 0) {
        const status = check.status === 'skipped' || check.status === 'crashed' ? check.status : 'ok'
        const text = status === 'ok' ? 'passed' : `${check.status}: ${check.error ?? ''}`.trim()
        table.push([check.id, label(status, status === 'ok' ? 'ok' : check.status), '', '', '', text])
        continue
      }
      rows.forEach((r, i) =>
        table.push([
          i === 0 ? check.id : '',
          label(r.finding.severity, r.finding.severity),
          formatPids(r.finding.pid, r.finding.pids),
          r.finding.session ?? '-',
          formatBytes(r.finding.memoryBytes),
          r.text,
        ]),
      )
    }
    lines.push(table.toString())
    if (opts.verbose && opts.snapshot) for (const l of processTrees(report, opts.snapshot, c.bold)) lines.push(l)
    for (const l of report.limitations) lines.push(c.gray(`note: ${l}`))
  }
  lines.push(summaryLine(report, opts.color))
  return lines.join('\n')
}

/** --verbose: every finding's process tree (pid, command, memory), once per root. */
function processTrees(report: Report, snapshot: Snapshot, bold: Paint): string[] {
  const out: string[] = []
  const shown = new Set<number>()
  for (const check of report.checks) {
    for (const f of check.findings) {
      if (f.pid === undefined || shown.has(f.pid)) continue
      const tree = formatTree(treeLines(snapshot, f.pids))
      if (tree.length === 0) continue
      shown.add(f.pid)
      out.push('', bold(`${check.id} ${f.pid}: ${plural(tree.length, 'process', 'processes')}, ${formatBytes(f.memoryBytes)}`), ...tree.map((l) => `  ${l}`))
    }
  }
  return out
}

function messageWidth(): number {
  const cols = process.stdout.columns || 120
  return Math.max(40, Math.min(100, cols - 60))
}

/**
 * Rows of one check the table shows: cli-table3 lays out about 1.4 ms a row, so 20,000 findings took 45 s;
 * the rest are counted in one row (every other format lists them all).
 */
export const TABLE_ROWS_PER_CHECK = 200

function rowsFor(check: ReportCheck, verbose: boolean, snapshot: Snapshot | undefined): Array<{finding: ReportFinding; text: string}> {
  const rows = check.findings.slice(0, TABLE_ROWS_PER_CHECK).map((finding) => {
    const parts = [finding.message]
    if (verbose) parts.push(`why: ${finding.reason}`)
    // With a snapshot the trees are drawn below the table: long command lines do not fit a cell.
    if (verbose && !snapshot && finding.pids.length > 1) parts.push(`tree: ${finding.pids.join(' ')}`)
    if (finding.fix) parts.push(`fix: ${finding.fix.outcome}${finding.fix.detail ? ` (${finding.fix.detail})` : ''}`)
    return {finding, text: parts.join('\n')}
  })
  const more = check.findings.length - rows.length
  if (more > 0) {
    const last = check.findings[check.findings.length - 1]
    rows.push({finding: {...last, pid: undefined, pids: [], session: undefined, memoryBytes: undefined}, text: `… and ${more.toLocaleString('en-US')} more (--format json or markdown lists them all)`})
  }
  return rows
}

/** `3 passed · 1 warning · 1 error`, with counts of what was found. */
export function summaryLine(report: Report, color: boolean): string {
  const c = painter(color)
  const s = report.summary
  const sym = (k: keyof typeof SYMBOL) => (color ? `${SYMBOL[k]} ` : '')
  const parts = [c.green(`${sym('ok')}${s.checks.passed} passed`), c.yellow(`${sym('warning')}${plural(s.checks.warnings, 'warning')}`), c.red(`${sym('error')}${plural(s.checks.errors, 'error')}`)]
  if (s.checks.crashed) parts.push(c.red(`${s.checks.crashed} crashed`))
  if (s.checks.skipped) parts.push(c.gray(`${s.checks.skipped} skipped`))
  if (s.fixed !== undefined) parts.push(c.green(`${s.fixed} fixed (${formatBytes(s.freedMemoryBytes ?? 0)} freed)`))
  const jobs = [s.detachedRuns ? plural(s.detachedRuns, 'detached run') : '', s.leftovers ? plural(s.leftovers, 'leftover') : ''].filter(Boolean)
  const facts = `${plural(s.claudeProcesses, 'claude process', 'claude processes')}, ${plural(s.tmuxSessions, 'tmux session')}, ${s.orphanClaude} orphan claude, ${s.orphanMcp} orphan MCP, ${formatBytes(s.orphanMemoryBytes)} held by orphans${jobs.map((j) => `, ${j}`).join('')}`
  return `${parts.join(' · ')}\n${c.gray(facts)}`
}
