import {existsSync} from 'node:fs'
import {dirname, relative, resolve, sep} from 'node:path'
import {pathToFileURL} from 'node:url'
import type {ValidateFunction} from 'ajv'
import {lilconfig, type Loader} from 'lilconfig'
import {DoctorError, oneLine} from '../errors.js'
import {checkHeadlessFlag, compile} from '../rules/match.js'
import {createRules} from '../rules/rules.js'
import {defaultConfig, resolveConfig, type ResolvedConfig} from './config.js'
import {CONFIG_SCHEMA, describeError, firstError, type ConfigFile, type PatternList} from './schema.js'
import {lazy} from '../lazy.js'

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

const jsonLoader: Loader = (filepath, content) => {
  try {
    return JSON.parse(content.replace(/^\uFEFF/, ''))
  } catch (error) {
    throw new ConfigError(filepath, `invalid JSON: ${oneLine(error)}`)
  }
}

const moduleLoader: Loader = async (filepath) => {
  let mod: {default?: unknown}
  try {
    mod = await import(pathToFileURL(filepath).href)
  } catch (error) {
    throw new ConfigError(filepath, `could not be loaded: ${oneLine(error)}`)
  }
  return mod.default
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

/** Checks every pattern the file gives, naming it by its place in the file (not in the merged rules). */
function checkPatterns(file: ConfigFile, where: string): void {
  const r = file.rules ?? {}
  const lists: Array<[string, PatternList | undefined, 'name' | 'regex' | 'flag']> = [
    ['rules.claude.names', r.claude?.names, 'name'],
    ['rules.claude.scripts', r.claude?.scripts, 'regex'],
    ['rules.claude.headless', r.claude?.headless, 'flag'],
    ['rules.mcp.programs', r.mcp?.programs, 'regex'],
    ['rules.mcp.scripts', r.mcp?.scripts, 'regex'],
    ['rules.mcp.packages', r.mcp?.packages, 'regex'],
    ['rules.mcp.images', r.mcp?.images, 'regex'],
    ['rules.subreapers', r.subreapers, 'regex'],
    ['rules.supervisors', r.supervisors, 'regex'],
  ]
  try {
    for (const [path, list, kind] of lists) {
      if (list === undefined) continue
      const [items, base] = Array.isArray(list) ? [list, path] : [list.replace, `${path}.replace`]
      items.forEach((item, i) => {
        if (kind === 'regex') compile(item, `${base}[${i}]`)
        else if (kind === 'flag') checkHeadlessFlag(item, `${base}[${i}]`)
        else if (item.includes('/')) throw new Error(`${base}[${i}]: must be a program basename (no "/")`)
      })
    }
    if (r.claude?.nativeBinary !== undefined) compile(r.claude.nativeBinary, 'rules.claude.nativeBinary')
    if (r.agentSessionPattern !== undefined) compile(r.agentSessionPattern, 'rules.agentSessionPattern', true)
    // An ignore pattern that matches everything only makes the doctor report less: allowed.
    file.ignore?.commands?.forEach((c, i) => compile(c, `ignore.commands[${i}]`, true))
  } catch (error) {
    throw new ConfigError(where, oneLine(error))
  }
}

/** Validates a configuration value (what a file held) and applies it over the defaults. */
export function configFromValue(value: unknown, file: string): ResolvedConfig {
  const parsed = validate(value ?? {}, file)
  checkPatterns(parsed, file)
  const config = resolveConfig(parsed, dirname(file), file)
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
  /** Where the upward search stops (default: the home directory, or / when the cwd is outside it). */
  stopDir?: string
}

/** Finds and loads the configuration: --config FILE, else the first file found from the cwd upward, else defaults. */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const cwd = opts.cwd ?? process.cwd()
  const explorer = lilconfig('gt-doctor', {
    searchPlaces: CONFIG_SEARCH_PLACES,
    loaders: {'.json': jsonLoader, noExt: jsonLoader, '.js': moduleLoader, '.mjs': moduleLoader, '.cjs': moduleLoader},
    cache: false,
    ...(opts.stopDir ? {stopDir: opts.stopDir} : {}),
  })
  let found: {config: unknown; filepath: string; isEmpty?: boolean} | null
  if (opts.explicit !== undefined) {
    const file = resolve(cwd, opts.explicit)
    if (!existsSync(file)) throw new ConfigError(file, 'no such file')
    found = await explorer.load(file).catch(rethrow(file))
    if (found && found.config == null && !found.isEmpty && file.endsWith('package.json')) {
      throw new ConfigError(file, 'has no "gt-doctor" key')
    }
  } else {
    found = await explorer.search(cwd).catch(rethrow(cwd))
  }
  if (!found) return defaultConfig()
  return configFromValue(found.config, found.filepath)
}

function rethrow(where: string) {
  return (error: unknown): never => {
    if (error instanceof DoctorError) throw error
    throw new ConfigError(where, oneLine(error))
  }
}
