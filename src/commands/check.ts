import {Flags} from '@oclif/core'
import {DoctorCommand} from '../cli/base-command.js'
import {configFlags, selectionFlags} from '../cli/flags.js'
import {diagnose} from '../doctor.js'
import {exitCodeFor, type Report} from '../report/model.js'
import {colorWanted, renderTable} from '../render/table.js'
import {loadSetup} from '../setup.js'

export default class Check extends DoctorCommand {
  static summary = 'Find orphaned Claude Code processes, orphaned MCP servers and the memory they hold.'
  static description =
    'Collects one snapshot of the processes and of every tmux server, runs every registered check on it, and prints what it found. Bare `gt-doctor` runs this command.'
  static examples = [
    {description: 'Check this machine', command: '<%= config.bin %>'},
    {description: 'Machine-readable report (schemaVersion 1)', command: '<%= config.bin %> --json'},
    {description: 'Also query a tmux server on a custom socket', command: '<%= config.bin %> check --socket /tmp/my-tmux.sock'},
  ]
  static enableJsonFlag = true
  static flags = {
    socket: Flags.string({summary: 'Also query the tmux server on this socket path (repeatable).', multiple: true}),
    verbose: Flags.boolean({char: 'v', summary: "Show each finding's reason and whole process tree."}),
    quiet: Flags.boolean({char: 'q', summary: 'Print only the summary line.', exclusive: ['verbose']}),
    ...selectionFlags,
    ...configFlags,
  }

  async run(): Promise<Report> {
    const {flags} = await this.parse(Check)
    const json = this.jsonEnabled()
    const progress = !json && process.stdout.isTTY && !flags.quiet ? 'tty' : 'none'
    const {report} = await diagnose({
      tool: {name: this.config.name, version: this.config.version},
      ...(await loadSetup({oclif: this.config, configPath: flags.config})),
      only: flags.only,
      skip: flags.skip,
      sockets: flags.socket,
      progress,
    })
    // oclif's --json turns this.exit() into exit 1, so the code is set, not thrown.
    process.exitCode = exitCodeFor(report)
    if (!json) this.log(renderTable(report, {color: colorWanted(), verbose: flags.verbose, quiet: flags.quiet}))
    return report
  }
}
