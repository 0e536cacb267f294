/**
 * The side actions of a fix, after every process tree is done: a dead pane killed or respawned, a stale
 * socket removed, a `session stop` step, an orphaned client's container stopped. Each checks again what it
 * acts on and is on disk (the audit log) before it runs, as a signal is.
 */
import {runMux} from '../snapshot/multiplexers.js'
import {failureLine} from '../snapshot/run-bounded.js'
import type {FixOutcome} from './outcome.js'
import type {SideResult} from './outcome.js'
import type {Recorder} from './recorder.js'
import {tmuxServerRefusal, type ServerOwnership} from './server-ownership.js'
import {
  disarmArgs,
  sessionArgs,
  type TerminationAction,
  type TerminationItem,
  type TerminationRequest,
} from './termination.js'

/** Runs `RUNTIME args...` (docker, podman from PATH); the seam for container actions. */
export type ContainerRunner = (
  runtime: 'docker' | 'podman',
  args: string[],
) => Promise<{code: number | null; stdout: string; stderr: string}>

/** `docker stop` waits its own 10 s grace before it kills: give it that and some. */
const liveContainers: ContainerRunner = (runtime, args) => runMux(runtime, args, 30_000)

/** What the tmux and socket actions of a plan need from the engine's run. */
export interface SideActionDeps extends ServerOwnership {
  recorder: Recorder
  dryRun?: boolean
  containers?: ContainerRunner
  /**
   * Whether the engine ended this client (or found it gone), the very process detected (same start time): a
   * container is stopped only after its client. Required: without it no container is stopped.
   */
  clientDone: (client: {pid: number; startTicks?: number}) => boolean
}

/** The plan's tmux and socket actions, in plan order, after every tree is done. */
export async function runSideActions(plan: TerminationRequest, deps: SideActionDeps): Promise<SideResult[]> {
  const out: SideResult[] = []
  for (const item of plan.items) {
    if (item.error) continue
    for (const action of item.actions) {
      if (action.kind === 'dead-pane' || action.kind === 'unsupported-tmux')
        out.push(await runTmuxAction(item, action, deps))
      if (action.kind === 'remove-socket') out.push(await removeSocket(item, action, deps))
      if (action.kind === 'send-keys' || action.kind === 'kill-session')
        out.push(await runSessionAction(item, action, deps))
      if (action.kind === 'disarm') out.push(await disarm(item, action, deps))
      if (action.kind === 'stop-container') out.push(await stopContainer(item, action, deps))
    }
  }
  return out
}

/** Not run: nothing could record it. */
function notRun(findingId: string, deps: SideActionDeps): SideResult {
  return {
    findingId,
    outcome: 'failed',
    detail: `not run: the audit log could not be written (${deps.recorder.failure?.code})`,
  }
}

/**
 * Only kill-pane / respawn-pane of a pane tmux still reports dead, on a server that is the user's (socket
 * file and server process, read now; any user's for root with --all-users): nothing that could end a live
 * pane, nothing on another user's server.
 */
async function runTmuxAction(
  item: TerminationItem,
  action: Extract<TerminationAction, {kind: 'dead-pane' | 'unsupported-tmux'}>,
  deps: SideActionDeps,
): Promise<SideResult> {
  const findingId = item.id
  const entry = {event: 'tmux', findingId, socket: action.socket, args: action.args} as const
  const record = (outcome: FixOutcome['outcome'], detail: string) => {
    deps.recorder.record({...entry, outcome, detail})
    return {findingId, outcome, detail}
  }
  if (deps.recorder.failure) return notRun(findingId, deps)
  if (action.kind === 'unsupported-tmux') {
    return record(
      'skipped',
      `the engine runs only kill-pane / respawn-pane -t PANE, not: tmux ${action.args.join(' ')}`,
    )
  }
  const {command, pane} = action
  const refused = await tmuxServerRefusal(action.socket, deps)
  if (refused) return record(refused.gone ? 'already-gone' : 'skipped', refused.detail)
  const probe = await deps.tmux(action.socket, ['display-message', '-p', '-t', pane, '#{pane_dead}'])
  if (probe.code !== 0) return record('already-gone', `pane ${pane} no longer exists`)
  if (probe.stdout.trim() !== '1') return record('skipped', `pane ${pane} is alive again: left as it is`)
  if (deps.dryRun) return record('planned', `would run tmux ${action.args.join(' ')}`)
  if (!deps.recorder.recordIntent({...entry, event: 'intent', outcome: 'intended'})) return notRun(findingId, deps)
  const r = await deps.tmux(action.socket, action.args)
  return r.code === 0
    ? record('fixed', `tmux ${action.args.join(' ')}`)
    : record('failed', `tmux ${command} failed: ${r.stderr.trim().split('\n')[0]}`)
}

/**
 * A step of `session stop` (Ctrl-C to a pane, kill-session), on disk before it runs like a signal. Ownership
 * of the server is checked by the caller right before it asks (it knows the server's pid from the snapshot).
 */
async function runSessionAction(
  item: TerminationItem,
  action: Extract<TerminationAction, {kind: 'send-keys' | 'kill-session'}>,
  deps: SideActionDeps,
): Promise<SideResult> {
  const findingId = item.id
  const args = sessionArgs(action)
  const entry = {event: 'tmux', findingId, session: item.session, socket: action.socket} as const
  if (deps.recorder.failure) return notRun(findingId, deps)
  if (deps.dryRun) return {findingId, outcome: 'planned', detail: `would run tmux ${args.join(' ')}`}
  if (!deps.recorder.recordIntent({...entry, event: 'intent', args, outcome: 'intended'}))
    return notRun(findingId, deps)
  const r = await deps.tmux(action.socket, args)
  const detail = r.code === 0 ? '' : failureLine(r)
  deps.recorder.record({...entry, args, outcome: r.code === 0 ? 'done' : 'failed', detail: detail || undefined})
  return {findingId, outcome: r.code === 0 ? 'fixed' : 'failed', detail}
}

/** Each disarming command in turn; one that fails is a note (an old tmux lacks pane options), not a failure. */
async function disarm(
  item: TerminationItem,
  action: Extract<TerminationAction, {kind: 'disarm'}>,
  deps: SideActionDeps,
): Promise<SideResult> {
  const notes: string[] = []
  for (const args of disarmArgs(action)) {
    const r = await deps.tmux(action.socket, args)
    if (r.code !== 0) notes.push(`tmux ${args.join(' ')}: ${failureLine(r)}`)
  }
  return {findingId: item.id, outcome: 'fixed', detail: '', notes}
}

/** A socket file no server listens on any more, owned by the user. */
async function removeSocket(
  item: TerminationItem,
  action: Extract<TerminationAction, {kind: 'remove-socket'}>,
  deps: SideActionDeps,
): Promise<SideResult> {
  const findingId = item.id
  const entry = {event: 'remove-socket', findingId, path: action.path} as const
  const record = (outcome: FixOutcome['outcome'], detail: string) => {
    deps.recorder.record({...entry, outcome, detail})
    return {findingId, outcome, detail}
  }
  if (deps.recorder.failure) return notRun(findingId, deps)
  const ops = deps.sockets
  const info = ops.inspect(action.path)
  if (!info) return record('already-gone', `${action.path} no longer exists`)
  if (!info.isSocket) return record('skipped', `${action.path} is not a socket`)
  if (info.uid !== deps.invokingUid) return record('skipped', `${action.path} belongs to uid ${info.uid}`)
  if (await ops.listening(action.path)) return record('skipped', `a server answers on ${action.path}: left as it is`)
  if (deps.dryRun) return record('planned', `would remove ${action.path}`)
  if (!deps.recorder.recordIntent({...entry, event: 'intent', outcome: 'intended'})) return notRun(findingId, deps)
  try {
    ops.unlink(action.path)
    return record('fixed', `removed stale socket ${action.path}`)
  } catch (error) {
    return record('failed', `could not remove ${action.path}: ${(error as Error).message}`)
  }
}

/**
 * The container of an orphaned `docker run` client, once that client is ended or gone (a client the engine
 * spared keeps its container): `RUNTIME stop ID`, recorded before it runs; then, when the client gave --rm,
 * `RUNTIME rm ID` in case the runtime did not remove it (an old daemon, or a client-side --rm that died with
 * the client). "No such container" after a stop means the runtime removed it: fixed. Without --rm the
 * stopped container is kept, as the user asked.
 */
async function stopContainer(
  item: TerminationItem,
  action: Extract<TerminationAction, {kind: 'stop-container'}>,
  deps: SideActionDeps,
): Promise<SideResult> {
  const findingId = item.id
  const who = action.name ?? action.id.slice(0, 12)
  const entry = {
    event: 'container',
    findingId,
    runtime: action.runtime,
    container: action.id,
    pid: action.client.pid,
  } as const
  const record = (outcome: FixOutcome['outcome'], detail: string, args?: string[]) => {
    deps.recorder.record({...entry, ...(args ? {args} : {}), outcome, detail})
    return {findingId, outcome, detail}
  }
  if (deps.recorder.failure) return notRun(findingId, deps)
  const stop = ['stop', action.id]
  if (deps.dryRun)
    return record(
      'planned',
      `would run ${action.runtime} stop ${who}${action.remove ? ` (and rm if --rm did not remove it)` : ''}`,
      stop,
    )
  if (!deps.clientDone(action.client)) {
    return record('skipped', `its client (pid ${action.client.pid}) was not ended: container ${who} left running`, stop)
  }
  const run = deps.containers ?? liveContainers
  if (!deps.recorder.recordIntent({...entry, event: 'intent', args: stop, outcome: 'intended'}))
    return notRun(findingId, deps)
  const gone = (r: {stderr: string}) => /no such container/i.test(r.stderr)
  const stopped = await run(action.runtime, stop)
  if (stopped.code !== 0 && !gone(stopped))
    return record('failed', `${action.runtime} stop ${who} failed: ${failureLine(stopped)}`, stop)
  if (stopped.code !== 0) return record('already-gone', `container ${who} no longer exists`, stop)
  if (!action.remove) return record('fixed', `${action.runtime} stop ${who} (kept: started without --rm)`, stop)
  const rm = ['rm', action.id]
  if (!deps.recorder.recordIntent({...entry, event: 'intent', args: rm, outcome: 'intended'}))
    return notRun(findingId, deps)
  const removed = await run(action.runtime, rm)
  if (removed.code === 0) return record('fixed', `${action.runtime} stop ${who}, then rm (--rm had not removed it)`, rm)
  if (gone(removed)) return record('fixed', `${action.runtime} stop ${who} (removed by --rm)`, rm)
  return record('failed', `${action.runtime} stop ${who} done, but rm failed: ${failureLine(removed)}`, rm)
}
