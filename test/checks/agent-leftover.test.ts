import {expect} from 'vitest'
import check from '../../checks/agent-leftover.js'
import {bashToolWrapper, childEnv, ranFor} from '../support/claude-today.js'
import type {Machine} from '../support/machine.js'
import {testCheck} from '../support/check-tester.js'

/** The Bash tool's background command a crashed claude (pid 600, gone) left behind: wrapper and command. */
function leftover(m: Machine) {
  const env = childEnv('crashed-600', {CLAUDE_PID: '600'})
  m.proc({
    pid: 610,
    ppid: 1,
    sid: 610,
    pgid: 610,
    ttyNr: 0,
    argv: bashToolWrapper('node dev-server.js'),
    env,
    ...ranFor(50),
  })
  m.proc({
    pid: 611,
    ppid: 610,
    sid: 610,
    pgid: 610,
    ttyNr: 0,
    argv: ['node', 'dev-server.js'],
    env,
    ...ranFor(50),
    mib: 80,
  })
}

testCheck(check, {
  flags: [
    {
      name: 'a Bash-tool command that outlived its claude: a warning, report-only by default',
      machine: leftover,
      findings: [
        {
          check: 'agent-leftover',
          severity: 'warning',
          message: 'Left behind by Claude Code (claude 600 is gone): node dev-server.js (2 processes)',
          pid: 610,
          pids: [610, 611],
          fixable: false,
          data: expect.objectContaining({evidence: 'claude-gone', claudePid: 600, parentPid: 1}),
        },
      ],
      ends: [],
    },
    {
      name: 'with fixLeftovers, its fix ends the whole tree',
      machine: leftover,
      options: {fixLeftovers: true},
      findings: [{pid: 610, fixable: true}],
      ends: [610, 611],
    },
  ],
  ignores: [
    {
      name: 'a process under init that Claude Code did not start',
      machine: (m) => void m.proc({pid: 610, ppid: 1, cmd: 'node dev-server.js'}),
    },
    {
      name: 'a command whose claude still runs',
      machine(m) {
        m.pane(m.server({pid: 100}), 'gt-alpha', {pid: 600, cmd: 'claude'})
        m.proc({pid: 610, ppid: 600, argv: ['node', 'dev-server.js'], env: childEnv('s-600', {CLAUDE_PID: '600'})})
      },
    },
  ],
})
