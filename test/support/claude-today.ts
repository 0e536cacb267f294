/**
 * The process shapes of the real Claude Code of today (2.1.x from npm, run with the real MCP servers in a
 * private namespace; see issue 12), rebuilt with the Machine builder so that checks can be tested on them
 * without the real programs. The live tier (test/live/) proves the same on the real binaries.
 *
 * - claude: comm `claude`, cmdline `claude` or `claude -p <prompt>`; its own environment has no CLAUDECODE.
 * - its MCP children: CLAUDECODE=1, CLAUDE_CODE_SESSION_ID, CLAUDE_CODE_ENTRYPOINT=cli.
 * - server-filesystem: `node …/dist/index.js DIR`; server-memory: `npm exec mcp-server-memory` (one title
 *   string) → `sh -c 'mcp-server-memory'` → `node …/node_modules/.bin/mcp-server-memory`; server-everything:
 *   `sh -c 'cd …/server-everything && node dist/index.js'` → `node dist/index.js` (relative).
 * - MCP servers' environment: CLAUDECODE=1, CLAUDE_CODE_SESSION_ID, CLAUDE_CODE_ENTRYPOINT (`cli`, `sdk-cli`
 *   under `claude -p`), CLAUDE_CODE_MESSAGING_SOCKET naming the claude's pid; no CLAUDE_PID.
 * Facts: /work/lead/facts-claude.md (the i12-live developer's notes on the real programs).
 * - a Bash-tool background command after a crash: a `bash -c` wrapper in its own session plus its command,
 *   parent init, CLAUDECODE=1, CLAUDE_PID of the dead claude, TMUX_PANE of a pane that is gone.
 */
import type {ProcessInfo, TmuxServer} from '../../src/snapshot/types.js'
import type {Machine} from './machine.js'

const MIN = 60_000
/** The Machine's snapshots are taken at this instant. */
export const COLLECTED_MS = Date.parse('2026-01-11T12:00:00.000Z')
const BOOT_MS = 1_760_000_000_000

/** Start fields for a process that has run `minutes` when the snapshot is taken. */
export function ranFor(minutes: number): Pick<ProcessInfo, 'startTimeMs' | 'startTicks'> {
  const startTimeMs = COLLECTED_MS - Math.round(minutes * MIN)
  return {startTimeMs, startTicks: Math.round((startTimeMs - BOOT_MS) / 10)}
}

const MODULES = '/root/.cache/gt-doctor-live/node_modules'

/** The environment Claude Code gives the processes it starts (as the collector keeps it). */
export function childEnv(session: string, extra: Partial<ProcessInfo['env']> = {}): ProcessInfo['env'] {
  return {CLAUDECODE: '1', CLAUDE_CODE_SESSION_ID: session, CLAUDE_CODE_ENTRYPOINT: 'cli', ...extra}
}

/** What an MCP server of claude `claudePid` has: no CLAUDE_PID, a messaging socket named after that pid; `sdk-cli` under `claude -p`. */
export function mcpEnv(
  claudePid: number,
  session: string,
  headless = false,
  extra: Partial<ProcessInfo['env']> = {},
): ProcessInfo['env'] {
  return childEnv(session, {
    CLAUDE_CODE_MESSAGING_SOCKET: `/run/user/1000/cc-socks/${claudePid}.sock`,
    ...(headless ? {CLAUDE_CODE_ENTRYPOINT: 'sdk-cli'} : {}),
    ...extra,
  })
}

/** The Bash tool's wrapper of a background command, as 2.1.328 writes it. */
export function bashToolWrapper(command: string): string[] {
  return [
    '/bin/bash',
    '-c',
    `source $HOME/.claude/shell-snapshots/snapshot-bash-1765000000000-abc123.sh 2>/dev/null || true && \\builtin shopt -u extglob 2>/dev/null || true && eval '${command}' < /dev/null && pwd -P >| /tmp/claude-1a2b-cwd`,
  ]
}

/**
 * The three real MCP servers under `parent`, starting at `pid` (uses pid .. pid+5). Returns their pids,
 * chain by chain: [filesystem], [npm exec, sh -c, node], [sh -c, node].
 */
export function threeServers(
  m: Machine,
  parent: number,
  pid: number,
  env: ProcessInfo['env'],
  minutes: number,
): number[][] {
  const t = ranFor(minutes)
  const proc = (spec: Parameters<Machine['proc']>[0]) => m.proc({...t, env, ...spec}).pid
  const fs = proc({
    pid,
    ppid: parent,
    comm: 'node',
    argv: ['node', `${MODULES}/@modelcontextprotocol/server-filesystem/dist/index.js`, '/tmp/work'],
  })
  const npm = proc({pid: pid + 1, ppid: parent, comm: 'npm exec mcp-se', argv: ['npm exec mcp-server-memory']})
  // The quotes are in the argument: npm runs the bin through `sh -c` with it quoted.
  const sh = proc({pid: pid + 2, ppid: npm, comm: 'sh', argv: ['sh', '-c', "'mcp-server-memory'"]})
  const mem = proc({pid: pid + 3, ppid: sh, comm: 'node', argv: ['node', `${MODULES}/.bin/mcp-server-memory`]})
  const sh2 = proc({
    pid: pid + 4,
    ppid: parent,
    comm: 'sh',
    argv: ['sh', '-c', `cd ${MODULES}/@modelcontextprotocol/server-everything && node dist/index.js`],
  })
  // Relative: only the wrapper's `cd` says which package runs.
  const every = proc({pid: pid + 5, ppid: sh2, comm: 'node', argv: ['node', 'dist/index.js']})
  return [[fs], [npm, sh, mem], [sh2, every]]
}

/** An interactive claude in a live pane (via a login shell), with its three servers. Uses pid .. pid+7. */
export function liveAgent(
  m: Machine,
  server: TmuxServer,
  session: string,
  pid: number,
): {claude: number; pids: number[]} {
  const shell = m.pane(server, session, {pid, cmd: '-bash', comm: 'bash', ttyNr: 34_816 + pid, ...ranFor(130)})
  const claude = m.proc({
    pid: pid + 1,
    ppid: shell.pid,
    comm: 'claude',
    argv: ['claude'],
    ttyNr: shell.ttyNr,
    env: {...shell.env},
    ...ranFor(120),
    mib: 300,
  })
  const servers = threeServers(
    m,
    claude.pid,
    pid + 2,
    mcpEnv(claude.pid, `live-${pid}`, false, {TMUX: shell.env.TMUX, TMUX_PANE: shell.env.TMUX_PANE}),
    119,
  )
  return {claude: claude.pid, pids: [shell.pid, claude.pid, ...servers.flat()]}
}

/** A TMUX environment naming pane `%pane` of `server` (pass a pane that no longer exists). */
export function paneEnv(
  server: TmuxServer,
  pane: string,
  sessionIndex = 9,
): Pick<ProcessInfo['env'], 'TMUX' | 'TMUX_PANE'> {
  return {TMUX: `${server.socket},${server.pid ?? 0},${sessionIndex}`, TMUX_PANE: pane}
}
