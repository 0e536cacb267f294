import asciichart from 'asciichart'
import Table from 'cli-table3'
import type {HistoryEntry} from '../monitor/history.js'
import {formatBytes, plural} from './format.js'
import {COMPACT_ROWS, painter, tableStyle} from './table.js'

export interface HistoryRenderOptions {
  color: boolean
  /** Rows of the table: the most recent runs. */
  limit: number
  /** Columns the chart may use (the terminal's width). */
  width?: number
}

/** 2026-01-11 08:00:00 in local time: how a person reads a log. */
export function formatTime(iso: string): string {
  const d = new Date(iso)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

/**
 * At most `width` points: consecutive runs grouped into equal buckets, each shown by its maximum, so a
 * short-lived peak of orphans is never averaged away.
 */
export function downsample(values: number[], width: number): number[] {
  if (values.length <= width) return values
  const out: number[] = []
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width)
    const to = Math.floor(((i + 1) * values.length) / width)
    out.push(Math.max(...values.slice(from, Math.max(to, from + 1))))
  }
  return out
}

/** One small line chart of one count over the runs, y axis from 0, integer labels. */
export function chart(title: string, values: number[], opts: {color: boolean; width: number; paint?: string}): string {
  const points = downsample(values, opts.width)
  const max = Math.max(0, ...points)
  const height = Math.max(1, Math.min(6, max))
  const label = Math.max(1, String(max).length)
  const plot = asciichart.plot(points, {
    min: 0,
    max: Math.max(1, max),
    height,
    format: (x: number) => ` ${Math.round(x).toString().padStart(label)} `,
    ...(opts.color && opts.paint ? {colors: [opts.paint]} : {}),
  })
  return `${title}\n${plot}`
}

/** The recorded runs as two charts (orphan claude, orphan MCP) and a table of the latest runs. */
export function renderHistory(entries: HistoryEntry[], opts: HistoryRenderOptions): string {
  const c = painter(opts.color)
  const width = Math.max(10, Math.min(100, (opts.width ?? 80) - 10))
  const first = entries[0]
  const last = entries[entries.length - 1]
  const lines: string[] = []
  lines.push(c.bold(`${plural(entries.length, 'run')} from ${formatTime(first.time)} to ${formatTime(last.time)}`))
  const shown = entries.length > width ? ` (${entries.length} runs in ${width} columns, each the highest of its runs)` : ''
  lines.push('', chart(`Orphan claude processes${shown}`, entries.map((e) => e.orphanClaude), {color: opts.color, width, paint: asciichart.red}))
  lines.push('', chart('Orphan MCP servers', entries.map((e) => e.orphanMcp), {color: opts.color, width, paint: asciichart.yellow}))

  const withFix = entries.some((e) => e.fixed !== undefined)
  const table = new Table({
    head: ['Time', 'Claude', 'Sessions', 'Orphan claude', 'Orphan MCP', 'Held by orphans', ...(withFix ? ['Fixed'] : [])],
    ...tableStyle(opts.color),
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ...COMPACT_ROWS,
  })
  const rows = entries.slice(-opts.limit)
  for (const e of rows) {
    table.push([
      formatTime(e.time),
      e.claudeProcesses,
      e.tmuxSessions,
      e.orphanClaude > 0 ? c.red(String(e.orphanClaude)) : '0',
      e.orphanMcp > 0 ? c.yellow(String(e.orphanMcp)) : '0',
      formatBytes(e.orphanMemoryBytes),
      ...(withFix ? [e.fixed === undefined ? '-' : String(e.fixed)] : []),
    ])
  }
  lines.push('')
  if (rows.length < entries.length) lines.push(c.gray(`The latest ${rows.length} of ${entries.length} runs (--limit to see more, --json for all):`))
  lines.push(table.toString())
  return lines.join('\n')
}
