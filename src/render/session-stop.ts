import Table from 'cli-table3'
import type {Ending, ProcessEnding, TeardownResult} from '../remediation/teardown-steps.js'
import {plural, shortCommand} from './format.js'
import {COMPACT_ROWS, painter, tableStyle} from './table.js'

const HOW: Record<Ending, string> = {
  'ctrl-c': 'exited on Ctrl-C',
  exited: 'exited',
  sigterm: 'ended by SIGTERM',
  sigkill: 'ended by SIGKILL',
  survived: 'SURVIVED',
  left: 'left alone',
}

function how(p: ProcessEnding): string {
  if (p.ended === 'sigkill') return `${HOW.sigkill} (ignored Ctrl-C and SIGTERM)`
  if (p.ended === 'survived' || p.ended === 'exited' || p.ended === 'left') return `${HOW[p.ended]}: ${p.detail}`
  return HOW[p.ended]
}

const SESSION: Record<TeardownResult['sessions'][number]['outcome'], string> = {
  killed: 'killed',
  'closed-by-itself': 'closed by itself when its last pane exited',
  'kill-failed': 'kill-session FAILED',
  skipped: 'LEFT ALONE (see the note)',
}

/** Per session: what became of it and of each recorded process; then one line for everything. */
export function renderSessionStop(result: TeardownResult, opts: {color: boolean}): string {
  const c = painter(opts.color)
  const paint: Record<Ending, (t: string) => string> = {
    'ctrl-c': c.green,
    exited: c.green,
    sigterm: c.yellow,
    sigkill: c.yellow,
    survived: c.red,
    left: c.red,
  }
  const lines: string[] = []
  for (const s of result.sessions) {
    lines.push(c.bold(`Session ${s.session} (${s.socket}): ${SESSION[s.outcome]}`))
    if (s.processes.length > 0) {
      const table = new Table({
        head: ['Pane', 'PID', 'Command', 'How it ended'],
        ...tableStyle(opts.color),
        ...COMPACT_ROWS,
      })
      for (const p of s.processes)
        table.push([p.paneId, String(p.pid), shortCommand(p.command, 60), paint[p.ended](how(p))])
      lines.push(table.toString())
    } else {
      lines.push('  no process was running in it')
    }
    for (const n of s.notes) lines.push(c.gray(`  note: ${n}`))
  }
  lines.push(summaryOf(result, opts.color))
  return lines.join('\n')
}

/** `Stopped 2 sessions: 6 processes ended (2 on Ctrl-C, 1 by SIGTERM, 3 needed SIGKILL); nothing survived.` */
export function summaryOf(result: TeardownResult, color: boolean): string {
  const c = painter(color)
  const all = result.sessions.flatMap((s) => s.processes)
  const n = (e: Ending) => all.filter((p) => p.ended === e).length
  const ended = all.length - n('survived') - n('left')
  const left = result.sessions.filter((s) => s.outcome === 'skipped').length
  const parts = [`${n('ctrl-c')} on Ctrl-C`]
  if (n('exited') > 0) parts.push(`${n('exited')} with their parent`)
  parts.push(`${n('sigterm')} by SIGTERM`, `${n('sigkill')} needed SIGKILL`)
  const head = `Stopped ${plural(result.sessions.length - left, 'session')}: ${plural(ended, 'process', 'processes')} ended (${parts.join(', ')})`
  const alone = left > 0 ? `; ${plural(left, 'session')} left alone (see above)` : ''
  // `survived` counts the sessions left alone too.
  const survivors = result.survived - left
  if (survivors > 0) return c.red(`${head}; ${survivors} SURVIVED (see above)${alone}`)
  if (left > 0) return c.red(`${head}${alone}`)
  const noSignal = ended > 0 && n('sigterm') + n('sigkill') === 0 ? '; no SIGTERM was needed' : ''
  return c.green(`${head}${noSignal}; nothing survived.`)
}
