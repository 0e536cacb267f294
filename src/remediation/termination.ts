import type {FixAction} from '../checks/api.js'
import type {RemediationPlan} from './plan.js'

/**
 * What the engine can be asked to do. Each tmux action names one narrow command, so that the engine never
 * runs a tmux command line it was handed: a check's generic `tmux {args}` becomes `dead-pane` (kill-pane or
 * respawn-pane of a pane tmux must still report dead) or `unsupported-tmux` (recorded and refused).
 */
export type TerminationAction =
  | Extract<FixAction, {kind: 'terminate-tree'}>
  | Extract<FixAction, {kind: 'remove-socket'}>
  | Extract<FixAction, {kind: 'stop-container'}>
  | {kind: 'dead-pane'; command: 'kill-pane' | 'respawn-pane'; socket: string; pane: string; args: string[]}
  | {kind: 'unsupported-tmux'; socket: string; args: string[]}
  /** `session stop`: Ctrl-C to one pane of a session it is ending (the caller checked the server is the user's). */
  | {kind: 'send-keys'; socket: string; pane: string; keys: 'C-c'}
  /** `session stop`: the session itself, once its panes' trees are dealt with. */
  | {kind: 'kill-session'; socket: string; session: string}
  /** `session stop`, first: what would bring a pane's process or the pane back, undone (ends nothing: unrecorded). */
  | {kind: 'disarm'; socket: string; session: string; windows: number[]; panes: string[]}

/** One thing to end, under the id its outcome and audit lines are filed under (a finding's id for --fix). */
export interface TerminationItem {
  id: string
  /** The tmux session its processes belong to, for the audit log. */
  session?: string
  actions: TerminationAction[]
  /** Its actions could not be trusted (a fix that threw or was malformed): it fails, the others proceed. */
  error?: string
}

/** The engine's input: what to end, and what detection knew of it. */
export interface TerminationRequest {
  items: TerminationItem[]
  /** Memory of every target at detection (PSS, else RSS), to report what was freed. */
  memory: ReadonlyMap<number, number>
  /** The latest start (ticks) detection saw: a later child is one the trees started since. */
  detectedAtTicks?: number
}

/** `=name`: an exact session match. A bare -t name is a prefix match in tmux and could hit another session. */
export const exact = (session: string) => `=${session}`

/**
 * The commands that keep a pane's process coming back or its pane around: remain-on-exit (window and pane
 * level) and the pane-died / pane-exited hooks (session, window and pane level), for this session only.
 */
export function disarmArgs(t: Extract<TerminationAction, {kind: 'disarm'}>): string[][] {
  const cmds: string[][] = []
  // A session-level hook takes `=name:` (the session's current window); `=name` alone is read as a window.
  for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-u', '-t', `${exact(t.session)}:`, hook])
  for (const w of t.windows) {
    const target = `${exact(t.session)}:${w}`
    cmds.push(['set-option', '-w', '-t', target, 'remain-on-exit', 'off'])
    for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-w', '-u', '-t', target, hook])
  }
  for (const pane of t.panes) {
    cmds.push(['set-option', '-p', '-t', pane, 'remain-on-exit', 'off'])
    for (const hook of ['pane-died', 'pane-exited']) cmds.push(['set-hook', '-p', '-u', '-t', pane, hook])
  }
  return cmds
}

/** The tmux command line of a `session stop` action that ends something. */
export function sessionArgs(a: Extract<TerminationAction, {kind: 'send-keys' | 'kill-session'}>): string[] {
  return a.kind === 'send-keys' ? ['send-keys', '-t', a.pane, a.keys] : ['kill-session', '-t', exact(a.session)]
}

/** A check's action as the engine may run it. */
export function narrowAction(a: FixAction): TerminationAction {
  if (a.kind !== 'tmux') return a
  const [command] = a.args
  const t = a.args.indexOf('-t')
  const pane = t >= 0 ? a.args[t + 1] : undefined
  if ((command === 'kill-pane' || command === 'respawn-pane') && pane)
    return {kind: 'dead-pane', command, socket: a.socket, pane, args: a.args}
  return {kind: 'unsupported-tmux', socket: a.socket, args: a.args}
}

/** The adapter from `--fix`'s plan: one item per fixable finding, filed under the finding's id. */
export function terminationRequest(plan: RemediationPlan): TerminationRequest {
  const items = plan.items.map(
    ({finding, actions, error}): TerminationItem => ({
      id: finding.id,
      session: finding.session,
      actions: actions.map(narrowAction),
      ...(error === undefined ? {} : {error}),
    }),
  )
  return {items, memory: plan.memory, detectedAtTicks: plan.detectedAtTicks}
}
