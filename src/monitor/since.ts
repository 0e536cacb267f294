import ms from 'ms'
import {DoctorError} from '../errors.js'

/**
 * `--since`: a duration back from now (30m, 24h, 7d, 1.5h, "2 days", via `ms`) or an absolute date
 * (2026-01-11, 2026-01-11T08:00:00Z). A bare number is refused: minutes? hours? nobody can tell.
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const input = text.trim()
  if (/^\d+(\.\d+)?\s*[a-z]+$/i.test(input)) {
    const duration = ms(input as ms.StringValue)
    if (typeof duration === 'number' && Number.isFinite(duration) && duration > 0)
      return new Date(now.getTime() - duration)
  } else if (/^\d{4}-\d{2}-\d{2}/.test(input) && !Number.isNaN(Date.parse(input))) {
    return new Date(Date.parse(input))
  }
  throw new DoctorError(`--since expects a duration like 30m, 24h or 7d, or a date like 2026-01-11, got "${text}"`)
}
