import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

/** The built-in checks, in the order every listing and report gives them (sorted by id). */
export const BUILT_IN_CHECK_IDS = [
  'agent-leftover',
  'detached-run',
  'orphan-claude',
  'orphan-mcp',
  'orphan-memory',
  'session-mismatch',
] as const

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  status: number | null
  stdout: string
  stderr: string
}

/**
 * Runs the built CLI as a user would. NODE_ENV is forced to production: vitest sets NODE_ENV=test, under
 * which oclif runs src/commands/*.ts through tsx and the registry (looking for compiled checks beside the
 * sources) would find none.
 */
export function runCli(
  args: string[],
  opts: {input?: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number} = {},
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    // A regression that hangs must fail the test, not the run: SIGKILL after timeoutMs (status null).
    timeout: opts.timeoutMs,
    killSignal: 'SIGKILL',
    encoding: 'utf8',
    // A snapshot of a busy host is megabytes; spawnSync's default 1 MiB would cut it off (status null, ENOBUFS).
    maxBuffer: 256 * 1024 * 1024,
    input: opts.input,
    cwd: opts.cwd,
    env: {...process.env, NODE_ENV: 'production', NO_COLOR: '1', ...opts.env},
  })
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}
