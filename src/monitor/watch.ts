import {setTimeout as sleep} from 'node:timers/promises'
import type {FindingKinds} from '../checks/api.js'
import type {Report} from '../report/model.js'
import {oneLine} from '../errors.js'
import {compareRuns, type RunChange} from './compare.js'
import {appendHistory, historyEntry, type HistoryEntry} from './history.js'

/** One run of the checks (and of the fix, with --fix): its report and the exit code `check` would have. */
export type RunOnce = () => Promise<{report: Report; exitCode: number}>

export interface WatchOptions {
  /** Pause between the end of one run and the start of the next: runs never overlap. */
  intervalMs: number
  /** Stop after this many runs (undefined: until stopped). */
  count?: number
  /** Where each run's line is appended (undefined: nowhere). */
  historyFile?: string
  /** Stopping: the loop finishes the run in progress, records it, and returns without starting another. */
  signal: AbortSignal
  run: RunOnce
  /** What each check's findings count as in the history line (`findingKinds` of the registry). */
  kinds: FindingKinds
  /** After each recorded run: its history line and what changed since the previous run. */
  onRun(entry: HistoryEntry, change: RunChange | undefined, index: number): void
  /** A run that threw (e.g. another --fix holds the lock): reported, not recorded, and the watch goes on. */
  onError(message: string, index: number): void
  /** A run the stop signal interrupted, discarded. */
  onInterrupted?(index: number): void
  now?: () => Date
}

export interface WatchResult {
  /** Runs recorded (completed and not discarded). */
  runs: number
  failed: number
  /** Why the loop ended. */
  stoppedBy: 'signal' | 'count'
}

/**
 * The watch loop: run, record, report the change, sleep the interval, again. A run in progress when the
 * signal arrives is completed (a fix is never abandoned half-way) and then recorded or discarded; a sleep
 * is cut short. Every line is written whole before the next run starts.
 */
export async function watchLoop(opts: WatchOptions): Promise<WatchResult> {
  const now = opts.now ?? (() => new Date())
  let previous: HistoryEntry | undefined
  let runs = 0
  let failed = 0
  let index = 0
  while (!opts.signal.aborted) {
    const startedAt = now()
    const t0 = performance.now()
    index++
    try {
      const {report, exitCode} = await opts.run()
      const entry = historyEntry(report, {startedAt, durationMs: performance.now() - t0, exitCode}, opts.kinds)
      // The stop signal reaches the tmux clients the run started too (a terminal's Ctrl-C, systemd's stop): a
      // run it interrupted may have missed servers, so it is not recorded, unless it fixed something.
      if (opts.signal.aborted && entry.fixed === undefined) {
        opts.onInterrupted?.(index)
        break
      }
      if (opts.historyFile) appendHistory(opts.historyFile, entry)
      runs++
      opts.onRun(entry, compareRuns(previous, entry), index)
      previous = entry
    } catch (error) {
      failed++
      opts.onError(oneLine(error), index)
    }
    if (opts.count !== undefined && index >= opts.count) return {runs, failed, stoppedBy: 'count'}
    try {
      await sleep(opts.intervalMs, undefined, {signal: opts.signal})
    } catch {
      break
    }
  }
  return {runs, failed, stoppedBy: 'signal'}
}
