import {analyzeOrphans, defineCheck, type Found, type ProcessInfo} from '../src/index.js'

/**
 * Where tmux sessions and Claude processes disagree: agent sessions with no claude, panes with several,
 * dead panes kept by remain-on-exit, and claudes whose tmux server is gone. Report-only: an idle agent
 * session is someone's work. Dead panes can be killed, but only when the check is named with --only.
 */
export default defineCheck({
  id: 'session-mismatch',
  title: 'Sessions without agents, agents without sessions',
  description:
    'Agent sessions (Gas Town naming, or any session a claude ran in) with no Claude process, panes running more than one claude, dead panes kept by remain-on-exit, and claudes whose TMUX variable names a tmux server that is gone.',
  severity: 'warning',
  requires: ['tmux'],
  fixable: true,
  fixRequiresOnly: true,
  detect({tree, rules, snapshot}) {
    const findings: Found[] = []
    const {claudes} = analyzeOrphans(tree, rules)
    const claudePids = new Set(claudes.map((c) => c.proc.pid))
    // Sessions any claude names through its TMUX variable: socket + session index.
    const claudeSessions = new Set(
      claudes
        .map((c) => c.proc.env.TMUX?.split(','))
        .filter(Boolean)
        .map((f) => `${f![0]}\u0000$${f![2]}`),
    )

    for (const server of snapshot.tmux.servers) {
      if (server.status !== 'ok') continue
      const sessions = new Map<string, {name: string; claudes: ProcessInfo[]}>()
      for (const pane of server.panes) {
        const entry = sessions.get(pane.sessionId) ?? {name: pane.session, claudes: []}
        sessions.set(pane.sessionId, entry)
        const root = tree.get(pane.panePid)
        if (pane.dead) {
          findings.push({
            key: `dead-pane:${server.socket}:${pane.paneId}`,
            message: `Dead pane ${pane.paneId} in session ${pane.session} kept by remain-on-exit`,
            reason: 'tmux reports pane_dead=1: its process exited and the pane stays until killed or respawned',
            pids: [],
            session: pane.session,
            socket: server.socket,
            data: {kind: 'dead-pane', paneId: pane.paneId},
            fix: [
              {
                kind: 'tmux',
                socket: server.socket,
                args: ['kill-pane', '-t', pane.paneId],
                reason: `Dead pane ${pane.paneId} in session ${pane.session} kept by remain-on-exit`,
              },
            ],
          })
          continue
        }
        if (!root) continue
        const inPane = tree.subtree(root).filter((p) => claudePids.has(p.pid))
        // A claude started by another claude (its Bash tool) is that claude's business, not a second agent.
        const top = inPane.filter((p) => !tree.nearestAncestor(p, (a) => claudePids.has(a.pid) && inPane.includes(a)))
        entry.claudes.push(...top)
        if (top.length > 1) {
          findings.push({
            key: `multi:${server.socket}:${pane.paneId}`,
            message: `Pane ${pane.paneId} in session ${pane.session} runs ${top.length} Claude processes`,
            reason: `pids ${top.map((p) => p.pid).join(', ')} all descend from the pane process ${pane.panePid}`,
            pid: top[0].pid,
            pids: top.map((p) => p.pid),
            session: pane.session,
            socket: server.socket,
            data: {kind: 'multiple-claudes', paneId: pane.paneId},
          })
        }
      }
      for (const [sessionId, s] of sessions) {
        const agent = rules.isAgentSession(s.name) || claudeSessions.has(`${server.socket}\u0000${sessionId}`)
        if (!agent || s.claudes.length > 0) continue
        findings.push({
          key: `no-claude:${server.socket}:${sessionId}`,
          message: `Agent session ${s.name} has no Claude process`,
          reason: rules.isAgentSession(s.name)
            ? `its name matches the agent pattern /${rules.config.agentSessionPattern}/ but none of its panes runs claude`
            : 'a claude once ran in it (its TMUX variable names this session) but none of its panes runs claude now',
          pids: [],
          session: s.name,
          socket: server.socket,
          data: {kind: 'agent-session-without-claude'},
        })
      }
    }

    for (const c of claudes) {
      // An orphan's or a detached run's own finding already says its session is gone.
      if (c.kind === 'orphan' || c.kind === 'detached' || !c.lastSocket) continue
      const server = tree.server(c.lastSocket)
      if (server && server.status !== 'stale') continue
      findings.push({
        key: `server-gone:${c.proc.pid}:${c.proc.startTicks ?? 'unknown'}`,
        message: `Claude process ${c.proc.pid} names a tmux server that is gone (${c.lastSocket})`,
        reason: `its TMUX variable points at ${c.lastSocket}, where no server answers; ${c.why}`,
        pid: c.proc.pid,
        pids: [c.proc.pid],
        socket: c.lastSocket,
        data: {kind: 'server-gone'},
      })
    }
    return findings
  },
})
