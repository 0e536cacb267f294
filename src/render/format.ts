import prettyBytes from 'pretty-bytes'
import prettyMs from 'pretty-ms'

/** 5.8 GB style, binary units because that is what `free -h` and top show. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '-'
  // pretty-bytes makes a number formatter per call (0.1 ms and more): 20,000 rows took 3 s. Trees of one
  // kind often hold the same amounts, so the text is remembered by value.
  let text = BYTES_TEXT.get(bytes)
  if (text === undefined) {
    if (BYTES_TEXT.size >= 10_000) BYTES_TEXT.clear()
    text = prettyBytes(bytes, {binary: true, maximumFractionDigits: 1})
    BYTES_TEXT.set(bytes, text)
  }
  return text
}

const BYTES_TEXT = new Map<number, string>()

/** 8h 39m style elapsed time, as the investigation's tables used. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '-'
  return prettyMs(ms, {unitCount: 2, secondsDecimalDigits: 0})
}

/** `1234` or `1234 (+5)` for a tree: the root and how many more processes it covers. */
export function formatPids(pid: number | undefined, pids: readonly number[]): string {
  if (pid === undefined) return pids.length === 0 ? '-' : pids.length <= 3 ? pids.join(', ') : `${pids.length} processes`
  const more = pids.filter((p) => p !== pid).length
  return more > 0 ? `${pid} (+${more})` : String(pid)
}

/** A command line as a person scans it: the package, not the path to node_modules; at most `max` characters. */
export function shortCommand(command: string, max: number): string {
  const short = command.replace(/\S*\/node_modules\//g, '…/')
  return short.length > max ? `${short.slice(0, max - 1)}…` : short
}

// The engine's outcome sentences count processes too, and remediation sits below render.
export {plural} from '../words.js'
