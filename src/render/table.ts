import type Table from 'cli-table3'
import type {Report, ReportCheck, ReportFinding, SummaryCount} from '../report/model.js'
import type {Snapshot} from '../snapshot/types.js'
import {formatBytes, formatPids, plural} from './format.js'
import {formatTree, treeLines} from './tree.js'
import {lazy} from '../lazy.js'
import {drawTable, fitColumns, hanging, terminalWidth, wrapIndented, type Column} from './width.js'

/** Loaded when a table is drawn: a --json run never needs it. */
export const cliTable = lazy<typeof Table>('cli-table3')
const ansis = lazy<typeof import('ansis').default>('ansis')

export interface TableOptions {
  /** Colours and symbols: a colour terminal without NO_COLOR. */
  color: boolean
  verbose?: boolean
  quiet?: boolean
  /** Columns to lay the report out in (default: the terminal's, 80 when piped). No line is wider. */
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
/** How drawTable paints a grid: borders gray and heads bold in colour, as tableStyle has cli-table3 do. */
export function gridPaint(c: ReturnType<typeof painter>): {border: Paint; head: Paint} {
  return {border: c.gray, head: c.bold}
}
export const COMPACT_ROWS: Pick<Table.TableConstructorOptions, 'chars'> = {
  chars: {mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': ''},
}

/** Whether stdout wants colour: a terminal, and neither NO_COLOR nor TERM=dumb. */
export function colorWanted(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

/** Limitations that are how the doctor measured, not what it could not see: --verbose and JSON only. */
function isImplementationNote(limitation: string): boolean {
  return limitation.startsWith('PSS read only for ')
}

/**
 * The human report, laid out for `width` columns (the terminal's, 80 when piped): one line per check with
 * its outcome symbol, the findings of a check under it (a table sized to the width, or one block per
 * finding when no table fits), what could not be checked, the summary, and the command that fixes it.
 */
export function renderTable(report: Report, opts: TableOptions): string {
  const c = painter(opts.color)
  const width = opts.width ?? terminalWidth()
  const lines: string[] = []
  if (!opts.quiet) {
    const idWidth = Math.min(24, Math.max(0, ...report.checks.map((k) => k.id.length)))
    for (const check of report.checks) {
      const status = checkStatus(check)
      const head = `${SYMBOL[status]} ${check.id.padEnd(idWidth)}  ${checkWords(check)}`
      lines.push(...hanging(head, width, '', '  ').map((l, i) => (i === 0 ? PAINT[status](c)(l) : l)))
      if (check.findings.length === 0) continue
      lines.push(...findingLines(check, opts, width, c))
      const step = checkNextStep(check)
      if (step) lines.push(...wrapIndented(`→ ${step}`, width, '  ').map(c.cyan))
    }
    if (opts.verbose && opts.snapshot) lines.push(...processTrees(report, opts.snapshot, c.bold, width))
    const notes = report.limitations.filter((l) => opts.verbose || !isImplementationNote(l))
    if (notes.length > 0) {
      lines.push('', c.bold('Not checked or not fully measured:'))
      for (const l of notes) lines.push(...hanging(l, width, '! ', '  ').map(c.gray))
    }
    lines.push('')
  }
  lines.push(...summaryLine(report, opts.color, width).split('\n'))
  if (!opts.quiet) {
    const next = nextStep(report)
    if (next) lines.push(...wrapIndented(next, width, '').map(c.bold))
  }
  return lines.join('\n')
}

type Status = keyof typeof SYMBOL
const PAINT: Record<Status, (c: ReturnType<typeof painter>) => Paint> = {
  ok: (c) => c.green,
  warning: (c) => c.yellow,
  error: (c) => c.red,
  crashed: (c) => c.red,
  skipped: (c) => c.gray,
  info: (c) => c.cyan,
}

function checkStatus(check: ReportCheck): Status {
  if (check.status === 'ok' && check.findings.length > 0) return 'info'
  return check.status
}

/** A few words after the check's id: its title when it passed, what it found otherwise. */
function checkWords(check: ReportCheck): string {
  if (check.status === 'crashed' || check.status === 'skipped')
    return `${check.status}: ${check.error ?? 'no reason given'}`
  if (check.findings.length === 0) return check.title
  const by = (s: string) => check.findings.filter((f) => f.severity === s).length
  const counts = [
    plural(by('error'), 'error'),
    plural(by('warning'), 'warning'),
    by('info') ? `${by('info')} info` : '',
  ].filter((t) => !t.startsWith('0 ') && t !== '')
  return `${check.title}: ${counts.join(', ')}`
}

/** `gt-doctor --fix` ends these 12 (9.6 GiB): under a check whose findings a fix would handle. */
function checkNextStep(check: ReportCheck): string | undefined {
  const fixable = check.findings.filter((f) => f.fixable && !f.fix)
  if (fixable.length === 0) return undefined
  const memory = fixable.reduce((n, f) => n + (f.memoryBytes ?? 0), 0)
  const what =
    fixable.length === check.findings.length
      ? fixable.length === 1
        ? 'ends it'
        : `ends these ${fixable.length}`
      : `ends ${fixable.length} of them`
  return `gt-doctor --fix ${what}${memory > 0 ? ` (${formatBytes(memory)})` : ''}`
}

/**
 * The closing line: the command to run, to look first, and what it frees. After `--dry-run` (every outcome
 * `planned`) the plan was just shown, so the line says to carry it out.
 */
export function nextStep(report: Report): string | undefined {
  const seen = new Set<string>()
  let count = 0
  let memory = 0
  let planned = false
  for (const check of report.checks) {
    for (const f of check.findings) {
      if (!f.fixable || (f.fix && f.fix.outcome !== 'planned')) continue
      if (f.fix) planned = true
      const key = f.pid === undefined ? f.id : `pid:${f.pid}`
      if (seen.has(key)) continue
      seen.add(key)
      count++
      memory += f.memoryBytes ?? 0
    }
  }
  if (count === 0) return undefined
  const frees = memory > 0 ? ` and free ${formatBytes(memory)}` : ''
  if (planned) return `Next: run \`gt-doctor --fix\` to carry out this plan: fix ${plural(count, 'finding')}${frees}.`
  return `Next: run \`gt-doctor --fix\` to fix ${plural(count, 'finding')}${frees} (\`gt-doctor --fix --dry-run\` shows the plan first).`
}

const COLUMNS: Column[] = [
  {head: 'PID', min: 9},
  {head: 'Session', min: 10},
  {head: 'Memory'},
  {head: 'Finding', flex: true},
]

/** A check's findings: a table that fits the width, else one block per finding; indented under the check. */
/** Findings of one check the table draws; the rest are counted on one line (every other format lists them all). */
const TABLE_ROWS_PER_CHECK = 200

function findingLines(check: ReportCheck, opts: TableOptions, width: number, c: ReturnType<typeof painter>): string[] {
  const more = check.findings.length - TABLE_ROWS_PER_CHECK
  const lines = shownFindingLines({...check, findings: check.findings.slice(0, TABLE_ROWS_PER_CHECK)}, opts, width, c)
  if (more > 0)
    lines.push(
      ...wrapIndented(
        `… and ${more.toLocaleString('en-US')} more (--format json or markdown lists them all)`,
        width,
        '  ',
      ).map(c.gray),
    )
  return lines
}

function shownFindingLines(
  check: ReportCheck,
  opts: TableOptions,
  width: number,
  c: ReturnType<typeof painter>,
): string[] {
  const indent = '  '
  const rows = check.findings.map((f) => ({
    f,
    cells: [formatPids(f.pid, f.pids), f.session ?? '-', formatBytes(f.memoryBytes), findingText(f, opts)],
  }))
  // A column with nothing in it is left out rather than drawn as a row of dashes; the first keeps the symbol.
  const keep = COLUMNS.map((col, i) => col.flex || i === 0 || rows.some((r) => r.cells[i] !== '-'))
  const noPids = rows.every((r) => r.cells[0] === '-')
  for (const r of rows) r.cells[0] = noPids ? SYMBOL[r.f.severity] : `${SYMBOL[r.f.severity]} ${r.cells[0]}`
  const columns = COLUMNS.map((col, i) => (i === 0 && noPids ? {head: ''} : col)).filter((_, i) => keep[i])
  const cells = rows.map((r) => r.cells.filter((_, i) => keep[i]))
  const widths = fitColumns(columns, cells, width - indent.length)
  if (!widths) return rows.flatMap((r) => stackedFinding(r.f, r.cells, width, c))
  // The symbol is painted after measuring: a colour code has no width, but it would be wrapped as text.
  const painted = cells.map((row, i) => [PAINT[rows[i].f.severity](c)(row[0]), ...row.slice(1)])
  return drawTable(columns, widths, painted, gridPaint(c)).map((l) => indent + l)
}

/** One finding as a block: the symbol, pid, session and memory on one line, its text indented below. */
function stackedFinding(f: ReportFinding, cells: string[], width: number, c: ReturnType<typeof painter>): string[] {
  const facts = [cells[0], f.session, f.memoryBytes === undefined ? undefined : cells[2]].filter(Boolean).join(' · ')
  return [...wrapIndented(facts, width, '  ').map(PAINT[f.severity](c)), ...wrapIndented(cells[3], width, '    ')]
}

function findingText(finding: ReportFinding, verbose: TableOptions): string {
  const parts = [finding.message]
  if (verbose.verbose) parts.push(`why: ${finding.reason}`)
  // With a snapshot the trees are drawn below: long command lines do not fit a cell.
  if (verbose.verbose && !verbose.snapshot && finding.pids.length > 1) parts.push(`tree: ${finding.pids.join(' ')}`)
  if (finding.fix) parts.push(`fix: ${finding.fix.outcome}${finding.fix.detail ? ` (${finding.fix.detail})` : ''}`)
  return parts.join('\n')
}

/** --verbose: every finding's process tree (pid, command, memory), once per root. */
function processTrees(report: Report, snapshot: Snapshot, bold: Paint, width: number): string[] {
  const out: string[] = []
  const shown = new Set<number>()
  for (const check of report.checks) {
    for (const f of check.findings) {
      if (f.pid === undefined || shown.has(f.pid)) continue
      const tree = formatTree(treeLines(snapshot, f.pids))
      if (tree.length === 0) continue
      shown.add(f.pid)
      out.push(
        '',
        ...wrapIndented(
          `${check.id} ${f.pid}: ${plural(tree.length, 'process', 'processes')}, ${formatBytes(f.memoryBytes)}`,
          width,
          '',
        ).map(bold),
      )
      for (const l of tree) out.push(...hanging(l, width, '  ', '    '))
    }
  }
  return out
}

/**
 * `3 passed · 1 warning · 1 error`, then the counts of what was found: only those the checks that ran
 * measure (`--only session-mismatch` claims nothing about orphans), wrapped to `width`.
 */
export function summaryLine(report: Report, color: boolean, width = 80): string {
  const c = painter(color)
  const s = report.summary
  const sym = (k: Status) => (color ? `${SYMBOL[k]} ` : '')
  const parts = [
    c.green(`${sym('ok')}${s.checks.passed} passed`),
    c.yellow(`${sym('warning')}${plural(s.checks.warnings, 'warning')}`),
    c.red(`${sym('error')}${plural(s.checks.errors, 'error')}`),
  ]
  if (s.checks.crashed) parts.push(c.red(`${s.checks.crashed} crashed`))
  if (s.checks.skipped) parts.push(c.gray(`${s.checks.skipped} skipped`))
  if (s.fixed !== undefined) parts.push(c.green(`${s.fixed} fixed (${formatBytes(s.freedMemoryBytes ?? 0)} freed)`))
  const measured = (k: SummaryCount) => !s.notChecked?.includes(k)
  const mcpInTrees = s.orphanMcpInClaudeTrees ?? 0
  const mcp =
    mcpInTrees > 0 && mcpInTrees < s.orphanMcp
      ? ` (${mcpInTrees} of them inside orphan claude trees)`
      : mcpInTrees > 0
        ? ' (inside orphan claude trees)'
        : ''
  const facts = [
    plural(s.claudeProcesses, 'claude process', 'claude processes'),
    plural(s.tmuxSessions, 'tmux session'),
    measured('orphanClaude') ? `${s.orphanClaude} orphan claude` : '',
    measured('orphanMcp') ? `${s.orphanMcp} orphan MCP${mcp}` : '',
    measured('orphanMemoryBytes') ? `${formatBytes(s.orphanMemoryBytes)} held by orphans` : '',
    s.detachedRuns ? plural(s.detachedRuns, 'detached run') : '',
    s.leftovers ? plural(s.leftovers, 'leftover') : '',
  ].filter(Boolean)
  const head = wrapIndented(parts.join(' · '), width, '').join('\n')
  return `${head}\n${wrapIndented(facts.join(', '), width, '').map(c.gray).join('\n')}`
}
