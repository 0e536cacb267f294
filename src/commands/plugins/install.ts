import type {Command} from '@oclif/core'
import {commands} from '@oclif/plugin-plugins'
import {savePluginInstallState} from '../../plugins/install-state.js'

// Typed as a plain command: the declaration emit cannot name plugin-plugins' class, and nothing here needs it.
const Base = commands['plugins:install'] as unknown as new (
  ...args: ConstructorParameters<typeof Command>
) => Command & {run(): Promise<void>}

/** oclif's `plugins install`, made atomic: a failed install leaves the installed plugins as they were. */
export default class PluginsInstall extends Base {
  async run(): Promise<void> {
    const state = savePluginInstallState(
      this.config.dataDir,
      this.argv.filter((a) => !a.startsWith('-')),
    )
    try {
      await super.run()
    } catch (error) {
      state.restore()
      throw error
    }
    state.discard()
  }
}
