import {diagnose, type DiagnoseOptions} from '../doctor.js'
import type {Snapshot} from '../snapshot/types.js'
import {treeOf} from '../tree/process-tree.js'
import {DoctorError} from '../errors.js'
import {exitCodeFor, type FixOutcome, type Report} from '../report/model.js'
import {createRules} from '../rules/rules.js'
import {AuditLog, MemoryAudit} from '../remediation/audit.js'
import {describeAuditFailure, executePlan, type EngineOptions, type EngineResult} from '../remediation/engine.js'
import {acquireFixLock, fixLockDir} from '../remediation/lock.js'
import {planRemediation, type RemediationPlan} from '../remediation/plan.js'
import {procProbe, type ProcessProbe} from '../remediation/probe.js'
import {fixedReport, plannedReport} from '../report/fix-report.js'
import {stateDir} from '../state-dir.js'
import type {FixRequest} from '../remediation/request.js'

export {fixRequest, type FixFlags, type FixRequest} from '../remediation/request.js'

export interface FixFlowOptions {
  request: FixRequest
  diagnose: DiagnoseOptions
  /** Shows the plan (every process it will signal) before anything is signalled. */
  showPlan(plan: RemediationPlan): void
  /** Asked when --yes was not given; false: signal nothing. */
  confirm(plan: RemediationPlan): Promise<boolean>
  /** Tells the user what is happening while processes end (the grace period can take seconds). */
  progress?(message: string): void
  /** Where the audit log lives (default: the XDG state directory). */
  stateDir?: string
  /** Where the fix lock lives (default: `fixLockDir()`, one place per uid); tests give each run its own. */
  lockDir?: string
  probe?: ProcessProbe
  /** How long a second --fix waits for the first before refusing. */
  lockWaitMs?: number
}

export interface FixFlowResult {
  report: Report
  /** The machine the report describes: after the fix, or as found when nothing was signalled. */
  snapshot: Snapshot
  exitCode: number
  plan: RemediationPlan
  /** The user answered no: nothing was signalled. */
  declined: boolean
  engine?: EngineResult
  auditFile?: string
  /** The audit log failed mid-fix and nothing more was signalled: the one line to show (exit 3 follows from the report). */
  auditFailure?: string
}

/** Findings left alone on purpose say so (`skipped`, and why) instead of looking forgotten. */
function withHeld(plan: RemediationPlan, outcomes: ReadonlyMap<string, FixOutcome>): Map<string, FixOutcome> {
  const out = new Map(outcomes)
  for (const {finding, why} of plan.held)
    out.set(finding.id, {outcome: 'skipped', detail: why, signalled: [], freedBytes: 0})
  return out
}

/** One fix run: lock -> detect -> plan -> show -> confirm -> execute -> detect again -> report. */
export async function runFix(opts: FixFlowOptions): Promise<FixFlowResult> {
  const {request} = opts
  const dir = opts.stateDir ?? stateDir()
  // A dry run signals nothing, so it neither waits for nor blocks a real fix.
  const lock = request.dryRun
    ? undefined
    : await acquireFixLock(opts.lockDir ?? fixLockDir(), {waitMs: opts.lockWaitMs})
  try {
    const before = await diagnose(opts.diagnose)
    const {host} = before.snapshot
    if (host.platform !== 'linux')
      throw new DoctorError(
        `--fix needs Linux /proc to verify each process before signalling it (this is ${host.platform})`,
      )
    const plan = planRemediation(before, {only: request.only})
    opts.showPlan(plan)
    const engine: Omit<EngineOptions, 'audit'> = {
      probe: opts.probe ?? procProbe(),
      rules: createRules(before.config.rules),
      graceMs: request.graceMs,
      invokingUid: host.uid,
      allUsers: request.allUsers,
      doctorPid: host.doctorPid,
      doctorAncestors: host.doctorAncestors,
      bootTimeMs: host.bootTimeMs,
      clockTicksPerSecond: host.clockTicksPerSecond,
      livePanes: livePaneProcesses(before.snapshot),
    }
    if (request.dryRun) {
      const result = await executePlan(plan, {...engine, audit: new MemoryAudit(), dryRun: true})
      const report = plannedReport(before.report, withHeld(plan, result.outcomes))
      return {report, snapshot: before.snapshot, exitCode: exitCodeFor(report), plan, declined: false, engine: result}
    }
    if (plan.items.length === 0) {
      const report = fixedReport(before.report, before.report, withHeld(plan, new Map()))
      return {report, snapshot: before.snapshot, exitCode: exitCodeFor(report), plan, declined: false}
    }
    if (!request.yes && !(await opts.confirm(plan))) {
      return {
        report: before.report,
        snapshot: before.snapshot,
        exitCode: exitCodeFor(before.report),
        plan,
        declined: true,
      }
    }
    const audit = new AuditLog(dir, `${process.pid}@${new Date().toISOString()}`)
    let result: EngineResult
    try {
      opts.progress?.(`ending orphans: SIGTERM, then SIGKILL after ${request.graceMs / 1000} s for any that remain`)
      result = await executePlan(plan, {...engine, audit})
    } finally {
      audit.close()
    }
    await lock?.release()
    // What is left: a fresh snapshot and every check again, never the old picture with the fixed rows removed.
    const after = await diagnose({...opts.diagnose, snapshot: undefined})
    const report = fixedReport(before.report, after.report, withHeld(plan, result.outcomes))
    const auditFailure = result.auditFailure && describeAuditFailure(audit.file, result.auditFailure)
    return {
      report,
      snapshot: after.snapshot,
      exitCode: exitCodeFor(report),
      plan,
      declined: false,
      engine: result,
      auditFile: audit.file,
      auditFailure,
    }
  } finally {
    await lock?.release()
  }
}

/** The own processes of every live tmux pane, screen window and zellij pane at detection: never signalled. */
function livePaneProcesses(snapshot: Snapshot): Set<number> {
  const tree = treeOf(snapshot)
  const panes = snapshot.tmux.servers.flatMap((s) => s.panes.filter((p) => !p.dead).map((p) => p.panePid))
  const windows = snapshot.processes.filter((p) => tree.windowOwner(p)?.windowPid === p.pid).map((p) => p.pid)
  return new Set([...panes, ...windows])
}
