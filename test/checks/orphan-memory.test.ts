import {expect} from 'vitest'
import check from '../../checks/orphan-memory.js'
import {testCheck} from '../support/check-tester.js'

const MiB = 1024 * 1024
const orphan = (m: import('../support/machine.js').Machine) => {
  m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 400})
  m.proc({pid: 301, ppid: 300, cmd: 'npx -y @modelcontextprotocol/server-github', mib: 50})
}

testCheck(check, {
  flags: [
    {
      name: 'memory held by an orphan tree, below the limit: a warning, never fixable',
      machine: orphan,
      findings: [
        {
          id: 'orphan-memory:total',
          check: 'orphan-memory',
          severity: 'warning',
          message: expect.stringMatching(/^450 MiB held by 1 orphan tree \(limit .+\); largest: 300 \(450 MiB\)$/),
          pids: [300, 301],
          memoryBytes: 450 * MiB,
          memorySource: 'pss',
          fixable: false,
        },
      ],
      ends: [],
    },
    {
      name: 'at or above limitBytes: an error',
      machine: orphan,
      options: {limitBytes: 100 * MiB},
      findings: [
        {
          id: 'orphan-memory:total',
          severity: 'error',
          data: {limitBytes: 100 * MiB, top: [{pid: 300, memoryBytes: 450 * MiB, processes: 2}]},
        },
      ],
    },
  ],
  ignores: [
    {
      name: 'no orphan at all',
      machine: (m) => void m.pane(m.server({pid: 100}), 'gt-alpha', {pid: 101, cmd: 'claude', mib: 300}),
    },
  ],
})
