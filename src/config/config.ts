import type {Severity} from '../checks/api.js'
import {DEFAULT_RULES, type RulesConfig} from '../rules/rules.js'

/** Per-check settings from the configuration file. */
export interface CheckSettings {
  enabled?: boolean
  /** Replaces the severity of every finding of the check. */
  severity?: Severity
  /** Merged over the check's defaultOptions. */
  options?: Record<string, unknown>
}

/** The configuration after defaults are applied: what the rest of the doctor reads. */
export interface ResolvedConfig {
  /** Where it came from (file path), or undefined for defaults only. */
  source?: string
  rules: RulesConfig
  checks: Record<string, CheckSettings>
  /** Extra tmux sockets to query. */
  sockets: string[]
  /** Local check modules to load, resolved to absolute paths. */
  localChecks: string[]
}

export function defaultConfig(): ResolvedConfig {
  return {rules: structuredClone(DEFAULT_RULES), checks: {}, sockets: [], localChecks: []}
}
