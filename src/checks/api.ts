import type {Snapshot} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import type {Rules} from '../rules/rules.js'

/** How bad a finding is. `error` findings make `gt-doctor check` exit 1; `info` never does. */
export type Severity = 'info' | 'warning' | 'error'

/**
 * How one check ended: the worst severity among its findings (`ok` when none), `crashed` when it threw,
 * returned malformed findings, ran past its time limit or could not be loaded, and `skipped` when a fact
 * it `requires` is missing on this host.
 */
export type CheckStatus = 'ok' | 'warning' | 'error' | 'crashed' | 'skipped'

/** One thing a check believes is wrong, as plain data a person can read without the code. */
export interface Finding {
  /** Stable across runs for the same process: `check:pid:startTicks` (or `check:key` for non-process findings). */
  id: string
  /** The id of the check that produced it (must equal that check's `id`). */
  check: string
  /** How bad it is (a config `severity` override replaces it). */
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
  /** Whether `fix` can act on this finding; a report-only finding says false. */
  fixable: boolean
  /** Check-specific structured detail (kept small; rendered by machine formats only). */
  data?: Record<string, unknown>
}

/** A process the engine may signal, pinned to its identity at detection time. */
export interface ProcessTarget {
  /** The process to signal. */
  pid: number
  /** Clock ticks since boot at detection time; a different value at signal time means PID reuse. */
  startTicks?: number
  /** Parent at detection time; a target whose parent changed to a live non-reaper is no longer an orphan. */
  ppid: number
  /** Owner at detection time: the engine acts only on the invoking user's processes. */
  uid?: number
  /** The command line at detection time, for the report and for ignore rules. */
  command: string
}

/**
 * What a fix asks the remediation engine to do. Checks return these as data and never act themselves:
 * the engine re-verifies every target immediately before it signals.
 */
export type FixAction =
  | {
      /** SIGTERM, then SIGKILL after a grace period, to every target still proven to be the same orphan. */
      kind: 'terminate-tree'
      /** Root first, then descendants; every member is re-verified before any signal. */
      targets: ProcessTarget[]
      session?: string
      reason: string
    }
  /** One tmux command on one server (e.g. `kill-pane -t %3`), run as `tmux -S socket ...args`. */
  | {kind: 'tmux'; socket: string; args: string[]; reason: string}
  /**
   * Delete a tmux socket file whose server is gone. The engine removes `path` only if it is still a socket
   * owned by the invoking user and no server answers on it.
   */
  | {kind: 'remove-socket'; path: string; reason: string}
  /**
   * Stop the container an orphaned `docker run` / `podman run` client started (ending the client leaves it
   * running), once the client itself is ended or gone: `RUNTIME stop ID`, then `RUNTIME rm ID` when the
   * client asked for --rm and the runtime did not remove it.
   */
  | {
      kind: 'stop-container'
      runtime: 'docker' | 'podman'
      /** The full container id the runtime listed. */
      id: string
      name?: string
      /** The client gave --rm. */
      remove: boolean
      /** The client whose container it is. */
      client: {pid: number; startTicks?: number}
      reason: string
    }

/** What `detect` and `fix` receive: everything a check may read, and nothing it could act with. */
export interface CheckContext<Options = Record<string, unknown>> {
  /** The one immutable snapshot of processes and tmux servers this run looks at. */
  readonly snapshot: Snapshot
  /** An index over `snapshot` (parents, children, pane owners, memory), shared by every check. */
  readonly tree: ProcessTree
  /** This check's options: its defaults merged with the user's configuration. */
  readonly options: Options
  /** The matching rules (what is a Claude process, an MCP server, an agent session), shared by every check. */
  readonly rules: Rules
  /** Reports one finding from `detect`, as returning it would (for checks that find things in a loop). */
  readonly report: (found: Found) => void
}

/**
 * What a check found (API version 2): only what the check knows. The runner stamps the rest: `check` (the
 * check's id), `id` (`check:key`, or `check:pid:startTicks` without a key), `severity` (this one, else the
 * check's, then the config's override), `fixable` (whether `fix` is there) and, with `memory`, the memory
 * `pids` hold.
 */
export interface Found {
  /** What makes the finding unique within its check, for its id; default: `pid` and its start time. */
  key?: string
  /** How bad it is, when not the check's `severity`. */
  severity?: Severity
  /** What is wrong, in one sentence. */
  message: string
  /** Why the check believes it: the evidence, in one sentence. */
  reason: string
  /** The root process of the finding, when there is one. */
  pid?: number
  /** Every process the finding covers, root first; default: `[pid]`, or none. */
  pids?: number[]
  /** Count the memory `pids` hold (each process once) into `memoryBytes` and `memorySource`. */
  memory?: boolean
  /** tmux session the finding concerns. */
  session?: string
  /** tmux server socket the finding concerns. */
  socket?: string
  /** Check-specific structured detail (kept small; rendered by machine formats only). */
  data?: Record<string, unknown>
  /** What fixes it, as actions for the engine; without it the finding is report-only. Needs `fixable` on the check. */
  fix?: FixAction[]
}

/**
 * What a generic layer (the report's summary, the history) counts a check's non-info findings as:
 * `orphan-agent` an orphaned agent process with its tree, `orphan-tree` an orphaned tree of servers,
 * `leftover` a tree an agent left behind, `detached-run` a job detached on purpose. Their memory and
 * `data.mcpServers` are summed for the first three.
 */
export type FindingKind = 'orphan-agent' | 'orphan-tree' | 'leftover' | 'detached-run'

/** Everything about a check but its code: what `gt-doctor checks`, the config and the report read. */
export interface CheckMeta<Options = Record<string, unknown>> {
  /** kebab-case, unique: `orphan-claude`. Used by --only/--skip, config and finding ids. */
  id: string
  /** A short human name, shown in progress output and by `gt-doctor checks`. */
  title: string
  /** One or two sentences: what the check looks for and why it matters. */
  description: string
  /** The severity of a finding that names none (default `warning`). */
  severity?: Severity
  /** What its findings are to the report's counts, when they are orphans or jobs (see FindingKind). */
  kind?: FindingKind
  /** Whether findings may carry a fix. A finding with one from a check without `fixable` crashes the check. */
  fixable?: boolean
  /** A fix that is not applied unless the user names the check with --only (e.g. it ends a live pane). */
  fixRequiresOnly?: boolean
  /**
   * The option (`checks.<id>.options.NAME`) without which the check's findings are never fixable (a fix the
   * user opts into): `gt-doctor checks` says `opt-in` instead of `yes`, and names it under --json.
   */
  fixOptIn?: string
  /** Facts the check needs; when missing the runner marks it `skipped` with the reason. */
  requires?: Array<'tmux' | 'linux-proc'>
  /** The options `detect`/`fix` see when the config says nothing (`checks.<id>.options` is merged over them). */
  defaultOptions?: Options
  /**
   * JSON Schema (draft-07) for `checks.<id>.options` in the config. Without one, the config may only set
   * keys that `defaultOptions` has, each to a value of the same type as its default (any value when the
   * default is null).
   */
  optionsSchema?: Record<string, unknown>
  /** Where to read more about what the check reports. */
  docs?: {url?: string}
}

/** A check: metadata, a pure `detect`, and optionally a pure `fix` that plans actions for the engine. */
export interface Check<Options = Record<string, unknown>> extends CheckMeta<Options> {
  /**
   * Pure: reads the context and returns what it found (or hands it to `ctx.report`), never touches the
   * system. May return a promise (a check that is not built in then has `checkTimeoutSeconds` to settle).
   * Whole `Finding`s (API version 1) are still accepted as they are.
   */
  detect(ctx: CheckContext<Options>): DetectResult | Promise<DetectResult>
  /**
   * Pure: turns one of this check's findings into actions for the remediation engine. Optional: by default
   * the actions are the ones its `Found` carried in `fix`.
   */
  fix?(finding: Finding, ctx: CheckContext<Options>): FixAction[]
}

/** What `detect` returns: what it found (nothing when it used `ctx.report`). */
export type DetectResult = ReadonlyArray<Found | Finding> | void

/** Where a registered check came from, shown by `gt-doctor checks`. */
export interface CheckSource {
  /** `built-in`: checks/ of this package; `plugin`: an oclif plugin's `gt-doctor:checks` hook; `local`: a config `localChecks` module. */
  kind: 'built-in' | 'plugin' | 'local'
  /** Plugin `name@version` or the local module path. */
  name?: string
}

/** `built-in`, `plugin name@version` or `local /path`: a source as `gt-doctor checks` and messages name it. */
export function describeSource(source: CheckSource): string {
  return source.kind === 'built-in' ? 'built-in' : `${source.kind} ${source.name ?? ''}`.trim()
}

/** Each check's `FindingKind`, by check id: how a layer that only sees findings (the history) counts them. */
export type FindingKinds = ReadonlyMap<string, FindingKind>

/** The `FindingKind` each check declares, by check id (checks that declare none are left out). */
export function findingKinds(checks: readonly RegisteredCheck[]): FindingKinds {
  return new Map(checks.flatMap(({check}) => (check.kind ? [[check.id, check.kind] as const] : [])))
}

/** A check as the doctor holds it: the check and where it came from. */
export interface RegisteredCheck {
  /** The check itself. */
  check: Check<any>
  /** Where it came from. */
  source: CheckSource
}

/**
 * Declares a check: validates its id and `detect`, and returns a frozen copy. Built-in checks and
 * third-party checks use exactly this function.
 *
 * The one validator of a check's shape: every check, built in or not, passes through it.
 *
 * @throws Error when the id is not kebab-case (optionally `plugin/check`), `detect` is missing, title or
 * description is not a string, or `fix` is not a function.
 * @example
 * export default defineCheck({
 *   id: 'too-many-claudes',
 *   title: 'Too many Claude processes',
 *   description: 'Warns when more Claude processes run than a limit.',
 *   defaultOptions: {limit: 20},
 *   detect({snapshot, rules, options}) {
 *     const claudes = snapshot.processes.filter((p) => rules.isClaude(p))
 *     if (claudes.length <= options.limit) return []
 *     return [{key: 'count', message: `${claudes.length} Claude processes (limit ${options.limit})`,
 *       reason: 'counted the processes the Claude rules match', pids: claudes.map((p) => p.pid)}]
 *   },
 * })
 */
export function defineCheck<Options = Record<string, unknown>>(check: Check<Options>): Check<Options> {
  if (!/^[a-z0-9]+(?:-[a-z0-9]+)*(?:\/[a-z0-9]+(?:-[a-z0-9]+)*)?$/.test(check.id ?? '')) {
    throw new Error(`check id ${JSON.stringify(check.id)} must be kebab-case (optionally "plugin/check")`)
  }
  if (typeof check.detect !== 'function') throw new Error(`check ${check.id} has no detect function`)
  if (typeof check.title !== 'string' || typeof check.description !== 'string')
    throw new Error(`check ${check.id} needs a title and a description`)
  if (check.fix !== undefined && typeof check.fix !== 'function')
    throw new Error(`check ${check.id} has a fix that is not a function`)
  return Object.freeze({...check})
}

/**
 * Builds the stable id of a finding about one process: `check:pid:startTicks`. The start time keeps the id
 * from following a reused pid to another process.
 */
export function processFindingId(check: string, pid: number, startTicks: number | undefined): string {
  return `${check}:${pid}:${startTicks ?? 'unknown'}`
}
