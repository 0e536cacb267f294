import {existsSync, realpathSync} from 'node:fs'
import {userInfo} from 'node:os'
import {basename, dirname, isAbsolute, join, relative, resolve, sep} from 'node:path'
import type {ValidateFunction} from 'ajv'
import {DoctorError, oneLine} from '../errors.js'
import {errnoReason, MiB, readRegularFile} from '../safe-fs.js'
import {checkHeadlessFlag, compile} from '../rules/validate.js'
import {createRules} from '../rules/rules.js'
import {defaultConfig, resolveConfig, type ResolvedConfig} from './config.js'
import {CONFIG_SCHEMA, describeError, firstError, type ConfigFile, type PatternList} from './schema.js'
import {lazy} from '../lazy.js'
import {loadJsConfig} from './js-config.js'
import {backtrackingProblem} from './regex-safety.js'
import {examine, ownedByUserOrRoot} from './trust.js'

const ajvModule = lazy<typeof import('ajv')>('ajv')

/** Where the doctor looks for its configuration, in each directory from the cwd upward (first found wins). */
export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.gt-doctorrc',
  '.gt-doctorrc.json',
  'gt-doctor.config.json',
  'gt-doctor.config.js',
  'gt-doctor.config.mjs',
  'gt-doctor.config.cjs',
]

/** Looked for in `$XDG_CONFIG_HOME/gt-doctor/`, then `~/.config/gt-doctor/`, when the upward search found nothing. */
export const USER_CONFIG_PLACES = ['config.json', 'config.js', 'config.mjs', 'config.cjs']

/** A configuration is a few KiB; the limit keeps /dev/zero-sized mistakes out of memory. */
export const CONFIG_READ_LIMIT = MiB

/** A path as the user sees it: relative to the cwd when below it. */
export function displayPath(file: string, cwd = process.cwd()): string {
  const rel = relative(cwd, file)
  return rel && !rel.startsWith('..') && !rel.startsWith(sep) ? rel : file
}

/** A configuration problem: one line naming the file and what is wrong, exit code 2. */
export class ConfigError extends DoctorError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`config ${displayPath(file)}: ${problem}`, 2)
    this.name = 'ConfigError'
  }
}

const isJs = (file: string) => /\.(?:js|mjs|cjs)$/.test(file)

function parseJson(file: string, text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ''))
  } catch (error) {
    throw new ConfigError(file, `invalid JSON: ${oneLine(error)}`)
  }
}

/** Reads what a found (and trusted) file holds: JSON read here, JavaScript imported in a worker (js-config.ts). */
async function readConfigValue(file: string, jsTimeoutMs?: number): Promise<unknown> {
  if (isJs(file))
    return loadJsConfig(file, jsTimeoutMs).catch((error: Error) => {
      throw new ConfigError(file, error.message)
    })
  let text: string
  try {
    text = readRegularFile(file, CONFIG_READ_LIMIT, 'not a gt-doctor configuration').text
  } catch (error) {
    throw new ConfigError(file, errnoReason(error))
  }
  const value = parseJson(file, text)
  return basename(file) === 'package.json' ? (value as Record<string, unknown> | undefined)?.['gt-doctor'] : value
}

/**
 * Whether a package.json holds a "gt-doctor" key: one without is not a configuration and is skipped, even
 * where it would not be trusted (it is only looked at: a regular file under the read limit, parsed as JSON).
 */
function packageJsonHasKey(file: string): boolean {
  try {
    const value = JSON.parse(readRegularFile(file, CONFIG_READ_LIMIT).text) as Record<string, unknown> | null
    return Boolean(value && typeof value === 'object' && 'gt-doctor' in value)
  } catch {
    return false
  }
}

let validator: ValidateFunction<ConfigFile> | undefined
function validate(value: unknown, file: string): ConfigFile {
  if (!validator) {
    const ajv = new (ajvModule().Ajv)({allErrors: false, verbose: true, strict: true})
    ajv.addVocabulary(['x-message'])
    validator = ajv.compile<ConfigFile>(CONFIG_SCHEMA)
  }
  if (validator(value)) return value
  throw new ConfigError(file, describeError(firstError(validator.errors ?? [])))
}

/** Programs unrelated to agents: a recognition pattern that matches all of them matches every program. */
const UNRELATED_PROGRAMS = ['sh', 'bash', 'node', 'python3', '/usr/sbin/sshd', 'vim', 'x']

/** Lists whose patterns recognise Claude or MCP servers: matching everything there means ending everything. */
const RECOGNISING = new Set([
  'rules.claude.scripts',
  'rules.mcp.programs',
  'rules.mcp.scripts',
  'rules.mcp.packages',
  'rules.mcp.images',
])

function checkRegex(item: string, at: string, warnings: string[], recognising: boolean, mayMatchEmpty = false): void {
  const re = compile(item, at, mayMatchEmpty)
  const problem = backtrackingProblem(item)
  if (problem) throw new Error(`${at}: ${problem}`)
  if (recognising && UNRELATED_PROGRAMS.every((p) => re.test(p))) {
    warnings.push(
      `${at}: /${item}/ matches every program (sh, node, vim ...): every process would be taken for what it recognises`,
    )
  }
}

/**
 * Checks every pattern the file gives, naming it by its place in the file (not in the merged rules): one that
 * does not compile, matches the empty string or can backtrack catastrophically is an error; one that
 * matches every program is a warning (returned, one line each).
 */
function checkPatterns(file: ConfigFile, where: string): string[] {
  const r = file.rules ?? {}
  const lists: Array<[string, PatternList | undefined, 'name' | 'regex' | 'flag']> = [
    ['rules.claude.names', r.claude?.names, 'name'],
    ['rules.claude.scripts', r.claude?.scripts, 'regex'],
    ['rules.claude.headless', r.claude?.headless, 'flag'],
    ['rules.mcp.programs', r.mcp?.programs, 'regex'],
    ['rules.mcp.scripts', r.mcp?.scripts, 'regex'],
    ['rules.mcp.packages', r.mcp?.packages, 'regex'],
    ['rules.mcp.images', r.mcp?.images, 'regex'],
    ['rules.mcp.pluginDirs', r.mcp?.pluginDirs, 'regex'],
    ['rules.subreapers', r.subreapers, 'regex'],
    ['rules.supervisors', r.supervisors, 'regex'],
  ]
  const warnings: string[] = []
  try {
    for (const [path, list, kind] of lists) {
      if (list === undefined) continue
      const [items, base] = Array.isArray(list) ? [list, path] : [list.replace, `${path}.replace`]
      items.forEach((item, i) => {
        if (kind === 'regex') checkRegex(item, `${base}[${i}]`, warnings, RECOGNISING.has(path))
        else if (kind === 'flag') checkHeadlessFlag(item, `${base}[${i}]`)
        else if (item.includes('/')) throw new Error(`${base}[${i}]: must be a program basename (no "/")`)
      })
    }
    if (r.claude?.nativeBinary !== undefined)
      checkRegex(r.claude.nativeBinary, 'rules.claude.nativeBinary', warnings, true)
    if (r.agentSessionPattern !== undefined)
      checkRegex(r.agentSessionPattern, 'rules.agentSessionPattern', warnings, false, true)
    // An ignore pattern that matches everything only makes the doctor report less: allowed.
    file.ignore?.commands?.forEach((c, i) => checkRegex(c, `ignore.commands[${i}]`, warnings, false, true))
  } catch (error) {
    throw new ConfigError(where, oneLine(error))
  }
  return warnings.map((w) => `config ${where}: ${w}`)
}

/** Validates a configuration value (what a file held) and applies it over the defaults. */
export function configFromValue(value: unknown, file: string): ResolvedConfig {
  const parsed = validate(value ?? {}, file)
  const warnings = checkPatterns(parsed, file)
  const config = resolveConfig(parsed, dirname(file), file)
  config.notices = warnings
  try {
    createRules(config.rules)
  } catch (error) {
    throw new ConfigError(file, oneLine(error))
  }
  return config
}

export interface LoadConfigOptions {
  /** Where the search starts (default: the cwd). */
  cwd?: string
  /** --config FILE: load exactly this file, no search. */
  explicit?: string
  /** Where the upward search stops at the latest (tests); it always stops at the home directory and a repository root. */
  stopDir?: string
  /** The home directory (default: the passwd entry's, not $HOME): the search stops there; ~/.config/gt-doctor is searched last. */
  home?: string
  /** For XDG_CONFIG_HOME (default: process.env). */
  env?: NodeJS.ProcessEnv
  /** How long a JavaScript config may take to load (default 5 s). */
  jsTimeoutMs?: number
}

interface Found {
  file: string
  value: unknown
}

/**
 * Finds and loads the configuration: --config FILE, else the first trusted file from the cwd upward, else
 * one in the user's config directory, else the defaults. A file that is not trusted (see trust.ts) is never
 * read: the search goes on, and the returned config's `notices` say, one line each, what was ignored and why.
 */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = opts.cwd ?? process.cwd()
  if (opts.explicit !== undefined) {
    const file = resolve(cwd, opts.explicit)
    const seen = examine(file, CONFIG_READ_LIMIT, {tooLarge: 'not a gt-doctor configuration'})
    if (seen.status === 'absent') throw new ConfigError(file, 'no such file')
    if (seen.status === 'refused') throw new ConfigError(file, `refused: ${seen.reason}`)
    if (seen.status === 'unreadable') throw new ConfigError(file, seen.reason)
    const value = await readConfigValue(seen.real, opts.jsTimeoutMs)
    if (value === undefined && basename(file) === 'package.json') throw new ConfigError(file, 'has no "gt-doctor" key')
    return configFromValue(value, file)
  }
  const refused: Array<{file: string; reason: string}> = []
  const found = await search(opts, cwd, refused)
  const config = found ? configFromValue(found.value, found.file) : defaultConfig()
  // Whole paths: the line also goes into the report, read later and elsewhere.
  const using = found ? found.file : 'the defaults'
  config.notices = [...refused.map((r) => `config ${r.file} ignored: ${r.reason}; using ${using}`), ...config.notices]
  return config
}

async function search(
  opts: LoadConfigOptions,
  cwd: string,
  refused: Array<{file: string; reason: string}>,
): Promise<Found | undefined> {
  const home = realOrSelf(opts.home ?? passwdHome())
  const stopDir = opts.stopDir === undefined ? undefined : realOrSelf(opts.stopDir)
  const tryPlace = async (file: string): Promise<Found | undefined> => {
    const seen = examine(file, CONFIG_READ_LIMIT, {tooLarge: 'not a gt-doctor configuration'})
    if (seen.status === 'absent') return undefined
    const isPackage = basename(file) === 'package.json'
    if (seen.status === 'refused') {
      if (!isPackage || packageJsonHasKey(file)) refused.push({file, reason: seen.reason})
      return undefined
    }
    if (seen.status === 'unreadable') {
      if (isPackage) return undefined
      throw new ConfigError(file, seen.reason)
    }
    const value = await readConfigValue(seen.real, opts.jsTimeoutMs)
    if (isPackage && value === undefined) return undefined
    return {file, value}
  }
  let dir = realOrSelf(resolve(cwd))
  for (;;) {
    for (const place of CONFIG_SEARCH_PLACES) {
      const found = await tryPlace(join(dir, place))
      if (found) return found
    }
    if (dir === home || dir === stopDir || existsSync(join(dir, '.git'))) break
    const parent = dirname(dir)
    // Not into a directory of someone else: what they keep there is theirs to decide, not the doctor's.
    if (parent === dir || !ownedByUserOrRoot(parent)) break
    dir = parent
  }
  const env = opts.env ?? process.env
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined
  const userDirs = [...new Set([xdg, home && join(home, '.config')].filter((d): d is string => Boolean(d)))]
  for (const base of userDirs) {
    for (const place of USER_CONFIG_PLACES) {
      const found = await tryPlace(join(base, 'gt-doctor', place))
      if (found) return found
    }
  }
  return undefined
}

function passwdHome(): string | undefined {
  try {
    return userInfo().homedir || undefined
  } catch {
    return undefined
  }
}

function realOrSelf(p: string): string
function realOrSelf(p: string | undefined): string | undefined
function realOrSelf(p: string | undefined): string | undefined {
  if (p === undefined) return undefined
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}
