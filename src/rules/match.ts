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
 */
import {deepFreeze} from '../freeze.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {Rules, RulesConfig} from './rules.js'

// ---------------------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------------------

/** The default matching rules (deeply frozen: `structuredClone` it to derive a configuration). */
export const DEFAULT_RULES: RulesConfig = deepFreeze({
  claude: {
    names: ['claude', 'claude.exe', 'claude-code'],
    scripts: ['(?:^|/)@anthropic-ai/claude-code/'],
    nativeBinary: '(?:^|/)claude/versions/\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$',
    headless: ['-p', '--print', '--output-format=stream-json', '--input-format=stream-json'],
  },
  mcp: {
    programs: ['^mcp-server-[\\w.-]+$', '^(?!create-)[\\w.-]+-mcp(?:-server)?$'],
    scripts: ['(?:^|/)@modelcontextprotocol/server-[^/]+/', '^mcp_server_\\w+(?:\\.\\w+)*$'],
    packages: [
      '^@modelcontextprotocol/server-[\\w.-]+$',
      '^mcp-server-[\\w.-]+$',
      '^(?:@[\\w.-]+/)?(?!create-)[\\w.-]+-mcp(?:-server)?$',
      '^@[\\w.-]+/mcp(?:-[\\w.-]+)?$',
    ],
    images: [
      '^(?:(?:docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/)?mcp/[a-z0-9][a-z0-9._-]*$',
      '^(?:[^/]+/)*(?:mcp-server-[a-z0-9._-]+|[a-z0-9._-]+-mcp(?:-[a-z0-9._-]+)?)$',
    ],
    claudeCodeEnv: true,
  },
  agentSessionPattern: '^(gt|hq)-',
  subreapers: ['^(?:[^ ]*/)?systemd(?: [^ ]+)* --user(?: |$)'],
  supervisors: [
    // PM2's daemon titles itself `PM2 v5.3.0: God Daemon (/home/u/.pm2)`.
    '^PM2 v\\d+(?:\\.\\d+)*: God Daemon',
    // supervisord, directly or through its Python (comm is the script's name either way).
    '^(?:[^ ]*/)?(?:python[\\d.]* (?:-[^ ]+ )*(?:[^ ]*/)?)?supervisord(?: |$)',
    '^(?:[^ ]*/)?runsv(?: |$)',
    '^(?:[^ ]*/)?s6-supervise(?: |$)',
    '^(?:[^ ]*/)?supervise(?: |$)',
  ],
})

// ---------------------------------------------------------------------------------------------------------
// Small string helpers (no allocation unless they must return a new string)
// ---------------------------------------------------------------------------------------------------------

const EMPTY: readonly string[] = Object.freeze([])

function basename(path: string): string {
  const i = path.lastIndexOf('/')
  return i === -1 ? path : path.slice(i + 1)
}

const SCRIPT_EXT = /\.(?:[cm]?[jt]s|py)$/
function stripScriptExt(name: string): string {
  return SCRIPT_EXT.test(name) ? name.slice(0, name.lastIndexOf('.')) : name
}

/**
 * The argv to match on. A process that rewrote its title (node's `process.title`, e.g. npm's
 * `npm exec @scope/pkg`) leaves one string with spaces followed by NUL padding: that string is split on
 * whitespace. Empty when argv is unavailable (kernel threads, zombies, unreadable cmdline).
 */
function effectiveArgv(p: ProcessInfo): readonly string[] {
  const argv = p.argv
  if (!argv || argv.length === 0 || argv[0] === '') return EMPTY
  const a0 = argv[0]
  if ((argv.length === 1 || argv[1] === '') && a0.includes(' ')) {
    const parts = a0.trim().split(/\s+/)
    return parts[0] === '' ? EMPTY : parts
  }
  return argv
}

/** `@scope/name@1.2.3` → `@scope/name`; `name@latest`, `name==1.2`, `name[extra]>=1` → `name`; drops `npm:`. */
function stripVersion(spec: string): string {
  let start = 0
  if (spec.startsWith('npm:')) start = 4
  let end = spec.length
  const at = spec.indexOf('@', start + 1)
  if (at !== -1) end = at
  for (let i = start + 1; i < end; i++) {
    const c = spec.charCodeAt(i)
    // = < > ! ~ [ ; space
    if (c === 61 || c === 60 || c === 62 || c === 33 || c === 126 || c === 91 || c === 59 || c === 32) {
      end = i
      break
    }
  }
  return start === 0 && end === spec.length ? spec : spec.slice(start, end)
}

/** `ghcr.io/x/y:tag@sha256:...` → `ghcr.io/x/y`. */
function imageRepository(ref: string): string {
  let end = ref.indexOf('@')
  if (end === -1) end = ref.length
  const slash = ref.lastIndexOf('/', end - 1)
  const colon = ref.lastIndexOf(':', end - 1)
  if (colon > slash) end = colon
  return end === ref.length ? ref : ref.slice(0, end)
}

// ---------------------------------------------------------------------------------------------------------
// Option parsing
// ---------------------------------------------------------------------------------------------------------

interface OptSpec {
  /** Long options taking the next argument as their value (when written without `=`). */
  longValue: ReadonlySet<string>
  /** When set, every long option not listed in `longBool` takes a value (docker / podman). */
  unknownLongTakesValue: boolean
  longBool: ReadonlySet<string>
  /** Short option letters taking a value (`-e X`, `-eX`, or last of a cluster `-ie X`). */
  shortValue: string
  /** When set, every short letter not in `shortBool` takes a value. */
  unknownShortTakesValue: boolean
  shortBool: string
  /** Options after which no program follows (eval strings, shell strings, help). Long names. */
  stop: ReadonlySet<string>
  stopShort: string
  /** Options whose value names the package to run (`npx -p`, `uvx --from`). */
  capture: ReadonlySet<string>
  captureShort: string
}

function spec(s: Partial<Record<keyof OptSpec, unknown>>): OptSpec {
  return {
    longValue: new Set((s.longValue as string[] | undefined) ?? []),
    unknownLongTakesValue: (s.unknownLongTakesValue as boolean | undefined) ?? false,
    longBool: new Set((s.longBool as string[] | undefined) ?? []),
    shortValue: (s.shortValue as string | undefined) ?? '',
    unknownShortTakesValue: (s.unknownShortTakesValue as boolean | undefined) ?? false,
    shortBool: (s.shortBool as string | undefined) ?? '',
    stop: new Set((s.stop as string[] | undefined) ?? []),
    stopShort: (s.stopShort as string | undefined) ?? '',
    capture: new Set((s.capture as string[] | undefined) ?? []),
    captureShort: (s.captureShort as string | undefined) ?? '',
  }
}

const NONE = -1
const MATCHED = -2

/**
 * Index of the first positional argument at or after `i`, skipping options (and their values) per `sp`.
 * NONE when an option ends the program part (`-e`, `-c`, `--help`, a lone `-`) or argv ends; MATCHED when a
 * captured option value satisfied `test`.
 */
function scan(argv: readonly string[], i: number, sp: OptSpec, test?: (s: string) => boolean): number {
  const n = argv.length
  while (i < n) {
    const a = argv[i]
    if (a.length < 2 || a.charCodeAt(0) !== 45 /* - */) return a === '-' ? NONE : i
    if (a.charCodeAt(1) === 45) {
      if (a.length === 2) return i + 1 < n ? i + 1 : NONE // `--`
      const eq = a.indexOf('=')
      const name = eq === -1 ? a : a.slice(0, eq)
      if (sp.stop.has(name)) return NONE
      if (eq !== -1) {
        if (test && sp.capture.has(name) && test(a.slice(eq + 1))) return MATCHED
        i++
        continue
      }
      if (sp.longValue.has(name) || (sp.unknownLongTakesValue && !sp.longBool.has(name))) {
        if (test && i + 1 < n && sp.capture.has(name) && test(argv[i + 1])) return MATCHED
        i += 2
      } else {
        i++
      }
      continue
    }
    // A cluster of short options: -it, -dit, -e X, -eX, -ie X.
    let consumedNext = false
    for (let j = 1; j < a.length; j++) {
      const c = a[j]
      if (sp.stopShort.includes(c)) return NONE
      const takes = sp.shortValue.includes(c) || (sp.unknownShortTakesValue && !sp.shortBool.includes(c))
      if (!takes) continue
      let value: string | undefined
      if (j + 1 < a.length) value = a.slice(a.charCodeAt(j + 1) === 61 /* = */ ? j + 2 : j + 1)
      else {
        value = argv[i + 1]
        consumedNext = true
      }
      if (test && value !== undefined && sp.captureShort.includes(c) && test(value)) return MATCHED
      break
    }
    i += consumedNext ? 2 : 1
  }
  return NONE
}

const NODE_SPEC = spec({
  longValue: [
    '--require', '--import', '--loader', '--experimental-loader', '--conditions', '--input-type', '--title',
    '--env-file', '--env-file-if-exists', '--inspect-port', '--debug-port', '--redirect-warnings', '--report-dir',
    '--report-directory', '--report-filename', '--report-signal', '--diagnostic-dir', '--disable-warning',
    '--dns-result-order', '--experimental-default-type', '--heapsnapshot-signal', '--heapsnapshot-near-heap-limit',
    '--icu-data-dir', '--openssl-config', '--cpu-prof-dir', '--cpu-prof-name', '--cpu-prof-interval',
    '--heap-prof-dir', '--heap-prof-name', '--heap-prof-interval', '--experimental-policy', '--policy-integrity',
    '--secure-heap', '--secure-heap-min', '--tls-cipher-list', '--tls-keylog', '--unhandled-rejections',
    '--use-largepages', '--watch-path', '--max-http-header-size', '--localstorage-file', '--snapshot-blob',
    '--trace-event-categories', '--trace-event-file-pattern', '--max-old-space-size', '--max-semi-space-size',
    '--stack-size', '--allow-fs-read', '--allow-fs-write', '--experimental-sea-config',
    '--es-module-specifier-resolution', '--experimental-specifier-resolution',
  ],
  shortValue: 'rC',
  stop: ['--eval', '--print', '--check', '--test', '--run', '--help', '--version', '--v8-options', '--build-snapshot', '--completion-bash'],
  stopShort: 'epchv',
})

const BUN_SPEC = spec({
  longValue: [
    '--preload', '--require', '--import', '--cwd', '--config', '--env-file', '--define', '--loader',
    '--tsconfig-override', '--main-fields', '--extension-order', '--jsx-factory', '--jsx-fragment',
    '--jsx-import-source', '--jsx-runtime', '--port', '--conditions', '--max-http-header-size',
    '--dns-result-order', '--fetch-preconnect', '--title', '--elide-lines', '--shell', '--filter',
    '--console-depth', '--unhandled-rejections', '--user-agent',
  ],
  shortValue: 'rcdlF',
  stop: ['--eval', '--print', '--help', '--version', '--revision'],
  stopShort: 'ephv',
})

const DENO_SPEC = spec({
  longValue: ['--config', '--import-map', '--cert', '--location', '--seed', '--log-level', '--ext'],
  shortValue: 'cL',
  stop: ['--help', '--version'],
  stopShort: 'hV',
})

/** npm (global options), `npm exec` and npx. */
const NPM_SPEC = spec({
  longValue: [
    '--package', '--call', '--prefix', '--cache', '--registry', '--userconfig', '--globalconfig', '--loglevel',
    '--workspace', '--node-options', '--script-shell', '--tag', '--otp', '--before', '--include', '--omit',
    '--location', '--auth-type', '--install-strategy',
  ],
  shortValue: 'pwC',
  stop: ['--call', '--help', '--version'],
  stopShort: 'ch',
  capture: ['--package'],
  captureShort: 'p',
})

/** pnpm (global options), `pnpm dlx`, `pnpm exec`, pnpx. */
const PNPM_SPEC = spec({
  longValue: [
    '--package', '--dir', '--filter', '--loglevel', '--reporter', '--allow-build', '--workspace-concurrency',
    '--store-dir', '--virtual-store-dir',
  ],
  shortValue: 'CF',
  stop: ['--shell-mode', '--help', '--version'],
  stopShort: 'ch',
  capture: ['--package'],
})

/** yarn (global options) and `yarn dlx`; bunx. */
const YARN_BUNX_SPEC = spec({
  longValue: ['--package', '--cwd'],
  shortValue: 'p',
  stop: ['--help', '--version'],
  stopShort: 'h',
  capture: ['--package'],
  captureShort: 'p',
})

/** uv (global options), `uv tool run` / uvx and `uv run`. */
const UV_SPEC = spec({
  longValue: [
    '--directory', '--project', '--cache-dir', '--config-file', '--color', '--python-preference',
    '--allow-insecure-host', '--from', '--with', '--with-editable', '--with-requirements', '--with-executables-from',
    '--python', '--index', '--default-index', '--index-url', '--extra-index-url', '--find-links', '--index-strategy',
    '--keyring-provider', '--resolution', '--prerelease', '--fork-strategy', '--exclude-newer',
    '--exclude-newer-package', '--link-mode', '--upgrade-package', '--reinstall-package', '--no-build-package',
    '--no-binary-package', '--only-binary-package', '--config-setting', '--config-settings-package',
    '--no-build-isolation-package', '--refresh-package', '--env-file', '--constraints', '--constraint', '--overrides',
    '--build-constraints', '--build-constraint', '--torch-backend', '--python-platform', '--extra', '--package',
    '--group', '--only-group', '--no-group', '--no-extra',
  ],
  shortValue: 'pwCPfibc',
  stop: ['--help', '--version'],
  stopShort: 'hV',
  capture: ['--from'],
})

const DOCKER_GLOBAL_SPEC = spec({
  unknownLongTakesValue: true,
  longBool: ['--debug', '--tls', '--tlsverify', '--version', '--help', '--remote', '--transient-store', '--syslog', '--noout'],
  shortValue: 'cHl',
})

const DOCKER_RUN_SPEC = spec({
  unknownLongTakesValue: true,
  longBool: [
    '--detach', '--disable-content-trust', '--help', '--init', '--interactive', '--no-healthcheck',
    '--oom-kill-disable', '--privileged', '--publish-all', '--quiet', '--read-only', '--rm', '--sig-proxy', '--tty',
    '--use-api-socket',
    // podman
    '--env-host', '--http-proxy', '--no-hosts', '--passwd', '--read-only-tmpfs', '--replace', '--rmi', '--tls-verify',
  ],
  unknownShortTakesValue: true,
  shortBool: 'ditPq',
})

type Runtime = 'node' | 'bun' | 'deno'
const NODE_RE = /^node(?:js)?(?:-?v?\d+(?:\.\d+)*)?$/
const PYTHON_RE = /^(?:python|pypy)(?:\d+(?:\.\d+)*t?)?$/
/** Shells by program basename, and the option (alone or in a cluster) that makes one run a command string. */
export const SHELL_RE = /^(?:sh|bash|dash|zsh|ash)$/
export const SHELL_COMMAND_FLAG = /^-[a-z]*c[a-z]*$/
/**
 * `cd DIR && [exec] COMMAND`, nothing else: DIR bare or in plain quotes (`'…'`, or `"…"` without `$`,
 * backquote or backslash), COMMAND with no quotes, expansions, globs, redirections or further commands, so
 * that what runs is exactly COMMAND in DIR (Claude Code's MCP configs use this to run a server whose script
 * path is relative: `sh -c 'cd …/server-everything && node dist/index.js'`).
 */
const CD_THEN = /^\s*cd\s+(?:'([^']+)'|"([^"`$\\]+)"|([^\s'"`$\\;&|<>(){}*?]+))\s*&&\s*(?:exec\s+)?([^'"`$\\;&|<>(){}*?\n]+)$/
/** An argument that names a file relative to the working directory (`dist/index.js`, `./x.js`, `server.py`). */
const RELATIVE_FILE = /^(?:\.{0,2}[\w.-]*\/|[\w.-]+\.(?:[cm]?[jt]s|py)$)/

function jsRuntime(base: string): Runtime | undefined {
  if (base === 'bun') return 'bun'
  if (base === 'deno') return 'deno'
  return NODE_RE.test(base) ? 'node' : undefined
}

/** Set by jsScriptIndex when bun's first positional is its `x` subcommand (= bunx). */
let bunX = false

/** Index of the script a JS runtime at argv[i] runs (after `bun run` / `deno run`), or NONE. */
function jsScriptIndex(argv: readonly string[], i: number, rt: Runtime): number {
  bunX = false
  const sp = rt === 'node' ? NODE_SPEC : rt === 'bun' ? BUN_SPEC : DENO_SPEC
  let s = scan(argv, i + 1, sp)
  if (s < 0 || rt === 'node') return s
  const first = argv[s]
  if (rt === 'bun' && first === 'x') {
    bunX = true
    return s
  }
  if (first === 'run') s = scan(argv, s + 1, sp)
  return s
}

type Launcher = 'npx' | 'npm' | 'pnpm' | 'pnpx' | 'yarn' | 'bunx' | 'uvx' | 'uv' | 'docker'

/** Launchers by program basename. */
const LAUNCHER_PROGRAMS: ReadonlyMap<string, Launcher> = new Map<string, Launcher>([
  ['npx', 'npx'],
  ['npm', 'npm'],
  ['pnpm', 'pnpm'],
  ['pnpx', 'pnpx'],
  ['yarn', 'yarn'],
  ['bunx', 'bunx'],
  ['uvx', 'uvx'],
  ['uv', 'uv'],
  ['docker', 'docker'],
  ['podman', 'docker'],
])

/** Launchers by the basename of the script a node runtime runs (`node /usr/bin/npx -y pkg`). */
const LAUNCHER_SCRIPTS: ReadonlyMap<string, Launcher> = new Map<string, Launcher>([
  ['npx', 'npx'],
  ['npx-cli.js', 'npx'],
  ['npm', 'npm'],
  ['npm-cli.js', 'npm'],
  ['pnpm', 'pnpm'],
  ['pnpm.cjs', 'pnpm'],
  ['pnpm.js', 'pnpm'],
  ['pnpm.mjs', 'pnpm'],
  ['pnpx', 'pnpx'],
  ['pnpx.cjs', 'pnpx'],
  ['pnpx.js', 'pnpx'],
  ['yarn', 'yarn'],
  ['yarn.js', 'yarn'],
  ['yarn.cjs', 'yarn'],
])

/** What a program path (argv[0], or the command of `uv run`) is, by its basename. */
interface ProgramClass {
  readonly claudeName: boolean
  readonly native: boolean
  readonly mcpProgram: boolean
  readonly launcher: Launcher | undefined
  readonly runtime: Runtime | undefined
  readonly python: boolean
  readonly shell: boolean
}

// ---------------------------------------------------------------------------------------------------------
// Config validation
// ---------------------------------------------------------------------------------------------------------

function fail(path: string, message: string): never {
  throw new Error(`${path}: ${message}`)
}

/** Compiles one configured pattern; throws `path: problem` for an invalid one or one that would match every process. */
export function compile(src: unknown, path: string, mayMatchEmpty = false): RegExp {
  if (typeof src !== 'string') fail(path, `expected a regular expression source (string), got ${typeof src}`)
  let re: RegExp
  try {
    re = new RegExp(src)
  } catch (error) {
    fail(path, (error as Error).message)
  }
  // A pattern that matches the empty string matches every process: never what a kill rule means.
  if (!mayMatchEmpty && re.test('')) fail(path, `/${src}/ matches the empty string, so it would match every process`)
  return re
}

const FLAG = /^(?:-[A-Za-z0-9]|--[A-Za-z0-9][\w-]*(?:=[^\s=]+)?)$/

/** Validates one `claude.headless` spelling (`-p`, `--print`, `--output-format=stream-json`); throws `path: problem`. */
export function checkHeadlessFlag(flag: unknown, path: string): string {
  if (typeof flag !== 'string' || !FLAG.test(flag)) fail(path, 'must be a flag (-x, --name or --name=value)')
  return flag
}

function compileList(list: unknown, path: string): RegExp[] {
  if (!Array.isArray(list)) fail(path, `expected an array of regular expression sources, got ${typeof list}`)
  return list.map((src, i) => compile(src, `${path}[${i}]`))
}

function section(value: unknown, path: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail(path, 'expected an object')
  return value as Record<string, unknown>
}

function anyTest(list: readonly RegExp[], s: string): boolean {
  for (let i = 0; i < list.length; i++) if (list[i].test(s)) return true
  return false
}

// ---------------------------------------------------------------------------------------------------------
// createRules
// ---------------------------------------------------------------------------------------------------------

/** Compiles a rules configuration. Throws an Error naming the config path (`rules.mcp.scripts[2]: ...`). */
export function createRules(config: RulesConfig): Rules {
  const root = section(config, 'rules')
  const claudeCfg = section(root.claude, 'rules.claude')
  const mcpCfg = section(root.mcp, 'rules.mcp')

  if (!Array.isArray(claudeCfg.names)) fail('rules.claude.names', 'expected an array of program names')
  const names = new Set<string>()
  /** comm is truncated to 15 characters: a long name is recognised by its first 15. */
  const commNames = new Set<string>()
  claudeCfg.names.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      fail(`rules.claude.names[${i}]`, 'expected a non-empty program basename (no "/")')
    }
    names.add(name)
    commNames.add(name.slice(0, 15))
  })
  const claudeScripts = compileList(claudeCfg.scripts, 'rules.claude.scripts')
  const nativeBinary = compile(claudeCfg.nativeBinary, 'rules.claude.nativeBinary')
  if (!Array.isArray(claudeCfg.headless)) fail('rules.claude.headless', 'expected an array of flags')
  const headless = claudeCfg.headless.map((flag: unknown, i: number) => checkHeadlessFlag(flag, `rules.claude.headless[${i}]`))
  /** Flags that are headless alone (`-p`), and flags headless with one value (`--output-format` → stream-json). */
  const headlessBare = new Set<string>()
  const headlessValued = new Map<string, Map<string, string>>()
  for (const flag of headless) {
    const eq = flag.indexOf('=')
    if (eq === -1) headlessBare.add(flag)
    else {
      const name = flag.slice(0, eq)
      if (!headlessValued.has(name)) headlessValued.set(name, new Map())
      headlessValued.get(name)!.set(flag.slice(eq + 1), flag)
    }
  }

  const programs = compileList(mcpCfg.programs, 'rules.mcp.programs')
  const mcpScripts = compileList(mcpCfg.scripts, 'rules.mcp.scripts')
  const packages = compileList(mcpCfg.packages, 'rules.mcp.packages')
  const images = compileList(mcpCfg.images, 'rules.mcp.images')
  if (typeof mcpCfg.claudeCodeEnv !== 'boolean') fail('rules.mcp.claudeCodeEnv', 'expected true or false')
  const claudeCodeEnv = mcpCfg.claudeCodeEnv

  const agentSession = compile(root.agentSessionPattern, 'rules.agentSessionPattern', true)
  const subreapers = compileList(root.subreapers, 'rules.subreapers')
  const supervisors = compileList(root.supervisors, 'rules.supervisors')

  // A private, frozen copy of exactly what was compiled (unknown keys dropped).
  const frozenConfig: RulesConfig = deepFreeze({
    claude: {names: [...names], scripts: [...(claudeCfg.scripts as string[])], nativeBinary: claudeCfg.nativeBinary as string, headless: [...headless]},
    mcp: {
      programs: [...(mcpCfg.programs as string[])],
      scripts: [...(mcpCfg.scripts as string[])],
      packages: [...(mcpCfg.packages as string[])],
      images: [...(mcpCfg.images as string[])],
      claudeCodeEnv,
    },
    agentSessionPattern: root.agentSessionPattern as string,
    subreapers: [...(root.subreapers as string[])],
    supervisors: [...(root.supervisors as string[])],
  })

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
    let k = path.lastIndexOf('node_modules/')
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
      if (bunX) return launcherIsMcp('bunx', argv, s + 1, depth)
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
    if (s < 0 || bunX) return false
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

  const rules: Rules = Object.freeze({
    config: frozenConfig,
    isClaude,
    isMcpServer,
    headlessFlag,
    hasClaudeCodeEnv,
    isTmuxServer,
    isReaper,
    isSupervisor,
    isAgentSession,
  })
  bothOf.set(rules, (p) => {
    const argv = effectiveArgv(p)
    return (claudeByArgv(p, argv) ? CLAUDE : 0) | (mcpByArgv(p, argv) ? MCP_SERVER : 0)
  })
  return rules
}

/** `matchClaudeAndMcp` bit: a Claude Code process. */
export const CLAUDE = 1
/** `matchClaudeAndMcp` bit: an MCP server or its launcher. */
export const MCP_SERVER = 2
const bothOf = new WeakMap<Rules, (p: ProcessInfo) => number>()

/**
 * `isClaude` and `isMcpServer` of one process at once (bit CLAUDE, bit MCP_SERVER), its argv parsed once:
 * the one pass over every process of a snapshot (`classify`) asks both. Rules not made by createRules are
 * asked each question in turn.
 */
export function matchClaudeAndMcp(rules: Rules, p: ProcessInfo): number {
  const both = bothOf.get(rules)
  if (both) return both(p)
  return (rules.isClaude(p) ? CLAUDE : 0) | (rules.isMcpServer(p) ? MCP_SERVER : 0)
}
