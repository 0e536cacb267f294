import {expect} from 'vitest'
import check from '../../checks/detached-run.js'
import {paneEnv, ranFor} from '../support/claude-today.js'
import type {Machine} from '../support/machine.js'
import {testCheck} from '../support/check-tester.js'

/** `setsid -f claude -p …` from a session since killed: its own session, no terminal, parent init. */
function detached(m: Machine) {
  const s = m.server({pid: 100})
  m.proc({
    pid: 400,
    ppid: 1,
    sid: 400,
    pgid: 400,
    ttyNr: 0,
    comm: 'claude',
    argv: ['claude', '--print', 'write the changelog'],
    env: paneEnv(s, '%8'),
    ...ranFor(45),
    mib: 250,
  })
}

testCheck(check, {
  flags: [
    {
      name: 'a detached headless run: info, never ended by default',
      machine: detached,
      findings: [
        {
          check: 'detached-run',
          severity: 'info',
          message: expect.stringMatching(/^Detached claude .+, 45m old, .+0 MCP servers \(1 process\)$/),
          pid: 400,
          pids: [400],
          fixable: false,
          data: expect.objectContaining({claudePid: 400, mcpServers: 0}),
        },
      ],
      ends: [],
    },
    {
      name: 'older than stuckAfterSeconds: an error whose fix ends the job',
      machine: detached,
      options: {stuckAfterSeconds: 600},
      findings: [{pid: 400, severity: 'error', fixable: true, message: expect.stringMatching(/^Stuck detached run: /)}],
      ends: [400],
    },
  ],
  ignores: [
    {
      name: 'a headless claude in a live pane',
      machine(m) {
        m.pane(m.server({pid: 100}), 'ci', {pid: 101, cmd: 'claude -p hello'})
      },
    },
  ],
})
