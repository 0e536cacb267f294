/**
 * Live-test harness: a private PID namespace per test file, driven over JSON-lines RPC.
 *
 * Project rule: tests never touch processes they did not create. Live tests therefore run everything inside
 * `unshare --pid --fork --mount-proc` (plus `--net` with {network: true}), where /proc shows only the namespace's own processes, orphans reparent
 * to the namespace's PID 1, and tmux servers use private sockets under `ns.tmpdir`.
 *
 *   host (vitest worker)
 *    └─ unshare --mount sh → exec unshare -pf --mount-proc --kill-child     ns.hostPid
 *        └─ bash init loop                  PID 1      reaps every orphan that reparents to it
 *            └─ node controller.mjs         PID 2      executes ns.spawn / ns.exec / ns.ps ... requests
 *
 * Teardown: close() closes the controller's stdin -> the controller exits -> PID 1 exits -> the kernel SIGKILLs
 * everything left in the namespace. If the test process dies instead, its pipe closes just the same; if
 * unshare itself is killed, --kill-child SIGKILLs PID 1. A process 'exit' hook SIGKILLs unclosed namespaces.
 */
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, it} from 'vitest'
import {fixLockDir} from '../../src/remediation/lock.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(HERE, '..', '..')
export const CONTROLLER = path.join(HERE, 'controller.mjs')
/**
 * Directory of the stand-in programs; prepended to PATH inside the namespace so `claude` resolves to ours. They
 * stay although real-claude.live.test.ts runs the real Claude Code: they show the report's SIGHUP bug (a claude
 * that outlives `tmux kill-session`), which the real program no longer shows.
 */
export const STANDIN_BIN = path.join(HERE, 'bin')
export const CLAUDE_STANDIN = path.join(STANDIN_BIN, 'claude')
export const NPM_EXEC_STANDIN = path.join(STANDIN_BIN, 'npm-exec-standin')
/** Source of the MCP server stand-in; startNamespace copies it into a node_modules/ path under ns.tmpdir. */
export const MCP_STANDIN_SOURCE = path.join(HERE, 'fixtures-mcp', 'server-standin.js')
/** Where the MCP stand-in lives relative to ns.tmpdir (node_modules/ is gitignored, hence the copy). */
export const MCP_STANDIN_REL = 'mcp/node_modules/@modelcontextprotocol/server-standin/index.js'

export type EnvPatch = Record<string, string | null | undefined>

export interface SpawnOptions {
  /** Merged onto the namespace environment; null/undefined removes a key. */
  env?: EnvPatch
  cwd?: string
  /** setsid(): own session and process group. */
  detached?: boolean
  /** Start it through a helper that exits at once, so the process is an orphan (parent = PID 1 or subreaper). */
  orphan?: boolean
}

export interface ExecOptions {
  env?: EnvPatch
  cwd?: string
  /** SIGKILL the command after this long (default 10 s); the result then has timedOut: true. */
  timeoutMs?: number
  /** Written to the command's stdin, which is then closed (stdin is always closed, input or not). */
  input?: string
}

export interface ExecResult {
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  timedOut: boolean
}

/** One row of the namespace's /proc. pids are as seen inside the namespace. */
/**
 * Whether a process runs node, by its argv: never by its kernel name, which Node 24 sets to `MainThread`
 * (the name of its main thread) where Node 20 left `node`.
 */
export const runsNode = (p: {argv: string[]}): boolean => /^node(js)?(\d+)?$/.test(path.basename(p.argv[0] ?? ''))

export interface NsProcess {
  pid: number
  ppid: number
  pgid: number
  sid: number
  /** Kernel state letter: R S D Z T ... */
  state: string
  /** /proc/PID/comm (15 chars max). */
  comm: string
  /** /proc/PID/cmdline split on NUL, trailing empty strings dropped. */
  argv: string[]
  /** argv joined with spaces, like ps's "args" column. */
  args: string
}

/** What a ready stand-in wrote to `${ns.stateDir}/<pid>.json`. */
export interface StandinState {
  role: 'claude' | 'mcp' | 'npm-exec'
  pid: number
  /** claude: pids of its direct MCP children (wrappers, when STANDIN_MCP_WRAPPER is set). */
  mcp?: number[]
  /** npm-exec: pid of its server child. */
  child?: number
}

export interface StartOptions {
  /** Extra environment for everything in the namespace (null removes a key); a function gets ns.tmpdir. */
  env?: EnvPatch | ((tmpdir: string) => EnvPatch)
  /**
   * Also a private network namespace (`unshare --net`) whose only interface, loopback, is brought up: for
   * anything that might talk to a network (a real Claude Code). Nothing in it can reach another address.
   */
  network?: boolean
  /** Give up if the controller is not ready after this long (default 10 s). */
  startTimeoutMs?: number
  /** Keep ns.tmpdir after close() (also enabled by GT_LIVE_KEEP=1), for debugging. */
  keepTmpdir?: boolean
}

/** What both a namespace and a subreaper can run. */
export interface Runner {
  spawn(argv: string[], opts?: SpawnOptions): Promise<{pid: number}>
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>
  /** `tmux -f /dev/null -S ${ns.socket(socketName)} ...args`, with TMUX_TMPDIR private to the namespace. */
  tmux(args: string[], socketName?: string, opts?: ExecOptions): Promise<ExecResult>
  /** Absolute path of a private tmux socket: `${ns.tmpdir}/tmux/${name}`. */
  socket(name?: string): string
}

export interface Subreaper extends Runner {
  /** pid (in the namespace) of the subreaper process, whose comm/cmdline read like `systemd --user`. */
  pid: number
  /** pid of the sub-controller, the subreaper's child that runs this handle's spawn/exec/tmux. */
  controllerPid: number
}

export interface LiveNamespace extends Runner {
  /** Private temp dir (mkdtemp), same path inside and outside the namespace. Removed by close(). */
  readonly tmpdir: string
  /** Host pid of the `unshare` process. Gone once close() resolves. */
  readonly hostPid: number
  /** pid of the controller inside the namespace (normally 2). */
  readonly controllerPid: number
  /** `${tmpdir}/tmuxdir`, the namespace's TMUX_TMPDIR. */
  readonly tmuxTmpdir: string
  /** Absolute path of the MCP server stand-in (…/node_modules/@modelcontextprotocol/server-standin/index.js). */
  readonly mcpScript: string
  /** `${tmpdir}/standin`: STANDIN_STATE_DIR, where ready stand-ins write <pid>.json. */
  readonly stateDir: string
  /**
   * `${tmpdir}/fix-lock`: mounted inside the namespace over the user's fix-lock directory (`fixLockDir()`), so
   * the doctor's per-uid lock is private to the namespace; a test plants or inspects lock files here.
   */
  readonly lockDir: string
  /** Environment every process in the namespace starts from. */
  readonly env: Record<string, string>
  ps(): Promise<NsProcess[]>
  /** Exists and is not a zombie. */
  alive(pid: number): Promise<boolean>
  /** Sends signal (default SIGTERM); false if there is no such process. */
  kill(pid: number, signal?: NodeJS.Signals | number): Promise<boolean>
  /** Reads a file inside the namespace (e.g. /proc/PID/environ); null if it does not exist. */
  readFile(file: string): Promise<string | null>
  /** /proc/PID/environ inside the namespace as an object; null if the process is gone. */
  environ(pid: number): Promise<Record<string, string> | null>
  /**
   * Waits until the stand-in with this (namespace) pid has installed its signal handlers (and, for claude,
   * spawned its MCP children): it is in /proc before that, and a signal sent too early kills it by default.
   */
  waitReady(pid: number, timeoutMs?: number): Promise<StandinState>
  /** Polls fn until it returns true; throws after timeoutMs. */
  waitUntil(fn: () => Promise<boolean> | boolean, timeoutMs?: number, intervalMs?: number, what?: string): Promise<void>
  /** Polls ns.ps() until at least `count` processes match; returns the matches. */
  waitForProcs(match: (p: NsProcess) => boolean, count?: number, timeoutMs?: number): Promise<NsProcess[]>
  /**
   * Like waitForProcs, but only stand-ins of `role` that are ready. Use it to find a claude: a child that
   * claude has forked but not yet exec'd also reads `claude` in comm and cmdline for a moment.
   */
  waitForStandins(
    role: StandinState['role'],
    match?: (p: NsProcess) => boolean,
    count?: number,
    timeoutMs?: number,
  ): Promise<NsProcess[]>
  /** Starts a child subreaper (python3 prctl) titled like `systemd --user`; see Subreaper. */
  spawnSubreaper(title?: string, opts?: {env?: EnvPatch; cwd?: string}): Promise<Subreaper>
  /** Kills everything in the namespace and removes tmpdir. Idempotent. */
  close(): Promise<void>
  readonly closed: boolean
}

// ---- availability -----------------------------------------------------------------------------------------

let availability: {ok: boolean; reason?: string} | undefined

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir || '.', cmd), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

/** Why live tests cannot run here, or undefined when they can. Probes unshare once (cached). */
export function liveUnavailableReason(): string | undefined {
  if (availability) return availability.reason
  let reason: string | undefined
  if (process.env.GT_LIVE_DISABLE === '1') reason = 'live tests disabled by GT_LIVE_DISABLE=1'
  else if (process.platform !== 'linux') reason = `live tests need Linux (this is ${process.platform})`
  else if (process.getuid?.() !== 0) reason = 'live tests need root (they create PID namespaces)'
  else if (!onPath('unshare')) reason = 'live tests need unshare (util-linux) on PATH'
  else if (!onPath('tmux')) reason = 'live tests need tmux on PATH'
  else {
    const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true'], {
      encoding: 'utf8',
      timeout: 10_000,
    })
    if (probe.status !== 0)
      reason = `unshare --pid --mount-proc does not work here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`
  }
  availability = {ok: reason === undefined, reason}
  return reason
}

/** True when running as root on Linux with a working `unshare --pid --mount-proc` and tmux. */
export function liveAvailable(): boolean {
  return liveUnavailableReason() === undefined
}

let networkAvailability: {reason?: string} | undefined

/** Why `startNamespace({network: true})` cannot work here (no `ip`, no `unshare --net`), or undefined. */
export function networkUnavailableReason(): string | undefined {
  const live = liveUnavailableReason()
  if (live !== undefined) return live
  if (networkAvailability) return networkAvailability.reason
  let reason: string | undefined
  if (!onPath('ip')) reason = 'network namespaces need ip (iproute2) on PATH to bring loopback up'
  else {
    const probe = spawnSync(
      'unshare',
      ['--pid', '--fork', '--net', '--mount-proc', '--kill-child', 'ip', 'link', 'set', 'lo', 'up'],
      {
        encoding: 'utf8',
        timeout: 10_000,
      },
    )
    if (probe.status !== 0)
      reason = `unshare --net does not work here: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`
  }
  networkAvailability = {reason}
  return reason
}

/** True when python3 is available (needed by spawnSubreaper only). */
export function pythonAvailable(): boolean {
  return onPath('python3')
}

let warnedSkip = false
const inCI = () => /^(1|true|yes)$/i.test(process.env.CI ?? '')

/**
 * describe() for live tests. Where live tests cannot run it skips with the reason in the suite name, except
 * under CI=true, where it registers a failing test instead: CI must never skip live tests silently. A suite
 * that needs more (real programs, a network namespace) passes its own reason as `unavailable`.
 */
export function describeLive(
  name: string,
  fn: () => void,
  unavailable: string | undefined = liveUnavailableReason(),
): void {
  const reason = unavailable
  if (reason === undefined) {
    describe(name, fn)
  } else if (inCI()) {
    describe(name, () => {
      it('live test environment is available (CI=true forbids skipping)', () => {
        throw new Error(`CI=true but live tests cannot run: ${reason}`)
      })
    })
  } else {
    if (!warnedSkip) process.stderr.write(`[live tests] skipping: ${reason}\n`)
    warnedSkip = true
    describe.skip(`${name} [skipped: ${reason}]`, fn)
  }
}

// ---- namespace --------------------------------------------------------------------------------------------

// PID 1. Starts the controller (argv "$@") on our stdin (background jobs would otherwise get /dev/null), then
// waits for it. bash's SIGCHLD handling calls waitpid(-1) while `wait` blocks, so every orphan that reparents
// to PID 1 is reaped as it exits. When the controller exits, PID 1 exits and the namespace dies with it.
const INIT_SCRIPT =
  'exec 3<&0; "$@" <&3 3<&- & ctl=$!; exec 0</dev/null 3<&-; ' +
  'while :; do wait "$ctl"; st=$?; kill -0 "$ctl" 2>/dev/null || break; done; exit "$st"'

// Before the PID namespace: in a private mount namespace of its own (unshare --mount, private propagation: the
// host never sees it), mounts the namespace's fix-lock directory over the user's, then execs `unshare "$@"`
// (same process, so --kill-child still ties the namespace to it). The doctor's lock is per uid wherever
// XDG_STATE_HOME points; without this, parallel test files would wait for each other's --fix. Done here and
// not by PID 1 so that the controller stays PID 2.
const MOUNT_SCRIPT = 'mount --bind "$GT_LIVE_LOCK_DIR" "$GT_LIVE_USER_LOCK_DIR" && exec unshare "$@"'

const open = new Set<Namespace>()
let exitHookInstalled = false
function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const ns of open) ns.killNow()
  })
}

type Pending = {resolve: (v: any) => void; reject: (e: Error) => void; method: string}

class Namespace implements LiveNamespace {
  readonly tmpdir: string
  readonly tmuxTmpdir: string
  readonly mcpScript: string
  readonly stateDir: string
  readonly lockDir: string
  readonly env: Record<string, string>
  hostPid = 0
  controllerPid = 0
  closed = false

  private child!: ChildProcess
  private pending = new Map<number, Pending>()
  private nextId = 1
  private stderrTail = ''
  private exited: Promise<void>
  private markExited!: () => void
  private hasExited = false
  private closing?: Promise<void>
  private keepTmpdir: boolean

  constructor(tmpdir: string, opts: StartOptions) {
    this.tmpdir = tmpdir
    this.tmuxTmpdir = path.join(tmpdir, 'tmuxdir')
    this.mcpScript = path.join(tmpdir, MCP_STANDIN_REL)
    this.stateDir = path.join(tmpdir, 'standin')
    this.lockDir = path.join(tmpdir, 'fix-lock')
    this.keepTmpdir = opts.keepTmpdir ?? process.env.GT_LIVE_KEEP === '1'
    this.exited = new Promise((resolve) => (this.markExited = resolve))
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) {
      // Never let the host's tmux or Claude Code session leak in: tmux would talk to the host's server.
      if (v === undefined || /^(TMUX|TMUX_PANE|CLAUDECODE|CLAUDE_CODE_.*|STANDIN_.*)$/.test(k)) continue
      env[k] = v
    }
    env.PATH = `${STANDIN_BIN}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`
    env.TMUX_TMPDIR = this.tmuxTmpdir
    env.TERM ||= 'xterm-256color'
    env.GT_LIVE_TMPDIR = tmpdir
    env.STANDIN_MCP_SCRIPT = this.mcpScript
    env.STANDIN_STATE_DIR = this.stateDir
    env.GT_LIVE_LOCK_DIR = this.lockDir
    // Created on the host once (0700, as the doctor would): the mount point inside each namespace.
    env.GT_LIVE_USER_LOCK_DIR = fixLockDir()
    const extra = typeof opts.env === 'function' ? opts.env(tmpdir) : opts.env
    for (const [k, v] of Object.entries(extra ?? {})) {
      if (v === null || v === undefined) delete env[k]
      else env[k] = v
    }
    this.env = env
  }

  async start(opts: StartOptions): Promise<void> {
    fs.mkdirSync(path.join(this.tmpdir, 'tmux'), {mode: 0o700})
    fs.mkdirSync(this.tmuxTmpdir, {mode: 0o700})
    fs.mkdirSync(this.stateDir)
    fs.mkdirSync(this.lockDir, {mode: 0o700})
    fs.mkdirSync(path.dirname(this.mcpScript), {recursive: true})
    fs.writeFileSync(
      path.join(path.dirname(this.mcpScript), 'package.json'),
      JSON.stringify({name: '@modelcontextprotocol/server-standin', version: '0.0.0', main: 'index.js'}) + '\n',
    )
    fs.copyFileSync(MCP_STANDIN_SOURCE, this.mcpScript)
    fs.chmodSync(this.mcpScript, 0o755)

    const net = opts.network ? ['--net'] : []
    const init = opts.network ? `ip link set lo up || exit 97; ${INIT_SCRIPT}` : INIT_SCRIPT
    this.child = spawn(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        MOUNT_SCRIPT,
        'gt-live-mount',
        '--pid',
        '--fork',
        ...net,
        '--mount-proc',
        '--kill-child',
        'bash',
        '-c',
        init,
        'gt-live-init',
        process.execPath,
        CONTROLLER,
      ],
      {cwd: REPO_ROOT, env: this.env, stdio: ['pipe', 'pipe', 'pipe']},
    )
    this.hostPid = this.child.pid ?? 0
    open.add(this)
    installExitHook()

    const ready = new Promise<{pid: number}>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `namespace controller not ready after ${opts.startTimeoutMs ?? 10_000} ms; stderr: ${this.stderrTail}`,
            ),
          ),
        opts.startTimeoutMs ?? 10_000,
      )
      this.failStart = (e) => {
        clearTimeout(timer)
        reject(e)
      }
      this.onReady = (msg) => {
        clearTimeout(timer)
        resolve(msg)
      }
    })
    ready.catch(() => {})

    this.child.on('error', (e) => {
      this.stderrTail += `\nunshare: ${e.message}`
      // Could not even be spawned: no 'exit' will follow.
      if (this.child.pid === undefined) this.gone(`could not spawn unshare: ${e.message}`)
    })
    this.child.stdin!.on('error', () => {})
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-8000)
    })
    readline.createInterface({input: this.child.stdout!}).on('line', (line) => this.onLine(line))
    this.child.once('exit', (code, signal) => this.gone(`unshare exited (code ${code}, signal ${signal})`))

    try {
      const msg = await ready
      this.controllerPid = msg.pid
    } catch (e) {
      await this.close()
      throw e
    }
  }

  private onReady: (msg: {pid: number}) => void = () => {}
  private failStart: (e: Error) => void = () => {}

  private gone(why: string): void {
    if (this.hasExited) return
    this.hasExited = true
    open.delete(this)
    const err = new Error(`namespace controller is gone: ${why}; stderr: ${this.stderrTail}`)
    this.failStart(err)
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
    this.markExited()
  }

  private onLine(line: string): void {
    let msg: any
    try {
      msg = JSON.parse(line)
    } catch {
      this.stderrTail = (this.stderrTail + `\n[controller stdout] ${line}`).slice(-8000)
      return
    }
    if (msg.event === 'ready') return this.onReady(msg)
    const p = this.pending.get(msg.id)
    if (!p) return
    this.pending.delete(msg.id)
    if (msg.error) p.reject(new Error(`ns.${p.method}: ${msg.error.message}`))
    else p.resolve(msg.result)
  }

  call<T>(method: string, params: object, via?: number): Promise<T> {
    if (this.closed || this.hasExited) return Promise.reject(new Error(`ns.${method}: namespace is closed`))
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {resolve, reject, method})
      this.child.stdin!.write(JSON.stringify({id, method, params, via}) + '\n')
    })
  }

  socket(name = 'default'): string {
    return path.join(this.tmpdir, 'tmux', name)
  }

  spawn(argv: string[], opts: SpawnOptions = {}, via?: number): Promise<{pid: number}> {
    return this.call('spawn', {argv, ...opts}, via)
  }

  exec(argv: string[], opts: ExecOptions = {}, via?: number): Promise<ExecResult> {
    return this.call('exec', {argv, ...opts}, via)
  }

  tmux(args: string[], socketName = 'default', opts: ExecOptions = {}, via?: number): Promise<ExecResult> {
    return this.exec(
      ['tmux', '-f', '/dev/null', '-S', this.socket(socketName), ...args],
      {
        ...opts,
        env: {TMUX: null, TMUX_PANE: null, TMUX_TMPDIR: this.tmuxTmpdir, ...opts.env},
      },
      via,
    )
  }

  ps(): Promise<NsProcess[]> {
    return this.call('ps', {})
  }

  alive(pid: number): Promise<boolean> {
    return this.call('alive', {pid})
  }

  kill(pid: number, signal: NodeJS.Signals | number = 'SIGTERM'): Promise<boolean> {
    return this.call('kill', {pid, signal})
  }

  readFile(file: string): Promise<string | null> {
    return this.call('readFile', {path: file})
  }

  async environ(pid: number): Promise<Record<string, string> | null> {
    const text = await this.readFile(`/proc/${pid}/environ`)
    if (text === null) return null
    const env: Record<string, string> = {}
    for (const entry of text.split('\0')) {
      const eq = entry.indexOf('=')
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1)
    }
    return env
  }

  async waitReady(pid: number, timeoutMs = 5000): Promise<StandinState> {
    const file = path.join(this.stateDir, `${pid}.json`)
    await this.waitUntil(() => fs.existsSync(file), timeoutMs, 20, `stand-in ${pid} ready (${file})`)
    return JSON.parse(fs.readFileSync(file, 'utf8')) as StandinState
  }

  waitUntil(fn: () => Promise<boolean> | boolean, timeoutMs = 5000, intervalMs = 50, what?: string): Promise<void> {
    return waitUntil(fn, timeoutMs, intervalMs, what)
  }

  async waitForStandins(
    role: StandinState['role'],
    match: (p: NsProcess) => boolean = () => true,
    count = 1,
    timeoutMs = 5000,
  ): Promise<NsProcess[]> {
    const isRole = (pid: number) => {
      try {
        return (
          (JSON.parse(fs.readFileSync(path.join(this.stateDir, `${pid}.json`), 'utf8')) as StandinState).role === role
        )
      } catch {
        return false
      }
    }
    return this.waitForProcs((p) => p.state !== 'Z' && isRole(p.pid) && match(p), count, timeoutMs)
  }

  async waitForProcs(match: (p: NsProcess) => boolean, count = 1, timeoutMs = 5000): Promise<NsProcess[]> {
    let found: NsProcess[] = []
    await this.waitUntil(
      async () => {
        found = (await this.ps()).filter(match)
        return found.length >= count
      },
      timeoutMs,
      50,
      `${count} matching process(es) (found ${found.length})`,
    ).catch(async (e) => {
      const table = (await this.ps()).map((p) => `${p.pid} ${p.ppid} ${p.state} ${p.comm} | ${p.args}`).join('\n')
      throw new Error(`${e.message}\nnamespace processes:\n${table}`)
    })
    return found
  }

  async spawnSubreaper(title = 'systemd --user', opts: {env?: EnvPatch; cwd?: string} = {}): Promise<Subreaper> {
    const r = await this.call<{id: number; pid: number; controllerPid: number}>('subreaper', {title, ...opts})
    const via = r.id
    return {
      pid: r.pid,
      controllerPid: r.controllerPid,
      socket: (name?: string) => this.socket(name),
      spawn: (argv, o) => this.spawn(argv, o, via),
      exec: (argv, o) => this.exec(argv, o, via),
      tmux: (args, socketName, o) => this.tmux(args, socketName, o, via),
    }
  }

  /** Synchronous last resort (process 'exit' hook): SIGKILL unshare; --kill-child takes the namespace down. */
  killNow(): void {
    if (!this.hasExited) {
      try {
        process.kill(this.hostPid, 'SIGKILL')
      } catch {}
    }
    if (!this.keepTmpdir) fs.rmSync(this.tmpdir, {recursive: true, force: true})
  }

  close(): Promise<void> {
    this.closing ??= this.doClose()
    return this.closing
  }

  private async doClose(): Promise<void> {
    this.closed = true
    if (this.child && !this.hasExited) {
      // Graceful path: EOF -> controller exits -> PID 1 exits -> kernel kills the namespace.
      this.child.stdin?.end()
      const timedOut = await Promise.race([this.exited.then(() => false), sleep(3000).then(() => true)])
      if (timedOut) {
        try {
          process.kill(this.hostPid, 'SIGKILL')
        } catch {}
        await Promise.race([this.exited, sleep(5000)])
      }
    }
    open.delete(this)
    if (!this.keepTmpdir) await fs.promises.rm(this.tmpdir, {recursive: true, force: true})
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.())

/** Polls fn every intervalMs until it returns true; rejects after timeoutMs. */
/**
 * Every wait here is for something that must happen (a stand-in ready, a reparenting, a reaping), never a
 * bound on how fast: CI machines are shared and slower at times, so they are given three times as long.
 */
const PATIENCE = process.env.CI ? 3 : 1

export async function waitUntil(
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 5000,
  intervalMs = 50,
  what = 'condition',
): Promise<void> {
  const patience = timeoutMs * PATIENCE
  const deadline = Date.now() + patience
  for (;;) {
    if (await fn()) return
    if (Date.now() >= deadline) throw new Error(`waitUntil: ${what} not met after ${patience} ms`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/**
 * Starts a controller inside a fresh `unshare --pid --fork --mount-proc` namespace. Call ns.close() (e.g. in
 * afterAll); it is idempotent.
 */
export async function startNamespace(opts: StartOptions = {}): Promise<LiveNamespace> {
  const reason = opts.network ? networkUnavailableReason() : liveUnavailableReason()
  if (reason !== undefined) throw new Error(`startNamespace: ${reason}`)
  const tmpdir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'gt-live-'))
  const ns = new Namespace(tmpdir, opts)
  await ns.start(opts)
  return ns
}

/**
 * A namespace for the enclosing suite: started before its tests, closed after them. Returns a stand-in that
 * forwards to the live namespace, so tests write `ns.spawn(...)` as usual.
 */
export function useNamespace(opts?: StartOptions): LiveNamespace {
  let current: LiveNamespace | undefined
  beforeAll(async () => {
    current = await startNamespace(opts)
  })
  afterAll(async () => {
    await current?.close()
  })
  return new Proxy({} as LiveNamespace, {
    get(_, key) {
      if (!current) throw new Error('the namespace is used before its suite started it')
      const value = Reflect.get(current, key)
      return typeof value === 'function' ? value.bind(current) : value
    },
  })
}
