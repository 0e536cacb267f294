import type {HistoryEntry} from './history.js'

/** What changed from one run to the next. */
export interface RunChange {
  /** Orphan findings this run found that the previous run did not. */
  appeared: string[]
  /** Orphans the previous run left alive that this run no longer finds: they exited or something else ended them. */
  gone: string[]
  /** Memory held by orphans now minus before. */
  memoryDeltaBytes: number
}

/** The change since `previous`; undefined for the first run, which has nothing to compare with. */
export function compareRuns(previous: HistoryEntry | undefined, current: HistoryEntry): RunChange | undefined {
  if (!previous) return undefined
  const before = new Set(previous.orphans)
  const now = new Set(current.orphans)
  // What the previous run's fix ended was reported as fixed there; it is not news that it is gone now.
  const fixedBefore = new Set(previous.fixedOrphans ?? [])
  return {
    appeared: current.orphans.filter((id) => !before.has(id)),
    gone: previous.orphans.filter((id) => !now.has(id) && !fixedBefore.has(id)),
    memoryDeltaBytes: current.orphanMemoryBytes - previous.orphanMemoryBytes,
  }
}
