/**
 * What a check returned, made into findings: the runner stamps check id, finding id, severity and fixable,
 * so a check says only what it found; and what no renderer or the engine could read right is refused.
 */
import {
  processFindingId,
  type Check,
  type CheckContext,
  type Finding,
  type Found,
  type FixAction,
  type Severity,
} from './api.js'

const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error']

/** Refuses findings a renderer or the engine could misread; a check that returns one is reported as crashed. */
export function validateFinding(f: unknown, checkId: string): string | undefined {
  const x = f as Partial<Finding>
  if (!x || typeof x !== 'object') return 'a finding is not an object'
  if (typeof x.id !== 'string' || !x.id) return 'a finding has no id'
  if (x.check !== checkId) return `finding ${x.id} names check ${JSON.stringify(x.check)}, not ${checkId}`
  return findingProblem(x, x.id)
}

/** What both shapes must get right: severity, sentences, pids and (once stamped) fixable. */
function findingProblem(x: Partial<Finding>, id: string): string | undefined {
  if (!SEVERITIES.includes(x.severity as Severity)) return `finding ${id} has severity ${JSON.stringify(x.severity)}`
  if (typeof x.message !== 'string' || typeof x.reason !== 'string') return `finding ${id} lacks message or reason`
  if (!Array.isArray(x.pids) || !x.pids.every((p) => Number.isInteger(p) && p > 0))
    return `finding ${id} has invalid pids`
  if (x.pid !== undefined && !(Number.isInteger(x.pid) && x.pid > 0)) return `finding ${id} has invalid pid`
  if (typeof x.fixable !== 'boolean') return `finding ${id} lacks fixable`
  return undefined
}

/** A whole finding of API version 1: it names its own id and check. */
const isWholeFinding = (x: unknown): x is Finding => typeof (x as Finding)?.id === 'string' && 'check' in (x as object)

/**
 * Turns what a check found into findings: stamps check id, finding id, severity and fixable (fields in the
 * order every report has always had them), and counts memory when asked. Whole version-1 findings pass
 * as they are, validated. Throws one line on the first malformed item; `fixes` holds the carried actions.
 */
export function stampFindings(
  check: Check<any>,
  items: readonly unknown[],
  ctx: CheckContext<any>,
): {findings: Finding[]; fixes: Map<string, FixAction[]>} {
  const findings: Finding[] = []
  const fixes = new Map<string, FixAction[]>()
  for (const item of items) {
    if (isWholeFinding(item)) {
      const problem = validateFinding(item, check.id)
      if (problem) throw new Error(`malformed finding: ${problem}`)
      findings.push(item)
      continue
    }
    const x = item as Partial<Found> | null
    if (!x || typeof x !== 'object') throw new Error('malformed finding: a finding is not an object')
    const pid = x.pid
    const key = typeof x.key === 'string' && x.key ? x.key : undefined
    if (key === undefined && !(Number.isInteger(pid) && pid! > 0))
      throw new Error('malformed finding: a finding has neither a key nor a pid')
    const id =
      key === undefined ? processFindingId(check.id, pid!, ctx.tree.get(pid!)?.startTicks) : `${check.id}:${key}`
    if (x.fix !== undefined) {
      if (!check.fixable) throw new Error(`finding ${id} has a fix, but check ${check.id} is not declared fixable`)
      if (!Array.isArray(x.fix))
        throw new Error(`malformed finding: finding ${id} has a fix that is not an array of actions`)
    }
    const pids = x.pids ?? (pid === undefined ? [] : [pid])
    const memory = x.memory && Array.isArray(pids) ? ctx.tree.memoryOf(pids) : undefined
    const finding = dropUndefined({
      id,
      check: check.id,
      severity: x.severity ?? check.severity ?? 'warning',
      message: x.message,
      reason: x.reason,
      pid,
      pids,
      memoryBytes: memory?.bytes,
      memorySource: memory?.source,
      session: x.session,
      socket: x.socket,
      fixable: x.fix !== undefined,
      data: x.data,
    }) as Finding
    const problem = findingProblem(finding, id)
    if (problem) throw new Error(`malformed finding: ${problem}`)
    findings.push(finding)
    if (x.fix) fixes.set(id, x.fix)
  }
  return {findings, fixes}
}

function dropUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as Array<keyof T>) if (o[k] === undefined) delete o[k]
  return o
}
