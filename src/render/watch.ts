import type {RunChange} from '../monitor/compare.js'
import type {HistoryEntry} from '../monitor/history.js'
import {formatBytes, plural} from './format.js'
import {painter} from './table.js'

/** `+1.2 GiB`, `-300 MiB`, `±0 B`. */
export function formatByteDelta(bytes: number): string {
  if (bytes === 0) return '±0 B'
  return `${bytes > 0 ? '+' : '-'}${formatBytes(Math.abs(bytes))}`
}

/** At most `max` ids, then how many more. */
function ids(list: string[], max = 4): string {
  return list.length > max ? `${list.slice(0, max).join(', ')} and ${list.length - max} more` : list.join(', ')
}

/** HH:MM:SS local time: a watch runs for hours in one terminal, the date rarely matters there. */
function clock(iso: string): string {
  const d = new Date(iso)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

/**
 * One line per run: the counts, then what changed since the previous run.
 * `12:00:03 run 3: 5 claude, 2 sessions, 2 orphan claude, 6 orphan MCP, 1.2 GiB held by orphans (+400 MiB); new: …; gone: …`
 */
export function renderWatchLine(
  entry: HistoryEntry,
  change: RunChange | undefined,
  index: number,
  opts: {color: boolean},
): string {
  const c = painter(opts.color)
  const held = `${formatBytes(entry.orphanMemoryBytes)} held by orphans${change ? ` (${formatByteDelta(change.memoryDeltaBytes)})` : ''}`
  const counts = [
    `${entry.claudeProcesses} claude`,
    plural(entry.tmuxSessions, 'session'),
    `${entry.orphanClaude} orphan claude`,
    `${entry.orphanMcp} orphan MCP`,
    held,
  ].join(', ')
  const orphaned = entry.orphanClaude + entry.orphanMcp > 0
  const parts = [`${c.gray(clock(entry.time))} run ${index}: ${orphaned ? c.yellow(counts) : counts}`]
  if (!change) parts.push('first run')
  else if (change.appeared.length === 0 && change.gone.length === 0) parts.push('no change')
  else {
    if (change.appeared.length > 0) parts.push(c.red(`new: ${ids(change.appeared)}`))
    if (change.gone.length > 0) parts.push(c.green(`gone: ${ids(change.gone)}`))
  }
  if (entry.fixed !== undefined)
    parts.push(c.green(`fixed ${entry.fixed} (${formatBytes(entry.freedMemoryBytes ?? 0)} freed)`))
  if (entry.status === 'crashed') parts.push(c.red('a check crashed'))
  return parts.join('; ')
}
