import {containersOf} from '../analysis/containers.js'
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
  if (!endTree) return found
  // A `docker run` client's container outlives the client: stopping it is part of ending the tree.
  const containers = containersOf(tree.snapshot, members)
  if (containers.length === 0) return {...found, fix: terminateTreeActions(tree, found)}
  const said = containers.map((c) =>
    c.found
      ? `a fix stops its ${c.run.runtime} container ${c.found.name ?? c.found.id.slice(0, 12)} too`
      : `its ${c.run.runtime} container: ${c.why}`,
  )
  const withContainers = {
    ...found,
    reason: `${found.reason}; ${said.join('; ')}`,
    data: {
      ...found.data,
      containers: containers.map((c) => ({
        runtime: c.run.runtime,
        clientPid: c.client.pid,
        ...(c.found ? {id: c.found.id, name: c.found.name} : {unknown: c.why}),
      })),
    },
  }
  const stops = containers.flatMap((c) =>
    c.found
      ? [
          {
            kind: 'stop-container' as const,
            runtime: c.run.runtime,
            id: c.found.id,
            ...(c.found.name ? {name: c.found.name} : {}),
            remove: c.run.remove,
            client: {pid: c.client.pid, startTicks: c.client.startTicks},
            reason: `the container of orphaned ${c.run.runtime} run client ${c.client.pid}`,
          },
        ]
      : [],
  )
  return {...withContainers, fix: [...terminateTreeActions(tree, withContainers), ...stops]}
}
