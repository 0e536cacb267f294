import {closeSync, fdatasyncSync, fstatSync, ftruncateSync, writeSync} from 'node:fs'
import path from 'node:path'
import {DoctorError} from '../errors.js'
import {errnoReason, openAppendOnly} from '../safe-fs.js'
import type {Signal} from './probe.js'
import {ensureStateDir} from '../state-dir.js'

/**
 * One line of the audit log: every signal the doctor is about to send (`intent`, on disk before the signal
 * goes out) and sent, every process it decided to spare, and what became of each one it signalled. Appended
 * as JSON lines; never rewritten.
 */
export interface AuditEntry {
  time: string
  /** Identifies one `--fix` run: the doctor's pid and start time. */
  run: string
  event:
    | 'intent'
    | 'signal'
    | 'skip'
    | 'gone'
    | 'newcomer'
    | 'escaped'
    | 'result'
    | 'tmux'
    | 'remove-socket'
    | 'container'
  findingId: string
  pid?: number
  startTicks?: number
  /** ISO start time of the process (from its start ticks and the boot time). */
  startTime?: string
  uid?: number
  command?: string
  session?: string
  signal?: Signal
  /**
   * intent: intended; signal: sent | already-gone | refused; skip: skipped; gone: already-gone; newcomer: found;
   * escaped: not-signalled; result: ended | survived | zombie; tmux: intended, then fixed | skipped | failed ...
   */
  outcome: string
  detail?: string
  /** tmux / remove-socket actions. */
  socket?: string
  args?: string[]
  path?: string
  /** container actions: the runtime (docker, podman) and the container id. */
  runtime?: string
  container?: string
}

/** Where audit lines go. `write` and `flush` throw when the line cannot be recorded (ENOSPC, EIO, closed). */
export interface AuditSink {
  write(entry: Omit<AuditEntry, 'time' | 'run'>): void
  /** Puts every line written so far on disk (fdatasync): an intent must survive a crash of the machine too. */
  flush?(): void
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
      throw new DoctorError(
        `cannot open the audit log ${this.file}: ${error instanceof DoctorError ? error.message : errnoReason(error)}; nothing was signalled`,
      )
    }
  }

  write(entry: Omit<AuditEntry, 'time' | 'run'>): void {
    const fd = this.openFd()
    const line = Buffer.from(JSON.stringify({time: this.now().toISOString(), run: this.run, ...entry}) + '\n')
    let done = 0
    try {
      // A nearly full disk takes part of a line: write the rest, or fail...
      while (done < line.length) done += writeSync(fd, line, done)
    } catch (error) {
      // ...and then leave no torn line behind for the next run to append to.
      try {
        if (done > 0) ftruncateSync(fd, fstatSync(fd).size - done)
      } catch {}
      throw error
    }
  }

  flush(): void {
    fdatasyncSync(this.openFd())
  }

  private openFd(): number {
    if (this.fd === undefined) throw Object.assign(new Error('the audit log is closed'), {code: 'EBADF'})
    return this.fd
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
