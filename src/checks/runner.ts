/**
 * Runs the checks over one snapshot: each in its own try, under a time limit, its findings stamped
 * (`stamp.ts`), capped, given the configured severity and filtered by the ignore rules, so that no check
 * can take the doctor down or report past what the user asked to see.
 */
import {performance} from 'node:perf_hooks'
import type {Snapshot} from '../snapshot/types.js'
import {createRules, type Rules} from '../rules/rules.js'
import {treeOf} from '../tree/process-tree.js'
import {filterActions, filterFindings} from './guard.js'
import type {CheckRunConfig} from './settings.js'
import {stampFindings} from './stamp.js'
import type {
  CheckContext,
  CheckSource,
  CheckStatus,
  Finding,
  FindingKind,
  Found,
  FixAction,
  RegisteredCheck,
} from './api.js'

export interface CheckResult {
  id: string
  title: string
  status: CheckStatus
  durationMs: number
  findings: Finding[]
  source: CheckSource
  /** What the check's findings count as in the summary (its metadata's `kind`). */
  kind?: FindingKind
  /** Why the check crashed or was skipped. */
  error?: string
  /**
   * The actions each finding's own `fix` carried (check API v2), by finding id: planning data beside the
   * findings, not part of the report.
   */
  fixes?: ReadonlyMap<string, readonly FixAction[]>
  /** Findings past MAX_FINDINGS_PER_CHECK the check returned, dropped unread (a limitation of the report says so). */
  dropped?: number
}

/**
 * Findings one check may report: more than any machine's orphans (10,000 orphan trees render in seconds), far
 * fewer than a runaway check's 1e6, which took the table past 120 s and V8 past its heap.
 */
export const MAX_FINDINGS_PER_CHECK = 10_000

export type Progress = 'tty' | 'none'

export interface RunOptions {
  config: CheckRunConfig
  /** Live progress (listr2) on a terminal; nothing otherwise. */
  progress?: Progress
  /** The compiled rules to share with the caller (the report counts with the same ones); default: compiled from the config. */
  rules?: Rules
  /** A check that runs longer than this is reported as crashed (async checks are abandoned at the limit). Default: the config's checkTimeoutSeconds. */
  timeoutMs?: number
}

/**
 * The context a check's detect and fix receive: the snapshot, its tree, the shared rules and its options;
 * `report` adds to `reported` (outside detect, where nothing collects, it refuses).
 */
export function contextFor(
  registered: RegisteredCheck,
  snapshot: Snapshot,
  config: CheckRunConfig,
  rules?: Rules,
  reported?: unknown[],
): CheckContext<any> {
  const {check} = registered
  return Object.freeze({
    snapshot,
    tree: treeOf(snapshot),
    rules: rules ?? createRules(config.rules),
    options: Object.freeze({...(check.defaultOptions ?? {}), ...(config.checks[check.id]?.options ?? {})}),
    report(found: Found) {
      if (!reported) throw new Error('ctx.report() is for detect only')
      reported.push(found)
    },
  })
}

function statusOf(findings: Finding[]): CheckStatus {
  if (findings.some((f) => f.severity === 'error')) return 'error'
  if (findings.some((f) => f.severity === 'warning')) return 'warning'
  return 'ok'
}

function missingRequirement(registered: RegisteredCheck, snapshot: Snapshot): string | undefined {
  for (const need of registered.check.requires ?? []) {
    if (need === 'tmux' && !snapshot.tmux.available) return 'skipped: tmux not found'
    if (need === 'linux-proc' && snapshot.host.platform !== 'linux')
      return `skipped: needs Linux /proc (host is ${snapshot.host.platform})`
  }
  return undefined
}

function withTimeout<T>(value: T | Promise<T>, ms: number): Promise<T> {
  if (!(value instanceof Promise)) return Promise.resolve(value)
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    // Not unref'd: a check whose promise never settles must still end in "timed out", not in an empty event loop.
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
  })
  return Promise.race([value, limit]).finally(() => clearTimeout(timer)) as Promise<T>
}

/** Runs one check, turning every failure into its result: a check can never take the doctor down. */
export async function runOne(
  registered: RegisteredCheck,
  snapshot: Snapshot,
  opts: RunOptions,
  rules: Rules,
): Promise<CheckResult> {
  const {check, source} = registered
  const base = {id: check.id, title: check.title, source, ...(check.kind ? {kind: check.kind} : {})}
  const skipped = missingRequirement(registered, snapshot)
  if (skipped) return {...base, status: 'skipped', durationMs: 0, findings: [], error: skipped}
  const timeoutMs = opts.timeoutMs ?? (opts.config.checkTimeoutSeconds ?? 10) * 1000
  const started = performance.now()
  try {
    const reported: unknown[] = []
    const ctx = contextFor(registered, snapshot, opts.config, rules, reported)
    const raw = await withTimeout(check.detect(ctx), timeoutMs)
    const durationMs = performance.now() - started
    if (durationMs > timeoutMs) throw new Error(`timed out: took ${Math.round(durationMs)} ms (limit ${timeoutMs} ms)`)
    if (raw !== undefined && !Array.isArray(raw)) throw new Error('detect did not return an array of findings')
    // Cut before anything reads them: stamping, filtering and rendering are per finding.
    const all = reported.length === 0 ? (raw ?? []) : reported.concat(raw ?? [])
    const dropped = Math.max(0, all.length - MAX_FINDINGS_PER_CHECK)
    const stamped = stampFindings(check, dropped > 0 ? all.slice(0, MAX_FINDINGS_PER_CHECK) : all, ctx)
    const override = opts.config.checks[check.id]?.severity
    // Ignore rules and minAgeSeconds act here, on every check's findings alike.
    const findings = filterFindings(
      override ? stamped.findings.map((f) => ({...f, severity: override})) : stamped.findings,
      snapshot,
      opts.config,
      check.id,
    )
    const fixes = new Map(
      findings.flatMap((f) => (stamped.fixes.has(f.id) ? [[f.id, stamped.fixes.get(f.id)!] as const] : [])),
    )
    return {
      ...base,
      status: statusOf(findings),
      durationMs,
      findings,
      ...(fixes.size > 0 ? {fixes} : {}),
      ...(dropped > 0 ? {dropped} : {}),
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return {
      ...base,
      status: 'crashed',
      durationMs: performance.now() - started,
      findings: [],
      error: message.split('\n')[0],
    }
  }
}

/**
 * What a fixable finding's fix plans: the check's own `fix` (guarded, as every check the doctor runs is) or
 * the actions the finding carried, with ignored processes taken out as `fix` does.
 */
export function fixActions(
  registered: RegisteredCheck,
  result: CheckResult,
  finding: Finding,
  ctx: CheckContext<any>,
  config: CheckRunConfig,
): FixAction[] {
  if (registered.check.fix) return registered.check.fix(finding, ctx)
  return filterActions([...(result.fixes?.get(finding.id) ?? [])], ctx.tree, config)
}

/** Runs every check over one snapshot, in registration order. */
export async function runChecks(
  checks: RegisteredCheck[],
  snapshot: Snapshot,
  opts: RunOptions,
): Promise<CheckResult[]> {
  const rules = opts.rules ?? createRules(opts.config.rules)
  if (opts.progress !== 'tty') {
    const results: CheckResult[] = []
    for (const c of checks) results.push(await runOne(c, snapshot, opts, rules))
    return results
  }
  const {Listr} = await import('listr2')
  const results = new Array<CheckResult>(checks.length)
  const tasks = new Listr(
    checks.map((c, i) => ({
      title: c.check.title,
      task: async (_ctx: unknown, task: {title: string; skip: (m?: string) => void}) => {
        const r = (results[i] = await runOne(c, snapshot, opts, rules))
        if (r.status === 'crashed') throw new Error(`${c.check.title}: crashed: ${r.error}`)
        if (r.status === 'skipped') task.skip(`${c.check.title} (${r.error})`)
        else if (r.findings.length > 0) {
          const found = `${c.check.title}: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`
          // The list shows the real outcome: a check that found errors fails (✖), never a green ✔.
          if (r.status === 'error') throw new Error(found)
          task.title = r.status === 'warning' ? `⚠ ${found}` : found
        }
      },
    })),
    {
      concurrent: false,
      exitOnError: false,
      renderer: 'default',
      // Progress is for watching; once done the table says it all, so the task list is cleared.
      rendererOptions: {clearOutput: true},
    },
  )
  await tasks.run().catch(() => undefined)
  return results
}
