import {lazy} from '../lazy.js'

/**
 * Terminal widths, measured and wrapped by string-width and wrap-ansi (the versions cli-table3 and oclif
 * themselves use, so a cell is measured exactly as the table measures it): wide characters, emoji and
 * colour codes count as they show, not as they are stored.
 */
const stringWidth = lazy<(text: string) => number>('string-width')
const wrapAnsi =
  lazy<(text: string, columns: number, opts?: {hard?: boolean; trim?: boolean; wordWrap?: boolean}) => string>(
    'wrap-ansi',
  )

/** The width every human output is laid out for: the terminal's columns, 80 when unknown or piped. */
export function terminalWidth(stream: {columns?: number; isTTY?: boolean} = process.stdout): number {
  const cols = stream.isTTY ? stream.columns : undefined
  return cols && cols >= 20 ? cols : 80
}

/** The widest line of `text` as a terminal shows it. */
export function widthOf(text: string): number {
  let max = 0
  for (const line of text.split('\n')) max = Math.max(max, columnsOf(line))
  return max
}

// Printable ASCII is one column a character: measured without string-width, which builds a regular
// expression on every call (10,000 findings would spend seconds there).
const PLAIN = /^[\x20-\x7e]*$/

/** The columns one line takes on a terminal. */
export function columnsOf(line: string): number {
  return PLAIN.test(line) ? line.length : stringWidth()(line)
}

// A number and its unit stay on one line ("free 59 MiB", "9 processes", "after 5 s"): wrap-ansi breaks only
// at spaces, so the space between them is held by a private-use character while wrapping.
const UNIT = /(\d) (?=(?:B|KiB|MiB|GiB|TiB|kB|MB|GB|TB|ms|s|min|h|process|processes)\b)/g
const HOLD = '\uE000'

/** `text` wrapped to `columns`, long words broken: no line of the result is wider than `columns`. */
export function wrap(text: string, columns: number): string {
  const held = text.includes(HOLD) ? text : text.replace(UNIT, `$1${HOLD}`)
  const wrapped = wrapAnsi()(held, Math.max(1, columns), {hard: true, trim: true})
  return held === text ? wrapped : wrapped.replaceAll(HOLD, ' ')
}

/** Every line of `text` wrapped to `columns` and indented by `indent` (the continuation lines too). */
export function wrapIndented(text: string, columns: number, indent: string): string[] {
  return wrap(text, columns - indent.length)
    .split('\n')
    .map((l) => indent + l)
}

/** `text` wrapped to `columns`: the first line after `first`, the rest after `rest` (a hanging indent). */
export function hanging(text: string, columns: number, first: string, rest: string): string[] {
  const lines = wrap(text, columns - Math.max(first.length, rest.length)).split('\n')
  return lines.map((l, i) => (i === 0 ? first : rest) + l)
}

/** A column of a table laid out to a width. */
export interface Column {
  head: string
  /** The column may wrap down to this width (padding included) before the table gives up. */
  min?: number
  /** Takes whatever width is left: the one column that wraps (the finding, the reason). */
  flex?: boolean
  align?: 'left' | 'right'
}

/**
 * Column widths (cli-table3's `colWidths`, padding included) that fit `rows` into `width` terminal columns,
 * borders counted: every column as wide as its widest cell, the flexible one gets the rest; fixed columns
 * shrink toward their `min` when the rest is too narrow. Undefined when no layout fits: draw a stacked list.
 */
export function fitColumns(columns: Column[], rows: string[][], width: number, flexMin = 20): number[] | undefined {
  const natural = columns.map((c, i) => {
    let w = widthOf(c.head)
    for (const r of rows) w = Math.max(w, widthOf(r[i] ?? ''))
    return w + 2
  })
  const borders = columns.length + 1
  const flex = columns.findIndex((c) => c.flex)
  const widths = [...natural]
  const used = () => widths.reduce((n, w, i) => (i === flex ? n : n + w), 0) + borders
  if (flex === -1) return used() <= width ? widths : undefined
  // Shrink the widest shrinkable column first, one column at a time, until the flexible one has room.
  while (width - used() < flexMin) {
    let best = -1
    for (let i = 0; i < widths.length; i++) {
      const min = columns[i].min
      if (i !== flex && min !== undefined && widths[i] > min && (best === -1 || widths[i] > widths[best])) best = i
    }
    if (best === -1) return undefined
    // Take from it what the flexible column lacks, down to its minimum; the loop takes the rest elsewhere.
    widths[best] = Math.max(columns[best].min!, widths[best] - (flexMin - (width - used())))
  }
  widths[flex] = Math.min(natural[flex], width - used())
  return widths
}

/**
 * A table with cli-table3's look (box-drawing borders, one space of padding, no lines between rows) drawn
 * row by row in linear time: cli-table3 itself lays out 10,000 rows in tens of seconds. `widths` are
 * cli-table3's colWidths (padding included), as fitColumns returns them; a cell wider than its column is
 * wrapped (wrap-ansi, hard), so no line is wider than the sum of the widths and the borders.
 */
export function drawTable(
  columns: Column[],
  widths: number[],
  rows: string[][],
  paint: {border: (t: string) => string; head: (t: string) => string},
): string[] {
  const rule = (l: string, m: string, r: string) => paint.border(l + widths.map((w) => '─'.repeat(w)).join(m) + r)
  const bar = paint.border('│')
  const line = (cells: string[], style: (t: string) => string = (t) => t): string[] => {
    const wrapped = cells.map((cell, i) =>
      (widthOf(cell) > widths[i] - 2 ? wrap(cell, widths[i] - 2) : cell).split('\n'),
    )
    const height = Math.max(1, ...wrapped.map((w) => w.length))
    const out: string[] = []
    for (let y = 0; y < height; y++) {
      let text = bar
      for (let i = 0; i < widths.length; i++) {
        const part = wrapped[i][y] ?? ''
        const pad = ' '.repeat(Math.max(0, widths[i] - 2 - columnsOf(part)))
        text += ` ${columns[i].align === 'right' ? pad + style(part) : style(part) + pad} ${bar}`
      }
      out.push(text)
    }
    return out
  }
  const out = [
    rule('┌', '┬', '┐'),
    ...line(
      columns.map((c) => c.head),
      paint.head,
    ),
  ]
  for (const r of rows) for (const l of line(r)) out.push(l)
  out.push(rule('└', '┴', '┘'))
  return out
}
