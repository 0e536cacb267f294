import {closeSync, writeSync} from 'node:fs'
import path from 'node:path'
import {DoctorError} from '../errors.js'
import {errnoReason, openAppendOnly} from '../safe-fs.js'
import {ensureStateDir} from './state.js'

/**
 * One line of the audit log: every signal the doctor sent, every process it decided to spare, and what
 * became of each one it signalled. Appended as JSON lines; never rewritten.
 */
export interface AuditEntry {
  time: string
  /** Identifies one `--fix` run: the doctor's pid and start time. */
  run: string
  event: 'signal' | 'skip' | 'gone' | 'result' | 'tmux' | 'remove-socket'
  findingId: string
  pid?: number
  startTicks?: number
  /** ISO start time of the process (from its start ticks and the boot time). */
  startTime?: string
  uid?: number
  command?: string
  session?: string
  signal?: 'SIGTERM' | 'SIGKILL'
  /** signal: sent | already-gone | refused; skip: skipped; gone: already-gone; result: ended | survived | zombie. */
  outcome: string
  detail?: string
  /** tmux / remove-socket actions. */
  socket?: string
  args?: string[]
  path?: string
}

export interface AuditSink {
  write(entry: Omit<AuditEntry, 'time' | 'run'>): void
}

export const AUDIT_FILE = 'actions.jsonl'

/** The audit log file, opened once for appending before anything is signalled. */
export class AuditLog implements AuditSink {
  private fd: number | undefined
  readonly file: string

  constructor(
    dir: string,
    private readonly run: string,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.file = path.join(dir, AUDIT_FILE)
    try {
      ensureStateDir(dir)
      this.fd = openAppendOnly(this.file)
    } catch (error) {
      // No record, no kill: an operator must always be able to see what the doctor did.
      throw new DoctorError(`cannot open the audit log ${this.file}: ${error instanceof DoctorError ? error.message : errnoReason(error)}; nothing was signalled`)
    }
  }

  write(entry: Omit<AuditEntry, 'time' | 'run'>): void {
    if (this.fd === undefined) throw new Error('audit log is closed')
    writeSync(this.fd, JSON.stringify({time: this.now().toISOString(), run: this.run, ...entry}) + '\n')
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

/** Keeps entries in memory: dry runs (which record nothing) and tests. */
export class MemoryAudit implements AuditSink {
  readonly entries: Array<Omit<AuditEntry, 'time' | 'run'>> = []
  write(entry: Omit<AuditEntry, 'time' | 'run'>): void {
    this.entries.push(entry)
  }
}
