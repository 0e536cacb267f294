import {Machine} from './machine.js'

const MIN = 60 * 1000
const HOUR = 60 * MIN

/**
 * The machine of the investigation (hq-gxwn), at its scale: 19 claude processes, 15 tmux sessions on two
 * servers (one on a custom `-L hq` socket), 12 orphan claudes (under the tmux server, under init and
 * under `systemd --user`), 115 MCP servers launched every way Claude Code launches them, ~5.8 GiB held by
 * the orphan claudes, plus the look-alikes a `ps | grep` script would kill.
 *
 * `expected` lists exactly what the doctor must report; everything else must be left alone.
 *
 * Its sibling `make-incident.ts` rebuilds the same incident with the report's own pids, one tmux server and a
 * corpus of secrets in the command lines: that one feeds the report formats and redaction; this one, with
 * two servers, a subreaper and the look-alikes, is the exactness fixture of the checks.
 */
export function incident() {
  const m = new Machine(1000, 99_999)
  const now = Date.parse('2026-01-11T12:00:00.000Z')
  const started = (ago: number) => ({startTimeMs: now - ago})
  let pid = 2000
  const next = () => ++pid

  const user = m.proc({pid: 500, ppid: 1, cmd: '/lib/systemd/systemd --user', comm: 'systemd'})
  const gt = m.server({pid: 600, ppid: 1})
  const hq = m.server({pid: 700, ppid: 1, label: 'hq'})

  const orphanClaude: number[] = []
  const orphanMcpRoots: number[] = []
  const healthy: number[] = []
  const lookalikes: number[] = []

  // An MCP server of each launch shape; returns [root, ...members] and counts as one server.
  const shapes = [
    (parent: number) => {
      const a = m.proc({
        pid: next(),
        ppid: parent,
        cmd: 'npm exec @modelcontextprotocol/server-filesystem /home/alice/src',
        mib: 12,
        env: {CLAUDECODE: '1'},
      })
      const b = m.proc({
        pid: next(),
        ppid: a.pid,
        cmd: 'node /home/alice/.npm/_npx/a1b2/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js /home/alice/src',
        mib: 45,
      })
      return [a.pid, b.pid]
    },
    (parent: number) => {
      const a = m.proc({
        pid: next(),
        ppid: parent,
        cmd: '/home/alice/.local/bin/uv tool uvx mcp-server-fetch',
        comm: 'uv',
        mib: 9,
      })
      const b = m.proc({
        pid: next(),
        ppid: a.pid,
        cmd: '/home/alice/.cache/uv/archive-v0/x/bin/python -m mcp_server_fetch',
        mib: 38,
      })
      return [a.pid, b.pid]
    },
    (parent: number) => {
      const a = m.proc({pid: next(), ppid: parent, cmd: 'sh -c npx -y @upstash/context7-mcp', comm: 'sh', mib: 1})
      const b = m.proc({pid: next(), ppid: a.pid, cmd: 'npm exec @upstash/context7-mcp', mib: 30})
      const c = m.proc({
        pid: next(),
        ppid: b.pid,
        cmd: 'node /home/alice/.npm/_npx/c3d4/node_modules/.bin/context7-mcp',
        mib: 40,
      })
      return [a.pid, b.pid, c.pid]
    },
    (parent: number) => {
      const a = m.proc({
        pid: next(),
        ppid: parent,
        cmd: 'docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN mcp/github',
        comm: 'docker',
        mib: 25,
      })
      return [a.pid]
    },
    (parent: number) => {
      const a = m.proc({
        pid: next(),
        ppid: parent,
        cmd: 'node /home/alice/.nvm/versions/node/v20.11.1/lib/node_modules/@modelcontextprotocol/server-memory/dist/index.js',
        mib: 42,
      })
      return [a.pid]
    },
  ]
  const mcpFor = (parent: number) => shapes.flatMap((shape) => shape(parent))

  const claudeCmd = '/home/alice/.local/share/claude/versions/2.1.233'
  // 7 healthy agents: each pane runs a shell that runs claude with its 5 MCP servers.
  const sessions: Array<[typeof gt, string]> = [
    [gt, 'gt-mayor'],
    [gt, 'gt-witness'],
    [gt, 'gt-refinery'],
    [gt, 'gt-polecat-1'],
    [hq, 'hq-deacon'],
    [hq, 'hq-polecat-2'],
    [hq, 'hq-polecat-3'],
  ]
  for (const [server, name] of sessions) {
    const shell = m.pane(server, name, {pid: next(), cmd: '-bash', comm: 'bash', ttyNr: 34_816 + pid})
    const c = m.proc({
      pid: next(),
      ppid: shell.pid,
      cmd: claudeCmd,
      comm: '2.1.233',
      mib: 420,
      env: {...shell.env},
      ttyNr: shell.ttyNr,
      ...started(2 * HOUR),
    })
    healthy.push(shell.pid, c.pid, ...mcpFor(c.pid))
  }
  // 8 more sessions: 4 of the user's own, 4 agent sessions whose claude has not started (or died).
  for (const name of ['main', 'editor', 'logs', 'build'])
    healthy.push(m.pane(gt, name, {pid: next(), cmd: '-zsh', comm: 'zsh', ttyNr: 34_900 + pid}).pid)
  const idleAgents = ['gt-polecat-4', 'gt-polecat-5', 'hq-polecat-6', 'hq-polecat-7']
  for (const name of idleAgents)
    healthy.push(
      m.pane(name.startsWith('gt') ? gt : hq, name, {pid: next(), cmd: '-bash', comm: 'bash', ttyNr: 35_000 + pid}).pid,
    )

  // 12 orphan claudes, ~495 MiB each (~5.8 GiB), 5 MCP servers each.
  const orphan = (ppid: number, ago: number, env: Record<string, string>) => {
    const c = m.proc({
      pid: next(),
      ppid,
      cmd: 'claude --dangerously-skip-permissions',
      comm: 'claude',
      mib: 495,
      env,
      ttyNr: 0,
      ...started(ago),
    })
    orphanClaude.push(c.pid)
    mcpFor(c.pid)
    return c
  }
  // The report's 1199837: 8h 39m old, under init.
  orphan(1, 8 * HOUR + 39 * MIN, {TMUX: `${gt.socket},600,90`, TMUX_PANE: '%31'})
  // 1526607..1559357: killed sessions whose claude stays under the tmux server.
  for (const ago of [9, 8, 7, 6])
    orphan(600, ago * MIN, {TMUX: `${gt.socket},600,${20 + ago}`, TMUX_PANE: `%${40 + ago}`})
  for (const ago of [5, 4, 3]) orphan(700, ago * MIN, {TMUX: `${hq.socket},700,${10 + ago}`, TMUX_PANE: `%${50 + ago}`})
  orphan(1, 2 * MIN, {TMUX: `${hq.socket},700,30`, TMUX_PANE: '%60'})
  orphan(1, 90 * 1000, {})
  orphan(user.pid, 60 * 1000, {TMUX: `${gt.socket},600,31`, TMUX_PANE: '%61'})
  orphan(user.pid, 30 * 1000, {TMUX: `${gt.socket},600,32`, TMUX_PANE: '%62'})

  // 4 orphan MCP trees whose claude exited: 20 more MCP servers, under init and systemd --user.
  for (const ppid of [1, 1, 1, user.pid]) {
    const members = mcpFor(ppid)
    // Each launch shape is its own orphan tree.
    for (const root of members.filter((p) => m.processes.get(p)!.ppid === ppid)) orphanMcpRoots.push(root)
  }

  // Look-alikes: none of these may be reported, let alone signalled.
  const look = (spec: Parameters<Machine['proc']>[0]) => lookalikes.push(m.proc(spec).pid)
  look({pid: next(), ppid: healthy[0], cmd: 'vim claude-notes.md'})
  look({pid: next(), ppid: healthy[0], cmd: 'grep -r claude /home/alice/src'})
  look({pid: next(), ppid: 1, cmd: 'tail -f /home/alice/logs/mcp-server.log'})
  look({pid: next(), ppid: 1, cmd: 'less /home/alice/.claude/mcp.json'})
  look({pid: next(), ppid: 1, cmd: '/usr/sbin/cron -f', uid: 0})
  look({pid: next(), ppid: 1, cmd: '/usr/bin/dockerd -H fd://', uid: 0})
  look({pid: next(), ppid: 1, cmd: 'node /srv/app/server.js --name mcp-server-foo'})
  look({pid: next(), ppid: 1, cmd: 'python3 /home/alice/claude.py'})
  // A PID-reuse echo: the pid an orphan had last run is now an unrelated process (other start time).
  look({pid: 1_199_837, ppid: 1, cmd: '/usr/bin/python3 /usr/bin/unattended-upgrade', startTicks: 999_999, uid: 0})
  // A zombie claude whose parent is alive: dead already, nothing to end.
  look({pid: next(), ppid: healthy[1], cmd: '', comm: 'claude', state: 'Z', mib: 0})
  // The doctor itself, run from a healthy pane.
  m.proc({pid: 99_999, ppid: healthy[0], cmd: 'node /usr/lib/node_modules/gt-doctor/bin/run.js', comm: 'node'})

  return {
    machine: m,
    snapshot: m.snapshot(),
    servers: {gt, hq},
    expected: {
      orphanClaude,
      orphanMcpRoots,
      healthy,
      lookalikes,
      idleAgents,
      claudeProcesses: 19,
      tmuxSessions: 15,
      mcpServers: 115,
    },
  }
}
