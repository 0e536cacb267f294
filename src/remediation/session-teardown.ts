import type {Finding, ProcessTarget} from '../checks/api.js'
import {targetOf} from '../checks/actions.js'
import {DoctorError} from '../errors.js'
import type {HostFacts, Snapshot, TmuxPane} from '../snapshot/types.js'
import {treeOf} from '../tree/process-tree.js'
import type {AuditEntry, AuditSink} from './audit.js'
import type {AuditFailure, EngineResult, ProcessResult} from './engine.js'
import {detectedAtTicks, type PlanItem, type RemediationPlan} from './plan.js'
import type {ServerRefusal, TmuxRunner} from './side-actions.js'

/** Which sessions `session stop` ends. */
export interface TeardownRequest {
  names: string[]
  allMatching?: RegExp
  /** Only the server on this socket (absolute path); otherwise every server that answered. */
  socket?: string
}

/** One process of a session as recorded before anything was sent: its identity is what may be signalled. */
export interface RecordedProcess extends ProcessTarget {
  paneId: string
  /** The pane's own process (the others descend from it). */
  paneRoot: boolean
}

/** A session to stop, with every pane's whole process tree as it was before the Ctrl-C. */
export interface SessionTeardown {
  session: string
  socket: string
  windows: number[]
  panes: TmuxPane[]
  processes: RecordedProcess[]
}

/** What the stop needs besides the sessions: the snapshot's host facts and memory, for the engine's plan. */
export interface TeardownPlan {
  sessions: SessionTeardown[]
  host: HostFacts
  /** PSS (else RSS) of every recorded process at record time, to report what the stop freed. */
  memory: ReadonlyMap<number, number>
  /** The latest start (ticks) the recording saw: a later child is one the trees started since. */
  detectedAtTicks?: number
}

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

/**
 * Resolves the sessions to stop on the snapshot's servers and records every live pane's process tree.
 * Pure: a usage error (unknown session, ambiguous name, the doctor inside a session) is a DoctorError, exit 2.
 */
export function planTeardown(snapshot: Snapshot, request: TeardownRequest): TeardownPlan {
  let servers = snapshot.tmux.servers
  if (request.socket) {
    const mine = servers.find((s) => s.socket === request.socket)
    if (!mine || mine.status !== 'ok') throw new DoctorError(`no tmux server answers on ${request.socket}${mine?.error ? ` (${mine.error})` : ''}`)
    servers = [mine]
  }
  servers = servers.filter((s) => s.status === 'ok')
  const pairs = servers.flatMap((s) => [...new Set(s.panes.map((p) => p.session))].map((session) => ({session, server: s})))
  const existing = () => {
    const names = [...new Set(pairs.map((p) => p.session))].sort()
    if (names.length === 0) return 'no tmux session exists'
    // One line, even on a host with hundreds of agents.
    return `sessions: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ` and ${names.length - 20} more` : ''}`
  }

  const chosen = new Map<string, (typeof pairs)[number]>()
  const unknown: string[] = []
  for (const name of request.names) {
    const found = pairs.filter((p) => p.session === name)
    if (found.length === 0) unknown.push(name)
    else if (found.length > 1) throw new DoctorError(`session ${name} exists on several tmux servers (${found.map((f) => f.server.socket).join(', ')}): pass --socket`)
    else chosen.set(`${found[0].server.socket}\u0000${name}`, found[0])
  }
  if (unknown.length > 0) throw new DoctorError(`unknown session${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; ${existing()}`)
  if (request.allMatching) {
    const matched = pairs.filter((p) => request.allMatching!.test(p.session))
    if (matched.length === 0) throw new DoctorError(`no session matches /${request.allMatching.source}/; ${existing()}`)
    for (const p of matched) chosen.set(`${p.server.socket}\u0000${p.session}`, p)
  }

  const tree = treeOf(snapshot)
  const protectedPids = new Set([snapshot.host.doctorPid, ...snapshot.host.doctorAncestors])
  const sessions = [...chosen.values()].map(({session, server}): SessionTeardown => {
    const panes = server.panes.filter((p) => p.session === session)
    const processes: RecordedProcess[] = []
    for (const pane of panes) {
      const root = pane.dead ? undefined : tree.get(pane.panePid)
      if (!root) continue
      for (const p of tree.subtree(root)) {
        if (protectedPids.has(p.pid)) {
          throw new DoctorError(`gt-doctor runs inside session ${session} (pane ${pane.paneId}): stopping it would end the doctor itself; run it from outside the session`)
        }
        const target = targetOf(tree, p.pid)
        if (target) processes.push({...target, paneId: pane.paneId, paneRoot: p === root})
      }
    }
    return {session, socket: server.socket, windows: [...new Set(panes.map((p) => p.windowIndex))], panes, processes}
  })
  const memory = new Map<number, number>()
  for (const p of sessions.flatMap((t) => t.processes)) {
    const bytes = tree.get(p.pid)?.pssBytes ?? tree.get(p.pid)?.rssBytes
    if (bytes !== undefined) memory.set(p.pid, bytes)
  }
  return {sessions, host: snapshot.host, memory, detectedAtTicks: detectedAtTicks(snapshot.processes)}
}



export interface TeardownDeps {
  tmux: TmuxRunner
  /** The recorded process still runs: same pid, same start ticks, not a zombie. */
  isAlive(p: RecordedProcess): boolean
  /**
   * The remediation engine (`executePlan` with the --fix options): it re-verifies every target by pid, start
   * time and owner, never signals PID 1, a tmux server or the doctor's chain, SIGTERMs, waits the grace,
   * SIGKILLs, and writes every decision to the audit log.
   */
  execute(plan: RemediationPlan): Promise<EngineResult>
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

/** `=name`: an exact session match. A bare -t name is a prefix match in tmux and could hit another session. */
const exact = (session: string) => `=${session}`

/**
 * The commands that keep a pane's process coming back or its pane around: remain-on-exit (window and pane
 * level) and the pane-died / pane-exited hooks (session, window and pane level), for this session only.
 */
function disarmCommands(t: SessionTeardown): string[][] {
  const cmds: string[][] = []
  // A session-level hook takes `=name:` (the session's current window); `=name` alone is read as a window.
  for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-u', '-t', `${exact(t.session)}:`, hook])
  for (const w of t.windows) {
    const target = `${exact(t.session)}:${w}`
    cmds.push(['set-option', '-w', '-t', target, 'remain-on-exit', 'off'])
    for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-w', '-u', '-t', target, hook])
  }
  for (const p of t.panes) {
    cmds.push(['set-option', '-p', '-t', p.paneId, 'remain-on-exit', 'off'])
    for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-p', '-u', '-t', p.paneId, hook])
  }
  return cmds
}

/**
 * The graceful stop: disarm respawning, Ctrl-C every pane, give them `interruptWaitMs` to exit, hand whatever
 * is left of the recorded trees to the remediation engine (SIGTERM, grace, SIGKILL: each process re-verified by pid
 * and start time first), kill the session, and verify that nothing recorded is alive.
 */
export async function runTeardown(plan: TeardownPlan, deps: TeardownDeps, opts: TeardownOptions): Promise<TeardownResult> {
  const poll = opts.pollMs ?? 50
  const notes = new Map<SessionTeardown, string[]>(plan.sessions.map((t) => [t, []]))
  let failed: string | undefined
  const write = (entry: Omit<AuditEntry, 'time' | 'run'>, flush: boolean) => {
    if (failed) return false
    try {
      deps.audit.write(entry)
      if (flush) deps.audit.flush?.()
      return true
    } catch (error) {
      failed = (error as NodeJS.ErrnoException)?.code ?? 'unknown error'
      return false
    }
  }
  const audited = (t: SessionTeardown) => ({event: 'tmux', findingId: `session-stop:${t.session}`, session: t.session, socket: t.socket}) as const
  const tmux = async (t: SessionTeardown, args: string[], recorded: boolean) => {
    // What ends processes (Ctrl-C, kill-session) is on disk before it is sent, like a signal.
    if (recorded && !write({...audited(t), event: 'intent', args, outcome: 'intended'}, true)) return {code: null, stdout: '', stderr: '', detail: `not run: the audit log could not be written (${failed})`}
    const r = await deps.tmux(t.socket, args)
    const detail = r.code === 0 ? '' : r.stderr.trim().split('\n')[0] || `exit ${r.code}`
    if (recorded) write({...audited(t), args, outcome: r.code === 0 ? 'done' : 'failed', detail: detail || undefined}, false)
    return {...r, detail}
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
    write({...audited(t), outcome: 'skipped', detail: refused.detail}, false)
    return false
  }

  for (const t of plan.sessions) {
    if (!(await mayAct(t))) continue
    for (const args of disarmCommands(t)) {
      const r = await tmux(t, args, false)
      if (r.code !== 0) notes.get(t)!.push(`tmux ${args.join(' ')}: ${r.detail}`)
    }
  }
  for (const t of plan.sessions) {
    if (!(await mayAct(t))) continue
    for (const p of t.panes.filter((x) => !x.dead)) await tmux(t, ['send-keys', '-t', p.paneId, 'C-c'], true)
  }
  // Sessions left alone before anything was sent to them: their processes too.
  const untouched = new Map(leftAlone)
  const plans = plan.sessions.filter((t) => !untouched.has(t))

  const all = plans.flatMap((t) => t.processes)
  const deadline = deps.now() + opts.interruptWaitMs
  while (all.some((p) => deps.isAlive(p)) && deps.now() < deadline) await deps.sleep(Math.min(poll, Math.max(1, deadline - deps.now())))
  const leftAfterInterrupt = new Set(all.filter((p) => deps.isAlive(p)))

  // What is left of each pane's tree, root first, goes to the engine as one terminate-tree action: every
  // member is re-verified (a pid reused during the wait is spared), then SIGTERM, one grace, SIGKILL.
  const items: PlanItem[] = []
  for (const t of plans) {
    for (const pane of t.panes) {
      const targets: ProcessTarget[] = t.processes
        .filter((p) => p.paneId === pane.paneId && leftAfterInterrupt.has(p))
        .map(({paneId: _pane, paneRoot: _root, ...target}) => target)
      if (targets.length === 0) continue
      const reason = `still running ${opts.interruptWaitMs / 1000} s after Ctrl-C to pane ${pane.paneId} of session ${t.session}, which is being stopped`
      const finding: Finding = {
        id: `session-stop:${t.session}:${pane.paneId}`,
        check: 'session-stop',
        severity: 'info',
        message: `session stop ${t.session}: pane ${pane.paneId}`,
        reason,
        pid: targets[0].pid,
        pids: targets.map((x) => x.pid),
        session: t.session,
        socket: t.socket,
        fixable: true,
      }
      items.push({finding, actions: [{kind: 'terminate-tree', targets, session: t.session, reason}]})
    }
  }
  const engine = items.length === 0 || failed ? undefined : await deps.execute({items, held: [], memory: plan.memory, host: plan.host, detectedAtTicks: plan.detectedAtTicks})
  const byPid = new Map<number, ProcessResult>((engine?.processes ?? []).map((r) => [r.pid, r]))
  failed ??= engine?.auditFailure?.code

  const sessionOutcome = new Map<SessionTeardown, SessionResult['outcome']>()
  for (const t of plan.sessions) {
    if (untouched.has(t)) {
      sessionOutcome.set(t, 'skipped')
      continue
    }
    const has = await tmux(t, ['has-session', '-t', exact(t.session)], false)
    if (has.code !== 0) {
      sessionOutcome.set(t, 'closed-by-itself')
      continue
    }
    if (!(await mayAct(t))) {
      sessionOutcome.set(t, failed ? 'kill-failed' : 'skipped')
      if (failed) notes.get(t)!.push(`kill-session not run: the audit log could not be written (${failed})`)
      continue
    }
    const killed = await tmux(t, ['kill-session', '-t', exact(t.session)], true)
    sessionOutcome.set(t, killed.code === 0 ? 'killed' : 'kill-failed')
    if (killed.code !== 0) notes.get(t)!.push(`kill-session failed: ${killed.detail}`)
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
        return {...base, ended: 'survived', detail: r?.detail ?? (failed ? `not signalled: the audit log could not be written (${failed})` : 'still running')}
      }
      if (!leftAfterInterrupt.has(p)) return {...base, ended: 'ctrl-c', detail: 'exited after Ctrl-C'}
      if (r?.signals.includes('SIGKILL')) return {...base, ended: 'sigkill', detail: 'ignored Ctrl-C and SIGTERM: ended by SIGKILL after the grace period'}
      if (r?.signals.includes('SIGTERM')) return {...base, ended: 'sigterm', detail: 'ended by SIGTERM'}
      // Gone without a signal of ours: its parent ended it, or it exited just before the SIGTERM.
      if (r?.outcome === 'already-gone') return {...base, ended: 'ctrl-c', detail: 'exited after Ctrl-C (just after the wait)'}
      return {...base, ended: 'exited', detail: r?.detail ? `exited unsignalled (${r.detail})` : 'exited unsignalled: its parent ended it'}
    })
    return {session: t.session, socket: t.socket, outcome: sessionOutcome.get(t)!, processes, notes: notes.get(t)!}
  })
  const unfinished = sessions.filter((s) => s.outcome === 'kill-failed' || s.outcome === 'skipped').length
  const auditFailure = failed === undefined ? undefined : (engine?.auditFailure ?? {code: failed, signalled: 0, notSignalled: sessions.flatMap((s) => s.processes).filter((p) => p.ended === 'survived').length})
  return {sessions, survived: survived + unfinished, ...(auditFailure ? {auditFailure} : {})}
}
