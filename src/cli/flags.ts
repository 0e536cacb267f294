import {Flags} from '@oclif/core'
import {parseSeconds} from './seconds.js'
import {defaultHistoryFile} from '../monitor/history.js'

/**
 * Every flag more than one command takes, defined once here (a command's own flags stay in the command).
 */

/** --config FILE (or GT_DOCTOR_CONFIG): load exactly this configuration file instead of searching for one. */
export const configFlags = {
  config: Flags.string({
    summary: 'Use this configuration file instead of searching from the current directory upward.',
    env: 'GT_DOCTOR_CONFIG',
    helpValue: 'FILE',
  }),
}

/** --only / --skip: comma-separated check ids, repeatable. */
export const selectionFlags = {
  only: Flags.string({
    summary: 'Run only these checks (comma-separated ids, repeatable); also runs checks the config disables.',
    multiple: true,
    delimiter: ',',
    helpValue: 'ID,...',
  }),
  skip: Flags.string({
    summary: 'Do not run these checks (comma-separated ids, repeatable).',
    multiple: true,
    delimiter: ',',
    helpValue: 'ID,...',
  }),
}

/** Configuration files found but not trusted: one line each on stderr (a report carries them in its limitations too). */
export function printConfigNotices(config: {notices: readonly string[]}, bin: string): void {
  for (const notice of config.notices) process.stderr.write(`${bin}: ${notice}\n`)
}

/** How long a tmux server has to answer before it is named as not answering (and not waited on). */
const DEFAULT_TMUX_TIMEOUT_SECONDS = 3

/** --socket PATH: also query this tmux server (repeatable); --tmux-timeout: the bound on asking each server. */
export const socketsFlags = {
  socket: Flags.string({summary: 'Also query the tmux server on this socket path (repeatable).', multiple: true}),
  'tmux-timeout': Flags.custom<number>({parse: async (input) => parseSeconds(input, 0, 60, {aboveMin: true})})({
    summary:
      'Seconds each tmux server has to answer; one that does not is reported as a limitation, its sessions unchecked.',
    default: DEFAULT_TMUX_TIMEOUT_SECONDS,
    helpValue: 'SECONDS',
  }),
}

/** --redact / --no-redact: what leaves the machine carries no secret unless the user says so. */
export const redactFlags = {
  redact: Flags.boolean({
    summary: 'Mask secrets and show home directories as ~ (--no-redact to turn off).',
    default: true,
    allowNo: true,
  }),
}

/** -o FILE: write `what` (the report, the snapshot) atomically to a file. */
export function outputFlag(what: string) {
  return Flags.string({char: 'o', summary: `Write ${what} to this file (atomically) instead of standard output.`})
}

/** The history file (JSON lines), under the state directory by default. */
export function historyFileFlag(summary: string) {
  return Flags.string({
    summary,
    helpValue: 'FILE',
    default: defaultHistoryFile(),
    defaultHelp: async () => '$XDG_STATE_HOME/gt-doctor/history.jsonl',
  })
}
