// Builds a synthetic crowded machine. Runs INSIDE a private PID namespace (see namespace.js): it starts tmux
// servers on private sockets, sessions with a claude stand-in and its MCP children, kills every 10th session
// so that its claude is orphaned, and adds unrelated processes up to the target count.
//
// The stand-ins are `sleep` processes, not node: a node stand-in costs ~40 MB and 400 of them would not fit
// beside other work. Each one carries the command line the doctor's rules classify, and the kernel name the
// reference script's `pgrep -x claude` looks for:
//   claude   a symlink named `claude` to sleep, run as `claude 1e6`: comm "claude", argv[0] "claude"
//   MCP      `exec -a mcp-server-filesystem sleep 1e6`: argv[0] "mcp-server-filesystem" (also what
//            `pgrep -f mcp-server` finds), with CLAUDECODE=1 in its environment as Claude Code sets it
// A session's bash (bin/agent) ignores SIGHUP, starts the MCP children in the background and then execs the
// claude, so the children's parent is the claude, like the real thing, and kill-session's hangup ends none.
import {execFileSync, spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const SLEEP = '1000000'
const MCP_NAMES = ['mcp-server-filesystem', 'mcp-server-memory', 'github-mcp-server']
/**
 * Processes that are neither claude nor MCP: the command lines of an ordinary developer machine. They are
 * `cat` processes blocked on a pipe, titled like a program that rewrote its title (one argv string, the
 * way node's process.title reads), so that the rules parse them as node / python / npm command lines.
 */
const FILLER_TITLES = [
  null, // a plain `sleep`
  'node /srv/app/server.js --port 3000',
  'python3 -m http.server 8000',
  '/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main',
  'npm run dev',
  '/usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock',
  '-bash',
  'node /home/dev/project/node_modules/.bin/vite --host',
]
/** Processes that merely mention MCP: `pgrep -f mcp-server` finds them, the doctor's rules do not. */
export const LOOKALIKES = [
  'vim notes/mcp-server-setup.md',
  'tail -f /var/log/mcp-server.log',
  'less mcp-server-notes.txt',
]

export const SERVERS = 3

/**
 * The machine of one size: `sessions` tmux sessions over SERVERS servers, every `orphanEvery`-th session
 * killed (its claude and MCP children live on, adopted by nobody: their parent is the tmux server), and
 * filler processes until the namespace holds `target` processes.
 */
export function plan(target, sessions, orphanEvery = 10) {
  const list = []
  for (let i = 0; i < sessions; i++) {
    list.push({
      server: i % SERVERS,
      name: `gt-agent-${String(i).padStart(4, '0')}`,
      mcp: i % 2 === 0 ? 2 : 3,
      orphan: i % orphanEvery === orphanEvery - 1,
    })
  }
  return {target, sessions: list, orphans: list.filter((s) => s.orphan).length}
}

/**
 * The agent a session's pane runs (`bash agent N`): ignores SIGHUP, starts N MCP children, becomes the claude.
 * A script file rather than `bash -c '...'`, so that no tmux server's command line (the first client's)
 * carries MCP server names for `pgrep -f mcp-server` to find.
 */
const AGENT_SCRIPT = `trap '' HUP
names=(${MCP_NAMES.join(' ')})
for ((i = 0; i < $1; i++)); do (CLAUDECODE=1 exec -a "\${names[i]}" sleep ${SLEEP}) & done
exec -a claude "$(dirname "$0")/claude" ${SLEEP}
`

export function socketOf(dir, server) {
  return path.join(dir, 'tmux', `s${server}`)
}

function tmux(dir, server, args) {
  return execFileSync('tmux', ['-f', '/dev/null', '-S', socketOf(dir, server), ...args], {
    encoding: 'utf8',
    env: {...process.env, TMUX: '', TMUX_PANE: ''},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Every process of the namespace: pid, ppid, comm, argv. */
export function listProcesses() {
  const out = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      const rest = stat.slice(close + 2).split(' ')
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean)
      out.push({
        pid: Number(name),
        ppid: Number(rest[1]),
        state: rest[0],
        comm: stat.slice(stat.indexOf('(') + 1, close),
        argv,
      })
    } catch {
      // exited meanwhile
    }
  }
  return out
}

function waitFor(what, fn, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const r = fn()
    if (r) return r
    if (Date.now() > deadline) throw new Error(`bench machine: ${what} not reached after ${timeoutMs} ms`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50)
  }
}

const isClaude = (p) => p.comm === 'claude' && p.argv[0] === 'claude'
const isMcp = (p) => MCP_NAMES.includes(p.argv[0])

/** Builds the machine in `dir`; returns what the doctor must find. */
export function build(dir, machine) {
  fs.mkdirSync(path.join(dir, 'bin'), {recursive: true})
  fs.mkdirSync(path.join(dir, 'tmux'), {recursive: true, mode: 0o700})
  const sleep = execFileSync('sh', ['-c', 'command -v sleep'], {encoding: 'utf8'}).trim()
  fs.symlinkSync(fs.realpathSync(sleep), path.join(dir, 'bin', 'claude'))
  fs.writeFileSync(path.join(dir, 'bin', 'agent'), AGENT_SCRIPT)

  // One tmux client call per server creates all of its sessions (`new-session ... ; new-session ...`).
  for (let server = 0; server < SERVERS; server++) {
    const mine = machine.sessions.filter((s) => s.server === server)
    const args = []
    for (const s of mine) {
      if (args.length) args.push(';')
      args.push(
        'new-session',
        '-d',
        '-s',
        s.name,
        '-x',
        '80',
        '-y',
        '24',
        'bash',
        path.join(dir, 'bin', 'agent'),
        String(s.mcp),
      )
    }
    // Batches: a single command line of 130 sessions is fine, but keep each client call bounded.
    for (let i = 0; i < args.length; ) {
      let j = i
      let n = 0
      while (j < args.length && n < 50) {
        j = args.indexOf(';', j + 1)
        if (j < 0) j = args.length
        n++
      }
      tmux(
        dir,
        server,
        args.slice(i, j).filter((a, k) => !(k === 0 && a === ';')),
      )
      i = j
    }
  }
  const claudes = machine.sessions.length
  const mcps = machine.sessions.reduce((n, s) => n + s.mcp, 0)
  // A minute at the smaller sizes; 20,000 processes take longer to start (and to list, each poll).
  const patience = Math.max(60_000, machine.target * 10)
  waitFor(
    `${claudes} claudes and ${mcps} MCP servers running`,
    () => {
      const procs = listProcesses()
      return procs.filter(isClaude).length === claudes && procs.filter(isMcp).length === mcps
    },
    patience,
  )

  // Orphan every 10th session: kill-session hangs up its pane, and the claude ignores the hangup.
  for (let server = 0; server < SERVERS; server++) {
    const victims = machine.sessions.filter((s) => s.server === server && s.orphan)
    if (victims.length === 0) continue
    tmux(
      dir,
      server,
      victims.flatMap((s, i) => [...(i ? [';'] : []), 'kill-session', '-t', s.name]),
    )
  }
  const live = machine.sessions.length - machine.orphans
  waitFor(
    `${live} live sessions`,
    () => {
      let n = 0
      for (let server = 0; server < SERVERS; server++)
        n += tmux(dir, server, ['list-sessions', '-F', '#{session_name}']).split('\n').filter(Boolean).length
      return n === live
    },
    patience,
  )

  // Unrelated processes up to the target: half under long-lived shells, half adopted by init. Titled
  // ones read a pipe that never ends (stdin opened read-write, so they hold a writer themselves).
  const pipe = `f=$(mktemp -u); mkfifo "$f"; exec 3<>"$f"; rm -f "$f"`
  const line = (title) => (title === null ? `sleep ${SLEEP} &` : `(exec -a '${title}' cat <&3 3<&-) &`)
  const script = (n, offset) =>
    [pipe, ...Array.from({length: n}, (_, i) => line(FILLER_TITLES[(i + offset) % FILLER_TITLES.length]))].join('\n')
  // Scripts go through files: at 20,000 processes one is over the kernel's 128 KiB limit for an argument.
  let scripts = 0
  const file = (text) => {
    const f = path.join(dir, `fill-${scripts++}.sh`)
    fs.writeFileSync(f, text)
    return f
  }
  execFileSync('bash', [file([pipe, ...LOOKALIKES.map(line)].join('\n'))], {stdio: 'ignore'})
  const have = listProcesses().length
  const fillers = Math.max(0, machine.target - have)
  const holders = Math.max(1, Math.round(fillers / 200))
  const underShells = Math.floor(fillers / 2) - holders
  for (let h = 0; h < holders; h++) {
    const n = Math.floor(underShells / holders) + (h < underShells % holders ? 1 : 0)
    spawn('bash', [file(`${script(n, h)}\nwait`)], {stdio: 'ignore', detached: true}).unref()
  }
  // Started by a shell that exits at once, so these end up with parent PID 1.
  execFileSync('bash', [file(script(fillers - underShells - holders, 3))], {stdio: 'ignore'})
  const count = waitFor(
    `${machine.target} processes`,
    () => {
      const n = listProcesses().length
      return n >= machine.target ? n : 0
    },
    patience,
  )

  const procs = listProcesses()
  return {
    processes: count,
    claudes: procs.filter(isClaude).length,
    mcpServers: procs.filter(isMcp).length,
    orphanClaudes: machine.orphans,
    liveSessions: live,
    lookalikes: LOOKALIKES.length,
    sockets: Array.from({length: SERVERS}, (_, s) => socketOf(dir, s)),
  }
}
