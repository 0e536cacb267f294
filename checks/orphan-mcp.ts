import {analyzeOrphans, defineCheck, treeFinding, type OrphanTree} from '../src/index.js'

interface Options {
  /** Deprecated: leftovers have their own check now; `true` here sets agent-leftover's `fixLeftovers`. */
  fixClaudeCodeChildren: boolean
}

/** MCP server trees (with their npm exec / sh -c / uv wrappers) that no live Claude process owns any more. */
export default defineCheck<Options>({
  id: 'orphan-mcp',
  title: 'Orphan MCP servers',
  description:
    'An MCP server process tree that hangs from init, a subreaper or a tmux server with no live Claude process above it and nothing tying it to a live claude (CLAUDE_PID, its messaging socket, CLAUDE_CODE_SESSION_ID). MCP servers inside an orphan Claude tree are reported by orphan-claude; trees Claude Code started without an MCP server by agent-leftover. Popups and run-shell jobs are not orphans; supervised services and trees whose tmux server did not answer are reported as info and never fixed.',
  severity: 'error',
  kind: 'orphan-tree',
  fixable: true,
  requires: ['linux-proc'],
  defaultOptions: {fixClaudeCodeChildren: false},
  detect({tree, rules}) {
    const {mcpTrees, unprovenTrees} = analyzeOrphans(tree, rules)
    const nameOf = (t: OrphanTree) => {
      const server = t.mcpServers[0] ?? t.root
      return serverName(server.argv) ?? server.comm
    }
    const data = (t: OrphanTree) => ({
      mcpServers: t.mcpServers.length,
      parentPid: t.root.ppid,
      startTimeMs: t.root.startTimeMs,
      claudeCodeEnvOnly: false,
    })
    const common = (t: OrphanTree) => ({
      root: t.root,
      members: t.members,
      reason: t.why,
      session: tree.sessionFromTmuxEnv(t.root.env.TMUX),
    })
    return [
      ...mcpTrees.map((t) =>
        treeFinding(tree, {
          ...common(t),
          message: `Orphan MCP server ${nameOf(t)}${t.members.length > 1 ? ` (${t.members.length} processes)` : ''}`,
          endTree: true,
          data: data(t),
        }),
      ),
      // Not proved orphans: reported so that nobody wonders, never fixed.
      ...unprovenTrees
        .filter((t) => !t.envOnly)
        .map((t) =>
          treeFinding(tree, {
            ...common(t),
            severity: 'info',
            message:
              t.kind === 'supervised'
                ? `Supervised MCP server ${nameOf(t)} (${t.supervisor}): a service, not an orphan; left alone`
                : `Cannot verify MCP server ${nameOf(t)}: who owns it could not be checked, so it is left alone`,
            data: {...data(t), ...(t.supervisor ? {supervisor: t.supervisor} : {})},
          }),
        ),
    ]
  },
})

/** What a person calls an MCP server: its package (`@modelcontextprotocol/server-memory`), image or program. */
function serverName(argv: readonly string[]): string | undefined {
  // A launcher that set its title (`npm exec @scope/pkg`) leaves one string with spaces.
  for (const arg of argv.flatMap((a) => a.split(/\s+/))) {
    const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(arg)
    if (inModules && inModules[1] !== '.bin') return inModules[1]
    if (
      /^@[\w.-]+\/[\w.-]+$/.test(arg) ||
      /^[\w.-]*mcp[\w.-]*(?:@[\w.^~-]+)?$/i.test(arg) ||
      /^mcp\/[\w.-]+$/.test(arg) ||
      /^mcp_server_\w+$/.test(arg)
    )
      return arg
  }
  const last = argv.find((a) => /mcp/i.test(a))
  return last?.split('/').pop()
}
