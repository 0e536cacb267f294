import type {Snapshot} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import type {Rules} from '../rules/rules.js'

export type Severity = 'info' | 'warning' | 'error'
export type CheckStatus = 'ok' | 'warning' | 'error' | 'crashed' | 'skipped'

/** One thing a check believes is wrong, as plain data a person can read without the code. */
export interface Finding {
  /** Stable across runs for the same process: `check:pid:startTicks` (or `check:key` for non-process findings). */
  id: string
  check: string
  severity: Severity
  /** What is wrong, in one sentence. */
  message: string
  /** Why the doctor believes it: the evidence, in one sentence. */
  reason: string
  /** The root process of the finding, when there is one. */
  pid?: number
  /** Every process the finding covers (the whole affected tree, root first). */
  pids: number[]
  /** Memory held by `pids`, each process counted once. */
  memoryBytes?: number
  /** Which measure `memoryBytes` is: proportional (smaps_rollup) or resident. */
  memorySource?: 'pss' | 'rss' | 'mixed'
  /** tmux session the finding concerns (or the session a process last belonged to). */
  session?: string
  /** tmux server socket the finding concerns. */
  socket?: string
  fixable: boolean
  /** Check-specific structured detail (kept small; rendered by machine formats only). */
  data?: Record<string, unknown>
}

/** A process the engine may signal, pinned to its identity at detection time. */
export interface ProcessTarget {
  pid: number
  /** Clock ticks since boot at detection time; a different value at signal time means PID reuse. */
  startTicks?: number
  /** Parent at detection time; a target whose parent changed to a live non-reaper is no longer an orphan. */
  ppid: number
  uid?: number
  command: string
}

/**
 * What a fix asks the remediation engine to do. Checks return these as data and never act themselves:
 * the engine re-verifies every target immediately before it signals.
 */
export type FixAction =
  | {
      kind: 'terminate-tree'
      /** Root first, then descendants; every member is re-verified before any signal. */
      targets: ProcessTarget[]
      session?: string
      reason: string
    }
  | {kind: 'tmux'; socket: string; args: string[]; reason: string}
  | {kind: 'remove-socket'; path: string; reason: string}

export interface CheckContext<Options = Record<string, unknown>> {
  readonly snapshot: Snapshot
  readonly tree: ProcessTree
  /** This check's options: its defaults merged with the user's configuration. */
  readonly options: Options
  /** The matching rules (what is a Claude process, an MCP server, an agent session), shared by every check. */
  readonly rules: Rules
}

export interface CheckMeta<Options = Record<string, unknown>> {
  /** kebab-case, unique: `orphan-claude`. Used by --only/--skip, config and finding ids. */
  id: string
  title: string
  description: string
  /** Whether `fix` can produce actions. Findings still say `fixable` one by one. */
  fixable?: boolean
  /** A fix that is not applied unless the user names the check with --only (e.g. it ends a live pane). */
  fixRequiresOnly?: boolean
  /** Facts the check needs; when missing the runner marks it `skipped` with the reason. */
  requires?: Array<'tmux' | 'linux-proc'>
  defaultOptions?: Options
  docs?: {url?: string}
}

export interface Check<Options = Record<string, unknown>> extends CheckMeta<Options> {
  /** Pure: reads the context, returns findings, never touches the system. */
  detect(ctx: CheckContext<Options>): Finding[]
  /** Pure: turns one of this check's findings into actions for the remediation engine. */
  fix?(finding: Finding, ctx: CheckContext<Options>): FixAction[]
}

/** Where a registered check came from, shown by `gt-doctor checks`. */
export interface CheckSource {
  kind: 'built-in' | 'plugin' | 'local'
  /** Plugin `name@version` or the local module path. */
  name?: string
}

export interface RegisteredCheck {
  check: Check<any>
  source: CheckSource
}

/**
 * Declares a check. Built-in checks and third-party checks use exactly this function.
 *
 * @example
 * export default defineCheck({
 *   id: 'too-many-claudes',
 *   title: 'Too many Claude processes',
 *   description: 'Warns when more Claude processes run than a limit.',
 *   defaultOptions: {limit: 20},
 *   detect({snapshot, rules, options}) {
 *     const n = snapshot.processes.filter((p) => rules.isClaude(p)).length
 *     return n > options.limit ? [finding(...)] : []
 *   },
 * })
 */
export function defineCheck<Options = Record<string, unknown>>(check: Check<Options>): Check<Options> {
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*(?:\/[a-z0-9]+(?:-[a-z0-9]+)*)?$/.test(check.id ?? '')) {
    throw new Error(`check id ${JSON.stringify(check.id)} must be kebab-case (optionally "plugin/check")`)
  }
  if (typeof check.detect !== 'function') throw new Error(`check ${check.id} has no detect function`)
  return Object.freeze({...check})
}

/** Builds the stable id of a finding about one process. */
export function processFindingId(check: string, pid: number, startTicks: number | undefined): string {
  return `${check}:${pid}:${startTicks ?? 'unknown'}`
}
