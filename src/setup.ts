import {loadBuiltinChecks} from './checks/registry.js'
import type {RegisteredCheck} from './checks/api.js'
import type {ResolvedConfig} from './config/config.js'
import {loadConfig} from './config/load.js'
import {loadLocalChecks, loadPluginChecks, type HookRunner} from './plugins/load.js'

/** What a command needs before it can list or run checks. */
export interface DoctorSetup {
  config: ResolvedConfig
  /** Plugin checks (by plugin name), then local ones (in config order); stand-ins for what failed to load. */
  extraChecks: RegisteredCheck[]
}

export interface SetupOptions {
  /** oclif's Config, to run the plugins' `gt-doctor:checks` hook; without it no plugin is asked. */
  oclif?: HookRunner
  /** --config FILE */
  configPath?: string
  cwd?: string
}

/** Loads the configuration, then the checks of every plugin and of every local module it names. */
export async function loadSetup(opts: SetupOptions = {}): Promise<DoctorSetup> {
  const config = await loadConfig({cwd: opts.cwd, explicit: opts.configPath})
  const api = await import('./index.js')
  const taken = new Set((await loadBuiltinChecks()).map((c) => c.check.id))
  const plugins = opts.oclif ? await loadPluginChecks(opts.oclif, api, config.checkTimeoutSeconds * 1000, taken) : []
  const local = await loadLocalChecks(config.localChecks, api, taken, config.checkTimeoutSeconds * 1000)
  return {config, extraChecks: [...plugins, ...local]}
}
