/**
 * The machine of the investigation (hq-gxwn, 2026-01-11), rebuilt with the Machine builder: 19 Claude
 * processes, 15 tmux sessions, 12 orphaned Claude processes (the oldest 8h 39m, four reparented to the tmux
 * server 1522098), 115 MCP servers, ~5.8 GB held by the orphaned claudes alone, on WSL2 with 81 GB of RAM.
 *
 * Deterministic: the same snapshot on every run. Its command lines carry secrets from the corpus, so the
 * committed fixture is what `gt-doctor snapshot` would write: redacted.
 *
 *   npx tsx test/support/make-incident.ts   # rewrites fixtures/reports/incident.snapshot.json
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {redactSnapshot} from '../../src/report/redact.js'
import {detectClaudeVersion} from '../../src/snapshot/claude-version.js'
import {serializeSnapshot} from '../../src/snapshot/load.js'
import type {ProcessInfo, Snapshot, TmuxServer} from '../../src/snapshot/types.js'
import {Machine, type ProcSpec} from './machine.js'
import {secretCorpus, type SecretCase} from './secrets.js'

export const INCIDENT_HOME = '/home/morsov'
export const INCIDENT_FIXTURE = fileURLToPath(new URL('../../fixtures/reports/incident.snapshot.json', import.meta.url))

const MINUTE = 60_000
const COLLECTED_MS = Date.parse('2026-01-11T12:00:00.000Z')
const BOOT_MS = 1_760_000_000_000
const TMUX_SERVER = 1522098
const SOCKET = '/tmp/tmux-1000/default'
const H = INCIDENT_HOME

/** Start time fields for a process that has run `minutes`. */
function age(minutes: number): Pick<ProcessInfo, 'startTimeMs' | 'startTicks'> {
  const startTimeMs = COLLECTED_MS - Math.round(minutes * MINUTE)
  return {startTimeMs, startTicks: Math.round((startTimeMs - BOOT_MS) / 10)}
}

interface ClaudeEnv {
  TMUX: string
  TMUX_PANE: string
}

/**
 * One MCP server tree of a claude, by kind: the launchers and servers Claude Code starts in practice.
 * Returns how many pids it used.
 */
function mcpTree(
  m: Machine,
  kind: number,
  parent: number,
  pid: number,
  minutes: number,
  env: Partial<ClaudeEnv>,
  secrets: Map<string, string>,
): number {
  const base = {...age(minutes), env: {...env, CLAUDECODE: '1'}}
  const proc = (spec: ProcSpec) => m.proc({...base, ...spec})
  switch (kind % 7) {
    case 0:
      proc({
        pid,
        ppid: parent,
        comm: 'npm exec @model',
        argv: [`npm exec @modelcontextprotocol/server-filesystem ${H}/gt`],
        mib: 48,
      })
      proc({
        pid: pid + 1,
        ppid: pid,
        comm: 'node',
        argv: [
          'node',
          `${H}/.npm/_npx/a3f1c2e9d4b5a6f7/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`,
          `${H}/gt`,
        ],
        mib: 61,
      })
      return 2
    case 1:
      proc({pid, ppid: parent, comm: 'uv', argv: ['uvx', 'mcp-server-fetch'], mib: 22})
      proc({
        pid: pid + 1,
        ppid: pid,
        comm: 'mcp-server-fetc',
        argv: [
          `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/python`,
          `${H}/.cache/uv/archive-v0/Xk2p9QvR/bin/mcp-server-fetch`,
        ],
        mib: 44,
      })
      return 2
    case 2:
      proc({
        pid,
        ppid: parent,
        comm: 'docker',
        argv: [
          'docker',
          'run',
          '-i',
          '--rm',
          '-e',
          `GITHUB_PERSONAL_ACCESS_TOKEN=${secrets.get('github') ?? ''}`,
          'ghcr.io/github/github-mcp-server',
        ],
        mib: 27,
      })
      return 1
    case 3:
      proc({
        pid,
        ppid: parent,
        comm: 'npm exec @upsta',
        argv: [`npm exec @upstash/context7-mcp --api-key ${secrets.get('context7') ?? ''}`],
        mib: 46,
      })
      proc({
        pid: pid + 1,
        ppid: pid,
        comm: 'node',
        argv: [
          'node',
          `${H}/.npm/_npx/0c5d2b7e8f9a1b3c/node_modules/.bin/context7-mcp`,
          '--api-key',
          secrets.get('context7') ?? '',
        ],
        mib: 58,
      })
      return 2
    case 4:
      proc({
        pid,
        ppid: parent,
        comm: 'node',
        argv: [
          'node',
          `${H}/.npm/_npx/7e6d5c4b3a291807/node_modules/@modelcontextprotocol/server-memory/dist/index.js`,
        ],
        mib: 52,
      })
      return 1
    case 5:
      proc({
        pid,
        ppid: parent,
        comm: 'mcp-server-git',
        argv: [
          `${H}/.local/share/uv/tools/mcp-server-git/bin/python`,
          `${H}/.local/bin/mcp-server-git`,
          '--repository',
          `${H}/gt`,
        ],
        mib: 39,
      })
      return 1
    default:
      proc({pid, ppid: parent, comm: 'npm exec @playw', argv: ['npm exec @playwright/mcp'], mib: 45})
      proc({
        pid: pid + 1,
        ppid: pid,
        comm: 'node',
        argv: ['node', `${H}/.npm/_npx/9b8a7c6d5e4f3a2b/node_modules/@playwright/mcp/cli.js`],
        mib: 88,
      })
      return 2
  }
}

/** A claude with `servers` MCP server trees under it. */
function claudeWithServers(
  m: Machine,
  spec: {
    pid: number
    ppid: number
    minutes: number
    mib: number
    env: Partial<ClaudeEnv>
    argv: string[]
    servers: number
    firstKind: number
  },
  secrets: Map<string, string>,
): void {
  m.proc({
    pid: spec.pid,
    ppid: spec.ppid,
    comm: 'claude',
    argv: spec.argv,
    mib: spec.mib,
    ...age(spec.minutes),
    env: spec.env,
  })
  let next = spec.pid + 1
  for (let i = 0; i < spec.servers; i++)
    next += mcpTree(m, spec.firstKind + i, spec.pid, next, spec.minutes - 0.1, spec.env, secrets)
}

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

/** Orphaned claudes as the investigation lists them: pid, minutes running, and who adopted them. */
const ORPHANS: Array<{pid: number; minutes: number; ppid: number; mib: number}> = [
  {pid: 1199837, minutes: 8 * 60 + 39, ppid: 1, mib: 1012},
  {pid: 1526607, minutes: 9, ppid: TMUX_SERVER, mib: 411},
  {pid: 1541788, minutes: 8, ppid: TMUX_SERVER, mib: 411},
  {pid: 1551157, minutes: 7, ppid: TMUX_SERVER, mib: 411},
  {pid: 1559357, minutes: 6, ppid: TMUX_SERVER, mib: 411},
  {pid: 1563990, minutes: 5.5, ppid: TMUX_SERVER, mib: 411},
  {pid: 1568211, minutes: 5, ppid: TMUX_SERVER, mib: 411},
  {pid: 1571450, minutes: 4, ppid: 1, mib: 411},
  {pid: 1575832, minutes: 3, ppid: TMUX_SERVER, mib: 411},
  {pid: 1580017, minutes: 2.5, ppid: TMUX_SERVER, mib: 411},
  {pid: 1584463, minutes: 2, ppid: 1, mib: 412},
  {pid: 1588920, minutes: 1, ppid: TMUX_SERVER, mib: 412},
]

export interface IncidentOptions {
  /** Extra processes left behind by Claude Code, one per corpus case (for the redaction tests). */
  corpus?: SecretCase[]
}

/** The incident's machine, unredacted: secrets from the corpus in its command lines. */
export function incidentMachine(opts: IncidentOptions = {}): Machine {
  const corpus = secretCorpus()
  const secrets = new Map([
    ['github', corpus.find((c) => c.label === 'GitHub token in docker -e')!.secrets[0]],
    ['context7', corpus.find((c) => c.label === 'Context7 key as --api-key')!.secrets[0]],
    ['mcp-config', corpus.find((c) => c.label === 'token in inline --mcp-config JSON')!.argv[2]],
  ])
  const m = new Machine(1000, 99_999)
  const server: TmuxServer = m.server({pid: TMUX_SERVER, socket: SOCKET})
  m.processes.get(TMUX_SERVER)!.argv = ['tmux', 'new-session', '-d', '-s', 'main']
  Object.assign(m.processes.get(TMUX_SERVER)!, age(26 * 60))

  // Seven agent sessions with a live claude, each with seven MCP servers.
  LIVE_AGENTS.forEach((session, i) => {
    const panePid = 1600000 + i * 1000
    const paneId = `%${i}`
    const viaShell = i % 2 === 1
    const minutes = 20 + i * 23
    const nativePath = i < 3 ? [`${H}/.local/share/claude/versions/2.1.3`] : ['claude']
    const argv = [
      ...nativePath,
      '--dangerously-skip-permissions',
      ...(i === 0 ? ['--mcp-config', secrets.get('mcp-config')!] : []),
    ]
    if (viaShell) {
      const shell = m.pane(server, session, {
        pid: panePid,
        paneId,
        argv: ['-bash'],
        comm: 'bash',
        ...age(minutes + 1),
        mib: 5,
      })
      claudeWithServers(
        m,
        {
          pid: panePid + 1,
          ppid: shell.pid,
          minutes,
          mib: 380 + i * 10,
          env: shell.env as ClaudeEnv,
          argv,
          servers: 7,
          firstKind: i,
        },
        secrets,
      )
    } else {
      const pane = m.pane(server, session, {
        pid: panePid,
        paneId,
        comm: 'claude',
        argv,
        ...age(minutes),
        mib: 380 + i * 10,
      })
      let next = panePid + 1
      for (let k = 0; k < 7; k++)
        next += mcpTree(m, i + k, panePid, next, minutes - 0.1, pane.env as ClaudeEnv, secrets)
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
    const killedSession = 20 + i
    const env = {TMUX: `${SOCKET},${TMUX_SERVER},${killedSession}`, TMUX_PANE: `%${40 + i}`}
    const argv =
      o.pid === 1199837
        ? [`${H}/.local/share/claude/versions/2.0.76`, '--dangerously-skip-permissions']
        : ['claude', '--dangerously-skip-permissions', '--resume']
    claudeWithServers(
      m,
      {pid: o.pid, ppid: o.ppid, minutes: o.minutes, mib: o.mib, env, argv, servers: 5, firstKind: i},
      secrets,
    )
  })

  // Six MCP server trees whose claude is gone, and one dev server a claude started and left behind.
  for (let i = 0; i < 6; i++) mcpTree(m, [0, 0, 1, 2, 0, 4][i], 1, 1400000 + i * 10, 90 + i * 45, {}, secrets)
  m.proc({
    pid: 1450000,
    ppid: 1,
    comm: 'node',
    argv: ['node', `${H}/gt/web/node_modules/.bin/vite`, '--port', '5173'],
    ...age(140),
    mib: 96,
    env: {CLAUDECODE: '1'},
  })

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
  return m
}

/** The snapshot of the incident's machine as collected (unredacted), with the Claude version the collector would read. */
export function incidentSnapshot(opts: IncidentOptions = {}): Snapshot {
  const snapshot = incidentMachine(opts).snapshot()
  const claudeVersion = detectClaudeVersion(snapshot.processes, {
    readExe: () => undefined,
    readPackageVersion: () => undefined,
  })
  return {...snapshot, host: {...snapshot.host, hostname: 'gastown-wsl', claudeVersion}}
}

/** What `gt-doctor snapshot` would have written on that machine: the committed fixture. */
export function incidentFixture(): Snapshot {
  return redactSnapshot(incidentSnapshot(), {home: INCIDENT_HOME})
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(dirname(INCIDENT_FIXTURE), {recursive: true})
  writeFileSync(INCIDENT_FIXTURE, serializeSnapshot(incidentFixture()))
  process.stdout.write(`wrote ${INCIDENT_FIXTURE}\n`)
}
