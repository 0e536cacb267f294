import {multiplexerServerKind} from '../snapshot/multiplexers.js'
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {LiveProcess, ProcessProbe} from './probe.js'
import type {Identity} from './verify.js'

export interface IdentitySources {
  probe: Pick<ProcessProbe, 'read' | 'argv'>
  rules: Rules
  doctorPid: number
  /** The doctor's ancestors known from the snapshot; the chain read live now is added. */
  doctorAncestors?: readonly number[]
  livePanes?: ReadonlySet<number>
  invokingUid: number
  allUsers?: boolean
}

/**
 * What the verdicts of one run rely on, read live once when the run starts: the doctor and every
 * ancestor (from the snapshot and read now: never a target), and a memo of who is a reaper.
 */
export function liveIdentity(o: IdentitySources): Identity {
  const protectedPids = new Map<number, string>()
  protectedPids.set(o.doctorPid, 'the doctor itself')
  const ancestor = `an ancestor of the doctor (PID ${o.doctorPid})`
  for (const pid of o.doctorAncestors ?? []) protectedPids.set(pid, ancestor)
  let cur = o.probe.read(o.doctorPid)?.ppid
  const seen = new Set<number>()
  while (cur !== undefined && cur > 0 && !seen.has(cur)) {
    seen.add(cur)
    protectedPids.set(cur, ancestor)
    cur = o.probe.read(cur)?.ppid
  }
  const reaperMemo = new Map<number, boolean>()
  /** PID 1, or a live child subreaper (systemd --user ...): where orphans land. */
  const isReaper = (pid: number): boolean => {
    if (pid === 1) return true
    const memo = reaperMemo.get(pid)
    if (memo !== undefined) return memo
    const live = o.probe.read(pid)
    const verdict =
      live !== undefined &&
      o.rules.isReaper({pid, ppid: live.ppid, comm: live.comm, argv: o.probe.argv(pid) ?? [], env: {}} as ProcessInfo)
    reaperMemo.set(pid, verdict)
    return verdict
  }
  return {
    protectedPids,
    isReaper,
    isTmuxServer: (live: LiveProcess) =>
      o.rules.isTmuxServer({pid: live.pid, ppid: live.ppid, comm: live.comm, argv: [], env: {}} as ProcessInfo),
    isMultiplexerServer: (live: LiveProcess) => {
      const argv = o.probe.argv(live.pid) ?? []
      return multiplexerServerKind({argv, comm: live.comm}) !== undefined
    },
    livePanes: o.livePanes,
    invokingUid: o.invokingUid,
    allUsers: o.allUsers,
  }
}

/** A live parent chain from `pid` up (bounded: a PPID cycle or a deep chain ends the climb). */
export function ancestorsOf(pid: number, probe: Pick<ProcessProbe, 'read'>): Set<number> {
  const out = new Set<number>()
  for (
    let cur: number | undefined = pid;
    cur !== undefined && cur > 0 && !out.has(cur) && out.size < 256;
    cur = probe.read(cur)?.ppid
  )
    out.add(cur)
  return out
}
