/**
 * Redaction for everything that leaves the machine: reports (every format) and snapshot files.
 *
 * Pure: the caller says whose home directory becomes `~`. Secrets are masked where their shape or their
 * context gives them away (token prefixes, `--token X`, `API_KEY=X`, `user:pass@`, `Authorization:`);
 * a bare secret passed as a positional argument has neither and cannot be recognised.
 * Masking keeps what identifies the kind of secret (`ghp_***`, `--token ***`) so a report stays readable,
 * and is idempotent: redacting twice gives the same text.
 */
import type {Report} from './model.js'
import {KEPT_ENV_KEYS, type ProcessInfo, type Snapshot} from '../snapshot/types.js'

export const MASK = '***'

export interface RedactOptions {
  /** The invoking user's home directory, shown as `~`. Every other /home/NAME, /Users/NAME and /root becomes `~NAME`. */
  home?: string
}

type Rule = {pattern: RegExp; replace: (match: string, ...groups: string[]) => string}

const keep = (prefix: string) => `${prefix}${MASK}`

/** Tokens recognisable by their own shape, wherever they appear. Prefixes are kept: they say what leaked. */
const TOKEN_SHAPES: Rule[] = [
  {pattern: /\b(sk-ant-)[A-Za-z0-9_-]+/g, replace: (_m, p) => keep(p)},
  // OpenAI-style keys; after sk-ant- so that one keeps its more telling prefix.
  {pattern: /\b(sk-)(?!ant-\*)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(gh[pousr]_)[A-Za-z0-9]{4,}/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(github_pat_)[A-Za-z0-9_]+/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(glpat-)[A-Za-z0-9_-]+/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(xox[abposre]-)[A-Za-z0-9-]+/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(xapp-)[A-Za-z0-9-]{4,}/g, replace: (_m, p) => keep(p)},
  {pattern: /\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA))[A-Z0-9]{16}\b/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(AIza)[0-9A-Za-z_-]{35}/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(npm_)[A-Za-z0-9]{36}\b/g, replace: (_m, p) => keep(p)},
  {pattern: /\b(hf_)[A-Za-z0-9]{30,}/g, replace: (_m, p) => keep(p)},
  {pattern: /\b((?:sk|rk|pk)_(?:live|test)_)[A-Za-z0-9]{16,}/g, replace: (_m, p) => keep(p)},
  // JSON Web Tokens: three base64url parts, the first one a JSON object.
  {pattern: /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}/g, replace: () => keep('eyJ')},
  {pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, replace: () => `-----BEGIN PRIVATE KEY-----${MASK}`},
]

/** Words that make a flag or a variable name secret when the name ends with them. */
const SECRET_WORD = '(?:token|secret|passw(?:or)?d|pass|passphrase|pwd|key|apikey|auth|authorization|credentials?)'
/** A value: quoted, or up to the next space or quote (and, in a query string, the next `&`). */
const VALUE = String.raw`(?:"[^"]*"|'[^']*'|[^\s'"]+)`
const QUERY_VALUE = String.raw`(?:"[^"]*"|'[^']*'|[^\s'"&]+)`

const CONTEXT_RULES: Rule[] = [
  // `--token=X`, `-password=X`
  {
    pattern: new RegExp(String.raw`(^|[\s'"(,;])(--?(?:[A-Za-z0-9][\w.-]*)?${SECRET_WORD})=(${VALUE})`, 'gi'),
    replace: (_m, before, flag) => `${before}${flag}=${MASK}`,
  },
  // `--api-key X` in one string (a joined command line); the value must not look like the next flag.
  {
    pattern: new RegExp(String.raw`(^|[\s'"(,;])(--?(?:[A-Za-z0-9][\w.-]*)?${SECRET_WORD})(\s+)(?!-)(${VALUE})`, 'gi'),
    replace: (_m, before, flag, space) => `${before}${flag}${space}${MASK}`,
  },
  // `GITHUB_TOKEN=X`, `api_key=X`, `--env=AWS_SECRET_ACCESS_KEY=X`, `?access_token=X&...`:
  // a name that is a secret word or ends in `_`/`-`/`.` plus one.
  {
    pattern: new RegExp(String.raw`(^|[\s'"?&;,(=:])((?:[A-Za-z0-9_.-]*[_.-])?${SECRET_WORD})=(${QUERY_VALUE})`, 'gi'),
    replace: (_m, before, name) => `${before}${name}=${MASK}`,
  },
  // Inline JSON, as in `claude --mcp-config '{"env":{"GITHUB_TOKEN":"X"}}'`
  {
    pattern: new RegExp(String.raw`("(?:[A-Za-z0-9_.-]*[_.-])?${SECRET_WORD}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi'),
    replace: (_m, head) => `${head}"${MASK}"`,
  },
  // `scheme://user:password@host`
  {pattern: /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@'"]*):([^\s/@'"]+)@/gi, replace: (_m, scheme, user) => `${scheme}${user}:${MASK}@`},
  // `Authorization: Bearer X`, `Proxy-Authorization: Basic X`, `authorization=X`
  {
    pattern: /\b((?:proxy-)?authorization\s*[:=]\s*)(?:(bearer|basic|token|digest|negotiate)\s+)?([^\s'",;]+)/gi,
    replace: (_m, head, scheme) => `${head}${scheme ? `${scheme} ` : ''}${MASK}`,
  },
  {pattern: /\b(bearer\s+)(?!\*\*\*)([A-Za-z0-9._~+/=-]{6,})/gi, replace: (_m, head) => `${head}${MASK}`},
  // Other credential headers: `X-Api-Key: X`, `Cookie: X`
  {
    pattern: /\b((?:x-)?(?:api-?key|auth-token|access-token|goog-api-key)\s*:\s*|(?:set-)?cookie\s*:\s*)([^\s'"]+)/gi,
    replace: (_m, head) => `${head}${MASK}`,
  },
]

/** A whole argv element that is a secret flag awaiting its value in the next element: `--token`, `--api-key`. */
const SECRET_FLAG = new RegExp(String.raw`^--?(?:[A-Za-z0-9][\w.-]*)?${SECRET_WORD}$`, 'i')
/** Keys of structured data whose string values are secrets whatever they look like (not a bare `key`: an identifier). */
const SECRET_KEY = /(?:^|[_-])(?:token|secret|passw(?:or)?d|passphrase|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)$|^(?:apiKey|accessToken|authToken|clientSecret|privateKey|password|passphrase)$/i

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

interface Compiled {
  home?: RegExp
  homeUser?: string
  rootIsHome: boolean
}

const compiledCache = new Map<string, Compiled>()

function compile(opts: RedactOptions): Compiled {
  const key = opts.home ?? ''
  const hit = compiledCache.get(key)
  if (hit) return hit
  const home = opts.home?.replace(/\/+$/, '')
  const compiled: Compiled = {rootIsHome: home === '/root'}
  if (home && home !== '' && home !== '/') {
    compiled.home = new RegExp(String.raw`(?<![\w.-])${escapeRegExp(home)}(?=/|$|[^\w.-])`, 'g')
    compiled.homeUser = /^\/(?:home|Users)\/([^/]+)$/.exec(home)?.[1]
  }
  compiledCache.set(key, compiled)
  return compiled
}

const OTHER_HOMES = /(?<![\w.~-])\/(?:home|Users)\/([A-Za-z0-9._-]+)(?=\/|$|[^\w.-])/g
const ROOT_HOME = /(?<![\w.~-])\/root(?=\/|$|[^\w.-])/g

function redactHomes(text: string, c: Compiled): string {
  let out = c.home ? text.replace(c.home, '~') : text
  out = out.replace(OTHER_HOMES, (_m, name: string) => (name === c.homeUser ? '~' : `~${name}`))
  return out.replace(ROOT_HOME, c.rootIsHome ? '~' : '~root')
}

/**
 * Every rule above needs one of these in the text: one cheap test lets the common string (a path, a
 * plain command line) skip the twenty replacements.
 */
const MAYBE_SECRET =
  /sk-|sk_|rk_|pk_|gh[pousr]_|github_pat_|glpat-|xox|xapp-|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)|AIza|npm_|hf_|eyJ|PRIVATE KEY|token|secret|pass|pwd|key|auth|credential|:\/\/[^\s/@]*:|bearer|cookie/i
const MAYBE_HOME = /\/(?:home|Users|root)\b/

const memo = new Map<string, string>()
const MEMO_LIMIT = 20_000

/** Masks secrets in one string (a message, a command line, a path) and shortens home directories. */
export function redactText(text: string, opts: RedactOptions = {}): string {
  const c = compile(opts)
  const key = `${opts.home ?? ''}\u0000${text}`
  const hit = memo.get(key)
  if (hit !== undefined) return hit
  let out = text
  if (MAYBE_SECRET.test(out)) {
    for (const rule of TOKEN_SHAPES) out = out.replace(rule.pattern, rule.replace as (m: string, ...g: unknown[]) => string)
    for (const rule of CONTEXT_RULES) out = out.replace(rule.pattern, rule.replace as (m: string, ...g: unknown[]) => string)
  }
  if (c.home || MAYBE_HOME.test(out)) out = redactHomes(out, c)
  // Snapshots repeat the same paths and command lines thousands of times.
  if (memo.size >= MEMO_LIMIT) memo.clear()
  memo.set(key, out)
  return out
}

/** An argv with secrets masked: also the value that follows a secret flag in the next element (`--token`, `X`). */
export function redactArgv(argv: readonly string[], opts: RedactOptions = {}): string[] {
  return argv.map((arg, i) => {
    const previous = argv[i - 1]
    if (previous !== undefined && SECRET_FLAG.test(previous) && !arg.startsWith('-')) return MASK
    return redactText(arg, opts)
  })
}

/** Every string in a JSON-like value redacted; string arrays are treated as argv, secret-named keys masked. */
export function redactDeep<T>(value: T, opts: RedactOptions = {}): T {
  return walk(value, opts) as T
}

function walk(value: unknown, opts: RedactOptions, key?: string): unknown {
  if (typeof value === 'string') return key !== undefined && SECRET_KEY.test(key) && value !== '' ? MASK : redactText(value, opts)
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string')) return redactArgv(value as string[], opts)
    return value.map((v) => walk(v, opts))
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, opts, k)
    return out
  }
  return value
}

/** The report with every message, reason, error, data value and path redacted. Numbers and ids are untouched. */
export function redactReport(report: Report, opts: RedactOptions = {}): Report {
  return redactDeep(report, opts)
}

function redactProcess(p: ProcessInfo, opts: RedactOptions): ProcessInfo {
  const env: ProcessInfo['env'] = {}
  // Only the kept keys ever leave, even from a snapshot someone edited by hand.
  for (const k of KEPT_ENV_KEYS) {
    const v = p.env?.[k]
    if (v !== undefined) env[k] = redactText(v, opts)
  }
  return {...p, comm: redactText(p.comm, opts), argv: redactArgv(p.argv, opts), env}
}

/**
 * The snapshot with command lines, paths and messages redacted. The same text always maps to the same
 * redacted text, so socket paths and TMUX variables still agree and `check --from` finds what `check` found.
 */
export function redactSnapshot(snapshot: Snapshot, opts: RedactOptions = {}): Snapshot {
  return {
    ...snapshot,
    host: redactDeep(snapshot.host, opts),
    processes: snapshot.processes.map((p) => redactProcess(p, opts)),
    tmux: redactDeep(snapshot.tmux, opts),
    limitations: snapshot.limitations.map((l) => redactText(l, opts)),
  }
}
