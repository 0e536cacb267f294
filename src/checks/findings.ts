import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {processFindingId, type Finding} from './api.js'

/** What a finding about one process tree says beyond its tree: `treeFinding`'s input. */
export interface TreeFindingFields {
  /** The check's id. */
  check: string
  /** The tree's root: the finding's `pid` and, with its start time, its id. */
  root: ProcessInfo
  /** Every member, root first: the finding's `pids`, whose memory it reports. */
  members: readonly ProcessInfo[]
  /** As `Finding.severity`. */
  severity: Finding['severity']
  /** As `Finding.message`. */
  message: string
  /** As `Finding.reason`. */
  reason: string
  /** As `Finding.fixable`. */
  fixable: boolean
  /** As `Finding.session`. */
  session?: string
  /** As `Finding.socket`. */
  socket?: string
  /** As `Finding.data`. */
  data?: Record<string, unknown>
}

/**
 * A finding about one process tree: its stable id (`check:pid:startTicks` of the root), the root and
 * members, and the memory they hold (each process once), fields in the order every built-in check writes them.
 */
export function treeFinding(tree: ProcessTree, f: TreeFindingFields): Finding {
  const memory = tree.memoryOf(f.members.map((m) => m.pid))
  return {
    id: processFindingId(f.check, f.root.pid, f.root.startTicks),
    check: f.check,
    severity: f.severity,
    message: f.message,
    reason: f.reason,
    pid: f.root.pid,
    pids: f.members.map((m) => m.pid),
    memoryBytes: memory.bytes,
    memorySource: memory.source,
    session: f.session,
    ...(f.socket === undefined ? {} : {socket: f.socket}),
    fixable: f.fixable,
    ...(f.data === undefined ? {} : {data: f.data}),
  }
}
