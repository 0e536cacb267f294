/**
 * gt-doctor's public API: what a third-party check imports. Built-in checks use exactly this surface.
 *
 * A check is `defineCheck({id, title, description, detect, fix?})`: `detect` reads one immutable snapshot
 * (through `ctx.snapshot`, the `ctx.tree` index and the shared `ctx.rules`) and returns findings as plain
 * data; `fix` returns `FixAction`s that only the remediation engine carries out, after re-verifying every
 * target. Plugins hand checks over through the `gt-doctor:checks` oclif hook; local modules are named in
 * the config's `localChecks`. Both may take this API as an argument (`CheckFactory`) instead of importing it.
 * @packageDocumentation
 */
export {defineCheck, processFindingId} from './checks/api.js'
export type {
  Check,
  CheckContext,
  CheckMeta,
  CheckSource,
  CheckStatus,
  DetectResult,
  Finding,
  FindingKind,
  Found,
  FixAction,
  ProcessTarget,
  RegisteredCheck,
  Severity,
} from './checks/api.js'
export {ProcessTree, treeOf, type PaneOwner} from './tree/process-tree.js'
export type {Rules, RulesConfig} from './rules/rules.js'
export type {HostFacts, ProcessInfo, Snapshot, TmuxPane, TmuxServer, TmuxServerStatus} from './snapshot/types.js'
export type {Report, ReportCheck, ReportFinding, ReportSummary, FixOutcome} from './report/model.js'
export {terminateTreeActions, targetOf} from './checks/actions.js'
export {treeFinding, type TreeFindingFields} from './checks/findings.js'
export {
  analyzeOrphans,
  isMcpChainHead,
  killableSubtree,
  mcpServersIn,
  type ClaudeVerdict,
  type DetachedRun,
  type LeftoverTree,
  type OrphanAnalysis,
  type OrphanEvidence,
  type OrphanTree,
  type UnprovenTree,
} from './analysis/orphans.js'
export type {DetachedBy, Detachment} from './analysis/detached.js'
export type {ClaudePidSource, ClaudeTie} from './analysis/ties.js'
export {isCommandWrapper} from './analysis/wrappers.js'
export {CHECK_API_VERSION, CHECKS_HOOK} from './plugins/contract.js'
export type {CheckExport, CheckFactory, ChecksHookOptions, ChecksHookResult, GtDoctorApi} from './plugins/contract.js'
/** Human units for bytes and elapsed time, as the built-in checks' messages use them. */
export {formatBytes, formatElapsed, plural} from './render/format.js'
