import os from 'node:os'
import {Args, Flags} from '@oclif/core'
import {DoctorCommand} from '../../cli/base-command.js'
import {seconds} from '../../cli/seconds.js'
import {configFlags, printConfigNotices} from '../../cli/flags.js'
import {loadConfig} from '../../config/load.js'
import {DoctorError} from '../../errors.js'
import {sessionStopFailure, socketPath, stopSessions, type SessionStopResult} from '../../remediation/stop-sessions.js'
import {forDisplay} from '../../report/display.js'
import {EXIT} from '../../report/model.js'
import {renderSessionStop} from '../../render/session-stop.js'
import {colorWanted} from '../../render/table.js'

export default class SessionStop extends DoctorCommand {
  static summary = 'Stop tmux sessions without leaving orphans: Ctrl-C, TERM, KILL, kill-session.'
  static description =
    "Records every pane's whole process tree (MCP servers included), disarms remain-on-exit and the pane-died/pane-exited hooks, sends Ctrl-C to each pane and waits for a clean exit, SIGTERMs what is left, SIGKILLs what survives the grace, kills the session and verifies nothing recorded is alive. Every signal goes through the --fix engine: each process is re-verified by pid and start time first and written to the audit log. Exit 0 when clean, 3 when something survived, 2 for an unknown session."
  static examples = [
    {description: 'Stop one agent session', command: '<%= config.bin %> session stop gt-gastown-toast'},
    {
      description: 'Every polecat of a rig, on a named server',
      command: "<%= config.bin %> session stop --all-matching '^gt-gastown-' --socket gt",
    },
  ]
  static strict = false
  static enableJsonFlag = true
  static args = {name: Args.string({description: 'Session names (exact); several may be given.'})}
  static flags = {
    socket: Flags.string({
      summary: 'The tmux server: a socket path (-S) or name (-L). Default: every server found.',
      helpValue: 'SOCKET',
    }),
    grace: seconds({
      summary: 'Seconds between SIGTERM and SIGKILL, for all sessions together.',
      default: 5,
      helpValue: 'SECONDS',
    }),
    wait: seconds({summary: 'Seconds the panes get to exit after Ctrl-C.', default: 2, helpValue: 'SECONDS'}),
    'all-matching': Flags.string({
      summary: 'Also stop every session whose name matches this regular expression.',
      helpValue: 'REGEX',
    }),
    'all-users': Flags.boolean({
      summary: "As root: also stop sessions on other users' tmux servers (and end their processes).",
    }),
    ...configFlags,
  }

  async run(): Promise<SessionStopResult> {
    const {argv, flags} = await this.parse(SessionStop)
    const names = (argv as string[]).filter(Boolean)
    let allMatching: RegExp | undefined
    if (flags['all-matching'] !== undefined) {
      try {
        allMatching = new RegExp(flags['all-matching'])
      } catch (error) {
        throw new DoctorError(`--all-matching: ${(error as Error).message}`)
      }
    }
    if (names.length === 0 && !allMatching)
      throw new DoctorError('name the sessions to stop, or pass --all-matching REGEX')
    const uid = process.getuid?.() ?? 0
    if (flags['all-users'] && uid !== 0)
      throw new DoctorError(`--all-users needs root (you are uid ${uid}): only root may stop other users' sessions`)
    const config = await loadConfig({explicit: flags.config})
    printConfigNotices(config, this.config.bin)
    const result = await stopSessions({
      request: {names, allMatching, socket: flags.socket === undefined ? undefined : socketPath(flags.socket)},
      graceMs: Math.round(flags.grace * 1000),
      interruptWaitMs: Math.round(flags.wait * 1000),
      config,
      allUsers: flags['all-users'],
    })
    // oclif's --json turns this.exit() into exit 1, so the code is set, not thrown.
    const failure = sessionStopFailure(result)
    process.exitCode = result.survived > 0 || failure ? EXIT.fixFailed : EXIT.ok
    // Pane commands are other programs' argv: masked, cut and escaped like a report's.
    const shown = forDisplay(result, {redact: true, home: os.homedir()})
    if (!this.jsonEnabled()) this.log(renderSessionStop(shown, {color: colorWanted()}))
    if (failure)
      process.stderr.write(`${this.config.bin}: ${forDisplay(failure, {redact: true, home: os.homedir()})}\n`)
    return shown
  }
}
