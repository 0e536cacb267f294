import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {terminateTreeActions} from './actions.js'
import type {Found} from './api.js'

/** What a finding about one process tree says beyond its tree: `treeFinding`'s input. */
export interface TreeFindingFields extends Omit<Found, 'key' | 'pid' | 'pids' | 'memory' | 'fix'> {
  /** The tree's root: the finding's `pid` and, with its start time, its id. */
  root: ProcessInfo
  /** Every member, root first: the finding's `pids`, whose memory it reports. */
  members: readonly ProcessInfo[]
  /** Fix it by ending the whole tree (root first), after the engine has re-verified every member. */
  endTree?: boolean
}

/**
 * What a check found about one process tree: the root (whose pid and start time make the finding's id),
 * the members and the memory they hold, and, with `endTree`, the fix that ends them.
 */
export function treeFinding(tree: ProcessTree, f: TreeFindingFields): Found {
  const {root, members, endTree, ...rest} = f
  const found: Found = {...rest, pid: root.pid, pids: members.map((m) => m.pid), memory: true}
  return endTree ? {...found, fix: terminateTreeActions(tree, found)} : found
}
