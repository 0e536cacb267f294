import {
  SNAPSHOT_VERSION,
  type ContainerRuntime,
  type MultiplexerSession,
  type ProcessInfo,
  type Snapshot,
  type TmuxPane,
  type TmuxServer,
} from '../../src/snapshot/types.js'

const MiB = 1024 * 1024

export interface ProcSpec extends Partial<ProcessInfo> {
  pid: number
  /** Shorthand for argv: split on spaces. */
  cmd?: string
  /** Shorthand for rssBytes/pssBytes in MiB. */
  mib?: number
}

/**
 * Builds snapshots for tests the way the investigation describes machines: servers, sessions, panes
 * and the processes under them. Every process gets a deterministic start time (pid * 10 ticks).
 */
export class Machine {
  readonly processes = new Map<number, ProcessInfo>()
  readonly servers: TmuxServer[] = []
  limitations: string[] = []
  tmuxAvailable = true
  /** screen and zellij sessions; left out of the snapshot while empty (as recorded before they were collected). */
  readonly muxSessions: MultiplexerSession[] = []
  containers?: ContainerRuntime[]

  constructor(
    readonly uid = 1000,
    readonly doctorPid = 99_999,
  ) {
    this.proc({pid: 1, ppid: 0, comm: 'systemd', cmd: '/sbin/init', uid: 0})
  }

  proc(spec: ProcSpec): ProcessInfo {
    const argv = spec.argv ?? (spec.cmd ? spec.cmd.split(' ') : [spec.comm ?? 'sleep'])
    const comm = spec.comm ?? (argv[0].split('/').pop() ?? '').slice(0, 15)
    const p: ProcessInfo = {
      ppid: 1,
      uid: this.uid,
      state: 'S',
      startTicks: spec.pid * 10,
      startTimeMs: 1_760_000_000_000 + spec.pid * 100,
      env: {},
      ...spec,
      comm,
      argv,
      // An explicit `undefined` means "unreadable", as for other users' processes.
      rssBytes: 'rssBytes' in spec ? spec.rssBytes : spec.mib === undefined ? 4 * MiB : spec.mib * MiB,
      pssBytes: 'pssBytes' in spec ? spec.pssBytes : spec.mib === undefined ? 3 * MiB : spec.mib * MiB,
    }
    delete (p as ProcSpec).cmd
    delete (p as ProcSpec).mib
    this.processes.set(p.pid, p)
    return p
  }

  /** A tmux server process and its socket; `status` other than ok means it did not answer. */
  server(opts: {
    pid: number
    socket?: string
    label?: string
    status?: TmuxServer['status']
    ppid?: number
  }): TmuxServer {
    const socket = opts.socket ?? `/tmp/tmux-${this.uid}/${opts.label ?? 'default'}`
    const args = opts.label && opts.label !== 'default' ? ` -L ${opts.label}` : ''
    this.proc({pid: opts.pid, ppid: opts.ppid ?? 1, comm: 'tmux: server', cmd: `tmux${args} new-session -d`})
    const server: TmuxServer = {
      socket,
      pid: opts.status && opts.status !== 'ok' ? undefined : opts.pid,
      status: opts.status ?? 'ok',
      foundBy: ['socket-dir'],
      panes: [],
      ...(opts.status && opts.status !== 'ok'
        ? {error: opts.status === 'unresponsive' ? 'no answer within 3000 ms' : 'error'}
        : {}),
    }
    this.servers.push(server)
    return server
  }

  /** A pane in `session` whose process is `spec` (a child of the server). */
  pane(server: TmuxServer, session: string, spec: ProcSpec & {dead?: boolean; paneId?: string}): ProcessInfo {
    const paneId = spec.paneId ?? `%${server.panes.length}`
    const sessionIds = new Map(server.panes.map((p) => [p.session, p.sessionId]))
    const sessionId = sessionIds.get(session) ?? `$${new Set(server.panes.map((p) => p.session)).size}`
    const {dead, paneId: _ignored, ...procSpec} = spec
    const p = this.proc({
      ppid: server.pid ?? 1,
      env: {TMUX: `${server.socket},${server.pid ?? 0},${sessionId.slice(1)}`, TMUX_PANE: paneId},
      ...procSpec,
    })
    const pane: TmuxPane = {
      session,
      sessionId,
      windowIndex: 0,
      paneId,
      panePid: p.pid,
      dead: Boolean(dead),
      currentCommand: p.comm,
    }
    server.panes.push(pane)
    return p
  }

  /**
   * A GNU screen session `pid.name` (its SCREEN process, reparented to init) with windows 0..n-1, as
   * `screen -Q windows` would list them; `status` other than ok means it did not answer.
   */
  screen(opts: {
    pid: number
    name: string
    windows?: number[]
    status?: MultiplexerSession['status']
  }): MultiplexerSession {
    this.proc({pid: opts.pid, ppid: 1, comm: 'screen', argv: ['SCREEN', '-dmS', opts.name]})
    const session: MultiplexerSession = {
      kind: 'screen',
      id: `${opts.pid}.${opts.name}`,
      name: opts.name,
      pid: opts.pid,
      status: opts.status ?? 'ok',
      foundBy: ['socket-dir', 'process'],
    }
    if (session.status === 'ok') session.windows = opts.windows ?? [0]
    else session.error = 'no answer within 3000 ms'
    this.muxSessions.push(session)
    return session
  }

  /** A process in window `window` of a screen session (a child of its SCREEN process). */
  screenWindow(session: MultiplexerSession, window: number, spec: ProcSpec): ProcessInfo {
    return this.proc({ppid: session.pid, ...spec, env: {STY: session.id, WINDOW: String(window), ...spec.env}})
  }

  /** A zellij session: its `zellij --server SOCKET` process, as zellij-client's spawn_server starts it. */
  zellij(opts: {pid: number; name: string; status?: MultiplexerSession['status']}): MultiplexerSession {
    this.proc({
      pid: opts.pid,
      ppid: 1,
      comm: 'zellij',
      argv: ['/usr/bin/zellij', '--server', `/run/user/${this.uid}/zellij/0.43.1/${opts.name}`],
    })
    const session: MultiplexerSession = {
      kind: 'zellij',
      id: opts.name,
      name: opts.name,
      pid: opts.pid,
      status: opts.status ?? 'ok',
      foundBy: ['process'],
    }
    if (session.status !== 'ok') session.error = 'no answer within 3000 ms'
    this.muxSessions.push(session)
    return session
  }

  /** A process in pane `pane` of a zellij session (zellij sets ZELLIJ, ZELLIJ_SESSION_NAME, ZELLIJ_PANE_ID). */
  zellijPane(session: MultiplexerSession, pane: number, spec: ProcSpec): ProcessInfo {
    return this.proc({
      ppid: session.pid,
      ...spec,
      env: {ZELLIJ_SESSION_NAME: session.id, ZELLIJ_PANE_ID: String(pane), ...spec.env},
    })
  }

  snapshot(): Snapshot {
    const ancestors: number[] = []
    let cur = this.processes.get(this.doctorPid)?.ppid
    while (cur && cur > 0 && !ancestors.includes(cur)) {
      ancestors.push(cur)
      cur = this.processes.get(cur)?.ppid
    }
    return {
      snapshotVersion: SNAPSHOT_VERSION,
      collectedAt: '2026-01-11T12:00:00.000Z',
      host: {
        platform: 'linux',
        release: '6.6.87.2-microsoft-standard-WSL2',
        wsl: true,
        hostname: 'test-host',
        totalMemoryBytes: 81 * 1024 * MiB,
        bootTimeMs: 1_760_000_000_000,
        clockTicksPerSecond: 100,
        uid: this.uid,
        doctorPid: this.doctorPid,
        doctorAncestors: ancestors,
      },
      processes: [...this.processes.values()].sort((a, b) => a.pid - b.pid),
      tmux: {available: this.tmuxAvailable, version: this.tmuxAvailable ? '3.4' : undefined, servers: this.servers},
      ...(this.muxSessions.length > 0
        ? {
            multiplexers: {
              screen: {available: true, sessions: this.muxSessions.filter((s) => s.kind === 'screen')},
              zellij: {available: true, sessions: this.muxSessions.filter((s) => s.kind === 'zellij')},
            },
          }
        : {}),
      ...(this.containers ? {containers: this.containers} : {}),
      limitations: this.limitations,
    }
  }
}
