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
  | {kind: 'dead-pane'; command: 'kill-pane' | 'respawn-pane'; socket: string; pane: string; args: string[]}
  | {kind: 'unsupported-tmux'; socket: string; args: string[]}
  /** `session stop`: Ctrl-C to one pane of a session it is ending (the caller checked the server is the user's). */
  | {kind: 'send-keys'; socket: string; pane: string; keys: 'C-c'}
  /** `session stop`: the session itself, once its panes' trees are dealt with. */
  | {kind: 'kill-session'; socket: string; session: string}

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

/** The tmux command line of a `session stop` action; `=name` is an exact match (a bare name is a prefix). */
export function sessionArgs(a: Extract<TerminationAction, {kind: 'send-keys' | 'kill-session'}>): string[] {
  return a.kind === 'send-keys' ? ['send-keys', '-t', a.pane, a.keys] : ['kill-session', '-t', `=${a.session}`]
}

/** A check's action as the engine may run it. */
export function narrowAction(a: FixAction): TerminationAction {
  if (a.kind !== 'tmux') return a
  const [command] = a.args
  const t = a.args.indexOf('-t')
  const pane = t >= 0 ? a.args[t + 1] : undefined
  if ((command === 'kill-pane' || command === 'respawn-pane') && pane) return {kind: 'dead-pane', command, socket: a.socket, pane, args: a.args}
  return {kind: 'unsupported-tmux', socket: a.socket, args: a.args}
}

/** The adapter from `--fix`'s plan: one item per fixable finding, filed under the finding's id. */
export function terminationRequest(plan: RemediationPlan): TerminationRequest {
  const items = plan.items.map(({finding, actions, error}): TerminationItem => ({
    id: finding.id,
    session: finding.session,
    actions: actions.map(narrowAction),
    ...(error === undefined ? {} : {error}),
  }))
  return {items, memory: plan.memory, detectedAtTicks: plan.detectedAtTicks}
}
