import {analyzeOrphans, defineCheck, formatElapsed, processFindingId, terminateTreeActions, type Finding, type Snapshot} from '../src/index.js'

/**
 * Claude Code processes that outlived their tmux session: not in any live pane, and adopted by init,
 * a subreaper or the tmux server itself (or their pane is gone and no terminal holds them).
 */
export default defineCheck({
  id: 'orphan-claude',
  title: 'Orphan Claude processes',
  description:
    'A Claude process that no live tmux pane holds and that was reparented to init, a subreaper such as systemd --user, or the tmux server after its session was killed. Popups and run-shell jobs are not orphans; supervised services and claudes whose tmux server did not answer are reported as info and never fixed.',
  fixable: true,
  requires: ['linux-proc'],
  detect({tree, rules, snapshot}) {
    const {claudes, orphanClaudes, claudeTrees} = analyzeOrphans(tree, rules)
    const findings: Finding[] = []
    for (const verdict of orphanClaudes) {
      const t = claudeTrees.get(verdict.proc.pid)!
      const memory = tree.memoryOf(t.members.map((m) => m.pid))
      const servers = t.mcpServers.length
      findings.push({
        id: processFindingId('orphan-claude', verdict.proc.pid, verdict.proc.startTicks),
        check: 'orphan-claude',
        severity: 'error',
        message: `Orphan claude${age(snapshot, verdict.proc.startTimeMs)}, ${servers} MCP server${servers === 1 ? '' : 's'} (${t.members.length} process${t.members.length === 1 ? '' : 'es'})`,
        reason: verdict.why,
        pid: verdict.proc.pid,
        pids: t.members.map((m) => m.pid),
        memoryBytes: memory.bytes,
        memorySource: memory.source,
        session: tree.sessionFromTmuxEnv(verdict.proc.env.TMUX),
        socket: verdict.lastSocket,
        fixable: true,
        data: {evidence: verdict.evidence, parentPid: verdict.proc.ppid, startTimeMs: verdict.proc.startTimeMs, mcpServers: servers, lastPane: verdict.lastPane},
      })
    }
    // Not proved orphans: reported so that nobody wonders, never fixed.
    for (const verdict of claudes.filter((c) => c.kind === 'cannot-verify' || c.kind === 'supervised')) {
      findings.push({
        id: processFindingId('orphan-claude', verdict.proc.pid, verdict.proc.startTicks),
        check: 'orphan-claude',
        severity: 'info',
        message:
          verdict.kind === 'supervised'
            ? `Supervised Claude process (${verdict.supervisor}): a service, not an orphan; left alone`
            : 'Cannot verify this Claude process: who owns it could not be checked, so it is left alone',
        reason: verdict.why,
        pid: verdict.proc.pid,
        pids: [verdict.proc.pid],
        socket: verdict.lastSocket,
        fixable: false,
        data: {parentPid: verdict.proc.ppid, startTimeMs: verdict.proc.startTimeMs, ...(verdict.supervisor ? {supervisor: verdict.supervisor} : {})},
      })
    }
    return findings
  },
  fix: (finding, {tree}) => terminateTreeActions(tree, finding),
})

/** `, 8h 39m old`: how long it has been running when the snapshot was taken. */
function age(snapshot: Snapshot, startTimeMs: number | undefined): string {
  if (startTimeMs === undefined) return ''
  return `, ${formatElapsed(Date.parse(snapshot.collectedAt) - startTimeMs)} old`
}
