/**
 * Scenes built from the real Claude Code and real MCP servers (see real-programs.ts), inside a private PID and
 * network namespace. Claude Code talks to a scripted model on 127.0.0.1 in that namespace (model-server.mjs)
 * with a dummy key: nothing leaves the machine, nothing needs a login.
 *
 * Each builder waits until what it started has settled (every MCP server of a claude is running, a headless
 * run's request has reached the model, a background command runs), so that the doctor sees a steady machine.
 */
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {type LiveNamespace, type NsProcess, type StartOptions, runsNode} from './namespace.js'
import type {RealPrograms} from './real-programs.js'
import {tmuxOk} from './scenarios.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const MODEL_SERVER = path.join(HERE, 'model-server.mjs')
/** The network namespace is private: any port is free in it. */
export const MODEL_PORT = 41_414
/** A dummy key in Anthropic's shape; Claude Code only checks that the user approved its last 20 characters. */
export const DUMMY_API_KEY = 'sk-ant-api03-gt-doctor-live-test-dummy-key-not-a-secret-0123456789abcdefghij'
/** How long a real claude may take to start with its three MCP servers on a busy 2-core machine. */
export const START_TIMEOUT_MS = 90_000

export const homeOf = (ns: {tmpdir: string}) => path.join(ns.tmpdir, 'home')
export const projectOf = (ns: {tmpdir: string}) => path.join(ns.tmpdir, 'project')

/** startNamespace options for a scene: network namespace, private HOME/TMPDIR/XDG_RUNTIME_DIR, the model's URL. */
export function realNamespaceOptions(real: RealPrograms): StartOptions {
  return {
    network: true,
    env: (tmpdir) => ({
      // The host's own Claude Code or API settings must not reach the scene.
      ...Object.fromEntries(
        Object.keys(process.env)
          .filter((k) => /^(ANTHROPIC_|CLAUDE|MCP_)/.test(k))
          .map((k) => [k, null]),
      ),
      CI: null,
      HOME: path.join(tmpdir, 'home'),
      TMPDIR: path.join(tmpdir, 'tmp'),
      XDG_RUNTIME_DIR: path.join(tmpdir, 'run'),
      XDG_CONFIG_HOME: null,
      XDG_CACHE_HOME: null,
      XDG_STATE_HOME: null,
      // The real programs first; not the stand-ins' directory (it has a `claude` of its own).
      PATH: `${real.bin}:${process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'}`,
      ANTHROPIC_API_KEY: DUMMY_API_KEY,
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${MODEL_PORT}`,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      // An MCP server that takes longer than this to answer is given up (and ended) by claude; npm exec on a
      // loaded 2-core machine can take half a minute. 60 s is as long as 2.1.x honours.
      MCP_TIMEOUT: '60000',
    }),
  }
}

/**
 * ~/.claude.json and ~/.claude/settings.json that let Claude Code start without a login or a dialog, with the
 * three MCP servers at user scope, and the project directory (its node_modules is the install's, so that
 * `npx --no-install mcp-server-memory` finds the server the way it does in a real project).
 */
export function prepareHome(ns: LiveNamespace, real: RealPrograms): void {
  const home = homeOf(ns)
  const project = projectOf(ns)
  for (const dir of [path.join(home, '.claude'), project, path.join(ns.tmpdir, 'tmp')])
    fs.mkdirSync(dir, {recursive: true})
  fs.mkdirSync(path.join(ns.tmpdir, 'run'), {mode: 0o700})
  fs.symlinkSync(real.nodeModules, path.join(project, 'node_modules'))
  // What the agent's Bash tool starts in the background: a dev server that runs until it is killed.
  fs.writeFileSync(
    path.join(project, 'dev-server.js'),
    "require('node:http').createServer((q, s) => s.end('ok')).listen(0, '127.0.0.1')\n",
  )
  // Unquoted, the way people write it in a config (and the way the issue saw it): the path must need no quoting.
  const everything = real.server('everything')
  if (!/^[\w./@+-]+$/.test(everything))
    throw new Error(`the install path ${everything} needs shell quoting; set GT_LIVE_CACHE to a plain path`)
  const config = {
    hasCompletedOnboarding: true,
    customApiKeyResponses: {approved: [DUMMY_API_KEY.slice(-20)], rejected: []},
    projects: {[project]: {hasTrustDialogAccepted: true, allowedTools: []}},
    mcpServers: {
      filesystem: {
        type: 'stdio',
        command: 'node',
        args: [path.join(real.server('filesystem'), 'dist', 'index.js'), project],
        env: {},
      },
      memory: {type: 'stdio', command: 'npx', args: ['--no-install', 'mcp-server-memory'], env: {}},
      everything: {type: 'stdio', command: 'sh', args: ['-c', `cd ${everything} && node dist/index.js`], env: {}},
    },
  }
  fs.writeFileSync(path.join(home, '.claude.json'), JSON.stringify(config, null, 2) + '\n')
  // 2.1.328 defaults to auto mode, whose safety check is a server-side call the scripted model cannot answer.
  fs.writeFileSync(
    path.join(home, '.claude', 'settings.json'),
    JSON.stringify({permissions: {defaultMode: 'default', allow: ['Bash']}}, null, 2) + '\n',
  )
}

export interface ModelRequest {
  run?: string
  answer: 'text' | 'bash' | 'hold'
  messages?: string[]
}

export interface Model {
  /** The requests the model has seen so far. */
  requests(): ModelRequest[]
  /** Waits until the claude whose prompt says run:NAME has made a request answered with `answer`. */
  waitFor(run: string, answer: ModelRequest['answer'], timeoutMs?: number): Promise<void>
}

/** Starts the scripted model on 127.0.0.1:MODEL_PORT inside the namespace. */
export async function startModel(ns: LiveNamespace): Promise<Model> {
  const ready = path.join(ns.tmpdir, 'model.port')
  const log = path.join(ns.tmpdir, 'model.jsonl')
  await ns.spawn([process.execPath, MODEL_SERVER, String(MODEL_PORT), ready, log])
  await ns.waitUntil(() => fs.existsSync(ready), 10_000, 50, 'model server listening')
  const requests = (): ModelRequest[] => {
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : []
    // The last line may be half-written while we read: skip what does not parse.
    return lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as ModelRequest]
      } catch {
        return []
      }
    })
  }
  return {
    requests,
    waitFor: (run, answer, timeoutMs = START_TIMEOUT_MS) =>
      ns.waitUntil(
        () => requests().some((r) => r.run === run && r.answer === answer),
        timeoutMs,
        200,
        `model request ${answer} from run:${run}`,
      ),
  }
}

// ---- process trees ----------------------------------------------------------------------------------------

/** pid and every descendant of it, in pid order. */
export function subtree(ps: NsProcess[], root: number): number[] {
  const out = new Set([root])
  for (let grew = true; grew; ) {
    grew = false
    for (const p of ps) if (out.has(p.ppid) && !out.has(p.pid)) out.add(p.pid), (grew = true)
  }
  return [...out].sort((a, b) => a - b)
}

/** The three servers themselves (not their launchers), by the shape they have in /proc. */
export const SERVER_SHAPES = {
  filesystem: (p: NsProcess) => runsNode(p) && /\/server-filesystem\/dist\/index\.js$/.test(p.argv[1] ?? ''),
  memory: (p: NsProcess) => runsNode(p) && /\/\.bin\/mcp-server-memory$/.test(p.argv[1] ?? ''),
  everything: (p: NsProcess) => runsNode(p) && p.argv.join(' ') === 'node dist/index.js',
}

/** A claude with its MCP servers. */
export interface ClaudeTree {
  claude: number
  /** claude and its MCP launcher chains, in pid order (not the short-lived helpers claude runs now and then). */
  pids: number[]
  /** The heads of its chains, one per MCP server, whatever wrappers (npm exec, sh -c) a chain holds. */
  chains: number[]
}

/** Waits until the claude at `pid` runs all three MCP servers; returns it with their chains. */
export async function readyClaude(ns: LiveNamespace, pid: number, timeoutMs = START_TIMEOUT_MS): Promise<ClaudeTree> {
  let tree: ClaudeTree | undefined
  await ns.waitUntil(
    async () => {
      const ps = (await ns.ps()).filter((p) => p.state !== 'Z')
      const chains = ps
        .filter((p) => p.ppid === pid)
        .map((head) => ({head: head.pid, pids: subtree(ps, head.pid)}))
        .filter((chain) =>
          ps.some((p) => chain.pids.includes(p.pid) && Object.values(SERVER_SHAPES).some((is) => is(p))),
        )
      const members = chains.flatMap((c) => c.pids)
      const servers = ps.filter((p) => members.includes(p.pid))
      if (!Object.values(SERVER_SHAPES).every((is) => servers.some(is))) return false
      tree = {claude: pid, pids: [pid, ...members].sort((a, b) => a - b), chains: chains.map((c) => c.head)}
      return true
    },
    timeoutMs,
    200,
    `claude ${pid} running its three MCP servers`,
  )
  return tree!
}

export const panePid = async (ns: LiveNamespace, server: string, session: string) =>
  Number((await tmuxOk(ns, ['list-panes', '-t', session, '-F', '#{pane_pid}'], server)).stdout.trim())

/** An interactive `claude` as the process of a new tmux session's pane (not waited for: see readyClaude). */
export async function startInteractive(ns: LiveNamespace, server: string, session: string): Promise<number> {
  await tmuxOk(ns, ['new-session', '-d', '-s', session, '-x', '160', '-y', '50', '-c', projectOf(ns), 'claude'], server)
  return panePid(ns, server, session)
}

/** Types a line into a pane (literally), then Enter. */
export async function typeLine(ns: LiveNamespace, server: string, session: string, line: string): Promise<void> {
  await tmuxOk(ns, ['send-keys', '-t', session, '-l', line], server)
  await tmuxOk(ns, ['send-keys', '-t', session, 'Enter'], server)
}

/** The live claude whose command line says run:NAME. */
export async function claudeOfRun(ns: LiveNamespace, run: string): Promise<NsProcess> {
  const [p] = await ns.waitForProcs(
    (p) => p.comm === 'claude' && p.argv[0] === 'claude' && p.args.includes(`run:${run}`) && p.state !== 'Z',
    1,
    START_TIMEOUT_MS,
  )
  return p
}

export interface DetachedRuns {
  /** `claude -p … & disown` from an interactive shell whose session was then killed. */
  disowned: ClaudeTree
  /** `setsid -f claude -p …`. */
  setsid: ClaudeTree
  /** `setsid -f bash -c 'for …; do claude -p …; done'`: the loop's shell and the claude of its first step. */
  loop: ClaudeTree & {shell: number}
}

/**
 * The three ways people detach a headless run, typed into an interactive bash in a tmux session that is then
 * killed, the way one leaves a job running and closes the terminal. Every run is held busy by the model.
 */
export async function detachedRuns(
  ns: LiveNamespace,
  model: Model,
  server: string,
  session: string,
): Promise<DetachedRuns> {
  await tmuxOk(ns, ['new-session', '-d', '-s', session, '-c', projectOf(ns), 'bash --norc --noprofile -i'], server)
  await typeLine(ns, server, session, `claude -p '[[hold]] run:disowned' > "$TMPDIR/disowned.out" 2>&1 & disown`)
  await typeLine(ns, server, session, `setsid -f claude -p '[[hold]] run:setsid' > "$TMPDIR/setsid.out" 2>&1`)
  await typeLine(
    ns,
    server,
    session,
    `setsid -f bash -c 'for i in 1 2; do claude -p "[[hold]] run:loop-$i"; done' > "$TMPDIR/loop.out" 2>&1`,
  )
  const settle = async (run: string) => {
    const p = await claudeOfRun(ns, run)
    await model.waitFor(run, 'hold')
    return readyClaude(ns, p.pid)
  }
  const [disowned, setsid, loopStep] = await Promise.all([settle('disowned'), settle('setsid'), settle('loop-1')])
  await tmuxOk(ns, ['kill-session', '-t', session], server)
  await ns.waitUntil(
    async () => (await ns.ps()).find((p) => p.pid === disowned.claude)?.ppid === 1,
    10_000,
    100,
    'the disowned run adopted by init',
  )
  const shell = (await ns.ps()).find((p) => p.pid === loopStep.claude)!.ppid
  return {disowned, setsid, loop: {...loopStep, shell}}
}

export interface Leftover {
  /** The claude that was SIGKILLed (gone). */
  deadClaude: number
  /** The Bash tool's `bash -c` wrapper (own session, adopted by init) and the command under it. */
  wrapper: number
  command: number
}

/**
 * An interactive claude in a tmux session asks its Bash tool to run `node dev-server.js` in the background,
 * then dies of SIGKILL (a crash, the OOM killer): the background command is what it leaves behind.
 */
export async function crashLeftover(
  ns: LiveNamespace,
  model: Model,
  claude: ClaudeTree,
  server: string,
  session: string,
): Promise<Leftover> {
  const pane = async () =>
    (await ns.tmux(['capture-pane', '-p', '-t', session], server)).stdout.trim().split('\n').slice(-15).join('\n')
  // A TUI still drawing its first screens can drop what is typed, the Enter included (seen once in CI, on a
  // loaded machine): until the model sees the prompt, press Enter again, then type the line again.
  const line = 'start the dev server [[bg: node dev-server.js]] run:crash'
  await typeLine(ns, server, session, line)
  for (let attempt = 1; ; attempt++) {
    try {
      await model.waitFor('crash', 'bash', 20_000)
      break
    } catch (e) {
      if (attempt === 3)
        throw new Error(`${(e as Error).message}; the pane of claude ${claude.claude} shows:\n${await pane()}`)
      if (attempt === 1) await tmuxOk(ns, ['send-keys', '-t', session, 'Enter'], server)
      else await typeLine(ns, server, session, line)
    }
  }
  // Its own background command: the one whose CLAUDE_PID names this claude.
  let command: NsProcess | undefined
  await ns
    .waitUntil(
      async () => {
        for (const p of (await ns.ps()).filter(
          (p) => runsNode(p) && p.args === 'node dev-server.js' && p.state !== 'Z',
        ))
          if ((await ns.environ(p.pid))?.CLAUDE_PID === String(claude.claude)) command = p
        return command !== undefined
      },
      START_TIMEOUT_MS,
      200,
      `the background command of claude ${claude.claude}`,
    )
    .catch(async (e) => {
      throw new Error(`${(e as Error).message}; the pane shows:\n${await pane()}`)
    })
  const wrapper = command!.ppid
  await ns.kill(claude.claude, 'SIGKILL')
  const left = async () =>
    (await ns.ps()).filter((p) => (claude.pids.includes(p.pid) || p.pid === wrapper) && p.state !== 'Z')
  await ns
    .waitUntil(async () => (await left()).every((p) => p.pid === wrapper && p.ppid === 1), 30_000, 100)
    .catch(async () => {
      const table = (await left())
        .map((p) => `${p.pid} ${p.ppid} ${p.state} ${p.comm} | ${p.args.slice(0, 100)}`)
        .join('\n')
      throw new Error(
        `after SIGKILL of claude ${claude.claude}, expected only its background command's wrapper ${wrapper} (adopted by init) to remain:\n${table}`,
      )
    })
  return {deadClaude: claude.claude, wrapper, command: command!.pid}
}

/**
 * Throws unless every pid is still alive: a scene whose claude dropped an MCP server (one that took longer
 * than MCP_TIMEOUT to start, on a machine too busy) is not the scene the assertions describe.
 */
export async function assertSettled(ns: LiveNamespace, what: Record<string, number[]>): Promise<void> {
  const alive = new Set((await ns.ps()).filter((p) => p.state !== 'Z').map((p) => p.pid))
  const lost = Object.entries(what).flatMap(([name, pids]) =>
    pids.filter((pid) => !alive.has(pid)).map((pid) => `${name}: ${pid}`),
  )
  if (lost.length > 0)
    throw new Error(`the scene did not settle, these processes ended on their own: ${lost.join(', ')}`)
}
