import type {FixOutcome, Report, ReportFinding} from './model.js'

/** Attaches each finding's `fix` object (by finding id) to the findings of a report. */
function attach(report: Report, outcomes: ReadonlyMap<string, FixOutcome>): Report['checks'] {
  return report.checks.map((c) => ({
    ...c,
    findings: c.findings.map((f): ReportFinding => (outcomes.has(f.id) ? {...f, fix: outcomes.get(f.id)} : f)),
  }))
}

/** `--dry-run`: the detection report, each planned finding saying what would happen (`planned`) or why not. */
export function plannedReport(report: Report, outcomes: ReadonlyMap<string, FixOutcome>): Report {
  return {...report, checks: attach(report, outcomes)}
}

/**
 * After `--fix`: the re-check's report (what is left), plus `fixed` (every finding the fix handled, as it was
 * before, with its outcome) and the summary's `fixed` and `freedMemoryBytes`. A finding that is still there
 * after the fix (spared, failed) carries its `fix` object in the residual checks too.
 */
export function fixedReport(before: Report, after: Report, outcomes: ReadonlyMap<string, FixOutcome>): Report {
  const fixed = before.checks.flatMap((c) =>
    c.findings.filter((f) => outcomes.has(f.id)).map((f): ReportFinding => ({...f, fix: outcomes.get(f.id)})),
  )
  const all = [...outcomes.values()]
  return {
    ...after,
    summary: {
      ...after.summary,
      fixed: all.filter((o) => o.outcome === 'fixed').length,
      freedMemoryBytes: all.reduce((n, o) => n + o.freedBytes, 0),
    },
    checks: attach(after, outcomes),
    fixed,
  }
}
