import {homedir} from 'node:os'
import {isAbsolute, resolve} from 'node:path'
import type {CheckSettings, IgnoreConfig} from '../checks/settings.js'
import {type AgentConfig, DEFAULT_RULES, type RulesConfig} from '../rules/rules.js'
import type {AgentEntry, ConfigFile, PatternList} from './schema.js'

/** The configuration after defaults are applied: what the rest of the doctor reads. */
export interface ResolvedConfig {
  /** Where it came from (file path), or undefined for defaults only. */
  source?: string
  rules: RulesConfig
  checks: Record<string, CheckSettings>
  /** Extra tmux sockets to query, absolute. */
  sockets: string[]
  /** Local check modules to load, resolved to absolute paths. */
  localChecks: string[]
  ignore: IgnoreConfig
  /** A check that is not built in is reported as crashed past this many seconds. */
  checkTimeoutSeconds: number
  /** Configuration files that were found but not trusted, one line each: shown on stderr and in the report's limitations. */
  notices: string[]
}

export const DEFAULT_CHECK_TIMEOUT_SECONDS = 10

export function defaultConfig(): ResolvedConfig {
  return {
    rules: structuredClone(DEFAULT_RULES) as RulesConfig,
    checks: {},
    sockets: [],
    localChecks: [],
    ignore: {commands: [], sessions: [], uids: []},
    checkTimeoutSeconds: DEFAULT_CHECK_TIMEOUT_SECONDS,
    notices: [],
  }
}

/** An array extends the defaults (without duplicates); `{replace}` replaces them. */
export function mergePatterns(defaults: readonly string[], given: PatternList | undefined): string[] {
  if (given === undefined) return [...defaults]
  if (!Array.isArray(given)) return [...given.replace]
  return [...new Set([...defaults, ...given])]
}

/** The agent table: entries added (one with a built-in id replaces that row), or `{replace}` replacing it. */
export function mergeAgents(
  defaults: readonly AgentConfig[],
  given: AgentEntry[] | {replace: AgentEntry[]} | undefined,
): AgentConfig[] {
  const full = (a: AgentEntry): AgentConfig => ({
    id: a.id,
    name: a.name,
    names: [...a.names],
    scripts: [...(a.scripts ?? [])],
    binaries: [...(a.binaries ?? [])],
    headless: [...(a.headless ?? [])],
    headlessCommands: [...(a.headlessCommands ?? [])],
    env: [...(a.env ?? [])],
  })
  if (given === undefined) return structuredClone(defaults) as AgentConfig[]
  if (!Array.isArray(given)) return given.replace.map(full)
  const out = (structuredClone(defaults) as AgentConfig[]).filter((d) => !given.some((g) => g.id === d.id))
  return [...out, ...given.map(full)]
}

/** `~/x` -> home; relative -> relative to the config file's directory. */
export function resolvePath(path: string, baseDir: string): string {
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2))
  return isAbsolute(path) ? path : resolve(baseDir, path)
}

/**
 * Options that moved: `orphan-mcp`'s `fixClaudeCodeChildren` (from before leftovers had their own check) still
 * means "end them", now as `agent-leftover`'s `fixLeftovers`, unless that is set itself.
 */
function withDeprecatedOptions(checks: Record<string, CheckSettings>): Record<string, CheckSettings> {
  const legacy = checks['orphan-mcp']?.options?.fixClaudeCodeChildren
  const leftover = checks['agent-leftover'] ?? {}
  if (typeof legacy === 'boolean' && leftover.options?.fixLeftovers === undefined) {
    checks['agent-leftover'] = {...leftover, options: {...leftover.options, fixLeftovers: legacy}}
  }
  return checks
}

/** Applies a validated config file over the defaults. `baseDir`: the directory paths in the file are relative to. */
export function resolveConfig(file: ConfigFile, baseDir: string, source?: string): ResolvedConfig {
  const base = defaultConfig()
  const d = base.rules
  const r = file.rules ?? {}
  return {
    source,
    rules: {
      claude: {
        names: mergePatterns(d.claude.names, r.claude?.names),
        scripts: mergePatterns(d.claude.scripts, r.claude?.scripts),
        nativeBinary: r.claude?.nativeBinary ?? d.claude.nativeBinary,
        headless: mergePatterns(d.claude.headless, r.claude?.headless),
      },
      agents: mergeAgents(d.agents, r.agents),
      mcp: {
        programs: mergePatterns(d.mcp.programs, r.mcp?.programs),
        scripts: mergePatterns(d.mcp.scripts, r.mcp?.scripts),
        packages: mergePatterns(d.mcp.packages, r.mcp?.packages),
        images: mergePatterns(d.mcp.images, r.mcp?.images),
        commands: mergePatterns(d.mcp.commands, r.mcp?.commands),
        pluginDirs: mergePatterns(d.mcp.pluginDirs, r.mcp?.pluginDirs),
        claudeCodeEnv: r.mcp?.claudeCodeEnv ?? d.mcp.claudeCodeEnv,
      },
      agentSessionPattern: r.agentSessionPattern ?? d.agentSessionPattern,
      subreapers: mergePatterns(d.subreapers, r.subreapers),
      supervisors: mergePatterns(d.supervisors, r.supervisors),
    },
    checks: withDeprecatedOptions(structuredClone(file.checks ?? {})),
    sockets: (file.sockets ?? []).map((s) => resolvePath(s, baseDir)),
    localChecks: (file.localChecks ?? []).map((s) => resolvePath(s, baseDir)),
    ignore: {
      commands: [...(file.ignore?.commands ?? [])],
      sessions: [...(file.ignore?.sessions ?? [])],
      uids: [...(file.ignore?.uids ?? [])],
    },
    checkTimeoutSeconds: file.checkTimeoutSeconds ?? DEFAULT_CHECK_TIMEOUT_SECONDS,
    notices: [],
  }
}
