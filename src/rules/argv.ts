/**
 * Argv scanning for the matchers: the option tables of the runtimes, launchers and container runtimes an MCP
 * server or Claude Code is started through, and the scanner that skips their options to find the program.
 * Pure functions over argv; no state between calls.
 *
 * Why this file is over 300 lines: most of it is the option tables (data, one per program), which belong
 * together with the one scanner that reads them.
 */
import type {ProcessInfo} from '../snapshot/types.js'

// ---------------------------------------------------------------------------------------------------------
// Small string helpers (no allocation unless they must return a new string)
// ---------------------------------------------------------------------------------------------------------

export const EMPTY: readonly string[] = Object.freeze([])

export function basename(path: string): string {
  const i = path.lastIndexOf('/')
  return i === -1 ? path : path.slice(i + 1)
}

const SCRIPT_EXT = /\.(?:[cm]?[jt]s|py)$/
export function stripScriptExt(name: string): string {
  return SCRIPT_EXT.test(name) ? name.slice(0, name.lastIndexOf('.')) : name
}

/**
 * The argv to match on. A process that rewrote its title (node's `process.title`, e.g. npm's
 * `npm exec @scope/pkg`) leaves one string with spaces followed by NUL padding: that string is split on
 * whitespace. Empty when argv is unavailable (kernel threads, zombies, unreadable cmdline).
 */
export function effectiveArgv(p: ProcessInfo): readonly string[] {
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
export function stripVersion(spec: string): string {
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
export function imageRepository(ref: string): string {
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

export interface OptSpec {
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

export const NONE = -1
export const MATCHED = -2

/**
 * Index of the first positional argument at or after `i`, skipping options (and their values) per `sp`.
 * NONE when an option ends the program part (`-e`, `-c`, `--help`, a lone `-`) or argv ends; MATCHED when a
 * captured option value satisfied `test`.
 */
export function scan(argv: readonly string[], i: number, sp: OptSpec, test?: (s: string) => boolean): number {
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

export const NODE_SPEC = spec({
  longValue: [
    '--require',
    '--import',
    '--loader',
    '--experimental-loader',
    '--conditions',
    '--input-type',
    '--title',
    '--env-file',
    '--env-file-if-exists',
    '--inspect-port',
    '--debug-port',
    '--redirect-warnings',
    '--report-dir',
    '--report-directory',
    '--report-filename',
    '--report-signal',
    '--diagnostic-dir',
    '--disable-warning',
    '--dns-result-order',
    '--experimental-default-type',
    '--heapsnapshot-signal',
    '--heapsnapshot-near-heap-limit',
    '--icu-data-dir',
    '--openssl-config',
    '--cpu-prof-dir',
    '--cpu-prof-name',
    '--cpu-prof-interval',
    '--heap-prof-dir',
    '--heap-prof-name',
    '--heap-prof-interval',
    '--experimental-policy',
    '--policy-integrity',
    '--secure-heap',
    '--secure-heap-min',
    '--tls-cipher-list',
    '--tls-keylog',
    '--unhandled-rejections',
    '--use-largepages',
    '--watch-path',
    '--max-http-header-size',
    '--localstorage-file',
    '--snapshot-blob',
    '--trace-event-categories',
    '--trace-event-file-pattern',
    '--max-old-space-size',
    '--max-semi-space-size',
    '--stack-size',
    '--allow-fs-read',
    '--allow-fs-write',
    '--experimental-sea-config',
    '--es-module-specifier-resolution',
    '--experimental-specifier-resolution',
  ],
  shortValue: 'rC',
  stop: [
    '--eval',
    '--print',
    '--check',
    '--test',
    '--run',
    '--help',
    '--version',
    '--v8-options',
    '--build-snapshot',
    '--completion-bash',
  ],
  stopShort: 'epchv',
})

export const BUN_SPEC = spec({
  longValue: [
    '--preload',
    '--require',
    '--import',
    '--cwd',
    '--config',
    '--env-file',
    '--define',
    '--loader',
    '--tsconfig-override',
    '--main-fields',
    '--extension-order',
    '--jsx-factory',
    '--jsx-fragment',
    '--jsx-import-source',
    '--jsx-runtime',
    '--port',
    '--conditions',
    '--max-http-header-size',
    '--dns-result-order',
    '--fetch-preconnect',
    '--title',
    '--elide-lines',
    '--shell',
    '--filter',
    '--console-depth',
    '--unhandled-rejections',
    '--user-agent',
  ],
  shortValue: 'rcdlF',
  stop: ['--eval', '--print', '--help', '--version', '--revision'],
  stopShort: 'ephv',
})

export const DENO_SPEC = spec({
  longValue: ['--config', '--import-map', '--cert', '--location', '--seed', '--log-level', '--ext'],
  shortValue: 'cL',
  stop: ['--help', '--version'],
  stopShort: 'hV',
})

/** npm (global options), `npm exec` and npx. */
export const NPM_SPEC = spec({
  longValue: [
    '--package',
    '--call',
    '--prefix',
    '--cache',
    '--registry',
    '--userconfig',
    '--globalconfig',
    '--loglevel',
    '--workspace',
    '--node-options',
    '--script-shell',
    '--tag',
    '--otp',
    '--before',
    '--include',
    '--omit',
    '--location',
    '--auth-type',
    '--install-strategy',
  ],
  shortValue: 'pwC',
  stop: ['--call', '--help', '--version'],
  stopShort: 'ch',
  capture: ['--package'],
  captureShort: 'p',
})

/** pnpm (global options), `pnpm dlx`, `pnpm exec`, pnpx. */
export const PNPM_SPEC = spec({
  longValue: [
    '--package',
    '--dir',
    '--filter',
    '--loglevel',
    '--reporter',
    '--allow-build',
    '--workspace-concurrency',
    '--store-dir',
    '--virtual-store-dir',
  ],
  shortValue: 'CF',
  stop: ['--shell-mode', '--help', '--version'],
  stopShort: 'ch',
  capture: ['--package'],
})

/** yarn (global options) and `yarn dlx`; bunx. */
export const YARN_BUNX_SPEC = spec({
  longValue: ['--package', '--cwd'],
  shortValue: 'p',
  stop: ['--help', '--version'],
  stopShort: 'h',
  capture: ['--package'],
  captureShort: 'p',
})

/** uv (global options), `uv tool run` / uvx and `uv run`. */
export const UV_SPEC = spec({
  longValue: [
    '--directory',
    '--project',
    '--cache-dir',
    '--config-file',
    '--color',
    '--python-preference',
    '--allow-insecure-host',
    '--from',
    '--with',
    '--with-editable',
    '--with-requirements',
    '--with-executables-from',
    '--python',
    '--index',
    '--default-index',
    '--index-url',
    '--extra-index-url',
    '--find-links',
    '--index-strategy',
    '--keyring-provider',
    '--resolution',
    '--prerelease',
    '--fork-strategy',
    '--exclude-newer',
    '--exclude-newer-package',
    '--link-mode',
    '--upgrade-package',
    '--reinstall-package',
    '--no-build-package',
    '--no-binary-package',
    '--only-binary-package',
    '--config-setting',
    '--config-settings-package',
    '--no-build-isolation-package',
    '--refresh-package',
    '--env-file',
    '--constraints',
    '--constraint',
    '--overrides',
    '--build-constraints',
    '--build-constraint',
    '--torch-backend',
    '--python-platform',
    '--extra',
    '--package',
    '--group',
    '--only-group',
    '--no-group',
    '--no-extra',
  ],
  shortValue: 'pwCPfibc',
  stop: ['--help', '--version'],
  stopShort: 'hV',
  capture: ['--from'],
})

export const DOCKER_GLOBAL_SPEC = spec({
  unknownLongTakesValue: true,
  longBool: [
    '--debug',
    '--tls',
    '--tlsverify',
    '--version',
    '--help',
    '--remote',
    '--transient-store',
    '--syslog',
    '--noout',
  ],
  shortValue: 'cHl',
})

export const DOCKER_RUN_SPEC = spec({
  unknownLongTakesValue: true,
  longBool: [
    '--detach',
    '--disable-content-trust',
    '--help',
    '--init',
    '--interactive',
    '--no-healthcheck',
    '--oom-kill-disable',
    '--privileged',
    '--publish-all',
    '--quiet',
    '--read-only',
    '--rm',
    '--sig-proxy',
    '--tty',
    '--use-api-socket',
    // podman
    '--env-host',
    '--http-proxy',
    '--no-hosts',
    '--passwd',
    '--read-only-tmpfs',
    '--replace',
    '--rmi',
    '--tls-verify',
  ],
  unknownShortTakesValue: true,
  shortBool: 'ditPq',
})

export type Runtime = 'node' | 'bun' | 'deno'
export const NODE_RE = /^node(?:js)?(?:-?v?\d+(?:\.\d+)*)?$/
export const PYTHON_RE = /^(?:python|pypy)(?:\d+(?:\.\d+)*t?)?$/
/** Shells by program basename, and the option (alone or in a cluster) that makes one run a command string. */
export const SHELL_RE = /^(?:sh|bash|dash|zsh|ash)$/
export const SHELL_COMMAND_FLAG = /^-[a-z]*c[a-z]*$/
/**
 * `cd DIR && [exec] COMMAND`, nothing else: DIR bare or in plain quotes (`'…'`, or `"…"` without `$`,
 * backquote or backslash), COMMAND with no quotes, expansions, globs, redirections or further commands, so
 * that what runs is exactly COMMAND in DIR (Claude Code's MCP configs use this to run a server whose script
 * path is relative: `sh -c 'cd …/server-everything && node dist/index.js'`).
 */
export const CD_THEN =
  /^\s*cd\s+(?:'([^']+)'|"([^"`$\\]+)"|([^\s'"`$\\;&|<>(){}*?]+))\s*&&\s*(?:exec\s+)?([^'"`$\\;&|<>(){}*?\n]+)$/
/** An argument that names a file relative to the working directory (`dist/index.js`, `./x.js`, `server.py`). */
export const RELATIVE_FILE = /^(?:\.{0,2}[\w.-]*\/|[\w.-]+\.(?:[cm]?[jt]s|py)$)/

export function jsRuntime(base: string): Runtime | undefined {
  if (base === 'bun') return 'bun'
  if (base === 'deno') return 'deno'
  return NODE_RE.test(base) ? 'node' : undefined
}

/** Index of the script a JS runtime at argv[i] runs (after `bun run` / `deno run`), or NONE. */
export function jsScriptIndex(argv: readonly string[], i: number, rt: Runtime): number {
  const sp = rt === 'node' ? NODE_SPEC : rt === 'bun' ? BUN_SPEC : DENO_SPEC
  let s = scan(argv, i + 1, sp)
  if (s < 0 || rt === 'node') return s
  if (rt === 'bun' && argv[s] === 'x') return s
  if (argv[s] === 'run') s = scan(argv, s + 1, sp)
  return s
}

/**
 * Whether the script index `s` that jsScriptIndex found for a bun at argv[i] is bun's `x` subcommand (= bunx),
 * i.e. bun's first positional, not a file named `x` after `bun run`. Asked only when argv[s] is `x`.
 */
export function isBunX(argv: readonly string[], i: number, s: number): boolean {
  return argv[s] === 'x' && scan(argv, i + 1, BUN_SPEC) === s
}

export type Launcher = 'npx' | 'npm' | 'pnpm' | 'pnpx' | 'yarn' | 'bunx' | 'uvx' | 'uv' | 'docker'

/** Launchers by program basename. */
export const LAUNCHER_PROGRAMS: ReadonlyMap<string, Launcher> = new Map<string, Launcher>([
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
export const LAUNCHER_SCRIPTS: ReadonlyMap<string, Launcher> = new Map<string, Launcher>([
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

/**
 * The script or `-m` module a Python interpreter at argv[i] runs, and where that program's own arguments
 * start; undefined for `-c`, a lone `-`, `--help` or no program at all.
 */
export function pythonTarget(
  argv: readonly string[],
  i: number,
): {target: string; module: boolean; next: number} | undefined {
  const n = argv.length
  for (i++; i < n; i++) {
    const a = argv[i]
    if (a.length < 2 || a.charCodeAt(0) !== 45) return a === '-' ? undefined : {target: a, module: false, next: i + 1}
    if (a.charCodeAt(1) === 45) {
      if (a.length === 2) return i + 1 < n ? {target: argv[i + 1], module: false, next: i + 2} : undefined
      if (a === '--check-hash-based-pycs') i++
      else if (a === '--help' || a === '--version' || a.startsWith('--help-')) return undefined
      continue
    }
    for (let j = 1; j < a.length; j++) {
      const c = a.charCodeAt(j)
      if (c === 99 /* c */) return undefined
      if (c === 109 /* m */) {
        if (j + 1 < a.length) return {target: a.slice(j + 1), module: true, next: i + 1}
        return i + 1 < n ? {target: argv[i + 1], module: true, next: i + 2} : undefined
      }
      if (c === 87 || c === 88 /* W X */) {
        if (j + 1 === a.length) i++
        break
      }
    }
  }
  return undefined
}

/** What a program path (argv[0], or the command of `uv run`) is, by its basename. */
export interface ProgramClass {
  readonly claudeName: boolean
  /** The agent (1 + its index in `rules.agents`) its name or path says, 0 for none. */
  readonly agent: number
  readonly native: boolean
  readonly mcpProgram: boolean
  /** Its basename is the program of an `mcp.commands` entry (`serena`). */
  readonly mcpCommand: boolean
  readonly launcher: Launcher | undefined
  readonly runtime: Runtime | undefined
  readonly python: boolean
  readonly shell: boolean
}
