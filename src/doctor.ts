import type {RegisteredCheck} from './checks/api.js'
import {guardCheck} from './checks/guard.js'
import {loadBuiltinChecks} from './checks/registry.js'
import {runChecks, type CheckResult, type Progress} from './checks/runner.js'
import {validateCheckSettings} from './config/check-settings.js'
import {defaultConfig, type ResolvedConfig} from './config/config.js'
import {DoctorError} from './errors.js'
import {buildReport, type Report} from './report/model.js'
import {combineChecks, isLoadFailure} from './plugins/load.js'
import {createRules} from './rules/rules.js'
import {orphanTreeCandidates} from './analysis/orphans.js'
import {collectSnapshot} from './snapshot/collect.js'
import type {ProcessInfo, Snapshot} from './snapshot/types.js'
import {phase} from './timing.js'

export interface DiagnoseOptions {
  tool: {name: string; version: string}
  config?: ResolvedConfig
  /** Checks contributed by plugins (oclif hook) and local modules, appended after the built-in ones (`loadSetup`). */
  extraChecks?: RegisteredCheck[]
  only?: string[]
  skip?: string[]
  sockets?: string[]
  progress?: Progress
  /** Use this snapshot instead of collecting one (recorded snapshots, tests). */
  snapshot?: Snapshot
}

export interface Diagnosis {
  config: ResolvedConfig
  /** The checks that ran, guarded (`guardCheck`): plan fixes with these, never with unguarded ones. */
  checks: RegisteredCheck[]
  snapshot: Snapshot
  results: CheckResult[]
  report: Report
}

/** Every registered check: built-in first, then plugin and local ones (a duplicate id becomes a crashed stand-in). */
export async function loadChecks(extra: RegisteredCheck[] = []): Promise<RegisteredCheck[]> {
  const builtins = await loadBuiltinChecks()
  return combineChecks(builtins, extra, new Set([...builtins, ...extra].map((c) => c.check.id)))
}

/** Every registered check, with the config's per-check settings validated against them. */
export async function loadRegistry(config: ResolvedConfig, extra: RegisteredCheck[] = []): Promise<RegisteredCheck[]> {
  const all = await loadChecks(extra)
  validateCheckSettings(config, all, all.some(isLoadFailure))
  return all
}

/** Narrows the registry to --only / --skip and the config's enabled flags; unknown ids are an error. */
export function selectChecks(all: RegisteredCheck[], config: ResolvedConfig, only?: string[], skip?: string[]): RegisteredCheck[] {
  const known = all.map((c) => c.check.id)
  for (const id of [...(only ?? []), ...(skip ?? [])]) {
    if (!known.includes(id)) throw new DoctorError(`unknown check "${id}"; known checks: ${known.join(', ')}`)
  }
  return all.filter((c) => {
    const id = c.check.id
    if (only && only.length > 0) return only.includes(id)
    if (skip?.includes(id)) return false
    return config.checks[id]?.enabled !== false
  })
}

/** collect -> run checks -> report. Pure but for the snapshot collection. */
export async function diagnose(opts: DiagnoseOptions): Promise<Diagnosis> {
  const config = opts.config ?? defaultConfig()
  const all = await loadRegistry(config, opts.extraChecks)
  const checks = selectChecks(all, config, opts.only, opts.skip).map((c) => guardCheck(c, config))
  phase('registry')
  const rules = createRules(config.rules)
  let candidates: Set<number> | undefined
  const inOrphanTrees = (processes: readonly ProcessInfo[]) => (candidates ??= orphanTreeCandidates(processes, rules))
  const snapshot =
    opts.snapshot ??
    (await collectSnapshot({
      sockets: [...config.sockets, ...(opts.sockets ?? [])],
      // A plugin check may sum any process's memory: with one loaded, PSS is read for every process.
      pssFor: checks.every((c) => c.source.kind === 'built-in') ? inOrphanTrees : undefined,
      cgroupFor: inOrphanTrees,
    }))
  const results = await runChecks(checks, snapshot, {config, rules, progress: opts.progress})
  phase('checks')
  const report = buildReport({snapshot, results, rules, tool: opts.tool, limitations: config.notices})
  phase('report')
  return {config, checks, snapshot, results, report}
}
