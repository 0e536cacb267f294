// A recorded-style snapshot of a crowded machine, built deterministically (same seed, same snapshot), for
// timing the pure detection core without any I/O. Shaped like the investigation's machine, scaled up:
//   - 3 tmux servers; agent sessions (4% of the processes) whose pane runs a claude directly or a shell
//     with the claude under it, each claude with 2-4 MCP server trees of the kinds Claude Code starts
//     (npm exec launcher + node server, uvx + python server, docker run, node script, native binary);
//   - every 10th session killed: its claude left under the tmux server (pane was the claude) or under
//     init (its shell died), MCP trees and all;
//   - every 50th session's claude gone, its MCP launchers adopted by init (orphan MCP trees);
//   - the rest: human panes, desktop and dev processes, kernel threads, with long command lines.
//
//   node bench/make-snapshot.js 50000 > snapshot.json      (or import {makeSnapshot})
import {fileURLToPath} from 'node:url'

const MiB = 1024 * 1024
const BOOT_MS = 1_760_000_000_000
const COLLECTED = '2026-01-11T12:00:00.000Z'
const COLLECTED_MS = Date.parse(COLLECTED)
const H = '/home/dev'

/** mulberry32: a tiny seeded PRNG, so the same size always gives the same machine. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const FILLERS = [
  ['/usr/lib/systemd/systemd-journald'],
  ['-bash'],
  ['/usr/bin/python3', '-m', 'http.server', '8000'],
  ['node', `${H}/project/node_modules/.bin/vite`, '--host', '0.0.0.0', '--port', '5173'],
  [
    '/usr/lib/postgresql/16/bin/postgres',
    '-D',
    '/var/lib/postgresql/16/main',
    '-c',
    'config_file=/etc/postgresql/16/main/postgresql.conf',
  ],
  [
    '/opt/google/chrome/chrome',
    '--type=renderer',
    '--crashpad-handler-pid=4242',
    '--enable-crash-reporter',
    '--lang=en-US',
    '--num-raster-threads=4',
    '--enable-main-frame-before-activation',
    '--renderer-client-id=7',
    '--time-ticks-at-unix-epoch=-1768123456789',
    '--launch-time-ticks=123456789',
    '--shared-files=v8_context_snapshot_data:100',
    '--field-trial-handle=3,i,123456789,987654321,262144',
    '--variations-seed-version',
  ],
  [
    '/usr/share/code/code',
    '--type=utility',
    '--utility-sub-type=node.mojom.NodeService',
    '--lang=en-US',
    '--service-sandbox-type=none',
    '--enable-crash-reporter=abc,no_channel',
  ],
  ['npm', 'run', 'dev'],
  ['/usr/bin/dockerd', '-H', 'fd://', '--containerd=/run/containerd/containerd.sock'],
  ['sleep', '3600'],
  ['tail', '-F', `${H}/logs/mcp-server.log`],
  ['vim', `${H}/notes/claude-setup.md`],
  ['/usr/bin/ssh-agent', '-D', '-a', '/run/user/1000/keyring/.ssh'],
  ['python3', `${H}/.local/bin/jupyter-lab`, '--no-browser'],
]

/**
 * The snapshot, and what the doctor must find in it: `expected.orphanClaude` orphan claude trees and
 * `expected.orphanMcp` orphan MCP trees.
 */
export function makeSnapshot(target, seed = 42) {
  const rand = prng(seed ^ target)
  const pick = (list) => list[Math.floor(rand() * list.length)]
  const processes = []
  let nextPid = 300
  const proc = (spec) => {
    const pid = spec.pid ?? nextPid++
    const minutes = spec.minutes ?? 60 + Math.floor(rand() * 600)
    const startTimeMs = COLLECTED_MS - minutes * 60_000
    const mib = spec.mib ?? 2 + Math.floor(rand() * 60)
    const p = {
      pid,
      ppid: spec.ppid,
      pgid: spec.pgid ?? pid,
      sid: spec.sid ?? pid,
      ttyNr: spec.ttyNr ?? 0,
      state: spec.state ?? 'S',
      uid: spec.uid ?? 1000,
      comm: spec.comm ?? (spec.argv[0] ?? '').split('/').pop().replace(/^-/, '').slice(0, 15),
      argv: spec.argv,
      startTicks: Math.round((startTimeMs - BOOT_MS) / 10),
      startTimeMs,
      rssBytes: spec.argv.length === 0 ? undefined : mib * MiB,
      pssBytes: spec.argv.length === 0 ? undefined : Math.round(mib * 0.8 * MiB),
      env: spec.env ?? {},
    }
    processes.push(p)
    return p
  }

  // PID 1, kernel threads, a user manager (subreaper).
  proc({pid: 1, ppid: 0, uid: 0, argv: ['/sbin/init', 'splash'], comm: 'systemd'})
  proc({pid: 2, ppid: 0, uid: 0, argv: [], comm: 'kthreadd'})
  for (let i = 0; i < Math.round(target * 0.02); i++)
    proc({ppid: 2, uid: 0, argv: [], comm: `kworker/${i % 16}:${i % 3}`, state: 'I'})
  const userManager = proc({ppid: 1, argv: ['/usr/lib/systemd/systemd', '--user'], comm: 'systemd'})

  const servers = [0, 1, 2].map((s) => {
    const socket = `/tmp/tmux-1000/${s === 0 ? 'default' : `agents-${s}`}`
    const p = proc({
      ppid: 1,
      argv: ['tmux', ...(s === 0 ? [] : ['-L', `agents-${s}`]), 'new-session', '-d', '-s', `main-${s}`],
      comm: 'tmux: server',
    })
    return {socket, pid: p.pid, status: 'ok', foundBy: ['socket-dir', 'process'], panes: [], proc: p}
  })
  const sessionIds = servers.map(() => 0)
  const paneIds = servers.map(() => 0)

  const mcpTree = (parent, env, minutes) => {
    const e = {...env, CLAUDECODE: '1'}
    switch (Math.floor(rand() * 5)) {
      case 0: {
        const npm = proc({
          ppid: parent,
          argv: ['npm exec @modelcontextprotocol/server-filesystem /home/dev/project'],
          comm: 'npm exec @model',
          env: e,
          minutes,
        })
        proc({
          ppid: npm.pid,
          argv: [
            'node',
            `${H}/.npm/_npx/a3f1c2e9/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`,
            `${H}/project`,
          ],
          env: e,
          minutes,
        })
        return
      }
      case 1: {
        const uv = proc({ppid: parent, argv: ['uvx', 'mcp-server-fetch'], comm: 'uv', env: e, minutes})
        proc({
          ppid: uv.pid,
          argv: [
            `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/python`,
            `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/mcp-server-fetch`,
          ],
          comm: 'mcp-server-fetc',
          env: e,
          minutes,
        })
        return
      }
      case 2:
        proc({
          ppid: parent,
          argv: [
            'docker',
            'run',
            '-i',
            '--rm',
            '-e',
            'GITHUB_PERSONAL_ACCESS_TOKEN',
            'ghcr.io/github/github-mcp-server',
          ],
          env: e,
          minutes,
        })
        return
      case 3:
        proc({
          ppid: parent,
          argv: ['node', `${H}/.npm/_npx/7e6d5c4b/node_modules/@modelcontextprotocol/server-memory/dist/index.js`],
          env: e,
          minutes,
        })
        return
      default:
        proc({
          ppid: parent,
          argv: [
            `${H}/.local/share/uv/tools/mcp-server-git/bin/python`,
            `${H}/.local/bin/mcp-server-git`,
            '--repository',
            `${H}/project`,
          ],
          comm: 'mcp-server-git',
          env: e,
          minutes,
        })
    }
  }

  const expected = {orphanClaude: 0, orphanMcp: 0, claudes: 0}
  const sessions = Math.round(target * 0.04)
  for (let i = 0; i < sessions; i++) {
    const s = i % 3
    const server = servers[s]
    const sessionId = `$${sessionIds[s]++}`
    const paneId = `%${paneIds[s]++}`
    const name = `gt-agent-${i}`
    const env = {TMUX: `${server.socket},${server.pid},${sessionId.slice(1)}`, TMUX_PANE: paneId}
    const minutes = 5 + Math.floor(rand() * 900)
    const viaShell = i % 4 === 1
    const killed = i % 10 === 9
    const claudeGone = !killed && i % 50 === 17
    const argv =
      i % 3 === 0
        ? [`${H}/.local/share/claude/versions/2.1.3`, '--dangerously-skip-permissions']
        : ['claude', '--dangerously-skip-permissions', '--resume']
    // A killed session's shell died of the hangup and its claude was adopted by init; a claude that was the
    // pane's own process stays the tmux server's child.
    let panePid
    let claudeParent = server.pid
    if (killed && viaShell) claudeParent = 1
    else if (viaShell) {
      panePid = proc({ppid: server.pid, argv: ['-bash'], comm: 'bash', env, minutes: minutes + 1, ttyNr: 34816 + i}).pid
      claudeParent = panePid
    }
    const claude = claudeGone
      ? undefined
      : proc({
          ppid: claudeParent,
          argv,
          comm: 'claude',
          env,
          minutes,
          mib: 300 + Math.floor(rand() * 200),
          ttyNr: viaShell && !killed ? 34816 + i : 0,
        })
    panePid ??= claude?.pid
    const mcps = 2 + Math.floor(rand() * 3)
    if (claude) {
      expected.claudes++
      for (let k = 0; k < mcps; k++) mcpTree(claude.pid, env, minutes)
      if (killed) expected.orphanClaude++
    } else {
      // The claude exited and left its launchers behind: each adopted by init (or the user manager).
      for (let k = 0; k < mcps; k++) mcpTree(k % 2 === 0 ? 1 : userManager.pid, env, minutes)
      expected.orphanMcp += mcps
      panePid ??= proc({ppid: server.pid, argv: ['-bash'], comm: 'bash', env, minutes, ttyNr: 34816 + i}).pid
    }
    if (!killed)
      server.panes.push({
        session: name,
        sessionId,
        windowIndex: 0,
        paneId,
        panePid,
        dead: false,
        currentCommand: viaShell ? 'bash' : 'claude',
      })
  }

  // Human panes on the default server, the doctor among them.
  for (let i = 0; i < 5; i++) {
    const server = servers[0]
    const sessionId = `$${sessionIds[0]++}`
    const paneId = `%${paneIds[0]++}`
    const shell = proc({
      ppid: server.pid,
      argv: ['-bash'],
      comm: 'bash',
      env: {TMUX: `${server.socket},${server.pid},${sessionId.slice(1)}`, TMUX_PANE: paneId},
      ttyNr: 34900 + i,
    })
    server.panes.push({
      session: `main-${i}`,
      sessionId,
      windowIndex: 0,
      paneId,
      panePid: shell.pid,
      dead: false,
      currentCommand: 'bash',
    })
  }
  const doctorShell = processes.at(-1)
  const doctor = proc({
    ppid: doctorShell.pid,
    argv: ['node', `${H}/.npm-global/bin/gt-doctor`, '--json'],
    ttyNr: doctorShell.ttyNr,
  })

  // Everything else: desktop and dev processes, some in process trees, some adopted by the user manager.
  const holders = []
  while (processes.length < target) {
    const r = rand()
    const parent =
      r < 0.3 ? 1 : r < 0.6 ? userManager.pid : r < 0.7 || holders.length === 0 ? doctorShell.pid : pick(holders)
    const p = proc({ppid: parent, argv: [...pick(FILLERS)]})
    if (rand() < 0.1) holders.push(p.pid)
  }

  processes.sort((a, b) => a.pid - b.pid)
  const ancestors = []
  for (let cur = doctor.ppid; cur > 0; ) {
    ancestors.push(cur)
    cur = processes.find((p) => p.pid === cur)?.ppid ?? 0
  }
  const snapshot = {
    snapshotVersion: 1,
    collectedAt: COLLECTED,
    host: {
      platform: 'linux',
      release: '6.6.87.2-microsoft-standard-WSL2',
      wsl: true,
      hostname: 'bench-host',
      totalMemoryBytes: 81 * 1024 * MiB,
      bootTimeMs: BOOT_MS,
      clockTicksPerSecond: 100,
      uid: 1000,
      doctorPid: doctor.pid,
      doctorAncestors: ancestors,
    },
    processes,
    tmux: {available: true, version: '3.4', servers: servers.map(({proc: _p, ...s}) => s)},
    limitations: [],
  }
  return {snapshot, expected}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const {snapshot} = makeSnapshot(Number(process.argv[2] ?? 10_000))
  process.stdout.write(`${JSON.stringify(snapshot)}\n`)
}
