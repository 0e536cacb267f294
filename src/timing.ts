import {performance} from 'node:perf_hooks'

/**
 * Phase timings for profiling the doctor itself: with GT_DOCTOR_TIMING=1, each `phase(name)` records the end
 * of a phase, and at exit one line `gt-doctor timing {"phase": ms, ..., "total": ms}` goes to stderr (each
 * phase's duration since the previous mark; the first since the process started). Off, it costs one check.
 */
const enabled = process.env.GT_DOCTOR_TIMING === '1'
const marks: Array<[string, number]> = []

export function phase(name: string): void {
  if (!enabled) return
  if (marks.length === 0) process.once('exit', report)
  marks.push([name, performance.now()])
}

function report(): void {
  const out: Record<string, number> = {}
  let previous = 0
  for (const [name, at] of marks) {
    out[name] = Math.round((at - previous) * 10) / 10
    previous = at
  }
  out.total = Math.round(performance.now() * 10) / 10
  process.stderr.write(`gt-doctor timing ${JSON.stringify(out)}\n`)
}
