/**
 * Checking a rules configuration: every pattern compiles and none matches every process. Errors name the
 * configuration path (`rules.mcp.scripts[2]: ...`); config/load.ts reports them as a config error.
 */
import {deepFreeze} from '../freeze.js'
import {KEPT_ENV_KEYS} from '../snapshot/types.js'
import type {AgentConfig, RulesConfig} from './types.js'

function fail(path: string, message: string): never {
  throw new Error(`${path}: ${message}`)
}

/** Compiles one configured pattern; throws `path: problem` for an invalid one or one that would match every process. */
export function compile(src: unknown, path: string, mayMatchEmpty = false): RegExp {
  if (typeof src !== 'string') fail(path, `expected a regular expression source (string), got ${typeof src}`)
  let re: RegExp
  try {
    re = new RegExp(src)
  } catch (error) {
    fail(path, (error as Error).message)
  }
  // A pattern that matches the empty string matches every process: never what a kill rule means.
  if (!mayMatchEmpty && re.test('')) fail(path, `/${src}/ matches the empty string, so it would match every process`)
  return re
}

const FLAG = /^(?:-[A-Za-z0-9]|--[A-Za-z0-9][\w-]*(?:=[^\s=]+)?)$/

/** Validates one `claude.headless` spelling (`-p`, `--print`, `--output-format=stream-json`); throws `path: problem`. */
export function checkHeadlessFlag(flag: unknown, path: string): string {
  if (typeof flag !== 'string' || !FLAG.test(flag)) fail(path, 'must be a flag (-x, --name or --name=value)')
  return flag
}

function compileList(list: unknown, path: string): RegExp[] {
  if (!Array.isArray(list)) fail(path, `expected an array of regular expression sources, got ${typeof list}`)
  return list.map((src, i) => compile(src, `${path}[${i}]`))
}

function section(value: unknown, path: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object')
  return value as Record<string, unknown>
}

/** One agent of `rules.agents`, compiled. */
export interface CompiledAgent {
  readonly id: string
  readonly name: string
  readonly names: ReadonlySet<string>
  readonly scripts: readonly RegExp[]
  readonly binaries: readonly RegExp[]
  /** Headless flags: `-p`, `--message` (also as `--message=…`). */
  readonly headless: ReadonlySet<string>
  readonly headlessCommands: ReadonlySet<string>
  /** Environment markers: variable → required value (undefined: any value). */
  readonly env: ReadonlyMap<string, string | undefined>
}

const AGENT_ID = /^[a-z][a-z0-9-]*$/
const KEPT = new Set<string>(KEPT_ENV_KEYS)

function compileAgent(value: unknown, path: string, seen: Set<string>): {agent: CompiledAgent; config: AgentConfig} {
  const a = section(value, path)
  if (typeof a.id !== 'string' || !AGENT_ID.test(a.id))
    fail(`${path}.id`, 'expected lower-case letters, digits and dashes (codex)')
  if (a.id === 'claude' || seen.has(a.id)) fail(`${path}.id`, `"${a.id}" is already an agent`)
  seen.add(a.id)
  if (typeof a.name !== 'string' || a.name === '') fail(`${path}.name`, 'expected a non-empty name')
  const strings = (key: string, what: string): string[] => {
    const list = a[key]
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string' || x === ''))
      fail(`${path}.${key}`, `expected an array of ${what}`)
    return list as string[]
  }
  const names = strings('names', 'program basenames')
  names.forEach((n, i) => n.includes('/') && fail(`${path}.names[${i}]`, 'expected a program basename (no "/")'))
  const scripts = compileList(a.scripts, `${path}.scripts`)
  const binaries = compileList(a.binaries, `${path}.binaries`)
  const headless = strings('headless', 'flags').map((f, i) => checkHeadlessFlag(f, `${path}.headless[${i}]`))
  const commands = strings('headlessCommands', 'subcommands')
  commands.forEach(
    (c, i) => c.startsWith('-') && fail(`${path}.headlessCommands[${i}]`, 'expected a subcommand, not a flag'),
  )
  const env = new Map<string, string | undefined>()
  strings('env', 'NAME or NAME=value markers').forEach((m, i) => {
    const eq = m.indexOf('=')
    const key = eq === -1 ? m : m.slice(0, eq)
    if (!KEPT.has(key))
      fail(`${path}.env[${i}]`, `the snapshot does not keep ${key} (it keeps ${KEPT_ENV_KEYS.join(', ')})`)
    env.set(key, eq === -1 ? undefined : m.slice(eq + 1))
  })
  return {
    agent: {
      id: a.id,
      name: a.name,
      names: new Set(names),
      scripts,
      binaries,
      headless: new Set(headless),
      headlessCommands: new Set(commands),
      env,
    },
    config: {
      id: a.id,
      name: a.name,
      names: [...names],
      scripts: [...(a.scripts as string[])],
      binaries: [...(a.binaries as string[])],
      headless: [...headless],
      headlessCommands: [...commands],
      env: strings('env', '').slice(),
    },
  }
}

/** A configuration checked and its patterns compiled, with a private frozen copy of exactly what was compiled. */
export interface CompiledRules {
  readonly config: RulesConfig
  readonly names: ReadonlySet<string>
  /** comm is truncated to 15 characters: a long name is recognised by its first 15. */
  readonly commNames: ReadonlySet<string>
  readonly claudeScripts: readonly RegExp[]
  readonly nativeBinary: RegExp
  /** Flags that are headless alone (`-p`). */
  readonly headlessBare: ReadonlySet<string>
  /** Flags headless with one value (`--output-format` → stream-json → the configured spelling). */
  readonly headlessValued: ReadonlyMap<string, ReadonlyMap<string, string>>
  readonly programs: readonly RegExp[]
  readonly mcpScripts: readonly RegExp[]
  readonly packages: readonly RegExp[]
  readonly images: readonly RegExp[]
  /** `mcp.commands` as `program subcommand` strings. */
  readonly commands: ReadonlySet<string>
  readonly pluginDirs: readonly RegExp[]
  readonly claudeCodeEnv: boolean
  /** `rules.agents`, compiled, in table order. */
  readonly agents: readonly CompiledAgent[]
  readonly agentSession: RegExp
  readonly subreapers: readonly RegExp[]
  readonly supervisors: readonly RegExp[]
}

/** Validates and compiles a rules configuration. Throws an Error naming the config path. */
export function compileRules(config: RulesConfig): CompiledRules {
  const root = section(config, 'rules')
  const claudeCfg = section(root.claude, 'rules.claude')
  const mcpCfg = section(root.mcp, 'rules.mcp')

  if (!Array.isArray(claudeCfg.names)) fail('rules.claude.names', 'expected an array of program names')
  const names = new Set<string>()
  /** comm is truncated to 15 characters: a long name is recognised by its first 15. */
  const commNames = new Set<string>()
  claudeCfg.names.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      fail(`rules.claude.names[${i}]`, 'expected a non-empty program basename (no "/")')
    }
    names.add(name)
    commNames.add(name.slice(0, 15))
  })
  const claudeScripts = compileList(claudeCfg.scripts, 'rules.claude.scripts')
  const nativeBinary = compile(claudeCfg.nativeBinary, 'rules.claude.nativeBinary')
  if (!Array.isArray(claudeCfg.headless)) fail('rules.claude.headless', 'expected an array of flags')
  const headless = claudeCfg.headless.map((flag: unknown, i: number) =>
    checkHeadlessFlag(flag, `rules.claude.headless[${i}]`),
  )
  /** Flags that are headless alone (`-p`), and flags headless with one value (`--output-format` → stream-json). */
  const headlessBare = new Set<string>()
  const headlessValued = new Map<string, Map<string, string>>()
  for (const flag of headless) {
    const eq = flag.indexOf('=')
    if (eq === -1) headlessBare.add(flag)
    else {
      const name = flag.slice(0, eq)
      if (!headlessValued.has(name)) headlessValued.set(name, new Map())
      headlessValued.get(name)!.set(flag.slice(eq + 1), flag)
    }
  }

  if (!Array.isArray(root.agents)) fail('rules.agents', 'expected an array of agents')
  const seen = new Set<string>()
  const agentsCompiled = (root.agents as unknown[]).map((a, i) => compileAgent(a, `rules.agents[${i}]`, seen))
  const agents = agentsCompiled.map((a) => a.agent)

  const programs = compileList(mcpCfg.programs, 'rules.mcp.programs')
  const mcpScripts = compileList(mcpCfg.scripts, 'rules.mcp.scripts')
  const packages = compileList(mcpCfg.packages, 'rules.mcp.packages')
  const images = compileList(mcpCfg.images, 'rules.mcp.images')
  if (!Array.isArray(mcpCfg.commands)) fail('rules.mcp.commands', 'expected an array of "program subcommand" strings')
  const commands = new Set<string>()
  ;(mcpCfg.commands as unknown[]).forEach((c, i) => {
    if (typeof c !== 'string' || !/^[^\s/]+ [^\s-][^\s]*$/.test(c))
      fail(`rules.mcp.commands[${i}]`, 'expected "program subcommand" (serena start-mcp-server)')
    commands.add(c)
  })
  const pluginDirs = compileList(mcpCfg.pluginDirs, 'rules.mcp.pluginDirs')
  if (typeof mcpCfg.claudeCodeEnv !== 'boolean') fail('rules.mcp.claudeCodeEnv', 'expected true or false')
  const claudeCodeEnv = mcpCfg.claudeCodeEnv

  const agentSession = compile(root.agentSessionPattern, 'rules.agentSessionPattern', true)
  const subreapers = compileList(root.subreapers, 'rules.subreapers')
  const supervisors = compileList(root.supervisors, 'rules.supervisors')

  // A private, frozen copy of exactly what was compiled (unknown keys dropped).
  const frozenConfig: RulesConfig = deepFreeze({
    claude: {
      names: [...names],
      scripts: [...(claudeCfg.scripts as string[])],
      nativeBinary: claudeCfg.nativeBinary as string,
      headless: [...headless],
    },
    agents: agentsCompiled.map((a) => a.config),
    mcp: {
      programs: [...(mcpCfg.programs as string[])],
      scripts: [...(mcpCfg.scripts as string[])],
      packages: [...(mcpCfg.packages as string[])],
      images: [...(mcpCfg.images as string[])],
      commands: [...commands],
      pluginDirs: [...(mcpCfg.pluginDirs as string[])],
      claudeCodeEnv,
    },
    agentSessionPattern: root.agentSessionPattern as string,
    subreapers: [...(root.subreapers as string[])],
    supervisors: [...(root.supervisors as string[])],
  })

  return {
    config: frozenConfig,
    names,
    commNames,
    claudeScripts,
    nativeBinary,
    headlessBare,
    headlessValued,
    programs,
    mcpScripts,
    packages,
    images,
    commands,
    pluginDirs,
    claudeCodeEnv,
    agents,
    agentSession,
    subreapers,
    supervisors,
  }
}
