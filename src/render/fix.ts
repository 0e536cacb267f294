import type Table from 'cli-table3'
import type {FixAction} from '../checks/api.js'
import type {RemediationPlan} from '../remediation/plan.js'
import {plannedOtherActions, plannedProcesses} from '../remediation/plan.js'
import type {FixOutcome, Report} from '../report/model.js'
import {formatBytes, formatPids, plural, shortCommand} from './format.js'
import {cliTable, COMPACT_ROWS, painter, tableStyle} from './table.js'

export interface FixRenderOptions {
  color: boolean
  graceMs: number
}

function table(head: string[], color: boolean, widths?: Array<number | null>): Table.Table {
  return new (cliTable())({
    head,
    ...tableStyle(color),
    wordWrap: true,
    ...COMPACT_ROWS,
    ...(widths ? {colWidths: widths as number[]} : {}),
  })
}


/** The plan as the user confirms it: every process it will signal, with its command, session, memory and why. */
export function renderPlan(plan: RemediationPlan, opts: FixRenderOptions): string {
  const c = painter(opts.color)
  const procs = plannedProcesses(plan)
  const others = plannedOtherActions(plan)
  const lines: string[] = []
  if (procs.length === 0 && others.length === 0) {
    lines.push('Nothing to fix: no check proposed an action.')
  } else if (procs.length > 0) {
    const roots = procs.filter((p) => p.root).length
    const memory = procs.reduce((n, p) => n + (p.memoryBytes ?? 0), 0)
    lines.push(
      c.bold(
        `Plan: end ${plural(procs.length, 'process', 'processes')} in ${plural(roots, 'tree')} (${formatBytes(memory)}): SIGTERM, then SIGKILL after ${opts.graceMs / 1000} s`,
      ),
    )
    const t = table(['PID', 'Command', 'Session', 'Memory', 'Why'], opts.color, [null, 50, null, null, messageWidth()])
    for (const p of procs) {
      t.push([p.root ? String(p.pid) : ` └ ${p.pid}`, shortCommand(p.command, 120), p.session ?? '-', formatBytes(p.memoryBytes), p.why])
    }
    lines.push(t.toString())
  }
  for (const {action} of others) {
    if (action.kind === 'tmux') lines.push(`Plan: tmux -S ${action.socket} ${action.args.join(' ')} (${action.reason})`)
    else if (action.kind === 'stop-container') lines.push(`Plan: ${containerSteps(action)} (${action.reason})`)
    else lines.push(`Plan: remove ${action.path} (${action.reason})`)
  }
  for (const item of plan.items.filter((i) => i.error)) lines.push(c.red(`Cannot fix ${item.finding.id}: ${item.error}`))
  const held = new Map<string, number>()
  for (const h of plan.held) held.set(h.why, (held.get(h.why) ?? 0) + 1)
  for (const [why, n] of held) lines.push(c.gray(`Left alone: ${plural(n, 'finding')} (${why})`))
  lines.push(c.gray('Each process is re-checked (start time, parent, owner) immediately before it is signalled.'))
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
export function renderFixed(report: Report, opts: {color: boolean}): string {
  const c = painter(opts.color)
  const fixed = report.fixed ?? []
  if (fixed.length === 0) return c.gray('Nothing was fixed.')
  const t = table(['Check', 'Outcome', 'PID', 'Session', 'Freed', 'Detail'], opts.color, [null, null, null, null, null, messageWidth()])
  for (const f of fixed) {
    const fix = f.fix!
    t.push([f.check, c[OUTCOME_PAINT[fix.outcome]](fix.outcome), formatPids(f.pid, f.pids), f.session ?? '-', formatBytes(fix.freedBytes), fix.detail])
  }
  return `${c.bold('Fix results')}\n${t.toString()}\n${c.bold('After the fix')}`
}

function messageWidth(): number {
  const cols = process.stdout.columns || 120
  return Math.max(30, Math.min(80, cols - 70))
}

/** `docker stop NAME, then docker rm NAME if --rm did not remove it`: what a stop-container action runs. */
function containerSteps(a: Extract<FixAction, {kind: 'stop-container'}>): string {
  const who = a.name ?? a.id.slice(0, 12)
  return `${a.runtime} stop ${who}${a.remove ? `, then ${a.runtime} rm ${who} if --rm did not remove it` : ' (kept: started without --rm)'}`
}
