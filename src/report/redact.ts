/**
 * Redaction for everything that leaves the machine: reports (every format) and snapshot files.
 *
 * Pure: the caller says whose home directory becomes `~`. Secrets are masked where their shape or their
 * context gives them away (token prefixes, `--token X`, `API_KEY=X`, `user:pass@`, `Authorization:`);
 * a bare secret passed as a positional argument has neither and cannot be recognised.
 * Masking keeps what identifies the kind of secret (`ghp_***`, `--token ***`) so a report stays readable,
 * and is idempotent: redacting twice gives the same text.
 *
 * Why this file is over 300 lines: most of it is the tables of secret shapes and contexts (data), and the
 * text, argv and snapshot redactors must read the same tables so that no format masks less than another.
 */
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
  // From gitleaks' rule set (config/gitleaks.toml; rule ids in brackets), as JavaScript regexes.
  {pattern: /\b(ya29\.)[0-9A-Za-z_-]{20,}/g, replace: (_m, p) => keep(p)}, // [gcp-oauth-access-token]
  {pattern: /\b(GOCSPX-)[A-Za-z0-9_-]{20,}/g, replace: (_m, p) => keep(p)}, // [gcp client secret]
  {pattern: /\b(whsec_)[A-Za-z0-9+/=]{20,}/g, replace: (_m, p) => keep(p)}, // [stripe webhook secret]
  {pattern: /\b(SG\.)[\w-]{16,32}\.[\w-]{20,64}/g, replace: (_m, p) => keep(p)}, // [sendgrid-api-token]
  {pattern: /\b(do[opr]_v1_)[a-f0-9]{64}/g, replace: (_m, p) => keep(p)}, // [digitalocean-pat / -access-token / -refresh-token]
  {pattern: /\b(hv[sbr]\.)[\w-]{20,}/g, replace: (_m, p) => keep(p)}, // [vault-service-token / -batch-token]
  {pattern: /\b(pypi-)AgE[\w-]{50,}/g, replace: (_m, p) => keep(p)}, // [pypi-upload-token]
  {pattern: /\b(AGE-SECRET-KEY-1)[0-9A-Z]{50,}/g, replace: (_m, p) => keep(p)}, // [age-secret-key]
  {pattern: /\b(dapi)[a-f0-9]{32}(?:-\d)?\b/g, replace: (_m, p) => keep(p)}, // [databricks-api-token]
  {pattern: /\b(shp(?:at|ca|pa|ss)_)[a-fA-F0-9]{32}/g, replace: (_m, p) => keep(p)}, // [shopify-*]
  {pattern: /\b(gl(?:rt|dt|ptt|soat|cbt|imt|agent|oas|ffct)-)[\w-]{20,}/g, replace: (_m, p) => keep(p)}, // [gitlab-*]
  {pattern: /\b(dckr_pat_)[\w-]{20,}/g, replace: (_m, p) => keep(p)}, // [docker personal access token]
  {pattern: /\b(glsa_)[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}/g, replace: (_m, p) => keep(p)}, // [grafana-service-account-token]
  {pattern: /\b(PMAK-)[a-f0-9]{24}-[a-f0-9]{34}/g, replace: (_m, p) => keep(p)}, // [postman-api-token]
  {pattern: /\b(ATATT3)[A-Za-z0-9_=-]{100,}/g, replace: (_m, p) => keep(p)}, // [atlassian-api-token]
  {pattern: /\b(xkeysib-)[a-f0-9]{64}-[A-Za-z0-9]{16}/g, replace: (_m, p) => keep(p)}, // [sendinblue-api-token]
  {pattern: /\b(sntry[su]_)[\w=+/-]{20,}/g, replace: (_m, p) => keep(p)}, // [sentry-*-token]
  {pattern: /\b(sq0(?:atp|csp)-)[\w-]{22,}/g, replace: (_m, p) => keep(p)}, // [square-*]
  // [slack-webhook-url], Discord webhooks: the path is the secret.
  {
    pattern: /\b(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9+/_-]{20,}/g,
    replace: (_m, p) => keep(p),
  },
  {pattern: /\b(discord(?:app)?\.com\/api\/webhooks\/\d+\/)[\w-]{20,}/g, replace: (_m, p) => keep(p)},
  // [telegram-bot-api-token]: a bot id, a colon, 35 characters (bare or in an api.telegram.org/bot… URL).
  {
    pattern: /(^|[^\w:])(?:(bot))?(\d{8,10}):[A-Za-z0-9_-]{35}(?![\w-])/g,
    replace: (_m, before, bot, id) => `${before}${bot ?? ''}${id}:${MASK}`,
  },
  // [discord-client-secret / bot token]: base64 user id, timestamp, HMAC.
  {pattern: /\b([MNO][A-Za-z\d_-]{23,25}\.)[\w-]{6}\.[\w-]{27,38}\b/g, replace: (_m, p) => keep(p)},
  // JSON Web Tokens: three base64url parts, the first one a JSON object.
  {pattern: /\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}/g, replace: () => keep('eyJ')},
  {
    pattern: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    replace: () => `-----BEGIN PRIVATE KEY-----${MASK}`,
  },
]

/** Words that make a flag or a variable name secret when the name ends with them. */
const SECRET_WORD = '(?:token|secret|passw(?:or)?d|pass|passphrase|pwd|key|apikey|auth|authorization|credentials?)'
/**
 * The secret words as the end of a name without a separator: upper case after anything (`PGPASSWORD`,
 * `GHTOKEN`), capitalised after a lower-case letter or digit (camelCase `apiToken`, `dbPassword`, `AccountKey`).
 */
const CAMEL_SECRET =
  '(?:PASSWORD|PASSWD|PASSPHRASE|TOKEN|SECRET|APIKEY|Password|Passwd|Passphrase|Token|Secret|ApiKey|AccessKey|AccountKey|Key)'
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
  // Names that run the secret word on without a separator: `PGPASSWORD=X`, `apiToken=X`, Azure's `AccountKey=X`.
  {
    pattern: new RegExp(String.raw`(^|[\s'"?&;,(=:])([A-Za-z0-9]{1,64}${CAMEL_SECRET})=(${QUERY_VALUE})`, 'g'),
    replace: (_m, before, name) => `${before}${name}=${MASK}`,
  },
  // Signed URLs: Azure SAS `sig=`, AWS and Google presigned signatures and session tokens.
  {
    pattern:
      /([?&;])(sig|signature|X-Amz-Signature|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential)=([^\s'"&]+)/gi,
    replace: (_m, before, name) => `${before}${name}=${MASK}`,
  },
  // `"private_key_id": "X"` (a GCP service-account key file inlined), camelCase JSON keys (`"apiToken": "X"`).
  {
    pattern: new RegExp(
      String.raw`("(?:private_key_id|client_secret|[A-Za-z0-9]{1,64}${CAMEL_SECRET})"\s*:\s*)"(?:[^"\\]|\\.)*"`,
      'g',
    ),
    replace: (_m, head) => `${head}"${MASK}"`,
  },
  // Inline JSON, as in `claude --mcp-config '{"env":{"GITHUB_TOKEN":"X"}}'`
  {
    pattern: new RegExp(String.raw`("(?:[A-Za-z0-9_.-]*[_.-])?${SECRET_WORD}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi'),
    replace: (_m, head) => `${head}"${MASK}"`,
  },
  // `scheme://user:password@host`
  // The scheme is bounded: unbounded, each word start of a long `a.a.a…` ran to its end and back (quadratic).
  {
    pattern: /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s/:@'"]*):([^\s/@'"]+)@/gi,
    replace: (_m, scheme, user) => `${scheme}${user}:${MASK}@`,
  },
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

/**
 * The same program-dependent options in a joined command line (a finding's message): applied only when
 * the program's name is in the text, since `-p` is a port and `-a` an address for most programs.
 */
const PROGRAM_TEXT_RULES: Array<{when: RegExp; pattern: RegExp; replace: string}> = [
  {when: /\b(?:mysql|mariadb)/, pattern: /(^|\s)-p(?=[^\s'"])[^\s'"]+/g, replace: `$1-p${MASK}`},
  {when: /\bsshpass\b/, pattern: /(^|\s)-p(\s*)(?!-)[^\s'"]+/g, replace: `$1-p$2${MASK}`},
  {when: /\bredis-cli\b/, pattern: /(^|\s)-a(\s+)(?!-)[^\s'"]+/g, replace: `$1-a$2${MASK}`},
  {when: /\blogin\b/, pattern: /(^|\s)-p(\s+)(?!-)[^\s'"]+/g, replace: `$1-p$2${MASK}`},
  {
    when: /(?:^|\s)(?:-u|--user|--proxy-user)/,
    pattern: /(^|\s)(-u|--user|--proxy-user)(\s+|=)?([^\s:'"-][^\s:'"]*):(?!\d+(?:\s|$))[^\s'"]+/g,
    replace: `$1$2$3$4:${MASK}`,
  },
  {when: /(?:^|\s)-U/, pattern: /(^|\s)(-U|--user)(\s+|=)?([^\s%'"-][^\s%'"]*)%[^\s'"]+/g, replace: `$1$2$3$4%${MASK}`},
  {
    when: /aws_s/i,
    pattern: /\b(aws_secret_access_key|aws_session_token)(\s+)(?!\*\*\*)[^\s'"]+/gi,
    replace: `$1$2${MASK}`,
  },
]

/**
 * The fallback for names no rule above knows (`GITHUB_TOKEN_V2=`, `authHeaderValue=`, `"session_key_id": "…"`):
 * a name with a secret-ish word anywhere in it, and a value that looks random (16 to 512 characters, no
 * path, letters mixed with digits or cases, at least 3.5 bits of entropy a character), is masked; `SESSION_TIMEOUT=30` is not.
 */
const SECRETISH_NAME = /token|secret|passw|pwd|key|auth|cred|sig|session|cookie|private/i
const SECRETISH_ASSIGNMENT = /(^|[\s'"?&;,(:])([A-Za-z_][\w.-]{0,63})(=|"\s*:\s*")([^\s'"&/]{16,512})(?![^\s'"&/])/g

function entropyPerChar(text: string): number {
  const counts = new Map<string, number>()
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let bits = 0
  for (const n of counts.values()) bits -= (n / text.length) * Math.log2(n / text.length)
  return bits
}

function maskIfRandom(match: string, before: string, name: string, eq: string, value: string): string {
  // Random text mixes classes: words (`interactive-browser`) have one.
  const mixed = (/\d/.test(value) && /[A-Za-z]/.test(value)) || (/[a-z]/.test(value) && /[A-Z]/.test(value))
  if (!SECRETISH_NAME.test(name) || !mixed || value.includes(MASK) || entropyPerChar(value) < 3.5) return match
  return `${before}${name}${eq}${MASK}`
}

/** A whole argv element that is a secret flag awaiting its value in the next element: `--token`, `--api-key`. */
const SECRET_FLAG = new RegExp(String.raw`^--?(?:[A-Za-z0-9][\w.-]*)?${SECRET_WORD}$`, 'i')
/** Keys of structured data whose string values are secrets whatever they look like (not a bare `key`: an identifier). */
const SECRET_KEY =
  /(?:^|[_-])(?:token|secret|passw(?:or)?d|passphrase|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)$|^(?:apiKey|accessToken|authToken|clientSecret|privateKey|password|passphrase)$/i

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
  /sk-|sk_|rk_|pk_|gh[pousr]_|github_pat_|gl[a-z]{2,6}-|xox|xapp-|A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA)|AIza|npm_|hf_|eyJ|PRIVATE KEY|token|secret|pass|pwd|key|auth|credential|:\/\/[^\s/@]*:|bearer|cookie|ya29\.|GOCSPX|whsec_|SG\.|_v1_|hv[sbr]\.|pypi-|dapi|shp|dckr_|glsa_|PMAK-|ATATT|sntry|sq0|hooks\.slack|discord|\d{8}:|\.[\w-]{6}\.|sig=|signature|X-Amz|X-Goog/i
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
    for (const rule of TOKEN_SHAPES)
      out = out.replace(rule.pattern, rule.replace as (m: string, ...g: unknown[]) => string)
    for (const rule of CONTEXT_RULES)
      out = out.replace(rule.pattern, rule.replace as (m: string, ...g: unknown[]) => string)
  }
  for (const rule of PROGRAM_TEXT_RULES) if (rule.when.test(out)) out = out.replace(rule.pattern, rule.replace)
  if (SECRETISH_NAME.test(out)) out = out.replace(SECRETISH_ASSIGNMENT, maskIfRandom)
  if (c.home || MAYBE_HOME.test(out)) out = redactHomes(out, c)
  // Snapshots repeat the same paths and command lines thousands of times.
  if (memo.size >= MEMO_LIMIT) memo.clear()
  memo.set(key, out)
  return out
}

/**
 * Options whose value is a password only for some programs (`-p` is a port for most): the program's
 * basename (or, for `docker login`, its subcommand) says. `attached`: `-pX` in one element; `next`: the
 * option alone, the password in the next element.
 */
const PROGRAM_SECRETS: Array<{program: RegExp; subcommand?: string; flag: string; attached: boolean; next: boolean}> = [
  {
    program: /^(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mariadb|mariadb-dump|mariadb-admin)$/,
    flag: '-p',
    attached: true,
    next: false,
  },
  {program: /^sshpass$/, flag: '-p', attached: true, next: true},
  {program: /^redis-cli$/, flag: '-a', attached: false, next: true},
  {
    program: /^(?:docker|podman|nerdctl|buildah|skopeo|helm|oras)$/,
    subcommand: 'login',
    flag: '-p',
    attached: false,
    next: true,
  },
]
/** Elements after which the next one is a secret whatever the program: `aws configure set aws_secret_access_key X`. */
const SECRET_NAME_ELEMENT = /^(?:aws_secret_access_key|aws_session_token|password|passwd|token|secret)$/i
/** `-u user:password` (curl, wget's --user), `-U user%password` (smbclient): the part after the separator. */
const USER_PASS = /^(-u|--user|--proxy-user|-U)(=?)([^:%\s]*)([:%])(?!\d*$)(.+)$/

const base = (program: string) => program.slice(program.lastIndexOf('/') + 1)

/** An argv with secrets masked: also the value that follows a secret flag in the next element (`--token`, `X`). */
export function redactArgv(argv: readonly string[], opts: RedactOptions = {}): string[] {
  const program = base(argv[0] ?? '')
  const rules = PROGRAM_SECRETS.filter(
    (r) => r.program.test(program) && (r.subcommand === undefined || argv.includes(r.subcommand)),
  )
  return argv.map((arg, i) => {
    const previous = argv[i - 1]
    if (previous !== undefined && !arg.startsWith('-')) {
      if (SECRET_FLAG.test(previous) || SECRET_NAME_ELEMENT.test(previous)) return MASK
      if (rules.some((r) => r.next && previous === r.flag)) return MASK
      // `curl -u user:password`: the user stays, the password goes.
      // (`docker run -u 1000:1000` is a uid and a gid.)
      if ((previous === '-u' || previous === '--user' || previous === '--proxy-user') && /^[^:]*:(?!\d*$)/.test(arg))
        return `${redactText(arg.slice(0, arg.indexOf(':')), opts)}:${MASK}`
      if (previous === '-U' && arg.includes('%')) return `${redactText(arg.slice(0, arg.indexOf('%')), opts)}%${MASK}`
    }
    for (const r of rules)
      if (r.attached && arg.startsWith(r.flag) && arg.length > r.flag.length) return `${r.flag}${MASK}`
    const joined = USER_PASS.exec(arg)
    if (joined) return `${joined[1]}${joined[2]}${redactText(joined[3], opts)}${joined[4]}${MASK}`
    return redactText(arg, opts)
  })
}

/** Every string in a JSON-like value redacted; string arrays are treated as argv, secret-named keys masked. */
export function redactDeep<T>(value: T, opts: RedactOptions = {}): T {
  return walk(value, opts) as T
}

function walk(value: unknown, opts: RedactOptions, key?: string): unknown {
  if (typeof value === 'string')
    return key !== undefined && SECRET_KEY.test(key) && value !== '' ? MASK : redactText(value, opts)
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string')) return redactArgv(value as string[], opts)
    return value.map((v) => walk(v, opts))
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, opts, k)
    return out
  }
  return value
}

/** A JSON-like object: a Map (a plan's memory), a Date or a class instance is kept as it is. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (!value || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
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
