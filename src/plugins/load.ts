/**
 * The registry: `loadChecks` is its one entry point. Built-in checks (checks/), checks from oclif plugins
 * (the `gt-doctor:checks` hook) and from local modules named in the config all pass through `checksFrom`,
 * and from there through `defineCheck`. Whatever goes wrong while loading one (a hook that throws or times
 * out, a module that does not import, something that is not a check, an id already taken) becomes a
 * stand-in check that reports `crashed` with the reason: the other checks still run, and the exit code says
 * the doctor did not fully run.
 */
import {readdirSync} from 'node:fs'
import {basename, extname} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {Interfaces} from '@oclif/core'
import {defineCheck, describeSource, type Check, type CheckSource, type RegisteredCheck} from '../checks/api.js'
import {validateCheckSettings} from '../config/check-settings.js'
import type {ResolvedConfig} from '../config/config.js'
import {oneLine} from '../errors.js'
import {displayPath} from '../config/load.js'
import {examine} from '../config/trust.js'
import {withoutProcessExit} from '../checks/isolate.js'
import {MiB} from '../safe-fs.js'
import {PLUGIN_API} from './api.js'
import {CHECK_API_VERSION, CHECKS_HOOK, type ChecksHookOptions, type GtDoctorApi} from './contract.js'

const standIns = new WeakSet<Check<any>>()

/** Is this one of the stand-ins for something that could not be loaded? */
export function isLoadFailure(registered: RegisteredCheck): boolean {
  return standIns.has(registered.check)
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'unnamed'
  )
}

/** A check that always crashes with `message`: how a load failure shows in the table, the JSON and `checks`. */
export function loadFailure(source: CheckSource, what: string, message: string, taken: Set<string>): RegisteredCheck {
  const stem =
    source.kind === 'plugin'
      ? (source.name ?? 'plugin').replace(/@[^@]*$/, '')
      : basename(source.name ?? 'check', extname(source.name ?? ''))
  const base = `${source.kind === 'plugin' ? 'plugin' : 'local'}/${slug(stem)}`
  let id = base
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`
  taken.add(id)
  const check = defineCheck({
    id,
    title: `${what} could not be loaded`,
    description: message,
    detect() {
      throw new Error(`could not load ${what}: ${message}`)
    },
  })
  standIns.add(check)
  return {check, source}
}

function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const keys = Object.keys(value as object)
    return keys.length > 0 ? `an object with keys ${keys.slice(0, 5).join(', ')}` : 'an empty object'
  }
  return value === undefined ? 'undefined' : `a ${typeof value}`
}

/**
 * Turns what a hook returned or a module exported into checks: a check object, a module with a default
 * export, a factory `(api) => check`, or an array of these. Throws one line saying what it got instead.
 */
export async function checksFrom(value: unknown, api: GtDoctorApi, depth = 0): Promise<Check<any>[]> {
  if (depth > 4) throw new Error('nested too deeply to be a check')
  if (Array.isArray(value)) return (await Promise.all(value.map((v) => checksFrom(v, api, depth + 1)))).flat()
  if (typeof value === 'function') return checksFrom(await value(api), api, depth + 1)
  const v = value as Partial<Check> & {default?: unknown}
  if (v && typeof v === 'object' && typeof v.detect !== 'function' && 'default' in v)
    return checksFrom(v.default, api, depth + 1)
  if (!v || typeof v !== 'object' || typeof v.id !== 'string' || typeof v.detect !== 'function') {
    throw new Error(
      `${describeValue(value)} is not a check (expected an object with id, title, description and detect, as defineCheck makes)`,
    )
  }
  return [defineCheck(v as Check<any>)]
}

/** A check module is code; the bound only keeps a mistaken path (a disk image) from being imported. */
const LOCAL_CHECK_LIMIT = 64 * MiB

/**
 * Modules named by the config's `localChecks`, in order. Each must be trusted like the config that names it
 * (config/trust.ts): a module someone else can change would run as whoever runs the doctor, root included.
 * Its top level runs with process.exit() guarded, as its detect and fix will.
 */
export async function loadLocalChecks(
  paths: readonly string[],
  api: GtDoctorApi,
  taken: Set<string>,
  timeoutMs = 10_000,
): Promise<RegisteredCheck[]> {
  const out: RegisteredCheck[] = []
  for (const path of paths) {
    const source: CheckSource = {kind: 'local', name: path}
    try {
      const seen = examine(path, LOCAL_CHECK_LIMIT)
      if (seen.status === 'absent') throw new Error(`no such file ${path}`)
      if (seen.status !== 'ok') throw new Error(seen.status === 'refused' ? `refused: ${seen.reason}` : seen.reason)
      const checks = await withoutProcessExit(
        async () => checksFrom(await import(pathToFileURL(seen.real).href), api),
        timeoutMs,
      )
      for (const check of checks) out.push({check, source})
    } catch (error) {
      out.push(loadFailure(source, `local check ${displayPath(path)}`, oneLine(error), taken))
    }
  }
  return out
}

/** The minimal part of oclif's Config that plugin loading needs. */
export type HookRunner = Pick<Interfaces.Config, 'runHook'>

/**
 * Runs the `gt-doctor:checks` hook of every installed plugin (each bounded by `timeoutMs`) and collects
 * their checks, each recording its plugin's `name@version` as source. Sorted by plugin name.
 */
export async function loadPluginChecks(
  oclif: HookRunner,
  api: GtDoctorApi,
  timeoutMs: number,
  taken: Set<string>,
): Promise<RegisteredCheck[]> {
  const options: ChecksHookOptions = {api, apiVersion: CHECK_API_VERSION}
  const {successes, failures} = await withoutProcessExit(
    () => oclif.runHook(CHECKS_HOOK as any, options as any, timeoutMs, true),
    timeoutMs,
    {remember: false},
  )
  const sourceOf = (p: {name: string; version: string}): CheckSource => ({
    kind: 'plugin',
    name: `${p.name}@${p.version}`,
  })
  const entries = [
    ...successes.map((s) => ({plugin: s.plugin, result: s.result as unknown, error: undefined as unknown})),
    ...failures.map((f) => ({plugin: f.plugin, result: undefined, error: f.error as unknown})),
  ].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name))
  const out: RegisteredCheck[] = []
  for (const e of entries) {
    const source = sourceOf(e.plugin)
    const what = `plugin ${source.name}`
    if (e.error !== undefined) {
      out.push(loadFailure(source, what, `${CHECKS_HOOK} hook threw: ${oneLine(e.error)}`, taken))
      continue
    }
    try {
      for (const check of await checksFrom(e.result, api)) out.push({check, source})
    } catch (error) {
      out.push(loadFailure(source, what, `${CHECKS_HOOK} hook: ${oneLine(error)}`, taken))
    }
  }
  return out
}

/**
 * Built-in checks first, then the others in order; a check whose id is already taken is replaced by a
 * stand-in saying so (a silent override would hide a check, and refusing to run would let one plugin stop all).
 */
export function combineChecks(
  builtins: RegisteredCheck[],
  extras: RegisteredCheck[],
  taken: Set<string>,
): RegisteredCheck[] {
  const byId = new Map<string, RegisteredCheck>()
  for (const c of builtins) byId.set(c.check.id, c)
  for (const c of extras) {
    const prior = byId.get(c.check.id)
    if (prior && prior !== c) {
      const stand = loadFailure(
        c.source,
        `${describeSource(c.source)}`,
        `check id "${c.check.id}" is already registered (${describeSource(prior.source)}); give it another id`,
        taken,
      )
      byId.set(stand.check.id, stand)
      continue
    }
    byId.set(c.check.id, c)
  }
  return [...byId.values()]
}

/** Compiled built-in checks: dist/checks/ beside dist/src/. */
const BUILTIN_DIR = new URL('../../checks/', import.meta.url)

/**
 * Every file in checks/, loaded the same way a third-party check is. Sorted by file name for a stable order.
 * Compiled .js in dist/; the .ts sources when run from source (tests).
 */
export async function loadBuiltinChecks(api: GtDoctorApi, dir: URL = BUILTIN_DIR): Promise<RegisteredCheck[]> {
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => /\.(?:js|mjs|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
  // No built-in check means a broken install or a source run without compiled checks: a clean report would lie.
  if (files.length === 0)
    throw new Error(`no built-in checks found in ${fileURLToPath(dir)}; reinstall gt-doctor (npm ci runs the build)`)
  const source: CheckSource = {kind: 'built-in'}
  const loaded = await Promise.all(
    files.map(async (f) => {
      try {
        return await checksFrom(await import(new URL(f, dir).href), api)
      } catch (error) {
        throw new Error(`checks/${f}: ${oneLine(error)}`)
      }
    }),
  )
  return loaded.flat().map((check) => ({check, source}))
}

/** What `loadChecks` reads. */
export interface LoadChecksOptions {
  /** The configuration: its `localChecks` are loaded and its per-check settings validated against all checks. */
  config: ResolvedConfig
  /** oclif's Config, to run the plugins' `gt-doctor:checks` hook; without it no plugin is asked. */
  oclif?: HookRunner
  /** Checks handed over in-process (an embedding program, tests), after the plugin and local ones. */
  extra?: RegisteredCheck[]
}

/**
 * Every registered check: built-in first, then plugin checks (by plugin name), local ones (in config order)
 * and `extra`; what failed to load and any reused id are crashed stand-ins. The config's per-check settings
 * are validated against the result (an unknown id or option is a config error).
 */
export async function loadChecks(opts: LoadChecksOptions): Promise<RegisteredCheck[]> {
  const {config} = opts
  const api = PLUGIN_API
  const timeoutMs = config.checkTimeoutSeconds * 1000
  const builtins = await loadBuiltinChecks(api)
  const taken = new Set(builtins.map((c) => c.check.id))
  const plugins = opts.oclif ? await loadPluginChecks(opts.oclif, api, timeoutMs, taken) : []
  const local = await loadLocalChecks(config.localChecks, api, taken, timeoutMs)
  const extras = [...plugins, ...local, ...(opts.extra ?? [])]
  for (const c of extras) taken.add(c.check.id)
  const all = combineChecks(builtins, extras, taken)
  validateCheckSettings(config, all, all.some(isLoadFailure))
  return all
}
