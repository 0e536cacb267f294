import {Flags} from '@oclif/core'

// Apart from fix.ts (which loads the remediation plan) so that every command's shared flags can use it.

const DECIMAL = /^(?:\d+(?:\.\d+)?|\.\d+)$/

/**
 * Seconds as a person writes them: a plain decimal number (0.5, 2, 10). Number() would also take `0x10`
 * (16), `1e3`, ` 5` and `Infinity`: a typo must be an error, not a grace period nobody asked for.
 */
export function parseSeconds(input: string, min: number, max: number, opts: {aboveMin?: boolean} = {}): number {
  const n = Number(input)
  if (!DECIMAL.test(input) || n < min || n > max || (opts.aboveMin && n === min)) {
    const range = opts.aboveMin ? `above ${min} and up to ${max}` : `from ${min} to ${max}`
    throw new Error(`expected seconds ${range} (a decimal number like 0.5 or 10), got "${input}"`)
  }
  return n
}

/** Seconds, fractions allowed (0.5), from 0 to one hour. */
export const seconds = Flags.custom<number>({parse: async (input) => parseSeconds(input, 0, 3600)})
