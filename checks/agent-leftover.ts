import {analyzeOrphans, defineCheck, isCommandWrapper, treeFinding, type LeftoverTree} from '../src/index.js'

interface Options {
  /**
   * Also end leftovers (default: report only, since a dev server the user asked the agent to start may be
   * among them). orphan-mcp's deprecated `fixClaudeCodeChildren` sets this too.
   */
  fixLeftovers: boolean
}

/**
 * Process trees Claude Code started (CLAUDECODE=1) that outlived their claude: a Bash-tool background
 * command after a crash, a dev server left running. Report-only by default.
 */
export default defineCheck<Options>({
  id: 'agent-leftover',
  title: 'Leftovers of agent tools',
  description:
    "A process tree an agent started (CLAUDECODE=1, or another agent's marker in the rules' table: a Bash-tool background command, a dev server) that outlived its agent: it hangs from init, a subreaper or a tmux server, holds no MCP server, and neither CLAUDE_PID nor CLAUDE_CODE_SESSION_ID ties it to a live claude. Warning, report-only unless options.fixLeftovers is set.",
  severity: 'warning',
  kind: 'leftover',
  fixable: true,
  fixOptIn: 'fixLeftovers',
  requires: ['linux-proc'],
  defaultOptions: {fixLeftovers: false},
  detect({tree, rules, options}) {
    const {leftovers, unprovenTrees} = analyzeOrphans(tree, rules)
    const found = leftovers.map((t) => {
      // The command a person recognises, not the shell wrapping it.
      const command = t.members.find((m) => !isCommandWrapper(m)) ?? t.root
      const withEnv = (key: 'TMUX_PANE' | 'CLAUDE_CODE_ENTRYPOINT') =>
        t.members.find((m) => m.env[key] !== undefined)?.env[key]
      const lastPane = withEnv('TMUX_PANE')
      const entrypoint = withEnv('CLAUDE_CODE_ENTRYPOINT')
      return treeFinding(tree, {
        root: t.root,
        members: t.members,
        message: `Left behind by ${rules.agentName(t.agent)}${evidenceNote(t.tie)}: ${command.argv.join(' ') || command.comm}${t.members.length > 1 ? ` (${t.members.length} processes)` : ''}`,
        reason: t.why,
        session: tree.sessionFromTmuxEnv(t.root.env.TMUX),
        endTree: options.fixLeftovers,
        data: {
          agent: t.agent,
          evidence: t.tie.kind === 'none' ? 'tree-shape' : t.tie.kind,
          ...(t.tie.kind === 'none' ? {} : {claudePid: t.tie.claudePid}),
          ...(t.tie.kind === 'pid-reused' ? {claudePidNow: t.tie.now.comm} : {}),
          parentPid: t.root.ppid,
          startTimeMs: t.root.startTimeMs,
          ...(lastPane ? {lastPane} : {}),
          ...(entrypoint ? {entrypoint} : {}),
        },
      })
    })
    // Not proved leftovers (a supervisor runs it, or its tmux server did not answer): reported, never fixed.
    const unproven = unprovenTrees
      .filter((t) => t.envOnly)
      .map((t) => {
        const command = t.members.find((m) => !isCommandWrapper(m)) ?? t.root
        const what = command.argv.join(' ') || command.comm
        return treeFinding(tree, {
          root: t.root,
          members: t.members,
          severity: 'info',
          message:
            t.kind === 'supervised'
              ? `Supervised (${t.supervisor}), not a leftover; left alone: ${what}`
              : `Cannot verify this leftover of ${rules.agentName(t.agent ?? 'claude')}, so it is left alone: ${what}`,
          reason: t.why,
          session: tree.sessionFromTmuxEnv(t.root.env.TMUX),
          data: {
            parentPid: t.root.ppid,
            startTimeMs: t.root.startTimeMs,
            ...(t.supervisor ? {supervisor: t.supervisor} : {}),
          },
        })
      })
    return [...found, ...unproven]
  },
})

function evidenceNote(tie: LeftoverTree['tie']): string {
  if (tie.kind === 'claude-gone') return ` (claude ${tie.claudePid} is gone)`
  if (tie.kind === 'pid-reused') return ` (claude ${tie.claudePid} is gone, PID reused)`
  return ''
}
