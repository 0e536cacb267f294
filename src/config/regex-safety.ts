/**
 * Whether a user's pattern can backtrack catastrophically. The rules run every pattern on every command
 * line, and a command line can be 128 KiB long: `^(a+)+-mcp$` doubles its time with each character, so one
 * such rule hangs every run. recheck (an automaton-based ReDoS checker with a fuzzing fallback; its native
 * binary when the platform has one) decides it once, when the configuration is loaded. Only the user's own
 * patterns are checked: the built-in ones are checked by a test.
 */
import {createRequire} from 'node:module'
import type {checkSync as CheckSync} from 'recheck'

/** Loaded on first use (5 MB of code): most configurations add no pattern. */
let checker: typeof CheckSync | undefined

/** The problem with `source`, in words, or undefined when it runs in linear time (or recheck could not tell in time). */
export function backtrackingProblem(source: string): string | undefined {
  let result: ReturnType<typeof CheckSync>
  try {
    checker ??= (createRequire(import.meta.url)('recheck') as {checkSync: typeof CheckSync}).checkSync
    result = checker(source, '', {timeout: 3000})
  } catch {
    return undefined
  }
  if (result.status !== 'vulnerable') return undefined
  const how = result.complexity.type === 'exponential' ? 'exponential' : `${result.complexity.summary}`
  return `/${source}/ can backtrack catastrophically (${how} time on a long command line): write it without a repetition that can match the same text two ways, such as (a+)+ or [\\w.-]*x[\\w.-]*`
}
