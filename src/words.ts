import prettyBytes from 'pretty-bytes'
import prettyMs from 'pretty-ms'

/** `1 process`, `2 processes`: a count with its word, singular for exactly one. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`
}

/** 5.8 GB style, binary units because that is what `free -h` and top show. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '-'
  return prettyBytes(bytes, {binary: true, maximumFractionDigits: 1})
}

/** 8h 39m style elapsed time, as the investigation's tables used. */
export function formatElapsed(ms: number | undefined): string {
  if (ms === undefined || ms < 0) return '-'
  return prettyMs(ms, {unitCount: 2, secondsDecimalDigits: 0})
}
