import type {Check, defineCheck, processFindingId} from '../checks/api.js'
import type {targetOf, terminateTreeActions} from '../checks/actions.js'
import type {treeFinding} from '../checks/findings.js'
import type {analyzeOrphans, isMcpChainHead, mcpServersIn} from '../analysis/orphans.js'
import type {isCommandWrapper} from '../analysis/wrappers.js'
import type {formatBytes, formatElapsed, plural} from '../words.js'
import type {ProcessTree, treeOf} from '../tree/process-tree.js'

/**
 * The API a check factory and the `gt-doctor:checks` hook receive, so that third-party code calls the very
 * `defineCheck` and `analyzeOrphans` of the doctor that runs it, without having to resolve `gt-doctor` from
 * wherever it is installed. Listed here on purpose: what is not in it (the engine's internals) is not part
 * of the plugin contract, whatever else the package exports.
 */
export interface GtDoctorApi {
  /** Declares a check (see `defineCheck`). */
  readonly defineCheck: typeof defineCheck
  /** The stable id of a finding about one process (see `processFindingId`). */
  readonly processFindingId: typeof processFindingId
  /** The process tree index class (see `ProcessTree`). */
  readonly ProcessTree: typeof ProcessTree
  /** The shared process tree of a snapshot (see `treeOf`). */
  readonly treeOf: typeof treeOf
  /** A process pinned to its identity, as a fix target (see `targetOf`). */
  readonly targetOf: typeof targetOf
  /** The usual fix of an orphan finding: end its tree (see `terminateTreeActions`). */
  readonly terminateTreeActions: typeof terminateTreeActions
  /** What a check found about one process tree (see `treeFinding`). */
  readonly treeFinding: typeof treeFinding
  /** The orphan analysis every built-in check shares (see `analyzeOrphans`). */
  readonly analyzeOrphans: typeof analyzeOrphans
  /** Whether a process heads an MCP launcher chain (see `isMcpChainHead`). */
  readonly isMcpChainHead: typeof isMcpChainHead
  /** The MCP servers in a set of processes (see `mcpServersIn`). */
  readonly mcpServersIn: typeof mcpServersIn
  /** Whether a process only wraps the command it runs (see `isCommandWrapper`). */
  readonly isCommandWrapper: typeof isCommandWrapper
  /** Bytes for people (see `formatBytes`). */
  readonly formatBytes: typeof formatBytes
  /** Elapsed time for people (see `formatElapsed`). */
  readonly formatElapsed: typeof formatElapsed
  /** A count with its word (see `plural`). */
  readonly plural: typeof plural
  /** The check API version (see `CHECK_API_VERSION`). */
  readonly CHECK_API_VERSION: typeof CHECK_API_VERSION
  /** The hook name (see `CHECKS_HOOK`). */
  readonly CHECKS_HOOK: typeof CHECKS_HOOK
}

/** What a check module or a hook may hand over: a check, several, or a module whose default export is one. */
export type CheckExport = Check<any> | {default: CheckExport} | ReadonlyArray<Check<any> | {default: CheckExport}>

/**
 * A module's default export may be a function of the API instead of a check:
 * `export default ({defineCheck}) => defineCheck({...})`.
 */
export type CheckFactory = (api: GtDoctorApi) => CheckExport | Promise<CheckExport>

/** The options the doctor passes to a plugin's `gt-doctor:checks` hook (oclif adds `config` and `context`). */
export interface ChecksHookOptions {
  /** The doctor's public API, to build checks with. */
  api: GtDoctorApi
  /** Bumped when the check API changes incompatibly. */
  apiVersion: typeof CHECK_API_VERSION
}

/** What a `gt-doctor:checks` hook returns (or resolves to). */
export type ChecksHookResult = CheckExport | CheckFactory

/** The hook a plugin declares in its package.json: `"oclif": {"hooks": {"gt-doctor:checks": "./hooks/checks.js"}}`. */
export const CHECKS_HOOK = 'gt-doctor:checks'

/**
 * The version of the check API this doctor implements. 2: `detect` returns what it found (`Found`: key,
 * message, reason, pids, data, fix actions) or hands it to `ctx.report`, and the runner stamps check id,
 * finding id, severity and fixable; whole findings of version 1 are still accepted unchanged.
 */
export const CHECK_API_VERSION = 2
