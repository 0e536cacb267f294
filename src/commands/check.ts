import os from 'node:os'
import {Flags} from '@oclif/core'
import {DoctorCommand} from '../cli/base-command.js'
import {confirmPlan, fixFlags} from '../cli/fix.js'
import {setUp} from '../cli/setup.js'
import {configFlags, outputFlag, redactFlags, selectionFlags, socketsFlags} from '../cli/flags.js'
import {diagnose} from '../doctor.js'
import {fixRequest} from '../remediation/request.js'
import {argvWantsJson, FORMATS, renderReport, resolveFormat, writeOutput} from '../render/output.js'
import {statusLine} from '../render/progress.js'
import {colorWanted} from '../render/table.js'
import {forDisplay} from '../report/display.js'
import {exitCodeFor, type Report} from '../report/model.js'
import {loadSnapshot, refuseFixOnRecorded} from '../snapshot/load.js'
import type {Snapshot} from '../snapshot/types.js'
import {phase} from '../timing.js'

export default class Check extends DoctorCommand {
  static summary = 'Find orphaned agents (Claude Code, Codex, ...), MCP servers, and their memory.'
  static description =
    'Collects one snapshot of the processes and of every tmux server, runs every registered check on it, and prints what it found. Bare `gt-doctor` runs this command.'
  static examples = [
    {description: 'Check this machine', command: '<%= config.bin %>'},
    {description: 'Machine-readable report (schemaVersion 1)', command: '<%= config.bin %> --json'},
    {description: 'See what --fix would end, and why', command: '<%= config.bin %> --fix --dry-run'},
    {
      description: 'End every orphan without asking (cron, CI)',
      command: '<%= config.bin %> --fix --yes --grace 2 --json',
    },
    {
      description: 'A report to paste into a GitHub issue',
      command: '<%= config.bin %> --format markdown --output report.md',
    },
    {
      description: 'CI gate: fail on warnings too, JUnit for the CI page',
      command: '<%= config.bin %> --fail-on warning --format junit --output report.xml',
    },
    {
      description: 'Run every check on a snapshot recorded elsewhere',
      command: '<%= config.bin %> check --from snapshot.json',
    },
    {
      description: 'Also query a tmux server on a custom socket',
      command: '<%= config.bin %> check --socket /tmp/my-tmux.sock',
    },
  ]
  static enableJsonFlag = true
  static flags = {
    ...socketsFlags,
    verbose: Flags.boolean({char: 'v', summary: "Show each finding's reason and whole process tree."}),
    quiet: Flags.boolean({char: 'q', summary: 'Print only the summary line.', exclusive: ['verbose']}),
    format: Flags.string({summary: 'Report format (--json is short for --format json).', options: [...FORMATS]}),
    output: outputFlag('the report'),
    'fail-on': Flags.option({
      summary: 'Exit 1 when a finding is at or above this level.',
      options: ['error', 'warning', 'never'] as const,
      default: 'error',
    })(),
    ...redactFlags,
    from: Flags.string({
      summary: 'Run the checks on a snapshot file (from `gt-doctor snapshot`; - for stdin) instead of this machine.',
      exclusive: ['socket'],
    }),
    ...fixFlags,
    ...selectionFlags,
    ...configFlags,
  }

  /** `--format json` is `--json`: the report (or the error) is printed as JSON either way. */
  public jsonEnabled(): boolean {
    return super.jsonEnabled() || argvWantsJson(this.argv)
  }

  async run(): Promise<Report | undefined> {
    phase('oclif')
    const {flags} = await this.parse(Check)
    const json = this.jsonEnabled()
    const format = resolveFormat(flags.format, json)
    refuseFixOnRecorded(flags)
    const fix = fixRequest(flags, {stdinIsTTY: Boolean(process.stdin.isTTY), uid: process.getuid?.() ?? 0})
    const color = !flags.output && colorWanted()
    // The plan and the fix results show command lines too: made fit to show as a report is (display.ts).
    const display = {redact: flags.redact, home: os.homedir()}
    // People watch progress and plans; a machine format on stdout gets nothing but the report.
    const forPeople = format === 'table' && !flags.quiet
    const setup = await setUp(this.config, flags.config)
    const options = {
      tool: {name: this.config.name, version: this.config.version},
      ...setup,
      only: flags.only,
      skip: flags.skip,
      sockets: flags.socket,
      tmuxTimeoutMs: flags['tmux-timeout'] * 1000,
      progress: process.stdout.isTTY && (forPeople || Boolean(flags.output)) ? ('tty' as const) : ('none' as const),
      // Where the time goes (the process table, a slow tmux server): one line on stderr, erased when done.
      onCollect:
        process.stderr.isTTY && process.stdout.isTTY && (forPeople || Boolean(flags.output)) && !flags.from
          ? statusLine().update
          : undefined,
      snapshot: flags.from ? await loadSnapshot(flags.from) : undefined,
    }
    phase('setup')

    let report: Report
    let snapshot: Snapshot
    if (fix) {
      // The remediation engine and its renderers load only when a fix is asked for.
      const [{runFix}, {renderFixed, renderPlan}] = await Promise.all([
        import('../cli/fix-flow.js'),
        import('../render/fix.js'),
      ])
      const result = await runFix({
        request: fix,
        diagnose: options,
        // The plan is part of the table output; beside a machine format it goes to stderr, and only to be confirmed.
        showPlan: (raw) => {
          const plan = forDisplay(raw, display)
          if (forPeople) this.log(renderPlan(plan, {color, graceMs: fix.graceMs}))
          else if (!fix.yes && !fix.dryRun)
            process.stderr.write(renderPlan(plan, {color: false, graceMs: fix.graceMs}) + '\n')
        },
        confirm: confirmPlan,
        progress: (message) => forPeople && process.stderr.write(`${forDisplay(message, display)}\n`),
      })
      if (result.declined) process.stderr.write('Nothing was signalled.\n')
      if (result.auditFailure) process.stderr.write(`${this.config.bin}: ${forDisplay(result.auditFailure, display)}\n`)
      // Only what it shows is made fit to show: the whole report is, once, by renderReport below.
      if (forPeople && result.report.fixed)
        this.log(renderFixed({fixed: forDisplay(result.report.fixed, display)}, {color}))
      ;({report, snapshot} = result)
    } else {
      ;({report, snapshot} = await diagnose(options))
    }
    // oclif's --json turns this.exit() into exit 1, so the code is set, not thrown. 3 (a fix failed) beats --fail-on.
    process.exitCode = exitCodeFor(report, flags['fail-on'])

    const rendered = renderReport({
      format,
      report,
      snapshot,
      redact: display.redact,
      redactOptions: {home: display.home},
      failOn: flags['fail-on'],
      table: {color, verbose: flags.verbose, quiet: flags.quiet},
    })
    phase('render')
    if (flags.output) {
      await writeOutput(flags.output, rendered.text)
      return undefined
    }
    if (json) return rendered.report
    process.stdout.write(rendered.text)
    return undefined
  }
}
