import {Flags} from '@oclif/core'
import {DoctorCommand} from '../cli/base-command.js'
import {confirmPlan, fixFlags} from '../cli/fix.js'
import {diagnose} from '../doctor.js'
import {fixRequest, runFix} from '../remediation/flow.js'
import {renderFixed, renderPlan} from '../render/fix.js'
import {exitCodeFor, type Report} from '../report/model.js'
import {colorWanted, renderTable} from '../render/table.js'

export default class Check extends DoctorCommand {
  static summary = 'Find orphaned Claude Code processes, orphaned MCP servers and the memory they hold.'
  static description =
    'Collects one snapshot of the processes and of every tmux server, runs every registered check on it, and prints what it found. Bare `gt-doctor` runs this command. With --fix it ends what it found, after re-checking every process right before signalling it.'
  static examples = [
    {description: 'Check this machine', command: '<%= config.bin %>'},
    {description: 'Machine-readable report (schemaVersion 1)', command: '<%= config.bin %> --json'},
    {description: 'Also query a tmux server on a custom socket', command: '<%= config.bin %> check --socket /tmp/my-tmux.sock'},
    {description: 'See what --fix would end, and why', command: '<%= config.bin %> --fix --dry-run'},
    {description: 'End every orphan without asking (cron, CI)', command: '<%= config.bin %> --fix --yes --grace 2 --json'},
  ]
  static enableJsonFlag = true
  static flags = {
    socket: Flags.string({summary: 'Also query the tmux server on this socket path (repeatable).', multiple: true}),
    verbose: Flags.boolean({char: 'v', summary: "Show each finding's reason and whole process tree."}),
    quiet: Flags.boolean({char: 'q', summary: 'Print only the summary line.', exclusive: ['verbose']}),
    ...fixFlags,
  }

  async run(): Promise<Report> {
    const {flags} = await this.parse(Check)
    const json = this.jsonEnabled()
    const color = colorWanted()
    const fix = fixRequest(flags, {stdinIsTTY: Boolean(process.stdin.isTTY), uid: process.getuid?.() ?? 0})
    const options = {
      tool: {name: this.config.name, version: this.config.version},
      sockets: flags.socket,
      only: flags.only,
      skip: flags.skip,
      progress: !json && process.stdout.isTTY && !flags.quiet ? ('tty' as const) : ('none' as const),
    }
    let report: Report
    if (fix) {
      const result = await runFix({
        request: fix,
        diagnose: options,
        // Machine output keeps stdout pure JSON: the plan goes to stderr, and only when someone must confirm it.
        showPlan: (plan) => {
          const asking = !fix.yes && !fix.dryRun
          if (!json && (asking || !flags.quiet)) this.log(renderPlan(plan, {color, graceMs: fix.graceMs}))
          else if (json && asking) process.stderr.write(renderPlan(plan, {color: false, graceMs: fix.graceMs}) + '\n')
        },
        confirm: confirmPlan,
        progress: (message) => !json && !flags.quiet && process.stderr.write(`${message}\n`),
      })
      if (result.declined) process.stderr.write('Nothing was signalled.\n')
      report = result.report
      process.exitCode = result.exitCode
      if (!json && !flags.quiet && report.fixed) this.log(renderFixed(report, {color}))
    } else {
      report = (await diagnose(options)).report
      // oclif's --json turns this.exit() into exit 1, so the code is set, not thrown.
      process.exitCode = exitCodeFor(report)
    }
    if (!json) this.log(renderTable(report, {color, verbose: flags.verbose, quiet: flags.quiet}))
    return report
  }
}
