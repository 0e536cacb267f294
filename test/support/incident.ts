/**
 * The machine of the investigation (hq-gxwn, 2026-01-11) as a Machine, in one of two layouts. Both hold
 * what the investigation measured (`INVESTIGATION`): 19 claude processes, 15 tmux sessions, 12 orphan
 * claudes of the ages it lists, 115 MCP servers launched the ways Claude Code launches them (`MCP_LAUNCHES`).
 *
 * - `exactness` (the default) is the checks' exactness fixture: two tmux servers (one on a custom `-L hq`
 *   socket), orphans under the tmux servers, init and a `systemd --user` subreaper, and the look-alikes a
 *   `ps | grep` script would kill, one of them a PID-reuse echo at the oldest orphan's pid.
 * - `report` is the machine as the investigation wrote it down: its own pids (tmux server 1522098, orphans
 *   1199837, 1526607, ...), one server, about 5.8 GB held by the orphan claudes, command lines carrying secrets
 *   from the corpus. Its redacted snapshot is the committed fixtures/reports/incident.snapshot.json
 *   (`npx tsx test/support/make-incident.ts`) behind every report format's golden, and the redaction tests
 *   read it unredacted.
 *
 * Two layouts and not one because each needs what would spoil the other: the exactness checks need shapes
 * the investigation did not record (which would show up in every golden), and the echo at 1199837 cannot
 * share a pid with the real orphan 1199837.
 *
 * Deterministic: the same snapshot on every run.
 */
import {fileURLToPath} from 'node:url'
import {redactSnapshot} from '../../src/report/redact.js'
import {detectClaudeVersion} from '../../src/snapshot/claude-version.js'
import type {ProcessInfo, Snapshot, TmuxServer} from '../../src/snapshot/types.js'
import {Machine, type ProcSpec} from './machine.js'
import {secretCorpus, type SecretCase} from './secrets.js'

export const INCIDENT_HOME = '/home/morsov'
export const INCIDENT_FIXTURE = fileURLToPath(new URL('../../fixtures/reports/incident.snapshot.json', import.meta.url))

/** What the investigation counted on the machine, as the report's summary names it; both layouts hold exactly this. */
export const INVESTIGATION = {claudeProcesses: 19, tmuxSessions: 15, orphanClaude: 12, mcpServers: 115} as const

/** How long each orphan claude had run when the investigation looked, oldest first (minutes). */
const ORPHAN_MINUTES = [8 * 60 + 39, 9, 8, 7, 6, 5.5, 5, 4, 3, 2.5, 2, 1]

const MINUTE = 60_000
const COLLECTED_MS = Date.parse('2026-01-11T12:00:00.000Z')
const BOOT_MS = 1_760_000_000_000
const H = INCIDENT_HOME

/** Start time fields for a process that has run `minutes`. */
function age(minutes: number): Pick<ProcessInfo, 'startTimeMs' | 'startTicks'> {
  const startTimeMs = COLLECTED_MS - Math.round(minutes * MINUTE)
  return {startTimeMs, startTicks: Math.round((startTimeMs - BOOT_MS) / 10)}
}

type Env = Record<string, string>
type Secrets = Map<string, string>

/** The secrets of the corpus that the incident's own command lines carry. */
function incidentSecrets(): Secrets {
  const corpus = secretCorpus()
  return new Map([
    ['github', corpus.find((c) => c.label === 'GitHub token in docker -e')!.secrets[0]],
    ['context7', corpus.find((c) => c.label === 'Context7 key as --api-key')!.secrets[0]],
    ['mcp-config', corpus.find((c) => c.label === 'token in inline --mcp-config JSON')!.argv[2]],
  ])
}

/** Where one MCP server is started: its first pid (the rest follow), parent, age and the claude's env. */
interface Launch {
  pid: number
  parent: number
  minutes: number
  env: Env
  secrets: Secrets
}

/**
 * The ways Claude Code launches an MCP server, as process trees: each returns the argv of its processes,
 * launcher first, and the memory each holds. A server started through `sh -c` (the `viaShell` of
 * `launchMcp`) gets one more process above these.
 */
const MCP_LAUNCHES = {
  filesystem: () => [
    {comm: 'npm exec @model', argv: [`npm exec @modelcontextprotocol/server-filesystem ${H}/gt`], mib: 48},
    {
      comm: 'node',
      argv: [
        'node',
        `${H}/.npm/_npx/a3f1c2e9d4b5a6f7/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`,
        `${H}/gt`,
      ],
      mib: 61,
    },
  ],
  fetch: () => [
    {comm: 'uv', argv: ['uvx', 'mcp-server-fetch'], mib: 22},
    {
      comm: 'mcp-server-fetc',
      argv: [
        `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/python`,
        `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/mcp-server-fetch`,
      ],
      mib: 44,
    },
  ],
  // The same server through `uv tool uvx`, its python running the server as a module (`-m`).
  'fetch-uv-tool': () => [
    {comm: 'uv', argv: [`${H}/.local/bin/uv`, 'tool', 'uvx', 'mcp-server-fetch'], mib: 9},
    {comm: 'python', argv: [`${H}/.cache/uv/archive-v0/x/bin/python`, '-m', 'mcp_server_fetch'], mib: 38},
  ],
  // Without a secret the token comes from the environment: `-e NAME` with no value.
  github: (s) => [
    {
      comm: 'docker',
      argv: [
        'docker',
        'run',
        '-i',
        '--rm',
        '-e',
        s.has('github') ? `GITHUB_PERSONAL_ACCESS_TOKEN=${s.get('github')}` : 'GITHUB_PERSONAL_ACCESS_TOKEN',
        'ghcr.io/github/github-mcp-server',
      ],
      mib: 27,
    },
  ],
  context7: (s) => {
    const key = s.has('context7') ? ['--api-key', s.get('context7')!] : []
    return [
      {comm: 'npm exec @upsta', argv: [['npm exec @upstash/context7-mcp', ...key].join(' ')], mib: 46},
      {comm: 'node', argv: ['node', `${H}/.npm/_npx/0c5d2b7e8f9a1b3c/node_modules/.bin/context7-mcp`, ...key], mib: 58},
    ]
  },
  memory: () => [
    {
      comm: 'node',
      argv: ['node', `${H}/.npm/_npx/7e6d5c4b3a291807/node_modules/@modelcontextprotocol/server-memory/dist/index.js`],
      mib: 52,
    },
  ],
  git: () => [
    {
      comm: 'mcp-server-git',
      argv: [
        `${H}/.local/share/uv/tools/mcp-server-git/bin/python`,
        `${H}/.local/bin/mcp-server-git`,
        '--repository',
        `${H}/gt`,
      ],
      mib: 39,
    },
  ],
  playwright: () => [
    {comm: 'npm exec @playw', argv: ['npm exec @playwright/mcp'], mib: 45},
    {comm: 'node', argv: ['node', `${H}/.npm/_npx/9b8a7c6d5e4f3a2b/node_modules/@playwright/mcp/cli.js`], mib: 88},
  ],
} satisfies Record<string, (s: Secrets) => Array<{comm: string; argv: string[]; mib: number}>>
type McpKind = keyof typeof MCP_LAUNCHES
/** The order the report layout hands out servers in (a claude's k-th server is kind `firstKind + k`). */
const REPORT_KINDS: McpKind[] = ['filesystem', 'fetch', 'github', 'context7', 'memory', 'git', 'playwright']

/** One MCP server as a chain of processes from `at.pid` on, each the child of the one before; returns its pids. */
function launchMcp(m: Machine, kind: McpKind, at: Launch, viaShell = false): number[] {
  const chain = MCP_LAUNCHES[kind](at.secrets)
  if (viaShell) chain.unshift({comm: 'sh', argv: ['sh', '-c', chain[0].argv.join(' ')], mib: 1})
  const base: Omit<ProcSpec, 'pid'> = {...age(at.minutes), env: {...at.env, CLAUDECODE: '1'}}
  return chain.map(
    (spec, i) => m.proc({...base, pid: at.pid + i, ppid: i === 0 ? at.parent : at.pid + i - 1, ...spec}).pid,
  )
}

export interface IncidentOptions {
  /** `exactness` (default): two servers, a subreaper and look-alikes; `report`: the investigation's own pids. */
  layout?: 'exactness' | 'report'
  /** Secrets from the corpus in the incident's own command lines (the default of the report layout only). */
  secrets?: boolean
  /** Extra processes left behind by Claude Code, one per corpus case (for the redaction tests). */
  corpus?: SecretCase[]
}

export interface Incident {
  machine: Machine
  /** The snapshot as collected (unredacted), with the host the investigation ran on. */
  snapshot: Snapshot
  /** What the doctor must report; everything else must be left alone. */
  expected: {
    orphanClaude: number[]
    orphanMcpRoots: number[]
    /** Agent sessions with a shell and no claude, between restarts. */
    idleAgents: string[]
    /** Panes, healthy claudes and their MCP servers (exactness layout only). */
    healthy: number[]
    /** Processes a `ps | grep` script would take for orphans (exactness layout only). */
    lookalikes: number[]
  }
}

/** The investigation's machine in the layout asked for. */
export function incident(opts: IncidentOptions = {}): Incident {
  const layout = opts.layout ?? 'exactness'
  const secrets = (opts.secrets ?? layout === 'report') ? incidentSecrets() : new Map<string, string>()
  const m = new Machine(1000, 99_999)
  const found = layout === 'report' ? reportLayout(m, secrets) : exactnessLayout(m, secrets)

  // Redaction corpus: processes left behind by Claude Code, one per secret-bearing command line.
  opts.corpus?.forEach((c, i) => {
    m.proc({
      pid: 1900000 + i * 10,
      ppid: 1,
      comm: (c.argv[0].split('/').pop() ?? 'x').slice(0, 15),
      argv: c.argv,
      ...age(30 + i),
      mib: 20,
      env: {CLAUDECODE: '1'},
    })
  })

  const raw = m.snapshot()
  const claudeVersion = detectClaudeVersion(raw.processes, {
    readExe: () => undefined,
    readPackageVersion: () => undefined,
  })
  return {
    machine: m,
    snapshot: {...raw, host: {...raw.host, hostname: 'gastown-wsl', claudeVersion}},
    expected: {healthy: [], lookalikes: [], ...found},
  }
}

/** The report layout's snapshot as collected (unredacted); `opts.corpus` adds the redaction corpus. */
export function incidentSnapshot(opts: Omit<IncidentOptions, 'layout'> = {}): Snapshot {
  return incident({...opts, layout: 'report'}).snapshot
}

/** What `gt-doctor snapshot` would have written on that machine: the committed fixture. */
export function incidentFixture(): Snapshot {
  return redactSnapshot(incidentSnapshot(), {home: INCIDENT_HOME})
}

type Found = Omit<Incident['expected'], 'healthy' | 'lookalikes'> & Partial<Incident['expected']>

/** Two servers, a subreaper, the look-alikes; pids handed out in order from 2001. */
function exactnessLayout(m: Machine, secrets: Secrets): Found {
  let pid = 2000
  const next = () => ++pid
  const user = m.proc({pid: 500, ppid: 1, cmd: '/lib/systemd/systemd --user', comm: 'systemd'})
  const gt = m.server({pid: 600, ppid: 1})
  const hq = m.server({pid: 700, ppid: 1, label: 'hq'})

  const orphanClaude: number[] = []
  const orphanMcpRoots: number[] = []
  const healthy: number[] = []
  const lookalikes: number[] = []

  // Five servers a claude, one of each launch the exactness checks tell apart (context7 behind `sh -c`).
  const mcpFor = (parent: number, minutes: number, env: Env) =>
    (['filesystem', 'fetch-uv-tool', 'context7', 'github', 'memory'] as const).map((kind) => {
      const pids = launchMcp(m, kind, {pid: pid + 1, parent, minutes, env, secrets}, kind === 'context7')
      pid += pids.length
      return pids
    })

  const claudeCmd = `${H}/.local/share/claude/versions/2.1.233`
  // 7 healthy agents: each pane runs a shell that runs claude with its 5 MCP servers.
  const sessions: Array<[TmuxServer, string]> = [
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
      ...age(2 * 60),
    })
    healthy.push(shell.pid, c.pid, ...mcpFor(c.pid, 2 * 60 - 0.1, c.env).flat())
  }
  // 8 more sessions: 4 of the user's own, 4 agent sessions whose claude has not started (or died).
  for (const name of ['main', 'editor', 'logs', 'build'])
    healthy.push(m.pane(gt, name, {pid: next(), cmd: '-zsh', comm: 'zsh', ttyNr: 34_900 + pid}).pid)
  const idleAgents = ['gt-polecat-4', 'gt-polecat-5', 'hq-polecat-6', 'hq-polecat-7']
  for (const name of idleAgents)
    healthy.push(
      m.pane(name.startsWith('gt') ? gt : hq, name, {pid: next(), cmd: '-bash', comm: 'bash', ttyNr: 35_000 + pid}).pid,
    )

  // 12 orphan claudes, ~495 MiB each (~5.8 GiB), 5 MCP servers each: 7 under the tmux servers, 3 under
  // init, 2 under systemd --user.
  const adopters: Array<[number, Env]> = [
    [1, {TMUX: `${gt.socket},600,90`, TMUX_PANE: '%31'}],
    ...[9, 8, 7, 6].map((n): [number, Env] => [600, {TMUX: `${gt.socket},600,${20 + n}`, TMUX_PANE: `%${40 + n}`}]),
    ...[5, 4, 3].map((n): [number, Env] => [700, {TMUX: `${hq.socket},700,${10 + n}`, TMUX_PANE: `%${50 + n}`}]),
    [1, {TMUX: `${hq.socket},700,30`, TMUX_PANE: '%60'}],
    [1, {}],
    [user.pid, {TMUX: `${gt.socket},600,31`, TMUX_PANE: '%61'}],
    [user.pid, {TMUX: `${gt.socket},600,32`, TMUX_PANE: '%62'}],
  ]
  adopters.forEach(([ppid, env], i) => {
    const minutes = ORPHAN_MINUTES[i]
    const c = m.proc({
      pid: next(),
      ppid,
      cmd: 'claude --dangerously-skip-permissions',
      comm: 'claude',
      mib: 495,
      env,
      ttyNr: 0,
      ...age(minutes),
    })
    orphanClaude.push(c.pid)
    mcpFor(c.pid, minutes - 0.1, env)
  })

  // 4 orphan MCP trees whose claude exited: 20 more MCP servers, under init and systemd --user; each
  // launch is its own orphan tree.
  for (const [i, ppid] of [1, 1, 1, user.pid].entries())
    for (const [root] of mcpFor(ppid, 90 + i * 45, {})) orphanMcpRoots.push(root)

  // Look-alikes: none of these may be reported, let alone signalled.
  const look = (spec: ProcSpec) => lookalikes.push(m.proc(spec).pid)
  look({pid: next(), ppid: healthy[0], cmd: 'vim claude-notes.md'})
  look({pid: next(), ppid: healthy[0], cmd: `grep -r claude ${H}/gt`})
  look({pid: next(), ppid: 1, cmd: `tail -f ${H}/gt/logs/mcp-server.log`})
  look({pid: next(), ppid: 1, cmd: `less ${H}/.claude/mcp.json`})
  look({pid: next(), ppid: 1, cmd: '/usr/sbin/cron -f', uid: 0})
  look({pid: next(), ppid: 1, cmd: '/usr/bin/dockerd -H fd://', uid: 0})
  look({pid: next(), ppid: 1, cmd: 'node /srv/app/server.js --name mcp-server-foo'})
  look({pid: next(), ppid: 1, cmd: `python3 ${H}/claude.py`})
  // A PID-reuse echo: the pid the oldest orphan had is now an unrelated process (another start time).
  look({pid: 1_199_837, ppid: 1, cmd: '/usr/bin/python3 /usr/bin/unattended-upgrade', startTicks: 999_999, uid: 0})
  // A zombie claude whose parent is alive: dead already, nothing to end.
  look({pid: next(), ppid: healthy[1], cmd: '', comm: 'claude', state: 'Z', mib: 0})
  // The doctor itself, run from a healthy pane.
  m.proc({pid: 99_999, ppid: healthy[0], cmd: 'node /usr/lib/node_modules/gt-doctor/bin/run.js', comm: 'node'})

  return {orphanClaude, orphanMcpRoots, healthy, lookalikes, idleAgents}
}

const TMUX_SERVER = 1522098
const SOCKET = '/tmp/tmux-1000/default'
const LIVE_AGENTS = [
  'gt-mayor',
  'gt-deacon',
  'gt-witness',
  'gt-refinery',
  'gt-polecat-furiosa',
  'gt-polecat-nux',
  'hq-morsov',
]
const IDLE_AGENTS = ['gt-polecat-slit', 'gt-polecat-capable', 'gt-polecat-toast']
const HUMAN_SESSIONS: Array<[string, string[]]> = [
  ['main', ['-bash']],
  ['logs', ['tail', '-F', `${H}/gt/logs/daemon.log`]],
  ['dev', ['vim', `${H}/gt/internal/tmux/tmux.go`]],
  ['notes', ['less', `${H}/notes/hq-gxwn.md`]],
  ['scratch', ['htop']],
]
/** The orphaned claudes as the investigation lists them: pid, who adopted them, memory. */
const ORPHANS: Array<{pid: number; ppid: number; mib: number}> = [
  {pid: 1199837, ppid: 1, mib: 1012},
  {pid: 1526607, ppid: TMUX_SERVER, mib: 411},
  {pid: 1541788, ppid: TMUX_SERVER, mib: 411},
  {pid: 1551157, ppid: TMUX_SERVER, mib: 411},
  {pid: 1559357, ppid: TMUX_SERVER, mib: 411},
  {pid: 1563990, ppid: TMUX_SERVER, mib: 411},
  {pid: 1568211, ppid: TMUX_SERVER, mib: 411},
  {pid: 1571450, ppid: 1, mib: 411},
  {pid: 1575832, ppid: TMUX_SERVER, mib: 411},
  {pid: 1580017, ppid: TMUX_SERVER, mib: 411},
  {pid: 1584463, ppid: 1, mib: 412},
  {pid: 1588920, ppid: TMUX_SERVER, mib: 412},
]

/** One tmux server (1522098) with the investigation's sessions and pids. */
function reportLayout(m: Machine, secrets: Secrets): Found {
  const server: TmuxServer = m.server({pid: TMUX_SERVER, socket: SOCKET})
  m.processes.get(TMUX_SERVER)!.argv = ['tmux', 'new-session', '-d', '-s', 'main']
  Object.assign(m.processes.get(TMUX_SERVER)!, age(26 * 60))

  // `servers` MCP servers under `parent`, from pid `parent + 1` on, kinds in REPORT_KINDS order from `firstKind`.
  const mcpUnder = (parent: number, servers: number, firstKind: number, minutes: number, env: Env) => {
    let pid = parent + 1
    for (let k = 0; k < servers; k++)
      pid += launchMcp(m, REPORT_KINDS[(firstKind + k) % 7], {pid, parent, minutes, env, secrets}).length
  }
  const claude = (spec: {pid: number; ppid: number; minutes: number; mib: number; env: Env; argv: string[]}) =>
    m.proc({
      pid: spec.pid,
      ppid: spec.ppid,
      comm: 'claude',
      argv: spec.argv,
      mib: spec.mib,
      ...age(spec.minutes),
      env: spec.env,
    })

  // Seven agent sessions with a live claude, each with seven MCP servers.
  LIVE_AGENTS.forEach((session, i) => {
    const panePid = 1600000 + i * 1000
    const paneId = `%${i}`
    const minutes = 20 + i * 23
    const mib = 380 + i * 10
    const nativePath = i < 3 ? [`${H}/.local/share/claude/versions/2.1.3`] : ['claude']
    const argv = [
      ...nativePath,
      '--dangerously-skip-permissions',
      ...(i === 0 ? ['--mcp-config', secrets.get('mcp-config')!] : []),
    ]
    if (i % 2 === 1) {
      const shell = m.pane(server, session, {
        pid: panePid,
        paneId,
        argv: ['-bash'],
        comm: 'bash',
        ...age(minutes + 1),
        mib: 5,
      })
      claude({pid: panePid + 1, ppid: shell.pid, minutes, mib, env: shell.env, argv})
      mcpUnder(panePid + 1, 7, i, minutes - 0.1, shell.env)
    } else {
      const pane = m.pane(server, session, {pid: panePid, paneId, comm: 'claude', argv, ...age(minutes), mib})
      mcpUnder(panePid, 7, i, minutes - 0.1, pane.env)
    }
  })

  // Three agent sessions between polecat restarts: a shell, no claude.
  IDLE_AGENTS.forEach((session, i) => {
    m.pane(server, session, {
      pid: 1700000 + i * 10,
      paneId: `%${LIVE_AGENTS.length + i}`,
      argv: ['-bash'],
      comm: 'bash',
      ...age(3 + i),
      mib: 5,
    })
  })

  // Five sessions of the person at the keyboard; the doctor runs in `main`.
  HUMAN_SESSIONS.forEach(([session, argv], i) => {
    const pid = 1510000 + i * 10
    m.pane(server, session, {
      pid,
      paneId: `%${LIVE_AGENTS.length + IDLE_AGENTS.length + i}`,
      argv,
      comm: argv[0].replace(/^-/, ''),
      ...age(26 * 60 - i),
      mib: 6,
      ttyNr: 34816 + i,
    })
  })
  m.proc({
    pid: 99_999,
    ppid: 1510000,
    comm: 'node',
    argv: ['node', `${H}/.npm-global/bin/gt-doctor`, '--format', 'markdown'],
    ...age(0),
    mib: 70,
    ttyNr: 34816,
  })

  // Twelve orphaned claudes, each with the five MCP servers it had started.
  ORPHANS.forEach((o, i) => {
    const minutes = ORPHAN_MINUTES[i]
    const env = {TMUX: `${SOCKET},${TMUX_SERVER},${20 + i}`, TMUX_PANE: `%${40 + i}`}
    const argv =
      i === 0
        ? [`${H}/.local/share/claude/versions/2.0.76`, '--dangerously-skip-permissions']
        : ['claude', '--dangerously-skip-permissions', '--resume']
    claude({pid: o.pid, ppid: o.ppid, minutes, mib: o.mib, env, argv})
    mcpUnder(o.pid, 5, i, minutes - 0.1, env)
  })

  // Six MCP server trees whose claude is gone, and one dev server a claude started and left behind.
  const orphanMcpRoots = (['filesystem', 'filesystem', 'fetch', 'github', 'filesystem', 'memory'] as const).map(
    (kind, i) => launchMcp(m, kind, {pid: 1400000 + i * 10, parent: 1, minutes: 90 + i * 45, env: {}, secrets})[0],
  )
  m.proc({
    pid: 1450000,
    ppid: 1,
    comm: 'node',
    argv: ['node', `${H}/gt/web/node_modules/.bin/vite`, '--port', '5173'],
    ...age(140),
    mib: 96,
    env: {CLAUDECODE: '1'},
  })

  return {orphanClaude: ORPHANS.map((o) => o.pid), orphanMcpRoots, idleAgents: IDLE_AGENTS}
}
