import {expect} from 'vitest'
import check from '../../checks/orphan-claude.js'
import {testCheck} from '../support/check-tester.js'

testCheck(check, {
  flags: [
    {
      name: 'a claude adopted by init, with its MCP server: an error whose fix ends the whole tree',
      machine(m) {
        m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 400})
        m.proc({pid: 301, ppid: 300, cmd: 'npx -y @modelcontextprotocol/server-github', mib: 50})
      },
      findings: [
        {
          id: 'orphan-claude:300:3000',
          check: 'orphan-claude',
          severity: 'error',
          message: expect.stringMatching(/^Orphan claude, .+ old, 1 MCP server \(2 processes\)$/),
          pid: 300,
          pids: [300, 301],
          memoryBytes: 450 * 1024 * 1024,
          memorySource: 'pss',
          fixable: true,
          data: expect.objectContaining({mcpServers: 1, parentPid: 1}),
        },
      ],
      ends: [300, 301],
    },
    {
      name: 'a claude whose tmux server did not answer: info, never fixed',
      machine(m) {
        const s = m.server({pid: 100, status: 'unresponsive'})
        m.proc({pid: 300, ppid: 100, cmd: 'claude', env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%0'}})
      },
      findings: [{id: 'orphan-claude:300:3000', severity: 'info', pids: [300], fixable: false}],
      ends: [],
    },
  ],
  ignores: [
    {
      name: 'a claude in a live pane',
      machine(m) {
        m.pane(m.server({pid: 100}), 'gt-alpha', {pid: 101, cmd: 'claude'})
      },
    },
    {name: 'a machine without claude', machine: (m) => void m.proc({pid: 50, ppid: 1, cmd: 'sleep 100'})},
  ],
})
