import {analyzeOrphans, defineCheck, processFindingId, terminateTreeActions} from '../src/index.js'

interface Options {
  /** Deprecated: leftovers have their own check now; `true` here sets agent-leftover's `fixLeftovers`. */
  fixClaudeCodeChildren: boolean
}

/** MCP server trees (with their npm exec / sh -c / uv wrappers) that no live Claude process owns any more. */
export default defineCheck<Options>({
  id: 'orphan-mcp',
  title: 'Orphan MCP servers',
  description:
    'An MCP server process tree that hangs from init, a subreaper or a tmux server with no live Claude process above it and nothing tying it to a live claude (CLAUDE_PID, its messaging socket, CLAUDE_CODE_SESSION_ID). MCP servers inside an orphan Claude tree are reported by orphan-claude; trees Claude Code started without an MCP server by agent-leftover.',
  fixable: true,
  requires: ['linux-proc'],
  defaultOptions: {fixClaudeCodeChildren: false},
  detect({tree, rules}) {
    return analyzeOrphans(tree, rules).mcpTrees.map((t) => {
      const memory = tree.memoryOf(t.members.map((m) => m.pid))
      const server = t.mcpServers[0] ?? t.root
      const name = serverName(server.argv) ?? server.comm
      return {
        id: processFindingId('orphan-mcp', t.root.pid, t.root.startTicks),
        check: 'orphan-mcp',
        severity: 'error',
        message: `Orphan MCP server ${name}${t.members.length > 1 ? ` (${t.members.length} processes)` : ''}`,
        reason: t.why,
        pid: t.root.pid,
        pids: t.members.map((m) => m.pid),
        memoryBytes: memory.bytes,
        memorySource: memory.source,
        session: tree.sessionFromTmuxEnv(t.root.env.TMUX),
        fixable: true,
        data: {mcpServers: t.mcpServers.length, parentPid: t.root.ppid, startTimeMs: t.root.startTimeMs, claudeCodeEnvOnly: false},
      }
    })
  },
  fix: (finding, {tree}) => (finding.fixable ? terminateTreeActions(tree, finding) : []),
})

/** What a person calls an MCP server: its package (`@modelcontextprotocol/server-memory`), image or program. */
function serverName(argv: readonly string[]): string | undefined {
  // A launcher that set its title (`npm exec @scope/pkg`) leaves one string with spaces.
  for (const arg of argv.flatMap((a) => a.split(/\s+/))) {
    const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(arg)
    if (inModules && inModules[1] !== '.bin') return inModules[1]
    if (/^@[\w.-]+\/[\w.-]+$/.test(arg) || /^[\w.-]*mcp[\w.-]*(?:@[\w.^~-]+)?$/i.test(arg) || /^mcp\/[\w.-]+$/.test(arg) || /^mcp_server_\w+$/.test(arg)) return arg
  }
  const last = argv.find((a) => /mcp/i.test(a))
  return last?.split('/').pop()
}
