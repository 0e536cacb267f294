/**
 * The built doctor, for tests that run every check: the registry loads the compiled checks from dist/
 * (`npm test` builds first), exactly as the CLI does.
 */
import type {Report} from '../../src/report/model.js'
import type {Snapshot} from '../../src/snapshot/types.js'
// @ts-expect-error -- compiled output, present after `npm run build`
import {diagnose as builtDiagnose} from '../../dist/src/doctor.js'

export const GOLDEN_TOOL = {name: 'gt-doctor', version: '0.0.0-test'}

/** Every built-in check on `snapshot`; volatile fields (time of the run, durations) fixed so output is stable. */
export async function reportFor(snapshot: Snapshot): Promise<Report> {
  const {report} = (await builtDiagnose({tool: GOLDEN_TOOL, snapshot})) as {report: Report}
  return normalizeReport(report)
}

export function normalizeReport(report: Report): Report {
  return {
    ...report,
    tool: GOLDEN_TOOL,
    generatedAt: '2026-01-11T12:00:05.000Z',
    checks: report.checks.map((c) => ({...c, durationMs: 0})),
  }
}
