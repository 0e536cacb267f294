import {DoctorCommand} from '../cli/base-command.js'
import Table from 'cli-table3'
import {describeSource} from '../checks/registry.js'
import {loadChecks} from '../doctor.js'
import {colorWanted} from '../render/table.js'

export interface CheckListing {
  id: string
  title: string
  description: string
  fixable: boolean
  source: string
}

export default class Checks extends DoctorCommand {
  static summary = 'List every registered check: id, title, whether it can fix, and where it came from.'
  static examples = ['<%= config.bin %> checks', '<%= config.bin %> checks --json']
  static enableJsonFlag = true

  async run(): Promise<CheckListing[]> {
    await this.parse(Checks)
    const listing = (await loadChecks()).map(({check, source}) => ({
      id: check.id,
      title: check.title,
      description: check.description,
      fixable: Boolean(check.fixable),
      source: describeSource(source),
    }))
    if (!this.jsonEnabled()) {
      const color = colorWanted()
      const table = new Table({
        head: ['Check', 'Title', 'Fix', 'Source'],
        style: color ? {head: ['bold'], border: ['gray']} : {head: [], border: []},
      })
      for (const c of listing) table.push([c.id, c.title, c.fixable ? 'yes' : 'report only', c.source])
      this.log(table.toString())
    }
    return listing
  }
}
