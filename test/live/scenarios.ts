/**
 * Machine states for live tests and the benchmark, built inside a private PID namespace (see namespace.ts)
 * from the stand-in programs. Each builder waits until every stand-in is ready (signal handlers installed),
 * so that what a test or the doctor then does to them is what a real process would see.
 */
import fs from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {
  CLAUDE_STANDIN,
  REPO_ROOT,
  type ExecResult,
  type LiveNamespace,
  type NsProcess,
  type StandinState,
  runsNode,
} from './namespace.js'

export const isMcpServer = (p: NsProcess) =>
  runsNode(p) && p.args.includes('@modelcontextprotocol/server-standin/index.js')

/** A stand-in claude and everything it started (wrappers, npm exec launchers, servers), once all are ready. */
export interface StandinTree {
  claude: number
  /** Every process of the tree, claude first. */
  pids: number[]
}

/** Waits for a claude stand-in and all of its descendants to be ready; returns the whole tree. */
export async function readyTree(ns: LiveNamespace, claude: number): Promise<StandinTree> {
  const state = await ns.waitReady(claude)
  const pids = [claude]
  for (const child of state.mcp ?? []) pids.push(...(await readySubtree(ns, child)))
  return {claude, pids}
}

/** A direct child of claude: a bare server, an `sh -c` wrapper with its server, or an npm exec launcher with its server. */
async function readySubtree(ns: LiveNamespace, pid: number): Promise<number[]> {
  const procs = await ns.ps()
  const me = procs.find((p) => p.pid === pid)
  if (me?.comm === 'sh') {
    const [server] = await ns.waitForProcs((p) => p.ppid === pid && isMcpServer(p))
    await ns.waitReady(server.pid)
    return [pid, server.pid]
  }
  const state: StandinState = await ns.waitReady(pid)
  if (state.role === 'npm-exec' && state.child) {
    await ns.waitReady(state.child)
    return [pid, state.child]
  }
  return [pid]
}

export interface OrphanOptions {
  mcp?: number
  wrapper?: 'sh' | 'npm-exec'
  ignoreTerm?: boolean
  env?: Record<string, string>
}

const standinEnv = (o: OrphanOptions) => ({
  STANDIN_MCP: String(o.mcp ?? 2),
  ...(o.wrapper ? {STANDIN_MCP_WRAPPER: o.wrapper} : {}),
  ...(o.ignoreTerm ? {STANDIN_IGNORE_TERM: '1'} : {}),
  ...o.env,
})

/** An orphan claude reparented to PID 1 (as after its terminal or tmux server died), with its MCP servers. */
export async function orphanUnderInit(ns: LiveNamespace, o: OrphanOptions = {}): Promise<StandinTree> {
  const {pid} = await ns.spawn([CLAUDE_STANDIN], {orphan: true, detached: true, env: standinEnv(o)})
  return readyTree(ns, pid)
}

/** A claude stand-in as the process of a new tmux session's pane, ready. */
async function sessionClaude(
  ns: LiveNamespace,
  socketName: string,
  session: string,
  o: OrphanOptions,
): Promise<StandinTree> {
  const env = Object.entries(standinEnv(o)).flatMap(([k, v]) => ['-e', `${k}=${v}`])
  await tmuxOk(ns, ['new-session', '-d', '-s', session, ...env, CLAUDE_STANDIN], socketName)
  const panePid = async () =>
    Number((await ns.tmux(['list-panes', '-t', session, '-F', '#{pane_pid}'], socketName)).stdout.trim())
  await ns.waitUntil(async () => (await panePid()) > 0)
  return readyTree(ns, await panePid())
}

/** A healthy agent session: a claude in a live pane. */
export function healthySession(
  ns: LiveNamespace,
  socketName: string,
  session: string,
  o: OrphanOptions = {},
): Promise<StandinTree> {
  return sessionClaude(ns, socketName, session, o)
}

/**
 * An orphan claude still parented by its tmux server: its session was killed while another session on the
 * same server (which must exist) keeps the server alive.
 */
export async function orphanUnderServer(
  ns: LiveNamespace,
  socketName: string,
  session: string,
  o: OrphanOptions = {},
): Promise<StandinTree> {
  const tree = await sessionClaude(ns, socketName, session, o)
  await tmuxOk(ns, ['kill-session', '-t', session], socketName)
  await ns.waitUntil(
    async () =>
      !(await ns.tmux(['list-panes', '-a', '-F', '#{pane_pid}'], socketName)).stdout
        .split('\n')
        .includes(String(tree.claude)),
  )
  return tree
}

/** A tmux session running `sleep` (not an agent session by name): keeps a server alive. */
export async function plainSession(ns: LiveNamespace, socketName: string, session: string): Promise<number> {
  await tmuxOk(ns, ['new-session', '-d', '-s', session, 'sleep 3600'], socketName)
  return Number((await tmuxOk(ns, ['list-panes', '-t', session, '-F', '#{pane_pid}'], socketName)).stdout.trim())
}

/** The pid of the tmux server on `socketName`. */
export async function serverPid(ns: LiveNamespace, socketName: string): Promise<number> {
  return Number((await tmuxOk(ns, ['display-message', '-p', '#{pid}'], socketName)).stdout.trim())
}

/** Orphan MCP trees: an orphan claude with npm-exec launchers, SIGKILLed so that its launchers reparent to init. */
export async function orphanMcpTrees(ns: LiveNamespace, o: OrphanOptions = {}): Promise<number[][]> {
  const tree = await orphanUnderInit(ns, {wrapper: 'npm-exec', ...o})
  await ns.kill(tree.claude, 'SIGKILL')
  const launchers = tree.pids.slice(1).filter((_, i) => i % 2 === 0)
  await ns.waitUntil(async () => {
    const procs = await ns.ps()
    return (
      !procs.some((p) => p.pid === tree.claude) && launchers.every((l) => procs.find((p) => p.pid === l)?.ppid === 1)
    )
  })
  return launchers.map((l, i) => [l, tree.pids[2 + i * 2]])
}

/** A claude run from a shell that stays alive (`sh -c 'claude; true'`), outside tmux: a terminal session, not an orphan. */
export async function terminalClaude(ns: LiveNamespace, o: OrphanOptions = {}): Promise<StandinTree & {shell: number}> {
  const {pid: shell} = await ns.spawn(['sh', '-c', `${CLAUDE_STANDIN}; true`], {env: standinEnv(o)})
  const [claude] = await ns.waitForProcs((p) => p.ppid === shell && p.comm === 'claude')
  const tree = await readyTree(ns, claude.pid)
  return {...tree, shell}
}

/** Processes that merely look like ours: `tail -f mcp-server.log`, a `sleep` whose argv mentions claude, daemons under PID 1. */
export async function lookAlikes(ns: LiveNamespace): Promise<number[]> {
  const dir = path.join(ns.tmpdir, 'lookalike', 'claude')
  fs.mkdirSync(dir, {recursive: true})
  fs.writeFileSync(path.join(ns.tmpdir, 'lookalike', 'mcp-server.log'), '')
  fs.symlinkSync('/bin/sleep', path.join(dir, 'sleep'))
  const spawned = [
    await ns.spawn(['tail', '-f', path.join(ns.tmpdir, 'lookalike', 'mcp-server.log')], {orphan: true}),
    await ns.spawn([path.join(dir, 'sleep'), '3600'], {orphan: true}),
    await ns.spawn(['sleep', '3600'], {orphan: true, detached: true}),
    await ns.spawn([process.execPath, '-e', 'setInterval(() => {}, 1 << 30)', 'mcp-server', 'claude'], {
      orphan: true,
      detached: true,
    }),
  ]
  const pids = spawned.map((s) => s.pid)
  await ns.waitUntil(async () => {
    const procs = await ns.ps()
    return pids.every((pid) => procs.find((p) => p.pid === pid)?.ppid === 1)
  })
  return pids
}

/** Runs the doctor inside the namespace (as its own process: its ancestors are the controller and PID 1). */
export function runDoctor(
  ns: LiveNamespace,
  args: string[],
  opts: {stateHome?: string; timeoutMs?: number; env?: Record<string, string | null>} = {},
): Promise<ExecResult> {
  return ns.exec([process.execPath, path.join(REPO_ROOT, 'bin', 'run.js'), ...args], {
    cwd: REPO_ROOT,
    timeoutMs: opts.timeoutMs ?? 30_000,
    // NODE_ENV=test (vitest) would make oclif look for TypeScript sources: run the built CLI as users do.
    env: {XDG_STATE_HOME: opts.stateHome ?? path.join(ns.tmpdir, 'state'), NO_COLOR: '1', NODE_ENV: null, ...opts.env},
  })
}

/**
 * A process in the namespace that takes the fix lock (the built module, as the CLI does) and holds it until
 * killed; resolves with its pid once its lock file is in ns.lockDir.
 */
export async function fixLockHolder(ns: LiveNamespace): Promise<number> {
  const lock = pathToFileURL(path.join(REPO_ROOT, 'dist', 'src', 'remediation', 'lock.js')).href
  const code = `const m = await import(${JSON.stringify(lock)}); await m.acquireFixLock(m.fixLockDir(), {waitMs: 0}); setInterval(() => {}, 1 << 30)`
  const {pid} = await ns.spawn([process.execPath, '--input-type=module', '-e', code])
  await ns.waitUntil(
    () => fs.readdirSync(ns.lockDir).some((f) => f.startsWith(`fix-${pid}-`)),
    10_000,
    50,
    `fix lock taken by pid ${pid}`,
  )
  return pid
}

/** The audit log the doctor wrote under `stateHome`, parsed. */
export function readAudit(stateHome: string): Array<Record<string, any>> {
  const file = path.join(stateHome, 'gt-doctor', 'actions.jsonl')
  if (!fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
}

/** `tmux …` on the server `socketName`; throws with tmux's stderr when it fails. */
export async function tmuxOk(ns: LiveNamespace, args: string[], socketName: string): Promise<ExecResult> {
  const r = await ns.tmux(args, socketName)
  if (r.code !== 0) throw new Error(`tmux ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r
}

/**
 * N orphan claude trees under PID 1 (each with `mcp` MCP servers), every `ignoreTermEvery`-th one ignoring
 * SIGTERM: the benchmark's "fix 100 orphan trees" state. Started in parallel batches.
 */
export async function manyOrphanTrees(
  ns: LiveNamespace,
  n: number,
  o: {mcp?: number; ignoreTermEvery?: number; batch?: number} = {},
): Promise<StandinTree[]> {
  const trees: StandinTree[] = []
  const batch = o.batch ?? 10
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i)
    trees.push(
      ...(await Promise.all(
        Array.from({length: size}, (_, j) =>
          orphanUnderInit(ns, {
            mcp: o.mcp ?? 2,
            ignoreTerm: o.ignoreTermEvery ? (i + j) % o.ignoreTermEvery === 0 : false,
          }),
        ),
      )),
    )
  }
  return trees
}
