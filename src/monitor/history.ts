import {closeSync, writeSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {DoctorError} from '../errors.js'
import {ensureStateDir, stateDir} from '../state-dir.js'
import {errnoReason, makeDirectories, MiB, openAppendOnly, readRegularTail, UnsafeFile} from '../safe-fs.js'
import type {FindingKind, FindingKinds} from '../checks/api.js'
import type {ReportFinding, Report, ReportSummary} from '../report/model.js'

/** Bumped when a field of a history line changes meaning; readers skip lines of versions they do not know. */
export const HISTORY_VERSION = 1

/**
 * One run of `watch` (or of any command that records), one line of the JSON-lines history. The orphan counts
 * are what the run found, before any fix: the trend of what accumulates between runs.
 */
export interface HistoryEntry {
  v: typeof HISTORY_VERSION
  /** When the run started (ISO). */
  time: string
  durationMs: number
  status: ReportSummary['status']
  exitCode: number
  claudeProcesses: number
  tmuxSessions: number
  mcpServers: number
  orphanClaude: number
  orphanMcp: number
  orphanMemoryBytes: number
  /** Finding ids of every orphan tree found (`orphan-claude:PID:TICKS`, `orphan-mcp:...`, `agent-leftover:...`): what changed between runs. */
  orphans: string[]
  /** With --fix: findings fixed in this run, the memory freed, and which of `orphans` the fix ended. */
  fixed?: number
  freedMemoryBytes?: number
  fixedOrphans?: string[]
}

export const HISTORY_FILE = 'history.jsonl'

/**
 * `$XDG_STATE_HOME/gt-doctor/history.jsonl`, by default `~/.local/state/gt-doctor/history.jsonl`. A relative
 * XDG_STATE_HOME is invalid per the XDG spec and ignored.
 */
export function defaultHistoryFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  return path.join(stateDir(env, home), HISTORY_FILE)
}

/** What holds orphaned memory, as the summary counts it: leftovers too, detached runs (jobs) not. */
const ORPHAN_KINDS: ReadonlySet<FindingKind> = new Set(['orphan-agent', 'orphan-tree', 'leftover'])

/**
 * Every orphan tree the run found (by the kind its check declares, `kinds`): after a fix the report's checks
 * hold what is left and `fixed` what was ended, so both are counted, each finding once.
 */
export function orphanFindings(report: Report, kinds: FindingKinds): ReportFinding[] {
  const byId = new Map<string, ReportFinding>()
  const all = [...(report.fixed ?? []), ...report.checks.flatMap((c) => c.findings)]
  const orphan = (f: ReportFinding) => ORPHAN_KINDS.has(kinds.get(f.check)!) && f.severity !== 'info'
  for (const f of all) if (orphan(f) && !byId.has(f.id)) byId.set(f.id, f)
  return [...byId.values()]
}

/** The history line of one run. */
export function historyEntry(
  report: Report,
  run: {startedAt: Date; durationMs: number; exitCode: number},
  kinds: FindingKinds,
): HistoryEntry {
  const s = report.summary
  const orphans = orphanFindings(report, kinds)
  return {
    v: HISTORY_VERSION,
    time: run.startedAt.toISOString(),
    durationMs: Math.round(run.durationMs),
    status: s.status,
    exitCode: run.exitCode,
    claudeProcesses: s.claudeProcesses,
    tmuxSessions: s.tmuxSessions,
    mcpServers: s.mcpServers,
    orphanClaude: orphans.filter((f) => kinds.get(f.check) === 'orphan-agent').length,
    // The same measure as the report's summary: each MCP server once, whether its own tree or inside a claude's.
    orphanMcp: orphans.reduce((n, f) => n + Number(f.data?.mcpServers ?? 0), 0),
    orphanMemoryBytes: orphans.reduce((n, f) => n + (f.memoryBytes ?? 0), 0),
    orphans: orphans.map((f) => f.id),
    ...(s.fixed === undefined
      ? {}
      : {
          fixed: s.fixed,
          freedMemoryBytes: s.freedMemoryBytes ?? 0,
          fixedOrphans: orphans.filter((f) => f.fix?.outcome === 'fixed').map((f) => f.id),
        }),
  }
}

/**
 * Appends one line with a single write(2) on an O_APPEND descriptor: a reader, or a run stopped by a signal,
 * sees the whole line or none of it. Never through a symbolic link, into a FIFO or a hard-linked file.
 */
export function appendHistory(file: string, entry: HistoryEntry): void {
  const fd = openHistory(file)
  try {
    writeSync(fd, JSON.stringify(entry) + '\n')
  } finally {
    closeSync(fd)
  }
}

/** The default file's directory is the state directory (checked private); another one is created private if missing. */
function openHistory(file: string): number {
  try {
    if (path.resolve(file) === path.resolve(defaultHistoryFile())) ensureStateDir(path.dirname(file))
    else makeDirectories(path.dirname(file))
    return openAppendOnly(file)
  } catch (error) {
    throw new DoctorError(
      `cannot write the history file ${file}: ${error instanceof DoctorError ? error.message : errnoReason(error)}`,
    )
  }
}

export interface HistoryRead {
  entries: HistoryEntry[]
  /** Lines that were not a history entry this version understands (torn, edited, another version). */
  malformed: number
  /** The file does not exist (yet). */
  missing: boolean
  /** Bytes at the start of a file larger than the read limit that were not read (the oldest runs). */
  skippedBytes?: number
}

/** How much of the history is read: its end, where the latest runs are (about 200,000 of them). */
export const HISTORY_READ_LIMIT = 64 * MiB

const NUMBER_FIELDS = [
  'durationMs',
  'claudeProcesses',
  'tmuxSessions',
  'mcpServers',
  'orphanClaude',
  'orphanMcp',
  'orphanMemoryBytes',
] as const

function parseEntry(line: string): HistoryEntry | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined
  const e = value as Record<string, unknown>
  if (e.v !== HISTORY_VERSION || typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time))) return undefined
  if (!NUMBER_FIELDS.every((k) => typeof e[k] === 'number' && Number.isFinite(e[k]))) return undefined
  if (!Array.isArray(e.orphans)) return undefined
  return e as unknown as HistoryEntry
}

/**
 * Every entry in file order; lines that do not parse are counted, never fatal. Only a regular file is read
 * (a FIFO or /dev/zero is refused), and of a file larger than `maxBytes` only its end.
 */
export function readHistory(file: string, opts: {maxBytes?: number} = {}): HistoryRead {
  let read: {text: string; skippedBytes: number}
  try {
    read = readRegularTail(file, opts.maxBytes ?? HISTORY_READ_LIMIT)
  } catch (error) {
    if (error instanceof UnsafeFile && error.code === 'ENOENT') return {entries: [], malformed: 0, missing: true}
    throw new DoctorError(`cannot read the history file ${file}: ${errnoReason(error)}`)
  }
  const lines = read.text.split('\n')
  // The first line of a tail is cut somewhere in the middle: not a line of its own.
  if (read.skippedBytes > 0) lines.shift()
  const entries: HistoryEntry[] = []
  let malformed = 0
  for (const line of lines) {
    if (line.trim() === '') continue
    const entry = parseEntry(line)
    if (entry) entries.push(entry)
    else malformed++
  }
  return {entries, malformed, missing: false, ...(read.skippedBytes > 0 ? {skippedBytes: read.skippedBytes} : {})}
}

/** Fails before the first run, not after it, when the history cannot be written (exit 2, one line). */
export function ensureHistoryWritable(file: string): void {
  closeSync(openHistory(file))
}
