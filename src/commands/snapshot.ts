import os from 'node:os'
import {DoctorCommand} from '../cli/base-command.js'
import {outputFlag, redactFlags, socketsFlags} from '../cli/flags.js'
import {writeOutput} from '../render/output.js'
import {redactSnapshot} from '../report/redact.js'
import {collectSnapshot} from '../snapshot/collect.js'
import {serializeSnapshot} from '../snapshot/load.js'

export default class Snapshot extends DoctorCommand {
  static summary = 'Save what the checks see to a file, for `check --from` on another machine.'
  static description =
    'Collects the same snapshot `check` uses and writes it as JSON (snapshotVersion 1). Command lines are redacted (secrets masked, home directories as ~) unless --no-redact; of the environment only TMUX, TMUX_PANE, CLAUDECODE, CLAUDE_CODE_SESSION_ID, CLAUDE_PID, CLAUDE_CODE_ENTRYPOINT and CLAUDE_CODE_MESSAGING_SOCKET are ever kept.'
  static examples = [
    {description: 'Record this machine', command: '<%= config.bin %> snapshot --output state.json'},
    {description: 'Reproduce its findings anywhere', command: '<%= config.bin %> check --from state.json'},
  ]
  static flags = {
    output: outputFlag('the snapshot'),
    ...redactFlags,
    ...socketsFlags,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Snapshot)
    const collected = await collectSnapshot({sockets: flags.socket, tmuxTimeoutMs: flags['tmux-timeout'] * 1000})
    const snapshot = flags.redact ? redactSnapshot(collected, {home: os.homedir()}) : collected
    const text = serializeSnapshot(snapshot)
    if (flags.output) await writeOutput(flags.output, text)
    else process.stdout.write(text)
  }
}
