import check from '../../checks/orphan-mcp.js'
import {testCheck} from '../support/check-tester.js'

testCheck(check, {
  flags: [
    {
      name: 'an MCP server adopted by init with no claude above it: an error whose fix ends its tree',
      machine(m) {
        m.proc({pid: 500, ppid: 1, cmd: 'npm exec @modelcontextprotocol/server-memory', mib: 20})
        m.proc({
          pid: 501,
          ppid: 500,
          cmd: 'node /x/node_modules/@modelcontextprotocol/server-memory/dist/index.js',
          mib: 30,
        })
      },
      findings: [
        {
          id: 'orphan-mcp:500:5000',
          check: 'orphan-mcp',
          severity: 'error',
          message: 'Orphan MCP server @modelcontextprotocol/server-memory (2 processes)',
          pid: 500,
          pids: [500, 501],
          memoryBytes: 50 * 1024 * 1024,
          fixable: true,
          data: {mcpServers: 1, parentPid: 1, startTimeMs: 1_760_000_050_000, claudeCodeEnvOnly: false},
        },
      ],
      ends: [500, 501],
    },
  ],
  ignores: [
    {
      name: 'an MCP server under a live claude in a pane',
      machine(m) {
        m.pane(m.server({pid: 100}), 'gt-alpha', {pid: 101, cmd: 'claude'})
        m.proc({pid: 102, ppid: 101, cmd: 'npx -y @modelcontextprotocol/server-github'})
      },
    },
    {
      name: 'MCP servers inside an orphan claude tree (orphan-claude reports those)',
      machine(m) {
        m.proc({pid: 300, ppid: 1, cmd: 'claude'})
        m.proc({pid: 301, ppid: 300, cmd: 'npx -y @modelcontextprotocol/server-github'})
      },
    },
  ],
})
