import type {RegisteredCheck} from './checks/api.js'
import {guardCheck} from './checks/guard.js'
import {runChecks, type CheckResult, type Progress} from './checks/runner.js'
import {defaultConfig, type ResolvedConfig} from './config/config.js'
import {DoctorError} from './errors.js'
import {buildReport, type Report} from './report/model.js'
import {loadChecks} from './plugins/load.js'
import {createRules} from './rules/rules.js'
import {orphanTreeCandidates} from './analysis/orphans.js'
import {collectSnapshot, type CollectStep} from './snapshot/collect.js'
import type {ProcessInfo, Snapshot} from './snapshot/types.js'
import {phase} from './timing.js'

export interface DiagnoseOptions {
  tool: {name: string; version: string}
  config?: ResolvedConfig
  /** The registry (`loadChecks`); default: loaded here, from `config` and `extraChecks`. */
  checks?: RegisteredCheck[]
  /** Checks handed over in-process, appended after the built-in ones when `checks` is not given. */
  extraChecks?: RegisteredCheck[]
  only?: string[]
  skip?: string[]
  sockets?: string[]
  /** The bound on asking each tmux server (default 3 s). */
  tmuxTimeoutMs?: number
  progress?: Progress
  /** Told where collection is (see CollectStep); the CLI draws it on a terminal. */
  onCollect?: (step: CollectStep) => void
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

/** Narrows the registry to --only / --skip and the config's enabled flags; unknown ids are an error. */
export function selectChecks(
  all: RegisteredCheck[],
  config: ResolvedConfig,
  only?: string[],
  skip?: string[],
): RegisteredCheck[] {
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
  const all = opts.checks ?? (await loadChecks({config, extra: opts.extraChecks}))
  const checks = selectChecks(all, config, opts.only, opts.skip).map((c) => guardCheck(c, config))
  phase('registry')
  const rules = createRules(config.rules)
  let candidates: Set<number> | undefined
  const inOrphanTrees = (processes: readonly ProcessInfo[]) => (candidates ??= orphanTreeCandidates(processes, rules))
  const snapshot =
    opts.snapshot ??
    (await collectSnapshot({
      sockets: [...config.sockets, ...(opts.sockets ?? [])],
      tmuxTimeoutMs: opts.tmuxTimeoutMs,
      onProgress: opts.onCollect,
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
