import {plural} from '../words.js'
import type {Member} from './members.js'
import type {TerminationRequest} from './termination.js'

/** What the remediation engine did for one finding. */
export interface FixOutcome {
  /** `planned`: a dry run; `already-gone`: nothing left to do; `skipped`: a safety re-check refused it. */
  outcome: 'fixed' | 'already-gone' | 'skipped' | 'failed' | 'planned'
  /** One sentence: what was done, or why not. */
  detail: string
  /** Every pid that was sent a signal. */
  signalled: number[]
  /** Memory the ended processes held. */
  freedBytes: number
}

/** What became of one process the plan named. */
export interface ProcessResult {
  pid: number
  startTicks?: number
  command: string
  findingId: string
  /** `escaped`: started after detection, it left its tree before the tree was stopped; never signalled. */
  outcome: 'ended' | 'already-gone' | 'skipped' | 'survived' | 'zombie' | 'planned' | 'escaped'
  detail: string
  /** The signals that end a process (SIGSTOP and SIGCONT only hold a tree still while it is signalled). */
  signals: Array<'SIGTERM' | 'SIGKILL'>
  freedBytes: number
  /** Not in the plan: a child of a member, started after detection, found while its tree was stopped. */
  newcomer?: boolean
  /** Left unsignalled because the audit log could not be written. */
  unrecorded?: boolean
}

/** The audit log failed mid-fix: from then on nothing more was signalled. */
export interface AuditFailure {
  /** ENOSPC, EIO, EBADF...: what the write or the fdatasync failed with. */
  code: string
  /** Processes that got SIGTERM or SIGKILL before that. */
  signalled: number
  /** Processes the fix would still have verified and signalled: left as they were. */
  notSignalled: number
}

export interface EngineResult {
  /** Per finding id: the `fix` object of the report. */
  outcomes: Map<string, FixOutcome>
  processes: ProcessResult[]
  /** What each tmux and socket action came to, in plan order. */
  sideResults: SideResult[]
  auditFailure?: AuditFailure
}

/** What a tmux or socket action came to, for its finding. */
export interface SideResult {
  findingId: string
  outcome: FixOutcome['outcome']
  detail: string
  /** Disarming: the tmux commands that failed (an old tmux without pane options...), reported, not fatal. */
  notes?: string[]
}

/** The one line a person reads when the audit log failed (the report says the rest, finding by finding). */
export function describeAuditFailure(file: string, f: AuditFailure): string {
  return `the audit log ${file} could not be written (${f.code}): stopped after signalling ${plural(f.signalled, 'process', 'processes')}; ${f.notSignalled} ${f.notSignalled === 1 ? 'was' : 'were'} not signalled`
}

const RANK: Record<FixOutcome['outcome'], number> = {failed: 5, skipped: 4, planned: 3, fixed: 2, 'already-gone': 1}

/**
 * One member at the end of the run. `settled`: gone, or a zombie a reaper is about to reap; `failureCode`:
 * the audit log failed during the run.
 */
export function resultOf(m: Member, settled: (m: Member) => boolean, failureCode?: string): ProcessResult {
  if (m.alias) {
    // Its memory is counted once, with the finding that signalled it.
    const first = resultOf(m.alias, settled, failureCode)
    return {...first, findingId: m.tree.item.id, freedBytes: 0}
  }
  const base = {
    pid: m.target.pid,
    startTicks: m.target.startTicks,
    command: m.target.command,
    findingId: m.tree.item.id,
    signals: m.signals,
    ...(m.newcomer ? {newcomer: true} : {}),
    ...(m.unrecorded ? {unrecorded: true} : {}),
  }
  const signalled = m.signals.length > 0
  const none = {...base, freedBytes: 0}
  switch (m.status) {
    case 'skipped':
      return {...none, outcome: 'skipped', detail: m.detail ?? 'spared'}
    case 'planned':
      return {...none, outcome: 'planned', detail: 'would be signalled'}
    case 'refused':
      return {...none, outcome: 'survived', detail: m.detail ?? 'the signal was refused'}
    case 'pending':
    case 'ready':
      return {...none, outcome: 'skipped', detail: 'not reached'}
  }
  const freed = {...base, freedBytes: signalled || m.endedWithTree ? m.memoryBytes : 0}
  if (settled(m)) {
    if (signalled)
      return {
        ...freed,
        outcome: 'ended',
        detail: m.signals.includes('SIGKILL') ? 'ended by SIGKILL after the grace period' : 'ended by SIGTERM',
      }
    if (m.endedWithTree) return {...freed, outcome: 'ended', detail: 'ended with its tree before its own signal'}
    return {...none, outcome: 'already-gone', detail: 'exited before the fix reached it'}
  }
  if (m.life === 'zombie')
    return {...freed, outcome: 'zombie', detail: `zombie: parent PID ${m.zombieParent} must reap it`}
  if (m.lastState === 'D') {
    return {
      ...none,
      outcome: 'survived',
      detail:
        'survived SIGKILL in state D (uninterruptible sleep, stuck in the kernel); it ends when its I/O completes',
    }
  }
  if (failureCode !== undefined && !m.signals.includes('SIGKILL')) {
    return {
      ...none,
      outcome: 'survived',
      detail: `still running after SIGTERM: no SIGKILL followed, as the audit log could not be written (${failureCode})`,
    }
  }
  return {...none, outcome: 'survived', detail: `still running after SIGKILL (state ${m.lastState ?? '?'})`}
}

export function escapedDetail(ppid: number): string {
  return `started after detection, it left its tree before the tree was stopped (now a child of PID ${ppid}): not signalled`
}

/** Per finding: the outcome of its tree and of its side actions, the worst first, in one `fix` object. */
export function outcomesOf(
  plan: TerminationRequest,
  processes: ProcessResult[],
  side: SideResult[],
  graceMs: number,
): Map<string, FixOutcome> {
  const out = new Map<string, FixOutcome>()
  for (const item of plan.items) {
    const id = item.id
    if (item.error) {
      out.set(id, {outcome: 'failed', detail: item.error, signalled: [], freedBytes: 0})
      continue
    }
    const mine = processes.filter((p) => p.findingId === id)
    const parts = [treeOutcome(mine, graceMs), ...side.filter((s) => s.findingId === id)].filter(
      (x): x is {outcome: FixOutcome['outcome']; detail: string} => x !== undefined,
    )
    if (parts.length === 0) {
      out.set(id, {outcome: 'skipped', detail: 'its check proposed no action', signalled: [], freedBytes: 0})
      continue
    }
    const outcome = parts.reduce((a, b) => (RANK[b.outcome] > RANK[a.outcome] ? b : a)).outcome
    out.set(id, {
      outcome,
      detail: parts.map((p) => p.detail).join('; '),
      signalled: [...new Set(mine.filter((p) => p.signals.length > 0).map((p) => p.pid))],
      freedBytes: mine.reduce((n, p) => n + p.freedBytes, 0),
    })
  }
  return out
}

/** One finding's processes, summed up in one outcome and one sentence. */
function treeOutcome(
  mine: ProcessResult[],
  graceMs: number,
): {outcome: FixOutcome['outcome']; detail: string} | undefined {
  if (mine.length === 0) return undefined
  const by = (o: ProcessResult['outcome'], list = mine) => list.filter((p) => p.outcome === o)
  const notes = (list: ProcessResult[]) => {
    // One tree spared at its root: say why once, not once per member.
    const own = list.filter((p) => !p.detail.startsWith('spared with its tree'))
    const shown = own.slice(0, 3).map((p) => `PID ${p.pid}: ${p.detail}`)
    return own.length > 3 ? [...shown, `${own.length - 3} more`] : shown
  }
  const planned = mine.filter((p) => !p.newcomer)
  const ended = by('ended', planned)
  const killed = ended.filter((p) => p.signals.includes('SIGKILL')).length
  const gone = by('already-gone', planned).length
  const newcomers = by(
    'ended',
    mine.filter((p) => p.newcomer),
  ).length
  const facts: string[] = []
  if (ended.length > 0)
    facts.push(
      `ended ${plural(ended.length, 'process', 'processes')}${killed > 0 ? ` (${killed} by SIGKILL after the grace period)` : ''}`,
    )
  if (gone > 0) facts.push(`${plural(gone, 'process', 'processes')} had already exited`)
  if (newcomers > 0)
    facts.push(
      `${plural(newcomers, 'process', 'processes')} started after detection ended with ${newcomers === 1 ? 'its' : 'their'} tree`,
    )

  const unrecorded = mine.filter((p) => p.unrecorded)
  if (unrecorded.length > 0) {
    return {
      outcome: 'failed',
      detail: [
        `${plural(unrecorded.length, 'process', 'processes')} not signalled: the audit log could not be written`,
        ...notes(by('survived')),
        ...facts,
      ].join('; '),
    }
  }
  const survived = by('survived')
  if (survived.length > 0) return {outcome: 'failed', detail: [...notes(survived), ...facts].join('; ')}
  const escaped = by('escaped')
  if (escaped.length > 0) {
    const pids =
      escaped
        .slice(0, 5)
        .map((p) => p.pid)
        .join(', ') + (escaped.length > 5 ? ` and ${escaped.length - 5} more` : '')
    const sentence = `${plural(escaped.length, 'process', 'processes')} started after detection escaped the tree before it was stopped (PID ${pids}; now children of init or a subreaper): not signalled`
    return {outcome: 'failed', detail: [sentence, ...facts].join('; ')}
  }
  const plannedNow = by('planned')
  const skipped = by('skipped')
  if (plannedNow.length > 0) {
    const spared = skipped.length > 0 ? [`would spare ${notes(skipped).join('; ')}`] : []
    return {
      outcome: 'planned',
      detail: [
        `would end ${plural(plannedNow.length, 'process', 'processes')} (SIGTERM, then SIGKILL after ${graceMs / 1000} s)`,
        ...spared,
      ].join('; '),
    }
  }
  const zombies = by('zombie')
  if (skipped.length > 0 || zombies.length > 0)
    return {
      outcome: 'skipped',
      detail: [...notes(skipped).map((n) => `spared ${n}`), ...notes(zombies), ...facts].join('; '),
    }
  if (ended.length > 0 || newcomers > 0) return {outcome: 'fixed', detail: facts.join('; ')}
  return {outcome: 'already-gone', detail: 'every process had already exited'}
}
