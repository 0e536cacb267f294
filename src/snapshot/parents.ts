import type {ProcessInfo} from './types.js'

/**
 * Parent links PID reuse made impossible. /proc is read one process at a time: a parent can die and its pid
 * go to a new process between two reads, so a child may name a parent that started after it, and two
 * processes may even name each other. The kernel never shows either (a parent always starts before its
 * child), so such a link is cut: the child's `ppid` is set to its own pid, "parent unknown", which every
 * walk treats as a root and no rule reads as adoption. Returns the pids whose link was cut, ascending.
 */
export function repairParentLinks(processes: ProcessInfo[]): number[] {
  const byPid = new Map<number, ProcessInfo>()
  for (const p of processes) byPid.set(p.pid, p)
  const cut = new Set<number>()
  for (const p of processes) {
    const parent = p.ppid === p.pid ? undefined : byPid.get(p.ppid)
    if (parent && p.startTicks !== undefined && parent.startTicks !== undefined && parent.startTicks > p.startTicks)
      cut.add(p.pid)
  }
  for (const pid of cut) byPid.get(pid)!.ppid = pid
  // Without start times (or within one tick) a cycle can remain: cut each at its lowest pid.
  for (let cycle = findParentCycle(processes); cycle; cycle = findParentCycle(processes)) {
    const lowest = Math.min(...cycle)
    byPid.get(lowest)!.ppid = lowest
    cut.add(lowest)
  }
  return [...cut].sort((a, b) => a - b)
}

/**
 * The pids of one cycle of parent links (each names the next as its parent), or undefined. A process that is
 * its own parent is not a cycle: it is how a snapshot says "parent unknown". Linear: each process is walked
 * once.
 */
export function findParentCycle(processes: readonly ProcessInfo[]): number[] | undefined {
  const byPid = new Map<number, ProcessInfo>()
  for (const p of processes) byPid.set(p.pid, p)
  /** 1: on the walk in progress; 2: known to end at a root. */
  const state = new Map<number, 1 | 2>()
  for (const start of processes) {
    const path: number[] = []
    let cur: ProcessInfo | undefined = start
    while (cur && state.get(cur.pid) === undefined) {
      state.set(cur.pid, 1)
      path.push(cur.pid)
      cur = cur.ppid === cur.pid ? undefined : byPid.get(cur.ppid)
    }
    if (cur && state.get(cur.pid) === 1) return path.slice(path.indexOf(cur.pid))
    for (const pid of path) state.set(pid, 2)
  }
  return undefined
}

/** The first pid that appears twice, or undefined. */
export function findDuplicatePid(processes: readonly ProcessInfo[]): number | undefined {
  const seen = new Set<number>()
  for (const p of processes) {
    if (seen.has(p.pid)) return p.pid
    seen.add(p.pid)
  }
  return undefined
}
