import type {FixAction} from '../checks/api.js'
import type {RemediationPlan} from '../remediation/plan.js'
import {plannedOtherActions, plannedProcesses} from '../remediation/plan.js'
import type {FixOutcome, Report} from '../report/model.js'
import {formatBytes, formatPids, plural, shortCommand} from './format.js'
import {gridPaint, painter} from './table.js'
import {drawTable, fitColumns, hanging, terminalWidth, wrapIndented, type Column} from './width.js'

export interface FixRenderOptions {
  color: boolean
  graceMs: number
  /** Columns to fit (default: the terminal's, 80 when piped). */
  width?: number
}

/**
 * Rows as a table fitted to `width` (see fitColumns), or, when no table fits, one block per row: the
 * first cells on a line, the flexible one indented below.
 */
function fitted(allColumns: Column[], allRows: string[][], color: boolean, width: number, flexMin = 20): string {
  // A column with nothing in it (no session anywhere) is left out rather than drawn as a row of dashes.
  const keep = allColumns.map((c, i) => c.flex || allRows.some((r) => r[i] !== '-'))
  const columns = allColumns.filter((_, i) => keep[i])
  const rows = allRows.map((r) => r.filter((_, i) => keep[i]))
  const widths = fitColumns(columns, rows, width, flexMin)
  if (!widths) {
    const flex = columns.findIndex((c) => c.flex)
    return rows
      .flatMap((r) => [
        ...wrapIndented(r.filter((_, i) => i !== flex && r[i] !== '-' && r[i] !== '').join(' · '), width, ''),
        ...wrapIndented(r[flex] ?? '', width, '  '),
      ])
      .join('\n')
  }
  return drawTable(columns, widths, rows, gridPaint(painter(color))).join('\n')
}

/** The plan as the user confirms it: every process it will signal, with its command, session, memory and why. */
export function renderPlan(plan: RemediationPlan, opts: FixRenderOptions): string {
  const c = painter(opts.color)
  const width = opts.width ?? terminalWidth()
  const procs = plannedProcesses(plan)
  const others = plannedOtherActions(plan)
  const lines: string[] = []
  if (procs.length === 0 && others.length === 0) {
    lines.push('Nothing to fix: no check proposed an action.')
  } else if (procs.length > 0) {
    const roots = procs.filter((p) => p.root).length
    const memory = procs.reduce((n, p) => n + (p.memoryBytes ?? 0), 0)
    lines.push(
      ...wrapIndented(
        `Plan: end ${plural(procs.length, 'process', 'processes')} in ${plural(roots, 'tree')} (${formatBytes(memory)}): SIGTERM, then SIGKILL after ${opts.graceMs / 1000} s`,
        width,
        '',
      ).map(c.bold),
    )
    const rows = procs.map((p) => [
      p.root ? String(p.pid) : ` └ ${p.pid}`,
      shortCommand(p.command, 120),
      p.session ?? '-',
      formatBytes(p.memoryBytes),
      p.why,
    ])
    // The reason is a sentence and the command a path: give the sentence room too, or it runs 5 lines a row.
    // (On narrow terminals it takes what is left, as the other tables do, before they turn into a list.)
    lines.push(fitted(PLAN_COLUMNS, rows, opts.color, width, Math.min(30, Math.max(20, width - 50))))
  }
  for (const {action} of others) {
    const text =
      action.kind === 'tmux'
        ? `Plan: tmux -S ${action.socket} ${action.args.join(' ')} (${action.reason})`
        : action.kind === 'stop-container'
          ? `Plan: ${containerSteps(action)} (${action.reason})`
          : `Plan: remove ${action.path} (${action.reason})`
    lines.push(...hanging(text, width, '', '  '))
  }
  const say = (text: string, paint: (t: string) => string) => lines.push(...hanging(text, width, '', '  ').map(paint))
  for (const item of plan.items.filter((i) => i.error)) say(`Cannot fix ${item.finding.id}: ${item.error}`, c.red)
  const held = new Map<string, number>()
  for (const h of plan.held) held.set(h.why, (held.get(h.why) ?? 0) + 1)
  for (const [why, n] of held) say(`Left alone: ${plural(n, 'finding')} (${why})`, c.gray)
  say('Each process is re-checked (start time, parent, owner) immediately before it is signalled.', c.gray)
  return lines.join('\n')
}

const OUTCOME_PAINT: Record<FixOutcome['outcome'], 'green' | 'yellow' | 'red' | 'gray' | 'cyan'> = {
  fixed: 'green',
  'already-gone': 'gray',
  skipped: 'yellow',
  failed: 'red',
  planned: 'cyan',
}

/** After --fix: what the fix did, finding by finding (the residual state follows in the usual table). */
export function renderFixed(report: Pick<Report, 'fixed'>, opts: {color: boolean; width?: number}): string {
  const c = painter(opts.color)
  const fixed = report.fixed ?? []
  if (fixed.length === 0) return c.gray('Nothing was fixed.')
  const rows = fixed.map((f) => {
    const fix = f.fix!
    return [
      f.check,
      c[OUTCOME_PAINT[fix.outcome]](fix.outcome),
      formatPids(f.pid, f.pids),
      f.session ?? '-',
      formatBytes(fix.freedBytes),
      fix.detail,
    ]
  })
  return `${c.bold('Fix results')}\n${fitted(FIXED_COLUMNS, rows, opts.color, opts.width ?? terminalWidth())}\n${c.bold('After the fix')}`
}

/** `docker stop NAME, then docker rm NAME if --rm did not remove it`: what a stop-container action runs. */
function containerSteps(a: Extract<FixAction, {kind: 'stop-container'}>): string {
  const who = a.name ?? a.id.slice(0, 12)
  return `${a.runtime} stop ${who}${a.remove ? `, then ${a.runtime} rm ${who} if --rm did not remove it` : ' (kept: started without --rm)'}`
}

const PLAN_COLUMNS: Column[] = [
  {head: 'PID'},
  {head: 'Command', min: 14},
  {head: 'Session', min: 10},
  {head: 'Memory'},
  {head: 'Why', flex: true},
]
const FIXED_COLUMNS: Column[] = [
  {head: 'Check', min: 10},
  {head: 'Outcome'},
  {head: 'PID'},
  {head: 'Session', min: 10},
  {head: 'Freed'},
  {head: 'Detail', flex: true},
]
