import {DoctorCommand} from '../cli/base-command.js'
import {configFlags} from '../cli/flags.js'
import {describeSource} from '../checks/api.js'
import {setUp} from '../cli/setup.js'
import {EXIT} from '../report/model.js'
import {isLoadFailure} from '../plugins/load.js'
import {cliTable, colorWanted, tableStyle} from '../render/table.js'

export interface CheckListing {
  id: string
  title: string
  description: string
  fixable: boolean
  /** The option that must be set before the check fixes anything (`stuckAfterSeconds`), when there is one. */
  fixOptIn?: string
  /** `built-in`, `plugin name@version` or `local /path/to/module.mjs`. */
  source: string
  /** false when the config disables it (it runs only when named with --only). */
  enabled: boolean
  /** Why it could not be loaded (a stand-in for a plugin or module that failed). */
  error?: string
}

export default class Checks extends DoctorCommand {
  static summary = 'List every check: id, title, whether it can fix, where it came from.'
  static description =
    'Built-in checks, checks from installed plugins (`gt-doctor plugins`) and local check modules named in the configuration. A plugin or module that could not be loaded is listed with the reason, and the exit code is 2.'
  static examples = [
    '<%= config.bin %> checks',
    '<%= config.bin %> checks --json',
    '<%= config.bin %> checks --config ./gt-doctor.config.json',
  ]
  static enableJsonFlag = true
  static flags = {...configFlags}

  async run(): Promise<CheckListing[]> {
    const {flags} = await this.parse(Checks)
    const {config, checks} = await setUp(this.config, flags.config)
    const listing = checks.map((registered) => {
      const {check, source} = registered
      return {
        id: check.id,
        title: check.title,
        description: check.description,
        fixable: Boolean(check.fixable),
        ...(check.fixable && typeof check.fixOptIn === 'string' ? {fixOptIn: check.fixOptIn} : {}),
        source: describeSource(source),
        enabled: config.checks[check.id]?.enabled !== false,
        ...(isLoadFailure(registered) ? {error: check.description} : {}),
      }
    })
    if (listing.some((c) => c.error)) process.exitCode = EXIT.usage
    if (!this.jsonEnabled()) {
      const color = colorWanted()
      const table = new (cliTable())({
        head: ['Check', 'Title', 'Fix', 'Source'],
        ...tableStyle(color),
        wordWrap: true,
        colWidths: [
          null,
          Math.max(30, Math.min(80, (process.stdout.columns || 120) - 70)),
          null,
          null,
        ] as unknown as number[],
      })
      for (const c of listing) {
        const title = c.error ? `${c.title}: ${c.error}` : c.enabled ? c.title : `${c.title} (disabled by config)`
        // `opt-in` alone keeps the table within 80 columns; the option is in --json and the description.
        const fix = c.error ? '-' : !c.fixable ? 'report only' : c.fixOptIn ? 'opt-in' : 'yes'
        table.push([c.id, title, fix, c.source])
      }
      this.log(table.toString())
    }
    return listing
  }
}
