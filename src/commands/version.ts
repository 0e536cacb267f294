import {DoctorCommand} from '../cli/base-command.js'

export default class Version extends DoctorCommand {
  static summary = 'Print the version (the same as --version and -V).'
  static examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']
  static enableJsonFlag = true

  async run(): Promise<{name: string; version: string; platform: string; arch: string; node: string}> {
    await this.parse(Version)
    const info = {
      name: this.config.name,
      version: this.config.version,
      platform: this.config.platform,
      arch: this.config.arch,
      node: process.version,
    }
    if (!this.jsonEnabled()) this.log(this.config.userAgent)
    return info
  }
}
