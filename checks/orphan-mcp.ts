import {analyzeOrphans, defineCheck, processFindingId, terminateTreeActions, type Finding, type OrphanTree} from '../src/index.js'

interface Options {
  /**
   * Also end trees matched only because Claude Code started them (CLAUDECODE=1) rather than as MCP
   * servers: a dev server or an agent the user asked for may be among them, so by default they are reported only.
   */
  fixClaudeCodeChildren: boolean
}

/** MCP server trees (with their npm exec / sh -c / uv wrappers) that no live Claude process owns any more. */
export default defineCheck<Options>({
  id: 'orphan-mcp',
  title: 'Orphan MCP servers',
  description:
    'An MCP server process tree, or a process Claude Code started (CLAUDECODE=1), that hangs from init, a subreaper or a tmux server with no live Claude process above it. MCP servers inside an orphan Claude tree are reported by orphan-claude. Popups and run-shell jobs are not orphans; supervised services and trees whose tmux server did not answer are reported as info and never fixed.',
  fixable: true,
  requires: ['linux-proc'],
  defaultOptions: {fixClaudeCodeChildren: false},
  detect({tree, rules, options}) {
    const {mcpTrees, unprovenMcpTrees} = analyzeOrphans(tree, rules)
    const nameOf = (t: OrphanTree) => {
      const server = t.mcpServers[0] ?? t.root
      return serverName(server.argv) ?? server.comm
    }
    const finding = (t: OrphanTree, f: Pick<Finding, 'severity' | 'message' | 'fixable'>, data: Record<string, unknown> = {}): Finding => {
      const memory = tree.memoryOf(t.members.map((m) => m.pid))
      return {
        id: processFindingId('orphan-mcp', t.root.pid, t.root.startTicks),
        check: 'orphan-mcp',
        severity: f.severity,
        message: f.message,
        reason: t.why,
        pid: t.root.pid,
        pids: t.members.map((m) => m.pid),
        memoryBytes: memory.bytes,
        memorySource: memory.source,
        session: tree.sessionFromTmuxEnv(t.root.env.TMUX),
        fixable: f.fixable,
        data: {mcpServers: t.mcpServers.length, parentPid: t.root.ppid, startTimeMs: t.root.startTimeMs, claudeCodeEnvOnly: t.envOnly, ...data},
      }
    }
    return [
      ...mcpTrees.map((t) =>
        finding(t, {
          severity: t.envOnly ? 'warning' : 'error',
          message: t.envOnly
            ? `Process left behind by Claude Code: ${t.root.argv.join(' ') || t.root.comm}`
            : `Orphan MCP server ${nameOf(t)}${t.members.length > 1 ? ` (${t.members.length} processes)` : ''}`,
          fixable: !t.envOnly || options.fixClaudeCodeChildren,
        }),
      ),
      // Not proved orphans: reported so that nobody wonders, never fixed.
      ...unprovenMcpTrees.map((t) =>
        finding(
          t,
          {
            severity: 'info',
            message:
              t.kind === 'supervised'
                ? `Supervised MCP server ${nameOf(t)} (${t.supervisor}): a service, not an orphan; left alone`
                : `Cannot verify MCP server ${nameOf(t)}: who owns it could not be checked, so it is left alone`,
            fixable: false,
          },
          t.supervisor ? {supervisor: t.supervisor} : {},
        ),
      ),
    ]
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
