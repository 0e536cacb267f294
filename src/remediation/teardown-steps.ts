import type {ProcessTarget} from '../checks/api.js'
import {failureLine} from '../snapshot/run-bounded.js'
import type {AuditSink} from './audit.js'
import type {AuditFailure, EngineResult, ProcessResult} from './engine.js'
import {Recorder, type AuditLine} from './recorder.js'
import type {ServerRefusal, TmuxRunner} from './server-ownership.js'
import type {RecordedProcess, SessionTeardown, TeardownPlan} from './teardown-plan.js'
import {exact, type TerminationAction, type TerminationItem, type TerminationRequest} from './termination.js'

/** How each recorded process ended, in the order of escalation; `left`: its session was left alone. */
export type Ending = 'ctrl-c' | 'exited' | 'sigterm' | 'sigkill' | 'survived' | 'left'

export interface ProcessEnding {
  pid: number
  startTicks?: number
  command: string
  paneId: string
  ended: Ending
  detail: string
}

export interface SessionResult {
  session: string
  socket: string
  /**
   * What became of the session itself: kill-session ran, or it had closed when its last pane exited; `skipped`:
   * left alone, its server not the user's (notes say why).
   */
  outcome: 'killed' | 'closed-by-itself' | 'kill-failed' | 'skipped'
  processes: ProcessEnding[]
  /** tmux commands that failed while disarming (an old tmux without pane options...): reported, not fatal. */
  notes: string[]
}

export interface TeardownResult {
  sessions: SessionResult[]
  /** Recorded processes still running at the end; a session tmux would not kill, or left alone, counts too. */
  survived: number
  /** The audit log could not be written: nothing more was sent from then on. */
  auditFailure?: AuditFailure
}

export interface TeardownDeps {
  /** Only to ask tmux whether a session still exists. */
  tmux: TmuxRunner
  /** The recorded process still runs: same pid, same start ticks, not a zombie. */
  isAlive(p: RecordedProcess): boolean
  /**
   * The remediation engine (`executeRequest` with the --fix options): it re-verifies every target by pid, start
   * time and owner, never signals PID 1, a tmux server or the doctor's chain, SIGTERMs, waits the grace,
   * SIGKILLs, and writes every decision to the audit log.
   */
  execute(request: TerminationRequest): Promise<EngineResult>
  /**
   * The engine again, for the steps that change a session through tmux (disarming, Ctrl-C to each pane,
   * kill-session; the last two recorded before they run). The server's ownership is checked (`refuse`) right
   * before each step is asked.
   */
  act(request: TerminationRequest): Promise<EngineResult>
  /** The same audit log the engine writes to: the stop's tmux commands go there too, each before it runs. */
  audit: AuditSink
  /** Why the server on `socket` is not the user's to act on (read live, right before acting), if it is not. */
  refuse(socket: string): Promise<ServerRefusal | undefined>
  sleep(ms: number): Promise<void>
  now(): number
}

export interface TeardownOptions {
  /** SIGTERM to SIGKILL, for every leftover process of every session together. */
  graceMs: number
  /** How long the panes get to exit on their own after Ctrl-C. */
  interruptWaitMs: number
  pollMs?: number
}

/**
 * The graceful stop: disarm respawning, Ctrl-C every pane, give them `interruptWaitMs` to exit, hand whatever
 * is left of the recorded trees to the remediation engine (SIGTERM, grace, SIGKILL: each process re-verified by pid
 * and start time first), kill the session, and verify that nothing recorded is alive.
 */
export async function runTeardown(
  plan: TeardownPlan,
  deps: TeardownDeps,
  opts: TeardownOptions,
): Promise<TeardownResult> {
  const poll = opts.pollMs ?? 50
  const notes = new Map<SessionTeardown, string[]>(plan.sessions.map((t) => [t, []]))
  let failed: string | undefined
  // The stop's own lines (a session left alone) go through the engine's recorder: one writer, one shape.
  const recorder = new Recorder({audit: deps.audit, onFail: (code) => (failed ??= code)})
  const write = (entry: AuditLine) => !failed && recorder.record(entry)
  const audited = (t: SessionTeardown) =>
    ({event: 'tmux', findingId: `session-stop:${t.session}`, session: t.session, socket: t.socket}) as const
  // has-session only reads: it is run here. Everything that changes a session goes through the engine.
  const tmux = async (t: SessionTeardown, args: string[]) => {
    const r = await deps.tmux(t.socket, args)
    return {...r, detail: r.code === 0 ? '' : failureLine(r)}
  }
  // The ownership rule of signals holds for tmux commands too: re-read before each step that acts on a session.
  const leftAlone = new Map<SessionTeardown, string>()
  const mayAct = async (t: SessionTeardown) => {
    if (leftAlone.has(t) || failed) return false
    const refused = await deps.refuse(t.socket)
    // A server gone since the recording has no session to act on; what is left of its trees still is (the engine judges them).
    if (!refused || refused.gone) return true
    leftAlone.set(t, refused.detail)
    notes.get(t)!.push(`left alone: ${refused.detail}`)
    write({...audited(t), outcome: 'skipped', detail: refused.detail})
    return false
  }

  /** One session's step through the engine: what each action came to (the audit log failing ends all steps). */
  const act = async (t: SessionTeardown, actions: TerminationAction[]) => {
    const id = `session-stop:${t.session}`
    const r = await deps.act({items: [{id, session: t.session, actions}], memory: new Map()})
    failed ??= r.auditFailure?.code
    return r.sideResults
  }
  for (const t of plan.sessions) {
    if (!(await mayAct(t))) continue
    const [disarmed] = await act(t, [
      {kind: 'disarm', socket: t.socket, session: t.session, windows: t.windows, panes: t.panes.map((p) => p.paneId)},
    ])
    notes.get(t)!.push(...(disarmed.notes ?? []))
  }
  for (const t of plan.sessions) {
    if (!(await mayAct(t))) continue
    const panes = t.panes.filter((x) => !x.dead)
    if (panes.length > 0)
      await act(
        t,
        panes.map((p) => ({kind: 'send-keys', socket: t.socket, pane: p.paneId, keys: 'C-c'})),
      )
  }
  // Sessions left alone before anything was sent to them: their processes too.
  const untouched = new Map(leftAlone)
  const plans = plan.sessions.filter((t) => !untouched.has(t))

  const all = plans.flatMap((t) => t.processes)
  const deadline = deps.now() + opts.interruptWaitMs
  while (all.some((p) => deps.isAlive(p)) && deps.now() < deadline)
    await deps.sleep(Math.min(poll, Math.max(1, deadline - deps.now())))
  const leftAfterInterrupt = new Set(all.filter((p) => deps.isAlive(p)))

  // What is left of each pane's tree, root first, goes to the engine as one terminate-tree action: every
  // member is re-verified (a pid reused during the wait is spared), then SIGTERM, one grace, SIGKILL.
  const items: TerminationItem[] = []
  for (const t of plans) {
    for (const pane of t.panes) {
      const targets: ProcessTarget[] = t.processes
        .filter((p) => p.paneId === pane.paneId && leftAfterInterrupt.has(p))
        .map(({paneId: _pane, paneRoot: _root, ...target}) => target)
      if (targets.length === 0) continue
      const reason = `still running ${opts.interruptWaitMs / 1000} s after Ctrl-C to pane ${pane.paneId} of session ${t.session}, which is being stopped`
      items.push({
        id: `session-stop:${t.session}:${pane.paneId}`,
        session: t.session,
        actions: [{kind: 'terminate-tree', targets, session: t.session, reason}],
      })
    }
  }
  const engine =
    items.length === 0 || failed
      ? undefined
      : await deps.execute({items, memory: plan.memory, detectedAtTicks: plan.detectedAtTicks})
  const byPid = new Map<number, ProcessResult>((engine?.processes ?? []).map((r) => [r.pid, r]))
  failed ??= engine?.auditFailure?.code

  const sessionOutcome = new Map<SessionTeardown, SessionResult['outcome']>()
  for (const t of plan.sessions) {
    if (untouched.has(t)) {
      sessionOutcome.set(t, 'skipped')
      continue
    }
    const has = await tmux(t, ['has-session', '-t', exact(t.session)])
    if (has.code !== 0) {
      sessionOutcome.set(t, 'closed-by-itself')
      continue
    }
    if (!(await mayAct(t))) {
      sessionOutcome.set(t, failed ? 'kill-failed' : 'skipped')
      if (failed) notes.get(t)!.push(`kill-session not run: the audit log could not be written (${failed})`)
      continue
    }
    const [killed] = await act(t, [{kind: 'kill-session', socket: t.socket, session: t.session}])
    sessionOutcome.set(t, killed.outcome === 'fixed' ? 'killed' : 'kill-failed')
    if (killed.outcome !== 'fixed') notes.get(t)!.push(`kill-session failed: ${killed.detail}`)
  }

  let survived = 0
  const sessions = plan.sessions.map((t): SessionResult => {
    const processes = t.processes.map((p): ProcessEnding => {
      const base = {pid: p.pid, startTicks: p.startTicks, command: p.command, paneId: p.paneId}
      const r = byPid.get(p.pid)
      const why = untouched.get(t)
      if (why) return {...base, ended: 'left', detail: why}
      if (deps.isAlive(p)) {
        survived++
        return {
          ...base,
          ended: 'survived',
          detail:
            r?.detail ?? (failed ? `not signalled: the audit log could not be written (${failed})` : 'still running'),
        }
      }
      if (!leftAfterInterrupt.has(p)) return {...base, ended: 'ctrl-c', detail: 'exited after Ctrl-C'}
      if (r?.signals.includes('SIGKILL'))
        return {
          ...base,
          ended: 'sigkill',
          detail: 'ignored Ctrl-C and SIGTERM: ended by SIGKILL after the grace period',
        }
      if (r?.signals.includes('SIGTERM')) return {...base, ended: 'sigterm', detail: 'ended by SIGTERM'}
      // Gone without a signal of ours: its parent ended it, or it exited just before the SIGTERM.
      if (r?.outcome === 'already-gone')
        return {...base, ended: 'ctrl-c', detail: 'exited after Ctrl-C (just after the wait)'}
      return {
        ...base,
        ended: 'exited',
        detail: r?.detail ? `exited unsignalled (${r.detail})` : 'exited unsignalled: its parent ended it',
      }
    })
    return {session: t.session, socket: t.socket, outcome: sessionOutcome.get(t)!, processes, notes: notes.get(t)!}
  })
  const unfinished = sessions.filter((s) => s.outcome === 'kill-failed' || s.outcome === 'skipped').length
  const auditFailure =
    failed === undefined
      ? undefined
      : (engine?.auditFailure ?? {
          code: failed,
          signalled: 0,
          notSignalled: sessions.flatMap((s) => s.processes).filter((p) => p.ended === 'survived').length,
        })
  return {sessions, survived: survived + unfinished, ...(auditFailure ? {auditFailure} : {})}
}
