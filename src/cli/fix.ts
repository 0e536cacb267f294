import {Flags} from '@oclif/core'
import type {RemediationPlan} from '../remediation/plan.js'
import {plannedOtherActions, plannedProcesses} from '../remediation/plan.js'
import {plural} from '../render/format.js'
import {seconds} from './seconds.js'

/** The flags of `check` that ask for a fix. */
export const fixFlags = {
  fix: Flags.boolean({summary: 'End every orphan found: show the plan, ask on a terminal, signal, then check again.'}),
  yes: Flags.boolean({char: 'y', summary: 'Fix without asking (required with --fix when stdin is not a terminal).'}),
  'dry-run': Flags.boolean({summary: 'Show what --fix would signal, and verify it, but signal nothing.'}),
  grace: seconds({
    summary: 'Seconds between SIGTERM and SIGKILL, for all trees together.',
    default: 5,
    helpValue: 'SECONDS',
  }),
  'all-users': Flags.boolean({
    summary: "As root: also end other users' orphans (otherwise only your own are signalled).",
  }),
}

/** Asks on the terminal (on stderr, so that --json output stays clean); Ctrl-C counts as no. */
export async function confirmPlan(plan: RemediationPlan): Promise<boolean> {
  const {default: confirm} = await import('@inquirer/confirm')
  const n = plannedProcesses(plan).length
  const other = plannedOtherActions(plan).length
  const what = [n > 0 ? plural(n, 'process', 'processes') : '', other > 0 ? plural(other, 'tmux action') : '']
    .filter(Boolean)
    .join(' and ')
  try {
    return await confirm({message: `End ${what}?`, default: false}, {output: process.stderr})
  } catch {
    return false
  }
}
