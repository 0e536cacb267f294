import {Flags} from '@oclif/core'
import {DoctorCommand} from '../cli/base-command.js'
import {historyFileFlag} from '../cli/flags.js'
import {HISTORY_READ_LIMIT, readHistory, type HistoryEntry} from '../monitor/history.js'
import {formatBytes, plural} from '../render/format.js'
import {parseSince} from '../monitor/since.js'
import {colorWanted} from '../render/table.js'
import {formatTime, renderHistory} from '../render/history.js'
import {hanging, terminalWidth} from '../render/width.js'
import {escapeControls} from '../words.js'

export interface HistoryResult {
  file: string
  since: string | null
  /** Lines skipped because they were not a history entry. */
  malformed: number
  /** Bytes at the start of a file over the read limit that were not read: the oldest runs. */
  skippedBytes?: number
  points: HistoryEntry[]
}

export default class History extends DoctorCommand {
  static summary = 'Show the orphan counts recorded by `watch` over time, as a chart and a table.'
  static description =
    'Reads the JSON-lines history that `gt-doctor watch` appends to and shows how the orphan counts changed. Lines that are not a history entry are skipped and counted.'
  static examples = [
    {description: 'The last day', command: '<%= config.bin %> history --since 24h'},
    {description: 'Every recorded run as JSON', command: '<%= config.bin %> history --json'},
  ]
  static enableJsonFlag = true
  static flags = {
    since: Flags.string({
      summary: 'Only runs since then: a duration back from now (30m, 24h, 7d) or a date.',
      helpValue: 'DURATION',
    }),
    file: historyFileFlag('The history file to read.'),
    limit: Flags.integer({summary: 'Rows of the table: the most recent runs.', default: 20, min: 1}),
  }

  async run(): Promise<HistoryResult> {
    const {flags} = await this.parse(History)
    const since = flags.since === undefined ? undefined : parseSince(flags.since)
    const read = readHistory(flags.file)
    const points = since ? read.entries.filter((e) => Date.parse(e.time) >= since.getTime()) : read.entries
    const result: HistoryResult = {
      file: flags.file,
      since: since?.toISOString() ?? null,
      malformed: read.malformed,
      ...(read.skippedBytes ? {skippedBytes: read.skippedBytes} : {}),
      points,
    }
    process.exitCode = 0
    if (this.jsonEnabled()) return result

    // A path may be longer than the terminal and hold anything: each line is escaped, then wrapped.
    const say = (text: string) => this.log(hanging(escapeControls(text), terminalWidth(), '', '  ').join('\n'))
    if (read.entries.length === 0) {
      say(
        read.missing
          ? `No history yet: ${flags.file} does not exist. \`${this.config.bin} watch\` records one.`
          : `No runs recorded in ${flags.file} yet.`,
      )
    } else if (points.length === 0) {
      say(
        `No runs since ${formatTime(since!.toISOString())} in ${flags.file}; the latest was at ${formatTime(read.entries[read.entries.length - 1].time)}.`,
      )
    } else {
      this.log(renderHistory(points, {color: colorWanted(), limit: flags.limit, width: terminalWidth()}))
    }
    if (read.skippedBytes) {
      say(
        `note: ${flags.file} is larger than ${formatBytes(HISTORY_READ_LIMIT)}: only its end was read; ${formatBytes(read.skippedBytes)} of older runs were skipped`,
      )
    }
    if (read.malformed > 0) say(`note: skipped ${plural(read.malformed, 'malformed line')} in ${flags.file}`)
    return result
  }
}
