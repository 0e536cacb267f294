import {Command} from '@oclif/core'
import {printFailure} from '../errors.js'

/**
 * Every gt-doctor command: any failure is one line on stderr and a distinct exit code (2 unless the error
 * carries its own), never a stack trace; under --json the same line also goes to stdout as
 * `{"error": {"message", "exitCode"}}` so a pipeline reading JSON still gets JSON.
 */
export abstract class DoctorCommand extends Command {
  protected async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<void> {
    // A flag error is a parse that failed, not a command that forgot to parse: keep oclif's dev warning quiet.
    this.parsed = true
    const {message, exitCode} = printFailure(this.config.bin, err)
    if (this.jsonEnabled()) this.logJson({error: {message, exitCode}})
  }
}
