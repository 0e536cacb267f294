/**
 * The largest of `values`, or `floor` when none is larger. A loop, not `Math.max(...values)`: spreading
 * more than about 120,000 arguments overflows the stack (a long history, a command line of backticks).
 */
export function maxOf(values: Iterable<number>, floor = 0): number {
  let max = floor
  for (const v of values) if (v > max) max = v
  return max
}

/** `1234` or `1234 (+5)` for a tree: the root and how many more processes it covers. */
export function formatPids(pid: number | undefined, pids: readonly number[]): string {
  if (pid === undefined)
    return pids.length === 0 ? '-' : pids.length <= 3 ? pids.join(', ') : `${pids.length} processes`
  const more = pids.filter((p) => p !== pid).length
  return more > 0 ? `${pid} (+${more})` : String(pid)
}

/** A command line as a person scans it: the package, not the path to node_modules; at most `max` characters. */
export function shortCommand(command: string, max: number): string {
  const short = command.replace(/\S*\/node_modules\//g, '…/')
  return short.length > max ? `${short.slice(0, max - 1)}…` : short
}

// The engine's outcome sentences and the plugin API use these too, and both sit below render.
export {formatBytes, formatElapsed, plural} from '../words.js'
