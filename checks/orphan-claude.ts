import {analyzeOrphans, defineCheck, formatElapsed, plural, treeFinding, type Snapshot} from '../src/index.js'

/**
 * Claude Code processes that outlived their tmux session: not in any live pane, and adopted by init,
 * a subreaper or the tmux server itself (or their pane is gone and no terminal holds them).
 */
export default defineCheck({
  id: 'orphan-claude',
  title: 'Orphan Claude processes',
  // Every agent of the rules' table is judged here (the id and title predate the table and keep their names).
  description:
    "A Claude process (or another agent of the rules' table: Codex, Gemini CLI, opencode, cursor-agent, Copilot CLI, aider) that no live tmux pane holds and that was reparented to init, a subreaper such as systemd --user, or the tmux server after its session was killed. Popups and run-shell jobs are not orphans; supervised services and claudes whose tmux server did not answer are reported as info and never fixed.",
  severity: 'error',
  kind: 'orphan-agent',
  fixable: true,
  requires: ['linux-proc'],
  detect({tree, rules, snapshot, report}) {
    const {claudes, orphanClaudes, claudeTrees} = analyzeOrphans(tree, rules)
    for (const verdict of orphanClaudes) {
      const t = claudeTrees.get(verdict.proc.pid)!
      const servers = t.mcpServers.length
      const agent = rules.agentOf(verdict.proc) ?? 'claude'
      report(
        treeFinding(tree, {
          root: verdict.proc,
          members: t.members,
          message: `Orphan ${agent}${age(snapshot, verdict.proc.startTimeMs)}, ${plural(servers, 'MCP server')} (${plural(t.members.length, 'process', 'processes')})`,
          reason: verdict.why,
          session: tree.sessionFromTmuxEnv(verdict.proc.env.TMUX),
          socket: verdict.lastSocket,
          data: {
            agent,
            evidence: verdict.evidence,
            parentPid: verdict.proc.ppid,
            startTimeMs: verdict.proc.startTimeMs,
            mcpServers: servers,
            lastPane: verdict.lastPane,
          },
          endTree: true,
        }),
      )
    }
    // Not proved orphans: reported so that nobody wonders, never fixed.
    for (const verdict of claudes.filter((c) => c.kind === 'cannot-verify' || c.kind === 'supervised')) {
      const agent = rules.agentOf(verdict.proc) ?? 'claude'
      const who = agent === 'claude' ? 'Claude' : rules.agentName(agent)
      report({
        severity: 'info',
        message:
          verdict.kind === 'supervised'
            ? `Supervised ${who} process (${verdict.supervisor}): a service, not an orphan; left alone`
            : `Cannot verify this ${who} process: who owns it could not be checked, so it is left alone`,
        reason: verdict.why,
        pid: verdict.proc.pid,
        socket: verdict.lastSocket,
        data: {
          agent,
          parentPid: verdict.proc.ppid,
          startTimeMs: verdict.proc.startTimeMs,
          ...(verdict.supervisor ? {supervisor: verdict.supervisor} : {}),
        },
      })
    }
  },
})

/** `, 8h 39m old`: how long it has been running when the snapshot was taken. */
function age(snapshot: Snapshot, startTimeMs: number | undefined): string {
  if (startTimeMs === undefined) return ''
  return `, ${formatElapsed(Date.parse(snapshot.collectedAt) - startTimeMs)} old`
}
