import {execFile} from 'node:child_process'

/** What one bounded run of a multiplexer or container binary gave. */
export interface BoundedRunResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
  missing: boolean
}

/**
 * Runs `bin` once, killed (SIGKILL) at `timeoutMs`; never throws. Every question the collector asks a
 * multiplexer or a container runtime goes through here, so each one is bounded the same way.
 */
export function runBounded(
  bin: string,
  args: string[],
  opts: {timeoutMs: number; maxBuffer: number; env?: NodeJS.ProcessEnv},
): Promise<BoundedRunResult> {
  return new Promise((done) => {
    execFile(
      bin,
      args,
      {timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: opts.maxBuffer, env: opts.env},
      (error, stdout, stderr) => {
        const err = error as (NodeJS.ErrnoException & {killed?: boolean; code?: unknown}) | null
        done({
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          stdout: String(stdout),
          stderr: String(stderr),
          timedOut: Boolean(err?.killed),
          missing: err?.code === 'ENOENT',
        })
      },
    )
  })
}

/** What a failed run said: the first line of its stderr, or `fallback` (its exit code) when it said nothing. */
export function failureLine(r: {stderr: string; code: number | null}, fallback = `exit ${r.code}`): string {
  return r.stderr.trim().split('\n')[0] || fallback
}
