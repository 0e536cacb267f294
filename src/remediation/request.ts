import {DoctorError} from '../errors.js'

/** What the user asked `--fix` to do, validated before anything is collected. */
export interface FixRequest {
  dryRun: boolean
  /** Fix without asking. */
  yes: boolean
  graceMs: number
  allUsers: boolean
  /** Checks named with --only: a check whose fix needs naming is fixed only then. */
  only?: string[]
}

export interface FixFlags {
  fix?: boolean
  'dry-run'?: boolean
  yes?: boolean
  grace?: number
  'all-users'?: boolean
  only?: string[]
}

/**
 * Turns the command's flags into a fix request (undefined: no fix asked), refusing with exit 2 what cannot
 * be done safely: fixing without a terminal to confirm on and without --yes, --all-users without root.
 */
export function fixRequest(flags: FixFlags, env: {stdinIsTTY: boolean; uid: number}): FixRequest | undefined {
  const dryRun = Boolean(flags['dry-run'])
  if (!flags.fix && !dryRun) {
    const stray = (['yes', 'all-users'] as const).filter((f) => flags[f])
    if (stray.length > 0) throw new DoctorError(`--${stray[0]} applies only with --fix`)
    return undefined
  }
  const allUsers = Boolean(flags['all-users'])
  if (allUsers && env.uid !== 0)
    throw new DoctorError(`--all-users needs root (you are uid ${env.uid}): only root may end other users' processes`)
  if (!dryRun && !flags.yes && !env.stdinIsTTY) {
    throw new DoctorError(
      '--fix asks for confirmation but stdin is not a terminal: pass --yes to fix without asking, or --dry-run to only see the plan',
    )
  }
  return {dryRun, yes: Boolean(flags.yes), graceMs: Math.round((flags.grace ?? 5) * 1000), allUsers, only: flags.only}
}
