import type {RulesConfig} from '../rules/rules.js'
import type {Severity} from './api.js'

// The part of the configuration that running and guarding checks reads. It lives here, below config/,
// because config/ validates these settings against the checks: the two folders must not import each other.

/** Per-check settings from the configuration file. */
export interface CheckSettings {
  /** false: the check does not run unless named with --only. */
  enabled?: boolean
  /** Replaces the severity of every finding of the check. */
  severity?: Severity
  /** Findings whose process started less than this many seconds before the snapshot are dropped. */
  minAgeSeconds?: number
  /** Merged over the check's defaultOptions. */
  options?: Record<string, unknown>
}

/** Processes the doctor never reports nor signals. */
export interface IgnoreConfig {
  /** Regex sources tested against a process's command line (argv joined by spaces, or comm). */
  commands: string[]
  /** tmux session names (exact): a process in, or last belonging to, one of them. */
  sessions: string[]
  uids: number[]
}

/** What the runner and the guard read of the resolved configuration (a ResolvedConfig is one). */
export interface CheckRunConfig {
  readonly rules: RulesConfig
  readonly checks: Readonly<Record<string, CheckSettings | undefined>>
  readonly ignore: IgnoreConfig
  /** A check that is not built in is reported as crashed past this many seconds. */
  readonly checkTimeoutSeconds: number
}
