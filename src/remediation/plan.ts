import type {Finding, FixAction, RegisteredCheck} from '../checks/api.js'
import {actionProblem} from '../checks/guard.js'
import {contextFor, fixActions, type CheckResult} from '../checks/runner.js'
import type {ResolvedConfig} from '../config/config.js'
import {oneLine} from '../errors.js'
import type {HostFacts, Snapshot} from '../snapshot/types.js'

/** One fixable finding and what its check asks the engine to do about it. */
export interface PlanItem {
  finding: Finding
  actions: FixAction[]
  /** The check's fix threw or returned something the engine cannot trust: this finding fails, the others proceed. */
  error?: string
}

/** A process the plan will signal, as the plan shows it to the user before asking. */
export interface PlannedProcess {
  pid: number
  command: string
  session?: string
  memoryBytes?: number
  findingId: string
  /** The finding's reason for the tree's root; "in the tree of PID N" for the others. */
  why: string
  root: boolean
}

export interface RemediationPlan {
  items: PlanItem[]
  /** Fixable findings left alone, and why (a check whose fix needs --only). */
  held: Array<{finding: Finding; why: string}>
  /** Memory of every planned process at detection time (PSS, else RSS), to report what a fix freed. */
  memory: ReadonlyMap<number, number>
  host: HostFacts
  /**
   * The latest start (clock ticks) of any process detection saw: a child with a later start was started
   * after detection (the engine stops and ends it with its tree); an earlier one it leaves alone.
   */
  detectedAtTicks?: number
}

export interface PlanOptions {
  /** The checks the user named with --only: a `fixRequiresOnly` check is fixed only when named. */
  only?: string[]
}

/**
 * Refuses actions the engine could misread (their shape: the one validator, `actionProblem`, the same that
 * guards every check's fix) and targets outside the finding the user was shown.
 */
export function validateActions(actions: unknown, finding: Finding): string | undefined {
  if (!Array.isArray(actions)) return 'fix did not return an array of actions'
  const allowed = new Set(finding.pids)
  for (const a of actions as FixAction[]) {
    const problem = actionProblem(a)
    if (problem) return problem
    // A container is stopped only for a client in this finding's tree, as a signal goes only to its members.
    if (a.kind === 'stop-container' && !allowed.has(a.client.pid))
      return `the fix stops the container of PID ${a.client.pid}, which its finding does not list`
    if (a.kind !== 'terminate-tree') continue
    const outside = a.targets.find((t) => !allowed.has(t.pid))
    if (outside) return `the fix targets PID ${outside.pid}, which its finding does not list`
  }
  return undefined
}

/**
 * From a diagnosis, what `--fix` would do: each fixable finding of each check that ran, turned into actions
 * by its check's `fix`. Pure: nothing is read from the system and nothing is signalled.
 */
/** What a plan is made from: the snapshot, the config, the guarded checks that ran and their results (a Diagnosis is one). */
export interface PlanInput {
  readonly config: ResolvedConfig
  readonly snapshot: Snapshot
  readonly checks: readonly RegisteredCheck[]
  readonly results: readonly CheckResult[]
}

export function planRemediation(diagnosis: PlanInput, opts: PlanOptions = {}): RemediationPlan {
  const {snapshot, config} = diagnosis
  const items: PlanItem[] = []
  const held: RemediationPlan['held'] = []
  for (const result of diagnosis.results) {
    const registered = diagnosis.checks.find((c) => c.check.id === result.id)
    if (!registered || result.status === 'crashed' || result.status === 'skipped') continue
    const {check} = registered
    const fixable = result.findings.filter((f) => f.fixable)
    if (fixable.length === 0 || (typeof check.fix !== 'function' && !result.fixes?.size)) continue
    if (check.fixRequiresOnly && !(opts.only ?? []).includes(check.id)) {
      for (const finding of fixable) held.push({finding, why: `fixed only when named: --fix --only ${check.id}`})
      continue
    }
    const ctx = contextFor(registered, snapshot, config)
    for (const finding of fixable) {
      try {
        const actions = fixActions(registered, result, finding, ctx, config)
        const problem = validateActions(actions, finding)
        items.push(problem ? {finding, actions: [], error: `malformed fix: ${problem}`} : {finding, actions})
      } catch (error) {
        items.push({finding, actions: [], error: `fix crashed: ${oneLine(error)}`})
      }
    }
  }
  const memory = new Map<number, number>()
  for (const p of snapshot.processes) {
    const bytes = p.pssBytes ?? p.rssBytes
    if (bytes !== undefined) memory.set(p.pid, bytes)
  }
  return {items, held, memory, host: snapshot.host, detectedAtTicks: detectedAtTicks(snapshot.processes)}
}

/** The latest start time (ticks) among the processes of a snapshot; undefined when none is known. */
export function detectedAtTicks(processes: readonly {startTicks?: number}[]): number | undefined {
  let latest: number | undefined
  for (const p of processes)
    if (p.startTicks !== undefined && (latest === undefined || p.startTicks > latest)) latest = p.startTicks
  return latest
}

/** Every process the plan will signal, in plan order, each once. */
export function plannedProcesses(plan: RemediationPlan): PlannedProcess[] {
  const out: PlannedProcess[] = []
  const seen = new Set<number>()
  for (const {finding, actions} of plan.items) {
    for (const action of actions) {
      if (action.kind !== 'terminate-tree') continue
      const root = action.targets[0]
      for (const t of action.targets) {
        if (seen.has(t.pid)) continue
        seen.add(t.pid)
        out.push({
          pid: t.pid,
          command: t.command,
          session: action.session ?? finding.session,
          memoryBytes: plan.memory.get(t.pid),
          findingId: finding.id,
          why: t === root ? action.reason : `in the tree of PID ${root.pid}`,
          root: t === root,
        })
      }
    }
  }
  return out
}

/** The tmux and socket actions of the plan, for display. */
export function plannedOtherActions(
  plan: RemediationPlan,
): Array<{findingId: string; action: Exclude<FixAction, {kind: 'terminate-tree'}>}> {
  return plan.items.flatMap(({finding, actions}) =>
    actions
      .filter((a): a is Exclude<FixAction, {kind: 'terminate-tree'}> => a.kind !== 'terminate-tree')
      .map((action) => ({findingId: finding.id, action})),
  )
}
