import prettyBytes from 'pretty-bytes'
import prettyMs from 'pretty-ms'

/** `1 process`, `2 processes`: a count with its word, singular for exactly one. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`
}

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

/** C0 (but tab and line feed), DEL, C1, and the bidirectional overrides that reorder what a reader sees. */
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g

/** `text` with every control character written out (`\x1b`, `\u{202e}`): it can no longer act on a terminal. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0)
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`
  })
}
