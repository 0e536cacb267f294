/**
 * Everything the doctor shows or hands over (a report in any format, the --fix plan, the fix results, a
 * session stop) passes through forDisplay first, once, before any renderer sees it: secrets are masked
 * (unless --no-redact), very long command lines are cut (saying how much), and control characters are
 * written out as `\xNN`, so a process's argv or a path cannot clear the screen (ESC[2J), set a window title
 * or write the clipboard (OSC 52) on the terminal that prints it. Line feeds and tabs are kept: the
 * renderers lay them out. Snapshot files are not cut: `check --from` must find what `check` found.
 */
import type {Snapshot} from '../snapshot/types.js'
import {escapeControls} from '../words.js'
import {isPlainObject, redactDeep, redactSnapshot, type RedactOptions} from './redact.js'

export {escapeControls}

/** Characters of one argument or one text kept; the rest is replaced by a note of how much was cut. */
const TEXT_LIMIT = 4096
/** Arguments of one command line kept. */
const ARGS_LIMIT = 256

/** `text` cut at `limit` characters, with a note of how many were cut. */
export function cutText(text: string, limit = TEXT_LIMIT): string {
  if (text.length <= limit) return text
  return `${text.slice(0, limit)}…[${(text.length - limit).toLocaleString('en-US')} characters cut]`
}

function cutArgv(argv: readonly string[]): string[] {
  const kept = argv.slice(0, ARGS_LIMIT).map((a) => cutText(a))
  if (argv.length > ARGS_LIMIT) kept.push(`…[${(argv.length - ARGS_LIMIT).toLocaleString('en-US')} more arguments cut]`)
  return kept
}

export interface DisplayOptions extends RedactOptions {
  /** Mask secrets and shorten home directories (`--no-redact` turns it off); cutting and escaping always happen. */
  redact: boolean
}

function finish(value: unknown): unknown {
  if (typeof value === 'string') return escapeControls(cutText(value))
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string'))
      return cutArgv(value as string[]).map(escapeControls)
    return value.map(finish)
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = finish(v)
    return out
  }
  return value
}

/** `value` (any JSON-like data: a report, a plan, a snapshot's processes) as it may be shown or handed over. */
export function forDisplay<T>(value: T, opts: DisplayOptions): T {
  // Redaction first, on the whole text: a secret must not survive because a cut split it.
  return finish(opts.redact ? redactDeep(value, opts) : value) as T
}

/** The part of a snapshot a report shows, as forDisplay makes it: only the kept environment variables leave. */
export function snapshotForDisplay(snapshot: Snapshot, opts: DisplayOptions): Snapshot {
  return finish(opts.redact ? redactSnapshot(snapshot, opts) : snapshot) as Snapshot
}
