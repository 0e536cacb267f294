import type {Member, Tree} from './members.js'
import {escapedDetail, type ProcessResult} from './outcome.js'
import type {LiveProcess, ProcessProbe} from './probe.js'
import type {Recorder} from './recorder.js'

export interface EscapeSearch {
  trees: Tree[]
  /** Every pid a tree holds: those are accounted for already. */
  claimed: ReadonlyMap<number, Member>
  probe: Pick<ProcessProbe, 'read' | 'argv' | 'children'>
  isReaper(pid: number): boolean
  doctorPid: number
  detectedAtTicks?: number
  recorder: Recorder
}

/**
 * Children started after detection that left their tree before it was stopped (their parent died, a reaper
 * adopted them) still share a member's session or process group. Reported, never signalled: nothing
 * proves them part of the orphan tree the user was shown. Each is added to its tree's `escaped`.
 */
export function findEscapes(o: EscapeSearch): void {
  const {detectedAtTicks, probe} = o
  if (detectedAtTicks === undefined) return
  const doctor = probe.read(o.doctorPid)
  // The doctor's own session and group (its terminal's) hold far more than any tree.
  const shared = new Set([0, 1, doctor?.sid, doctor?.pgid])
  const byId = new Map<number, Tree>()
  const adopters = new Set([1])
  for (const tree of o.trees) {
    for (const m of tree.members) {
      if (m.alias || m.newcomer || (m.signals.length === 0 && m.status !== 'refused')) continue
      for (const id of [m.sid, m.pgid]) if (id !== undefined && !shared.has(id) && !byId.has(id)) byId.set(id, tree)
    }
    for (const pid of tree.rootAncestors) if (o.isReaper(pid)) adopters.add(pid)
  }
  if (byId.size === 0) return
  for (const adopter of adopters) {
    for (const pid of probe.children(adopter)) {
      if (o.claimed.has(pid)) continue
      const live = probe.read(pid)
      if (!live || live.state === 'Z' || live.startTicks <= detectedAtTicks) continue
      const tree = byId.get(live.sid ?? -1) ?? byId.get(live.pgid ?? -1)
      if (!tree) continue
      tree.escaped.push(live)
      o.recorder.record({
        event: 'escaped',
        findingId: tree.item.id,
        pid,
        startTicks: live.startTicks,
        uid: live.uid,
        command: commandOf(live, probe),
        outcome: 'not-signalled',
        detail: escapedDetail(live.ppid),
      })
    }
  }
}

/** Its argv as one line, else its comm. */
export function commandOf(live: LiveProcess, probe: Pick<ProcessProbe, 'argv'>): string {
  const argv = probe.argv(live.pid)
  return argv && argv.length > 0 ? argv.join(' ') : live.comm
}

export function escapedResult(tree: Tree, live: LiveProcess, probe: Pick<ProcessProbe, 'argv'>): ProcessResult {
  const {pid, startTicks} = live
  return {
    pid,
    startTicks,
    command: commandOf(live, probe),
    findingId: tree.item.id,
    outcome: 'escaped',
    detail: escapedDetail(live.ppid),
    signals: [],
    freedBytes: 0,
  }
}
