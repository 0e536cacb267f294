/**
 * The process matchers behind `Rules`: what is a Claude Code process, an MCP server, a tmux server, a reaper.
 *
 * Whatever `isClaude` / `isMcpServer` accept may be SIGKILLed by `--fix`, so every rule looks only at the
 * *program* a process runs (argv[0], or the script / module / package / image an interpreter, launcher or
 * container runtime runs), never at free arguments, and every ambiguous shape answers "no". comm is consulted
 * only when argv is unavailable: a shebang script's comm is the script's name (`bash ~/bin/claude` has comm
 * `claude`), so comm alone cannot tell a program from its wrapper.
 *
 * Hot path: these run over every process of the snapshot (50k+). Regexes are compiled once in `createRules`,
 * option parsing walks argv in place, and the common "not ours" answer allocates at most one basename.
 *
 * A little over 300 lines: one closure over the compiled rules whose matchers call one another (a launcher
 * runs a shell that runs a runtime that runs a script); splitting it would pass the compiled rules around.
 */
import type {ProcessInfo} from '../snapshot/types.js'
import {
  basename,
  CD_THEN,
  DOCKER_GLOBAL_SPEC,
  DOCKER_RUN_SPEC,
  effectiveArgv,
  imageRepository,
  isBunX,
  jsRuntime,
  jsScriptIndex,
  LAUNCHER_PROGRAMS,
  LAUNCHER_SCRIPTS,
  type Launcher,
  MATCHED,
  NPM_SPEC,
  PNPM_SPEC,
  type ProgramClass,
  PYTHON_RE,
  pythonTarget,
  RELATIVE_FILE,
  scan,
  SHELL_COMMAND_FLAG,
  SHELL_RE,
  stripScriptExt,
  stripVersion,
  UV_SPEC,
  YARN_BUNX_SPEC,
} from './argv.js'
import {CLAUDE, MCP_SERVER, type Rules, type RulesConfig} from './types.js'
import {compileRules} from './validate.js'

const NO_AGENT = Object.freeze({agent: -1, at: 0})

function anyTest(list: readonly RegExp[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].test(s)) return true
  return false
}

/** Compiles a rules configuration. Throws an Error naming the config path (`rules.mcp.scripts[2]: ...`). */
export function createRules(config: RulesConfig): Rules {
  const compiled = compileRules(config)
  const {
    names,
    commNames,
    claudeScripts,
    nativeBinary,
    headlessBare,
    headlessValued,
    programs,
    mcpScripts,
    packages,
    images,
    commands,
    pluginDirs,
  } = compiled
  const {claudeCodeEnv, agents, agentSession, subreapers, supervisors} = compiled

  // The agent table by name (1 + index; Claude Code, checked first, is 0) and its environment markers, flat.
  const agentNames = new Map<string, number>()
  const agentComms = new Map<string, number>()
  agents.forEach((a, k) => {
    for (const n of a.names) {
      if (!agentNames.has(n)) agentNames.set(n, k + 1)
      if (!agentComms.has(n.slice(0, 15))) agentComms.set(n.slice(0, 15), k + 1)
    }
  })
  const subcommands = new Map<string, Set<string>>()
  for (const c of commands) {
    const [program, sub] = c.split(' ')
    if (!subcommands.has(program)) subcommands.set(program, new Set())
    subcommands.get(program)!.add(sub)
  }
  const markers = agents.flatMap((a) =>
    [...a.env].map(([key, value]) => ({key: key as keyof ProcessInfo['env'], value, id: a.id})),
  )

  // ----- What argv[0] names, memoised: most processes share a handful of programs ----------------------

  const classes = new Map<string, ProgramClass>()
  const commIsMcp = new Map<string, boolean>()
  const classify = (program: string): ProgramClass => {
    let k = classes.get(program)
    if (k === undefined) {
      if (classes.size >= 50_000) classes.clear()
      const base = basename(program)
      k = {
        claudeName: names.has(base),
        agent: agentNames.get(base) ?? binaryAgent(program),
        native: nativeBinary.test(program),
        mcpProgram: base !== '' && anyTest(programs, base),
        mcpCommand: subcommands.has(base),
        launcher: LAUNCHER_PROGRAMS.get(base),
        runtime: jsRuntime(base),
        python: PYTHON_RE.test(base),
        shell: SHELL_RE.test(base),
      }
      classes.set(program, k)
    }
    return k
  }

  // ----- MCP ------------------------------------------------------------------------------------------

  /** A package a launcher runs (version stripped): package rules, else its basename by the program rules. */
  const packageIsMcp = (spec: string): boolean => {
    const pkg = stripVersion(spec)
    if (pkg === '') return false
    if (anyTest(packages, pkg)) return true
    if (pkg.includes('_') && anyTest(packages, pkg.replaceAll('_', '-'))) return true
    const base = basename(pkg)
    return base !== '' && anyTest(programs, base)
  }

  /**
   * A Python module (`-m`, or the top directory under site-packages): the script rules on the module, the
   * package rules on it with `_` → `-`, and on each of its dotted parts (`awslabs.aws_docs_mcp_server.server`).
   */
  const moduleIsMcp = (mod: string): boolean => {
    if (mod === '') return false
    if (anyTest(mcpScripts, mod)) return true
    const dashed = mod.replaceAll('_', '-')
    if (anyTest(packages, dashed)) return true
    if (!dashed.includes('.')) return false
    for (const part of dashed.split('.')) if (part !== '' && anyTest(packages, part)) return true
    return false
  }

  /** The script an interpreter runs: script rules, its own name by the program rules, its package. */
  const scriptIsMcp = (path: string, python: boolean): boolean => {
    if (path === '') return false
    if (anyTest(mcpScripts, path)) return true
    const base = stripScriptExt(basename(path))
    if (base !== '' && anyTest(programs, base)) return true
    if (python) {
      let k = path.lastIndexOf('/site-packages/')
      if (k === -1) k = path.lastIndexOf('/dist-packages/')
      if (k === -1) return false
      const start = k + 15
      const end = path.indexOf('/', start)
      return moduleIsMcp(stripScriptExt(end === -1 ? path.slice(start) : path.slice(start, end)))
    }
    const k = path.lastIndexOf('node_modules/')
    if (k === -1 || (k > 0 && path.charCodeAt(k - 1) !== 47)) return false
    const start = k + 13
    if (path.charCodeAt(start) === 46 /* . (.bin, .pnpm) */) return false
    let end = path.indexOf('/', start)
    if (end !== -1 && path.charCodeAt(start) === 64 /* @scope/ */) end = path.indexOf('/', end + 1)
    return packageIsMcp(end === -1 ? path.slice(start) : path.slice(start, end))
  }

  /** `serena start-mcp-server`: a program (by basename) and the subcommand right after it (`mcp.commands`). */
  const commandIsMcp = (program: string, sub: string | undefined): boolean => {
    if (sub === undefined || commands.size === 0) return false
    const subs = subcommands.get(basename(program))
    return subs?.has(sub) === true
  }

  const pythonIsMcp = (argv: readonly string[], i: number): boolean => {
    const t = pythonTarget(argv, i)
    if (t === undefined) return false
    if (t.module) return moduleIsMcp(t.target)
    return scriptIsMcp(t.target, true) || commandIsMcp(t.target, argv[t.next])
  }

  /**
   * `bun run --cwd DIR start` (or `bun --cwd DIR start`): a plugin's server, started by the package.json
   * `start` script of a directory `mcp.pluginDirs` names. The directory is bun's option, not a free argument.
   */
  const bunPluginIsMcp = (argv: readonly string[], i: number, s: number): boolean => {
    if (pluginDirs.length === 0 || argv[s] !== 'start') return false
    for (let j = i + 1; j < s; j++) {
      const a = argv[j]
      const dir = a === '--cwd' ? argv[j + 1] : a.startsWith('--cwd=') ? a.slice(6) : undefined
      if (dir !== undefined) return anyTest(pluginDirs, dir)
    }
    return false
  }

  const launcherIsMcp = (kind: Launcher, argv: readonly string[], j: number, depth: number): boolean => {
    switch (kind) {
      case 'npx':
      case 'bunx':
      case 'pnpx':
      case 'uvx': {
        const sp = kind === 'npx' ? NPM_SPEC : kind === 'bunx' ? YARN_BUNX_SPEC : kind === 'pnpx' ? PNPM_SPEC : UV_SPEC
        const pos = scan(argv, j, sp, packageIsMcp)
        return pos === MATCHED || (pos >= 0 && (packageIsMcp(argv[pos]) || commandIsMcp(argv[pos], argv[pos + 1])))
      }
      case 'npm':
      case 'pnpm':
      case 'yarn': {
        const sp = kind === 'npm' ? NPM_SPEC : kind === 'pnpm' ? PNPM_SPEC : YARN_BUNX_SPEC
        const sub = scan(argv, j, sp)
        if (sub < 0) return false
        const cmd = argv[sub]
        const ok =
          kind === 'npm'
            ? cmd === 'exec' || cmd === 'x'
            : kind === 'pnpm'
              ? cmd === 'dlx' || cmd === 'exec'
              : cmd === 'dlx'
        if (!ok) return false
        const pos = scan(argv, sub + 1, sp, packageIsMcp)
        return pos === MATCHED || (pos >= 0 && packageIsMcp(argv[pos]))
      }
      case 'uv': {
        let sub = scan(argv, j, UV_SPEC)
        if (sub < 0) return false
        if (argv[sub] === 'tool') {
          const next = scan(argv, sub + 1, UV_SPEC)
          if (next < 0 || (argv[next] !== 'run' && argv[next] !== 'uvx')) return false
          return launcherIsMcp('uvx', argv, next + 1, depth)
        }
        if (argv[sub] !== 'run') return false
        const pos = scan(argv, sub + 1, UV_SPEC)
        if (pos < 0) return false
        for (sub++; sub < pos; sub++) if (argv[sub] === '-m' || argv[sub] === '--module') return moduleIsMcp(argv[pos])
        return depth < 4 && mcpAt(argv, pos, depth + 1)
      }
      case 'docker': {
        const sub = scan(argv, j, DOCKER_GLOBAL_SPEC)
        if (sub < 0) return false
        let cmd = argv[sub]
        let at = sub
        if (cmd === 'container') cmd = argv[++at]
        if (cmd === 'mcp') return argv[at + 1] === 'gateway' && argv[at + 2] === 'run'
        if (cmd !== 'run') return false
        const pos = scan(argv, at + 1, DOCKER_RUN_SPEC)
        return pos >= 0 && anyTest(images, imageRepository(argv[pos]))
      }
    }
  }

  /** Is the program at argv[i] (with the arguments after it) an MCP server or its launcher? */
  const mcpAt = (argv: readonly string[], i: number, depth: number): boolean => {
    const k = classify(argv[i])
    if (k.mcpProgram || (k.mcpCommand && commandIsMcp(argv[i], argv[i + 1]))) return true
    if (k.launcher !== undefined) return launcherIsMcp(k.launcher, argv, i + 1, depth)
    if (k.runtime !== undefined) {
      const s = jsScriptIndex(argv, i, k.runtime)
      if (s < 0) return false
      if (k.runtime === 'bun' && isBunX(argv, i, s)) return launcherIsMcp('bunx', argv, s + 1, depth)
      const script = argv[s]
      if (k.runtime === 'bun' && bunPluginIsMcp(argv, i, s)) return true
      const viaScript = LAUNCHER_SCRIPTS.get(basename(script))
      if (viaScript !== undefined) return launcherIsMcp(viaScript, argv, s + 1, depth)
      return scriptIsMcp(script, false)
    }
    if (k.shell) return depth < 4 && shellCdIsMcp(argv, i, depth)
    return k.python && pythonIsMcp(argv, i)
  }

  /** `sh -c 'cd DIR && COMMAND'`: COMMAND as written, or with its relative file arguments resolved against DIR. */
  const shellCdIsMcp = (argv: readonly string[], i: number, depth: number): boolean => {
    if (!SHELL_COMMAND_FLAG.test(argv[i + 1] ?? '') || argv[i + 2] === undefined) return false
    const m = CD_THEN.exec(argv[i + 2])
    if (!m) return false
    const words = m[4].trim().split(/\s+/)
    if (words[0] === '' || words[0] === undefined) return false
    if (mcpAt(words, 0, depth + 1)) return true
    const dir = (m[1] ?? m[2] ?? m[3]).replace(/\/+$/, '')
    const resolved = words.map((w, j) => (j > 0 && RELATIVE_FILE.test(w) ? `${dir}/${w}` : w))
    return mcpAt(resolved, 0, depth + 1)
  }

  // ----- Claude ---------------------------------------------------------------------------------------

  /** An agent whose native-install pattern matches the program path (1 + index), else 0. */
  function binaryAgent(program: string): number {
    for (let k = 0; k < agents.length; k++) if (anyTest(agents[k].binaries, program)) return k + 1
    return 0
  }

  /** The agent a script (of a JS runtime or Python) or a `-m` module belongs to (1 + index), else 0. */
  const scriptAgent = (script: string): number => {
    if (script === '') return 0
    // The exact basename, as for Claude Code: `python aider.py` is someone's script, not aider.
    const base = basename(script)
    for (let k = 0; k < agents.length; k++) {
      const a = agents[k]
      if (a.names.has(base) || anyTest(a.scripts, script)) return k + 1
    }
    return 0
  }

  /**
   * Which agent argv runs: 0 Claude Code (its rules exactly as they always were, asked first), 1 + index
   * for `agents`, -1 none. Also where the agent's own arguments start (`at`), for the headless spellings.
   */
  const agentByArgv = (p: ProcessInfo, argv: readonly string[]): {agent: number; at: number} => {
    if (argv.length === 0) return {agent: commNames.has(p.comm) ? 0 : (agentComms.get(p.comm) ?? -1), at: 0}
    const k = classify(argv[0])
    if (k.claudeName || k.native) return {agent: 0, at: 1}
    if (k.agent > 0) return {agent: k.agent, at: 1}
    if (k.runtime !== undefined) {
      const s = jsScriptIndex(argv, 0, k.runtime)
      if (s < 0 || (k.runtime === 'bun' && isBunX(argv, 0, s))) return NO_AGENT
      const script = argv[s]
      if (anyTest(claudeScripts, script) || names.has(basename(script))) return {agent: 0, at: s + 1}
      const a = scriptAgent(script)
      return a === 0 ? NO_AGENT : {agent: a, at: s + 1}
    }
    if (!k.python || agents.length === 0) return NO_AGENT
    const t = pythonTarget(argv, 0)
    if (t === undefined) return NO_AGENT
    const a = scriptAgent(t.module ? t.target.split('.')[0] : t.target)
    return a === 0 ? NO_AGENT : {agent: a, at: t.next}
  }

  const claudeByArgv = (p: ProcessInfo, argv: readonly string[]): boolean => agentByArgv(p, argv).agent >= 0

  const isClaude = (p: ProcessInfo): boolean => claudeByArgv(p, effectiveArgv(p))

  const agentOf = (p: ProcessInfo): string | undefined => {
    const a = agentByArgv(p, effectiveArgv(p)).agent
    return a < 0 ? undefined : a === 0 ? 'claude' : agents[a - 1].id
  }

  /** Claude Code's headless spellings, exactly as before the agent table. */
  const claudeHeadless = (argv: readonly string[], from: number): string | undefined => {
    const n = argv.length
    for (let i = from; i < n; i++) {
      const a = argv[i]
      if (a === '--') return undefined
      if (headlessBare.has(a)) return a
      if (a.charCodeAt(0) !== 45 || a.charCodeAt(1) !== 45) continue
      const eq = a.indexOf('=')
      const values = headlessValued.get(eq === -1 ? a : a.slice(0, eq))
      const hit = values?.get(eq === -1 ? (argv[i + 1] ?? '') : a.slice(eq + 1))
      if (hit !== undefined) return hit
    }
    return undefined
  }

  /**
   * Another agent's headless spelling: a headless flag (`--message=…` too) or a headless subcommand anywhere
   * before `--`. Any argument equal to the subcommand counts, whatever options precede it: a prompt that is
   * exactly `exec` makes an interactive run look headless, which only ever spares it.
   */
  const agentHeadless = (k: number, argv: readonly string[], from: number): string | undefined => {
    const a = agents[k]
    const n = argv.length
    for (let i = from; i < n; i++) {
      const arg = argv[i]
      if (arg === '--') return undefined
      if (a.headless.has(arg) || a.headlessCommands.has(arg)) return arg
      const eq = arg.charCodeAt(1) === 45 ? arg.indexOf('=') : -1
      if (eq > 2 && a.headless.has(arg.slice(0, eq))) return arg.slice(0, eq)
    }
    return undefined
  }

  /** The first headless spelling among an agent's own arguments (after the script a runtime runs, up to `--`). */
  const headlessFlag = (p: ProcessInfo): string | undefined => {
    const argv = effectiveArgv(p)
    if (argv.length === 0) return undefined
    const {agent, at} = agentByArgv(p, argv)
    if (agent < 0) return undefined
    return agent === 0 ? claudeHeadless(argv, at) : agentHeadless(agent - 1, argv, at)
  }

  const mcpByArgv = (p: ProcessInfo, argv: readonly string[]): boolean => {
    if (argv.length === 0) {
      // argv unavailable (kernel thread, zombie): the kernel name alone, by the program rules.
      let hit = commIsMcp.get(p.comm)
      if (hit === undefined) {
        if (commIsMcp.size >= 50_000) commIsMcp.clear()
        commIsMcp.set(p.comm, (hit = p.comm !== '' && anyTest(programs, p.comm)))
      }
      return hit
    }
    return mcpAt(argv, 0, 0)
  }

  const isMcpServer = (p: ProcessInfo): boolean => mcpByArgv(p, effectiveArgv(p))

  const agentEnvOf = (p: ProcessInfo): string | undefined => {
    const env = p.env
    if (env === undefined) return undefined
    if (claudeCodeEnv && env.CLAUDECODE === '1') return 'claude'
    for (const m of markers) {
      const v = env[m.key]
      if (v !== undefined && (m.value === undefined || v === m.value)) return m.id
    }
    return undefined
  }

  const hasClaudeCodeEnv = (p: ProcessInfo): boolean => agentEnvOf(p) !== undefined

  const agentName = (id: string): string =>
    id === 'claude' ? 'Claude Code' : (agents.find((a) => a.id === id)?.name ?? id)

  const isTmuxServer = (p: ProcessInfo): boolean =>
    p.comm.startsWith('tmux: server') ||
    (p.argv !== undefined && p.argv.length > 0 && p.argv[0].startsWith('tmux: server'))

  /** comm, or the command line (one title string as it is), against a pattern list. */
  const commOrCommand = (list: readonly RegExp[], p: ProcessInfo): boolean => {
    if (list.length === 0) return false
    if (p.comm !== '' && anyTest(list, p.comm)) return true
    const argv = p.argv
    if (!argv || argv.length === 0) return false
    return anyTest(list, argv.length === 1 ? argv[0] : argv.join(' '))
  }

  const isReaper = (p: ProcessInfo | undefined): boolean =>
    p !== undefined && (p.pid === 1 || commOrCommand(subreapers, p))

  const isSupervisor = (p: ProcessInfo | undefined): boolean =>
    p !== undefined && p.pid !== 1 && commOrCommand(supervisors, p)

  const isAgentSession = (name: string): boolean => agentSession.test(name)

  const claudeOrMcp = (p: ProcessInfo): number => {
    const argv = effectiveArgv(p)
    return (claudeByArgv(p, argv) ? CLAUDE : 0) | (mcpByArgv(p, argv) ? MCP_SERVER : 0)
  }

  return Object.freeze({
    config: compiled.config,
    isClaude,
    isMcpServer,
    headlessFlag,
    hasClaudeCodeEnv,
    agentOf,
    agentEnvOf,
    agentName,
    isTmuxServer,
    isReaper,
    isSupervisor,
    isAgentSession,
    claudeOrMcp,
  })
}
