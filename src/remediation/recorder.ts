import type {AuditEntry, AuditSink} from './audit.js'
import type {Member} from './members.js'
import type {Signal} from './probe.js'

export type AuditLine = Omit<AuditEntry, 'time' | 'run'>

export interface RecorderOptions {
  audit: AuditSink
  /** A dry run records nothing (and so never fails to). */
  dryRun?: boolean
  /** To turn start ticks into a start time in the audit log. */
  bootTimeMs?: number
  clockTicksPerSecond?: number
  /** Called once, when the first line cannot be written: the engine undoes its stops there. */
  onFail(code: string): void
}

/**
 * The engine's side of the audit log: every line goes through here, and the first line that cannot be
 * written ends all recording, so that from then on nothing more is signalled (each caller checks).
 */
export class Recorder {
  failure?: {code: string}

  constructor(private readonly opts: RecorderOptions) {}

  /** Writes one audit line; false when it cannot be written (and from then on nothing more is signalled). */
  record(entry: AuditLine): boolean {
    if (this.opts.dryRun) return true
    if (this.failure) return false
    try {
      this.opts.audit.write(entry)
      return true
    } catch (error) {
      this.fail(error)
      return false
    }
  }

  /** An intent line for an action that is not a signal, on disk before the action. */
  recordIntent(entry: AuditLine): boolean {
    return this.record(entry) && this.flush()
  }

  flush(): boolean {
    try {
      this.opts.audit.flush?.()
      return true
    } catch (error) {
      this.fail(error)
      return false
    }
  }

  /** One line about one member of a tree. */
  member(
    event: 'intent' | 'signal' | 'skip' | 'gone' | 'newcomer' | 'result',
    m: Member,
    extra: {outcome: string; detail?: string; signal?: Signal; uid?: number},
  ): boolean {
    const t = m.target
    const {bootTimeMs, clockTicksPerSecond = 100} = this.opts
    return this.record({
      event,
      findingId: m.tree.item.id,
      pid: t.pid,
      startTicks: t.startTicks,
      startTime:
        bootTimeMs !== undefined && t.startTicks !== undefined
          ? new Date(bootTimeMs + (t.startTicks * 1000) / clockTicksPerSecond).toISOString()
          : undefined,
      uid: extra.uid ?? t.uid,
      command: t.command,
      session: m.tree.action.session ?? m.tree.item.session,
      signal: extra.signal,
      outcome: extra.outcome,
      detail: extra.detail,
    })
  }

  /** The intent lines for `signals` to each of `members`, on disk (fdatasync) before any of them is sent. */
  intend(members: Member[], signals: Signal[]): boolean {
    if (members.length === 0) return true
    for (const m of members)
      for (const signal of signals) if (!this.member('intent', m, {signal, outcome: 'intended'})) return false
    return this.flush()
  }

  private fail(error: unknown): void {
    if (this.failure) return
    this.failure = {code: (error as NodeJS.ErrnoException)?.code ?? 'unknown error'}
    this.opts.onFail(this.failure.code)
  }
}
