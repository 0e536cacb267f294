import type {ProcessTree} from '../tree/process-tree.js'
import type {Found, FixAction, ProcessTarget} from './api.js'

/** A process pinned to its identity in this snapshot, as the engine needs it to re-verify. */
export function targetOf(tree: ProcessTree, pid: number): ProcessTarget | undefined {
  const p = tree.get(pid)
  if (!p) return undefined
  return {
    pid,
    startTicks: p.startTicks,
    ppid: p.ppid,
    uid: p.uid,
    command: p.argv.length > 0 ? p.argv.join(' ') : p.comm,
  }
}

/** The usual fix of an orphan finding: end its whole tree (root first in `targets`). */
export function terminateTreeActions(
  tree: ProcessTree,
  finding: Pick<Found, 'pids' | 'session' | 'reason'>,
): FixAction[] {
  const targets = (finding.pids ?? [])
    .map((pid) => targetOf(tree, pid))
    .filter((t): t is ProcessTarget => t !== undefined)
  return targets.length === 0
    ? []
    : [{kind: 'terminate-tree', targets, session: finding.session, reason: finding.reason}]
}
