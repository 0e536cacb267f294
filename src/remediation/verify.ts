import type {ProcessTarget} from '../checks/api.js'
import type {LiveProcess} from './probe.js'

/**
 * What a verdict may know besides the target and its live re-read: who is protected, who owns what, who
 * may adopt. Reading the system is the caller's job; these answers are read once per run (memoised).
 */
export interface Identity {
  /** The doctor and its ancestors, each with why it is protected. */
  protectedPids: ReadonlyMap<number, string>
  isTmuxServer(live: LiveProcess): boolean
  /** A GNU screen (`SCREEN`) or zellij (`zellij --server`) server, read live. */
  isMultiplexerServer(live: LiveProcess): boolean
  /** PID 1 or a live child subreaper: where orphans land. */
  isReaper(pid: number): boolean
  /** The own processes of the live tmux panes at detection. */
  livePanes?: ReadonlySet<number>
  invokingUid: number
  allUsers?: boolean
}

/** Where a target whose parent changed now sits, as far as its own tree can tell. */
export interface Lineage {
  /** The new parent is a member of the same tree: `spared` when that member is. */
  adopter(ppid: number): 'spared' | 'kept' | undefined
  /** The root's live parent chain when it was verified: a member whose parent died may land there. */
  rootAncestors: ReadonlySet<number>
  /** "comm (PID n), a live process", or "PID n": for the sentence that says why it is no orphan any more. */
  describe(ppid: number): string
}

export type Verdict =
  | {kind: 'ok'}
  | {kind: 'gone'}
  | {kind: 'dead'; live: LiveProcess}
  | {kind: 'spare'; detail: string}

/** What no target may be, planned or found later: PID 1, the doctor's chain, a tmux server or pane, not yours. */
export function refusal(live: LiveProcess, id: Identity, detectedUid?: number): string | undefined {
  if (live.pid === 1) return 'PID 1 is never signalled'
  const mine = id.protectedPids.get(live.pid)
  if (mine) return `${mine} is never signalled`
  if (id.isTmuxServer(live)) return 'a tmux server is never signalled'
  if (id.isMultiplexerServer(live)) return 'a screen or zellij server is never signalled'
  if (id.livePanes?.has(live.pid)) return 'the process of a live tmux pane is never signalled'
  const {invokingUid, allUsers} = id
  if (live.uid === undefined) return 'its owner could not be read'
  if (detectedUid !== undefined && detectedUid !== live.uid)
    return `its owner changed from uid ${detectedUid} to uid ${live.uid}`
  if (live.uid !== invokingUid && !(allUsers && invokingUid === 0)) {
    const hint = invokingUid === 0 ? '; pass --all-users to include other users' : ''
    return `owned by uid ${live.uid}, not by you (uid ${invokingUid})${hint}`
  }
  return undefined
}

/** One planned target against its live re-read: is it still provably the orphan that was detected? */
export function verify(t: ProcessTarget, live: LiveProcess | undefined, id: Identity, lineage: Lineage): Verdict {
  if (!live) return {kind: 'gone'}
  if (t.startTicks === undefined)
    return {kind: 'spare', detail: 'start time unknown at detection, so PID reuse cannot be ruled out'}
  if (live.startTicks !== t.startTicks) {
    return {
      kind: 'spare',
      detail: `PID reused: PID ${t.pid} is now another process (start ticks ${live.startTicks}, detected ${t.startTicks})`,
    }
  }
  const refused = refusal(live, id, t.uid)
  if (refused) return {kind: 'spare', detail: refused}
  if (live.state === 'Z' || live.state === 'X') return {kind: 'dead', live}
  if (live.ppid !== t.ppid) {
    const adopter = lineage.adopter(live.ppid)
    if (adopter) {
      if (adopter === 'spared') return {kind: 'spare', detail: `its new parent PID ${live.ppid} in this tree is spared`}
    } else if (!lineage.rootAncestors.has(live.ppid) && !id.isReaper(live.ppid)) {
      // Only a subreaper can adopt: one above the root is still this orphan's own lineage.
      return {
        kind: 'spare',
        detail: `no longer an orphan: its parent changed from PID ${t.ppid} to ${lineage.describe(live.ppid)}`,
      }
    }
  }
  return {kind: 'ok'}
}

/** Why a child of a stopped member is left alone; it has no detected identity, so it must prove it is new. */
export function newcomerRefusal(
  live: LiveProcess,
  id: Identity,
  detectedAtTicks: number | undefined,
): string | undefined {
  const refused = refusal(live, id)
  if (refused) return refused
  if (id.isReaper(live.pid)) return 'a subreaper (it adopts orphans) is never signalled'
  if (detectedAtTicks === undefined || live.startTicks <= detectedAtTicks)
    return 'running since before detection, yet not in the plan: left alone'
  return undefined
}
