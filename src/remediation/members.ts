import type {ProcessTarget} from '../checks/api.js'
import type {LiveProcess} from './probe.js'
import type {TerminationAction, TerminationItem, TerminationRequest} from './termination.js'

export type Life = 'alive' | 'gone' | 'zombie'

/** One process of one tree as the engine tracks it through a run. */
export interface Member {
  target: ProcessTarget
  tree: Tree
  memoryBytes: number
  parentInTree?: Member
  /** The same process in an earlier finding's tree: it is verified and signalled once, there. */
  alias?: Member
  /** pending -> skipped | planned | ready (verified) -> refused | watched (signalled, or dead before it could be). */
  status: 'pending' | 'skipped' | 'planned' | 'ready' | 'refused' | 'watched'
  detail?: string
  signals: Array<'SIGTERM' | 'SIGKILL'>
  /** SIGSTOPped by this run and not yet continued or killed: never to be left so. */
  stopped?: boolean
  /** Found as a child of a stopped member: not in the plan. */
  newcomer?: boolean
  unrecorded?: boolean
  /** Its session and process group when verified: what a child that escaped the tree still shares. */
  sid?: number
  pgid?: number
  life?: Life
  /** Gone before its own signal but after one to its tree: it ended with the tree (a wrapper passed SIGTERM on). */
  endedWithTree?: boolean
  lastState?: string
  zombieParent?: number
}

export interface Tree {
  item: TerminationItem
  action: Extract<TerminationAction, {kind: 'terminate-tree'}>
  members: Member[]
  /** Why the root was spared: then so is every member. */
  rootSpared?: string
  /** The root's live parent chain when it was verified: where a member whose parent died may be adopted. */
  rootAncestors: Set<number>
  /** Children started after detection that left the tree before it was stopped (init adopted them). */
  escaped: LiveProcess[]
}

/** Signalled, or found dead: from now on it is observed until it is gone. */
export function watch(m: Member, life: Life, live?: LiveProcess): void {
  m.status = 'watched'
  m.life = life
  if (live) {
    m.lastState = live.state
    if (life === 'zombie') m.zombieParent = live.ppid
  }
}

/** The member that decides a process's fate: itself, or the earlier tree's member for the same pid. */
export function fate(m: Member): Member {
  return m.alias ?? m
}

/** Has another member of its tree had a signal of ours? Then a member gone unsignalled ended with the tree. */
export function treeSignalled(m: Member): boolean {
  return m.tree.members.some((x) => x !== m && fate(x).signals.length > 0)
}

/**
 * One tree per terminate-tree action, each member once; a pid an earlier tree holds is an alias of that
 * member (`claimed`: every pid a tree holds, and the member that decides its fate).
 */
export function treesOf(plan: TerminationRequest, claimed: Map<number, Member>): Tree[] {
  const trees: Tree[] = []
  for (const item of plan.items) {
    if (item.error) continue
    for (const action of item.actions) {
      if (action.kind !== 'terminate-tree') continue
      const tree: Tree = {item, action, members: [], rootAncestors: new Set(), escaped: []}
      const byPid = new Map<number, Member>()
      for (const target of action.targets) {
        if (byPid.has(target.pid)) continue
        const m: Member = {target, tree, memoryBytes: plan.memory.get(target.pid) ?? 0, status: 'pending', signals: []}
        const first = claimed.get(target.pid)
        if (first) m.alias = first
        else claimed.set(target.pid, m)
        byPid.set(target.pid, m)
      }
      for (const m of byPid.values()) {
        const parent = byPid.get(m.target.ppid)
        if (parent && parent !== m) m.parentInTree = parent
      }
      tree.members = topological([...byPid.values()], action.targets[0].pid)
      trees.push(tree)
    }
  }
  return trees
}

/** Root first, every parent before its children (pids may wrap, so pid order is not enough). */
function topological(members: Member[], rootPid: number): Member[] {
  const children = new Map<Member | undefined, Member[]>()
  for (const m of members) {
    const list = children.get(m.parentInTree) ?? []
    list.push(m)
    children.set(m.parentInTree, list)
  }
  const out: Member[] = []
  const seen = new Set<Member>()
  const visit = (m: Member) => {
    if (seen.has(m)) return
    seen.add(m)
    out.push(m)
    for (const c of children.get(m) ?? []) visit(c)
  }
  const root = members.find((m) => m.target.pid === rootPid)
  if (root) visit(root)
  // Members whose parent is not in the tree (or a cycle): after the root's own descendants, in plan order.
  for (const m of members) visit(m)
  return out
}
