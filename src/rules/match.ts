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

function anyTest(list: readonly RegExp[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].test(s)) return true
  return false
}

/** Compiles a rules configuration. Throws an Error naming the config path (`rules.mcp.scripts[2]: ...`). */
export function createRules(config: RulesConfig): Rules {
  const compiled = compileRules(config)
  const {names, commNames, claudeScripts, nativeBinary, headlessBare, headlessValued, programs, mcpScripts, packages, images} = compiled
  const {claudeCodeEnv, agentSession, subreapers, supervisors} = compiled

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
        native: nativeBinary.test(program),
        mcpProgram: base !== '' && anyTest(programs, base),
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

  const pythonIsMcp = (argv: readonly string[], i: number): boolean => {
    const n = argv.length
    for (i++; i < n; i++) {
      const a = argv[i]
      if (a.length < 2 || a.charCodeAt(0) !== 45) return a !== '-' && scriptIsMcp(a, true)
      if (a.charCodeAt(1) === 45) {
        if (a.length === 2) return i + 1 < n && scriptIsMcp(argv[i + 1], true)
        if (a === '--check-hash-based-pycs') i++
        else if (a === '--help' || a === '--version' || a.startsWith('--help-')) return false
        continue
      }
      for (let j = 1; j < a.length; j++) {
        const c = a.charCodeAt(j)
        if (c === 99 /* c */) return false
        if (c === 109 /* m */) {
          const mod = j + 1 < a.length ? a.slice(j + 1) : argv[i + 1]
          return mod !== undefined && moduleIsMcp(mod)
        }
        if (c === 87 || c === 88 /* W X */) {
          if (j + 1 === a.length) i++
          break
        }
      }
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
        return pos === MATCHED || (pos >= 0 && packageIsMcp(argv[pos]))
      }
      case 'npm':
      case 'pnpm':
      case 'yarn': {
        const sp = kind === 'npm' ? NPM_SPEC : kind === 'pnpm' ? PNPM_SPEC : YARN_BUNX_SPEC
        const sub = scan(argv, j, sp)
        if (sub < 0) return false
        const cmd = argv[sub]
        const ok = kind === 'npm' ? cmd === 'exec' || cmd === 'x' : kind === 'pnpm' ? cmd === 'dlx' || cmd === 'exec' : cmd === 'dlx'
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
    if (k.mcpProgram) return true
    if (k.launcher !== undefined) return launcherIsMcp(k.launcher, argv, i + 1, depth)
    if (k.runtime !== undefined) {
      const s = jsScriptIndex(argv, i, k.runtime)
      if (s < 0) return false
      if (k.runtime === 'bun' && isBunX(argv, i, s)) return launcherIsMcp('bunx', argv, s + 1, depth)
      const script = argv[s]
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

  const claudeByArgv = (p: ProcessInfo, argv: readonly string[]): boolean => {
    if (argv.length === 0) return commNames.has(p.comm)
    const k = classify(argv[0])
    if (k.claudeName || k.native) return true
    if (k.runtime === undefined) return false
    const s = jsScriptIndex(argv, 0, k.runtime)
    if (s < 0 || (k.runtime === 'bun' && isBunX(argv, 0, s))) return false
    const script = argv[s]
    return anyTest(claudeScripts, script) || names.has(basename(script))
  }

  const isClaude = (p: ProcessInfo): boolean => claudeByArgv(p, effectiveArgv(p))

  /** The first headless spelling among a Claude process's own arguments (after the script a runtime runs, up to `--`). */
  const headlessFlag = (p: ProcessInfo): string | undefined => {
    const argv = effectiveArgv(p)
    if (argv.length === 0 || !claudeByArgv(p, argv)) return undefined
    const runtime = classify(argv[0]).runtime
    const n = argv.length
    for (let i = runtime === undefined ? 1 : jsScriptIndex(argv, 0, runtime) + 1; i < n; i++) {
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

  const hasClaudeCodeEnv = (p: ProcessInfo): boolean => claudeCodeEnv && p.env?.CLAUDECODE === '1'

  const isTmuxServer = (p: ProcessInfo): boolean =>
    p.comm.startsWith('tmux: server') || (p.argv !== undefined && p.argv.length > 0 && p.argv[0].startsWith('tmux: server'))

  /** comm, or the command line (one title string as it is), against a pattern list. */
  const commOrCommand = (list: readonly RegExp[], p: ProcessInfo): boolean => {
    if (list.length === 0) return false
    if (p.comm !== '' && anyTest(list, p.comm)) return true
    const argv = p.argv
    if (!argv || argv.length === 0) return false
    return anyTest(list, argv.length === 1 ? argv[0] : argv.join(' '))
  }

  const isReaper = (p: ProcessInfo | undefined): boolean => p !== undefined && (p.pid === 1 || commOrCommand(subreapers, p))

  const isSupervisor = (p: ProcessInfo | undefined): boolean => p !== undefined && p.pid !== 1 && commOrCommand(supervisors, p)

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
    isTmuxServer,
    isReaper,
    isSupervisor,
    isAgentSession,
    claudeOrMcp,
  })
}
