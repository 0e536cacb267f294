import {Flags} from '@oclif/core'
import {exitNow} from '../checks/isolate.js'
import {DoctorCommand} from '../cli/base-command.js'
import {configFlags, historyFileFlag, selectionFlags, socketsFlags} from '../cli/flags.js'
import {fixFlags} from '../cli/fix.js'
import {parseSeconds} from '../cli/seconds.js'
import {diagnose, selectChecks} from '../doctor.js'
import {setUp} from '../cli/setup.js'
import {findingKinds} from '../checks/api.js'
import {DoctorError} from '../errors.js'
import {ensureHistoryWritable} from '../monitor/history.js'
import {watchLoop, type RunOnce} from '../monitor/watch.js'
import {fixRequest, runFix} from '../cli/fix-flow.js'
import {exitCodeFor} from '../report/model.js'
import {hanging, terminalWidth} from '../render/width.js'
import {colorWanted} from '../render/table.js'
import {renderWatchLine} from '../render/watch.js'

/** Seconds, fractions allowed (0.5 for tests), up to a day. */
const interval = Flags.custom<number>({parse: async (input) => parseSeconds(input, 0, 86_400, {aboveMin: true})})

export default class Watch extends DoctorCommand {
  static summary = 'Run the checks every interval and record the orphan counts over time.'
  static description =
    'Runs the checks, prints one line with the counts and what changed since the previous run (new orphans, gone ones, the memory trend), appends the run to a JSON-lines history, waits --interval seconds after the run ended, and again. SIGINT or SIGTERM stops it cleanly (exit 0); `gt-doctor history` shows the recorded trend.'
  static examples = [
    {description: 'Watch every minute, recording to the default history', command: '<%= config.bin %> watch'},
    {
      description: 'Three quick runs into a file of your choice',
      command: '<%= config.bin %> watch --interval 5 --count 3 --history /tmp/gt.jsonl',
    },
    {
      description: 'End the orphans each run finds, every 10 minutes',
      command: '<%= config.bin %> watch --interval 600 --fix --yes',
    },
  ]
  static flags = {
    interval: interval({
      summary: 'Seconds from the end of one run to the start of the next.',
      default: 60,
      helpValue: 'SECONDS',
    }),
    count: Flags.integer({summary: 'Stop after this many runs.', min: 1}),
    history: historyFileFlag('The JSON-lines file each run is appended to.'),
    ...socketsFlags,
    ...fixFlags,
    ...selectionFlags,
    ...configFlags,
    json: Flags.boolean({
      summary: 'One JSON object a line: each run ({"type":"run",...}), each failed run, and the stop.',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Watch)
    // Nobody is there to confirm each run: a fixing watch must be told so up front.
    if (flags.fix && !flags.yes) throw new DoctorError('watch --fix needs --yes: nobody is there to confirm each run')
    const fix = fixRequest(flags, {stdinIsTTY: Boolean(process.stdin.isTTY), uid: process.getuid?.() ?? 0})
    const color = !flags.json && colorWanted()
    const width = terminalWidth()
    ensureHistoryWritable(flags.history)
    const tool = {name: this.config.name, version: this.config.version}
    // Configuration and plugin checks load once: every run then judges with the same rules.
    const setup = await setUp(this.config, flags.config)
    // A usage error (an unknown check id) is exit 2 now, not a failed run every interval.
    selectChecks(setup.checks, setup.config, flags.only, flags.skip)
    const diagnoseOptions = {
      tool,
      ...setup,
      only: flags.only,
      skip: flags.skip,
      sockets: flags.socket,
      tmuxTimeoutMs: flags['tmux-timeout'] * 1000,
      progress: 'none' as const,
    }
    const run: RunOnce = fix
      ? async () => {
          const r = await runFix({
            request: fix,
            diagnose: diagnoseOptions,
            showPlan: () => {},
            confirm: async () => false,
          })
          if (r.auditFailure) process.stderr.write(`${this.config.bin}: ${r.auditFailure}\n`)
          return {report: r.report, exitCode: r.exitCode}
        }
      : async () => {
          const {report} = await diagnose(diagnoseOptions)
          return {report, exitCode: exitCodeFor(report)}
        }

    const controller = new AbortController()
    const stop = (signal: NodeJS.Signals) => {
      // A second signal means now: every line written so far is whole, nothing is half-done but the run itself.
      if (controller.signal.aborted) exitNow(signal === 'SIGINT' ? 130 : 143)
      controller.abort()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    try {
      const result = await watchLoop({
        intervalMs: flags.interval * 1000,
        count: flags.count,
        historyFile: flags.history,
        signal: controller.signal,
        run,
        kinds: findingKinds(setup.checks),
        onRun: (entry, change, index) =>
          flags.json
            ? jsonLine({type: 'run', index, ...entry, ...(change ? {change} : {})})
            : this.log(hanging(renderWatchLine(entry, change, index, {color}), width, '', '  ').join('\n')),
        onError: (message, index) => {
          process.stderr.write(`${this.config.bin}: run ${index} failed: ${message}\n`)
          if (flags.json) jsonLine({type: 'error', index, message})
        },
        onInterrupted: (index) =>
          flags.json
            ? jsonLine({type: 'interrupted', index})
            : this.log(`run ${index} interrupted by the stop signal: not recorded`),
      })
      if (flags.json) jsonLine({type: 'stopped', runs: result.runs, failed: result.failed, history: flags.history})
      else
        this.log(
          `stopped after ${result.runs} recorded ${result.runs === 1 ? 'run' : 'runs'}${result.failed ? ` (${result.failed} failed)` : ''}; history: ${flags.history}`,
        )
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
    process.exitCode = 0
  }
}

/** One JSON object on one line (JSON lines): a consumer reads each run as soon as it is written. */
function jsonLine(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`)
}
