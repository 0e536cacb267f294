import {Flags} from '@oclif/core'

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
  skip: Flags.string({summary: 'Do not run these checks (comma-separated ids, repeatable).', multiple: true, delimiter: ',', helpValue: 'ID,...'}),
}

/** Configuration files found but not trusted: one line each on stderr (a report carries them in its limitations too). */
export function printConfigNotices(config: {notices: readonly string[]}, bin: string): void {
  for (const notice of config.notices) process.stderr.write(`${bin}: ${notice}\n`)
}
