import type {Interfaces} from '@oclif/core'
import type {RegisteredCheck} from '../checks/api.js'
import type {ResolvedConfig} from '../config/config.js'
import {loadConfig} from '../config/load.js'
import {loadChecks} from '../plugins/load.js'
import {printConfigNotices} from './flags.js'

/**
 * What a command needs before it can list or run checks: the configuration (its notices printed first, so
 * they show even when a check then fails to load) and the registry, plugins and local checks included.
 */
export async function setUp(
  oclif: Interfaces.Config,
  configPath?: string,
): Promise<{config: ResolvedConfig; checks: RegisteredCheck[]}> {
  const config = await loadConfig({explicit: configPath})
  printConfigNotices(config, oclif.bin)
  return {config, checks: await loadChecks({config, oclif})}
}
