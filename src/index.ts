/**
 * gt-doctor's public API: what a third-party check imports. Built-in checks use exactly this surface.
 * @packageDocumentation
 */
export {defineCheck, processFindingId} from './checks/api.js'
export type {
  Check,
  CheckContext,
  CheckMeta,
  CheckSource,
  CheckStatus,
  Finding,
  FixAction,
  ProcessTarget,
  RegisteredCheck,
  Severity,
} from './checks/api.js'
export {ProcessTree, treeOf, type PaneOwner} from './tree/process-tree.js'
export type {Rules, RulesConfig} from './rules/rules.js'
export type {HostFacts, ProcessInfo, Snapshot, TmuxPane, TmuxServer} from './snapshot/types.js'
export type {Report, ReportCheck, ReportFinding, ReportSummary, FixOutcome} from './report/model.js'
export {terminateTreeActions, targetOf} from './checks/actions.js'
export {analyzeOrphans, killableSubtree, mcpServersIn, type ClaudeVerdict, type OrphanAnalysis, type OrphanTree} from './analysis/orphans.js'
export {formatBytes, formatElapsed} from './render/format.js'
