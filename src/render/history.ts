import asciichart from 'asciichart'
import type {HistoryEntry} from '../monitor/history.js'
import {formatBytes, maxOf, plural} from './format.js'
import {gridPaint, painter} from './table.js'
import {drawTable, fitColumns, hanging, type Column} from './width.js'

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
    out.push(maxOf(values.slice(from, Math.max(to, from + 1)), -Infinity))
  }
  return out
}

/**
 * Exactly `columns` points: fewer runs are stretched (each run held over its share of the columns, so the
 * chart spans the terminal and times line up with the axis), more are grouped by downsample.
 */
export function resample(values: number[], columns: number): number[] {
  if (values.length >= columns) return downsample(values, columns)
  return Array.from(
    {length: columns},
    (_, i) => values[Math.min(values.length - 1, Math.floor((i * values.length) / columns))],
  )
}

/** The top of the y axis and the rows: a multiple of the rows, so every label is a round step. */
function scale(max: number, rows: number, step = 1): {top: number; height: number} {
  const height = Math.max(1, Math.min(rows, Math.ceil(max / step)))
  const per = Math.max(step, Math.ceil(max / height / step) * step)
  return {top: per * height, height}
}

/**
 * One line chart over the runs, as wide as `width`: the y axis from 0 in even steps (labels from `label`),
 * then a time axis with the first and last run's time under the chart's ends.
 */
export function chart(
  title: string,
  values: number[],
  opts: {
    color: boolean
    width: number
    paint?: string
    times?: [string, string]
    label?: (x: number) => string
    step?: number
  },
): string {
  const label = opts.label ?? ((x: number) => String(Math.round(x)))
  const {top, height} = scale(maxOf(values), 6, opts.step)
  const labels = Array.from({length: height + 1}, (_, i) => label((top * i) / height))
  const labelWidth = Math.max(...labels.map((l) => l.length))
  // asciichart draws the label, a space and the axis (where the first point sits): the rest is the chart.
  const columns = Math.max(4, opts.width - labelWidth - 3)
  const plot = asciichart.plot(resample(values, columns), {
    min: 0,
    max: Math.max(1, top),
    height,
    // A space after the label keeps it off the axis; asciichart then puts label, space, axis, points.
    format: (x: number) => `${label(x).padStart(labelWidth)} `,
    ...(opts.color && opts.paint ? {colors: [opts.paint]} : {}),
  })
  const lines = [title, ...plot.split('\n').map((l) => l.trimEnd())]
  if (opts.times) {
    const [from, to] = opts.times
    // Under the first point (on the axis) and ending under the last.
    const pad = ' '.repeat(labelWidth + 2)
    const gap = columns - 1 - from.length - to.length
    lines.push(gap >= 1 ? `${pad}${from}${' '.repeat(gap)}${to}` : `${pad}${from} → ${to}`)
  }
  return lines.join('\n')
}

/** HH:MM for a span within a day, the date too for longer ones: what a time axis needs. */
function axisTimes(first: string, last: string): [string, string] {
  const span = Date.parse(last) - Date.parse(first)
  const short = (iso: string) => (span < 86_400_000 ? formatTime(iso).slice(11, 16) : formatTime(iso).slice(0, 16))
  return [short(first), short(last)]
}

const HISTORY_COLUMNS: Column[] = [
  {head: 'Time'},
  {head: 'Claude', align: 'right'},
  {head: 'Sessions', align: 'right'},
  {head: 'Orphan\nclaude', align: 'right'},
  {head: 'Orphan\nMCP', align: 'right'},
  {head: 'Held by\norphans', align: 'right'},
  {head: 'Fixed', align: 'right'},
]

/** The recorded runs as three charts (orphan claude, orphan MCP, memory they held) and a table of the latest runs. */
export function renderHistory(entries: HistoryEntry[], opts: HistoryRenderOptions): string {
  const c = painter(opts.color)
  const width = Math.max(30, opts.width ?? 80)
  const first = entries[0]
  const last = entries[entries.length - 1]
  const times = axisTimes(first.time, last.time)
  const lines: string[] = []
  lines.push(
    ...hanging(
      `${plural(entries.length, 'run')} from ${formatTime(first.time)} to ${formatTime(last.time)}`,
      width,
      '',
      '  ',
    ).map(c.bold),
  )
  const shown = entries.length > width - 10 ? ' (each column the highest of its runs)' : ''
  const charts: Array<[string, (e: HistoryEntry) => number, string, ((x: number) => string)?, number?]> = [
    [`Orphan claude processes${shown}`, (e) => e.orphanClaude, asciichart.red],
    ['Orphan MCP servers', (e) => e.orphanMcp, asciichart.yellow],
    ['Memory held by orphans', (e) => e.orphanMemoryBytes, asciichart.cyan, (x) => formatBytes(x), 1024 * 1024],
  ]
  for (const [title, value, paint, label, step] of charts) {
    lines.push('', chart(title, entries.map(value), {color: opts.color, width, paint, times, label, step}))
  }

  const withFix = entries.some((e) => e.fixed !== undefined)
  const columns = withFix ? HISTORY_COLUMNS : HISTORY_COLUMNS.slice(0, -1)
  const rows = entries.slice(-opts.limit)
  const cells = rows.map((e) => [
    formatTime(e.time),
    String(e.claudeProcesses),
    String(e.tmuxSessions),
    String(e.orphanClaude),
    String(e.orphanMcp),
    formatBytes(e.orphanMemoryBytes),
    ...(withFix ? [e.fixed === undefined ? '-' : String(e.fixed)] : []),
  ])
  lines.push('')
  if (rows.length < entries.length)
    lines.push(
      ...hanging(
        `The latest ${rows.length} of ${entries.length} runs (--limit to see more, --json for all):`,
        width,
        '',
        '  ',
      ).map(c.gray),
    )
  const widths = fitColumns(columns, cells, width)
  if (widths) {
    const painted = cells.map((r, i) =>
      r.map((cell, k) =>
        k === 3 && rows[i].orphanClaude > 0 ? c.red(cell) : k === 4 && rows[i].orphanMcp > 0 ? c.yellow(cell) : cell,
      ),
    )
    lines.push(...drawTable(columns, widths, painted, gridPaint(c)))
  } else {
    for (const r of cells)
      lines.push(
        ...hanging(
          `${r[0]}: ${r[1]} claude, ${r[2]} sessions, ${r[3]} orphan claude, ${r[4]} orphan MCP, ${r[5]} held`,
          width,
          '',
          '  ',
        ),
      )
  }
  return lines.join('\n')
}
