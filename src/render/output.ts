import {DoctorError} from '../errors.js'
import type {FailOn, Report} from '../report/model.js'
import {forDisplay, snapshotForDisplay} from '../report/display.js'
import type {RedactOptions} from '../report/redact.js'
import type {Snapshot} from '../snapshot/types.js'
import {renderJunit} from './junit.js'
import {renderMarkdown} from './markdown.js'
import {renderPrometheus} from './prometheus.js'
import {renderTable} from './table.js'
import {errnoReason, replaceFileAtomically} from '../safe-fs.js'

export const FORMATS = ['table', 'json', 'markdown', 'junit', 'prometheus'] as const
export type Format = (typeof FORMATS)[number]

/** `--json` is `--format json`; asking for both JSON and another format is a usage error. */
export function resolveFormat(format: string | undefined, json: boolean): Format {
  if (json && format !== undefined && format !== 'json') {
    throw new DoctorError(`--json means --format json and cannot be combined with --format ${format}`)
  }
  if (json) return 'json'
  if (format === undefined) return 'table'
  if (!(FORMATS as readonly string[]).includes(format))
    throw new DoctorError(`unknown format "${format}"; expected one of ${FORMATS.join(', ')}`)
  return format as Format
}

/** Whether argv asks for `--format json` (any spelling): such a run answers errors in JSON too, as `--json` does. */
export function argvWantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  const args = end === -1 ? argv : argv.slice(0, end)
  return args.some((a, i) => a === '--format=json' || (a === '--format' && args[i + 1] === 'json'))
}

export interface RenderRequest {
  format: Format
  report: Report
  /** The snapshot the report was made from: process trees, parents and elapsed times come from it. */
  snapshot?: Snapshot
  /** Mask secrets and shorten home directories (default on; `--no-redact` turns it off). */
  redact: boolean
  redactOptions?: RedactOptions
  failOn: FailOn
  table?: {color: boolean; verbose?: boolean; quiet?: boolean; width?: number}
}

export interface Rendered {
  text: string
  /** The report as rendered (redacted unless asked not to): what `--json` returns. */
  report: Report
}

/**
 * The processes a renderer can show: every process a finding covers and their parents. Redacting only
 * these keeps a report on a 50,000-process machine as fast as the checks.
 */
export function snapshotForReport(snapshot: Snapshot, report: Report): Snapshot {
  const wanted = new Set<number>()
  for (const c of report.checks)
    for (const f of c.findings) for (const pid of [...(f.pid === undefined ? [] : [f.pid]), ...f.pids]) wanted.add(pid)
  const byPid = new Map(snapshot.processes.map((p) => [p.pid, p]))
  for (const pid of [...wanted]) {
    const p = byPid.get(pid)
    if (p) wanted.add(p.ppid)
  }
  return {...snapshot, processes: snapshot.processes.filter((p) => wanted.has(p.pid))}
}

/** Redacts (unless told not to) and renders the report in one format. */
export function renderReport(req: RenderRequest): Rendered {
  const view = req.snapshot ? snapshotForReport(req.snapshot, req.report) : undefined
  // The one place a report is made fit to leave: redacted, cut, control characters escaped (display.ts).
  const display = {...req.redactOptions, redact: req.redact}
  const report = forDisplay(req.report, display)
  const snapshot = view && snapshotForDisplay(view, display)
  switch (req.format) {
    case 'json':
      return {report, text: `${JSON.stringify(report, null, 2)}\n`}
    case 'markdown':
      return {report, text: renderMarkdown(report, snapshot, {redacted: req.redact})}
    case 'junit':
      return {report, text: renderJunit(report, snapshot, {failOn: req.failOn})}
    case 'prometheus':
      return {report, text: renderPrometheus(report)}
    case 'table':
      return {report, text: `${renderTable(report, {color: false, ...req.table, snapshot})}\n`}
  }
}

/**
 * Writes `text` to `file` atomically (see replaceFileAtomically), so a reader (node_exporter, a CI step) never
 * sees half a report. A symbolic link, a FIFO, a device or a directory at `file` is refused, not written into.
 */
export async function writeOutput(file: string, text: string): Promise<void> {
  try {
    replaceFileAtomically(file, text)
  } catch (error) {
    const why = errnoReason(error)
    throw new DoctorError(`cannot write ${file}: ${why === 'no such file' ? 'its directory does not exist' : why}`)
  }
}
