import type {Severity} from '../checks/api.js'

/**
 * A list of patterns in `rules`: an array extends the defaults, `{"replace": [...]}` replaces them.
 * Extending is the common case (one more MCP launcher); replacing exists to narrow a default that
 * matches a program of yours.
 */
export type PatternList = string[] | {replace: string[]}

/** One agent as a configuration file gives it: id, name and names required, the other lists default to empty. */
export interface AgentEntry {
  id: string
  name: string
  names: string[]
  scripts?: string[]
  binaries?: string[]
  headless?: string[]
  headlessCommands?: string[]
  env?: string[]
}

/** The configuration file as written (gt-doctor.config.json, .gt-doctorrc, package.json "gt-doctor", ...). */
export interface ConfigFile {
  $schema?: string
  /** Seconds a check that is not built in may run before it is reported as crashed. Default 10. */
  checkTimeoutSeconds?: number
  /** Per-check settings by check id. */
  checks?: Record<
    string,
    {
      enabled?: boolean
      severity?: Severity
      /** Findings about a process younger than this are not reported (nor fixed). */
      minAgeSeconds?: number
      options?: Record<string, unknown>
    }
  >
  /** Check modules to load, relative to the config file. */
  localChecks?: string[]
  /** Extra tmux server sockets to query, relative to the config file. */
  sockets?: string[]
  rules?: {
    claude?: {names?: PatternList; scripts?: PatternList; nativeBinary?: string; headless?: PatternList}
    /**
     * Agents besides Claude Code: an array adds agents (one with a built-in id replaces that row),
     * `{"replace": [...]}` replaces the table.
     */
    agents?: AgentEntry[] | {replace: AgentEntry[]}
    mcp?: {
      programs?: PatternList
      scripts?: PatternList
      packages?: PatternList
      images?: PatternList
      commands?: PatternList
      pluginDirs?: PatternList
      claudeCodeEnv?: boolean
    }
    agentSessionPattern?: string
    subreapers?: PatternList
    supervisors?: PatternList
  }
  /** Processes never reported nor signalled. */
  ignore?: {commands?: string[]; sessions?: string[]; uids?: number[]}
}

const nonEmptyStrings = {type: 'array', items: {type: 'string', minLength: 1}}

function patternList(what: string) {
  return {
    'x-message': `must be a list of ${what} (added to the defaults), or {"replace": [...]} (replacing them)`,
    anyOf: [
      nonEmptyStrings,
      {type: 'object', required: ['replace'], additionalProperties: false, properties: {replace: nonEmptyStrings}},
    ],
  }
}

const regex = 'regular expressions'

const agentEntry = {
  type: 'object',
  required: ['id', 'name', 'names'],
  additionalProperties: false,
  properties: {
    id: {type: 'string', pattern: '^[a-z][a-z0-9-]*$'},
    name: {type: 'string', minLength: 1},
    names: {type: 'array', items: {type: 'string', minLength: 1}},
    scripts: nonEmptyStrings,
    binaries: nonEmptyStrings,
    headless: nonEmptyStrings,
    headlessCommands: nonEmptyStrings,
    env: nonEmptyStrings,
  },
}

/** JSON Schema (draft-07) of `ConfigFile`. Validated with ajv; errors are turned into one line by `describeError`. */
export const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: {type: 'string'},
    checkTimeoutSeconds: {type: 'number', exclusiveMinimum: 0, maximum: 600},
    checks: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: {type: 'boolean'},
          severity: {enum: ['info', 'warning', 'error']},
          minAgeSeconds: {type: 'number', minimum: 0},
          options: {type: 'object'},
        },
      },
    },
    localChecks: nonEmptyStrings,
    sockets: nonEmptyStrings,
    rules: {
      type: 'object',
      additionalProperties: false,
      properties: {
        claude: {
          type: 'object',
          additionalProperties: false,
          properties: {
            names: patternList('program names'),
            scripts: patternList(regex),
            nativeBinary: {type: 'string', minLength: 1},
            headless: patternList('flags (-p, --name=value)'),
          },
        },
        mcp: {
          type: 'object',
          additionalProperties: false,
          properties: {
            programs: patternList(regex),
            scripts: patternList(regex),
            packages: patternList(regex),
            images: patternList(regex),
            commands: patternList('"program subcommand" strings'),
            pluginDirs: patternList(regex),
            claudeCodeEnv: {type: 'boolean'},
          },
        },
        agents: {
          'x-message': 'must be a list of agents ({id, name, names, ...}: added to the table), or {"replace": [...]}',
          anyOf: [
            {type: 'array', items: agentEntry},
            {
              type: 'object',
              required: ['replace'],
              additionalProperties: false,
              properties: {replace: {type: 'array', items: agentEntry}},
            },
          ],
        },
        agentSessionPattern: {type: 'string', minLength: 1},
        subreapers: patternList(regex),
        supervisors: patternList(regex),
      },
    },
    ignore: {
      type: 'object',
      additionalProperties: false,
      properties: {
        commands: nonEmptyStrings,
        sessions: nonEmptyStrings,
        uids: {type: 'array', items: {type: 'integer', minimum: 0}},
      },
    },
  },
} as const

interface SchemaError {
  keyword: string
  instancePath: string
  params: Record<string, any>
  message?: string
  parentSchema?: Record<string, any>
}

/** `/checks/orphan-memory/severity` -> `checks.orphan-memory.severity`; `/sockets/0` -> `sockets[0]`. */
export function dottedPath(instancePath: string, extra?: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
  if (extra !== undefined) parts.push(extra)
  return parts.reduce((out, part) => (/^\d+$/.test(part) ? `${out}[${part}]` : out ? `${out}.${part}` : part), '')
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  null: 'null',
}

/** One schema error as one line a person can act on: `checks.x.severity must be one of info, warning, error`. */
export function describeError(e: SchemaError): string {
  const at = dottedPath(e.instancePath)
  const subject = at || 'the configuration'
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys(e.parentSchema?.properties ?? {})
      return `${dottedPath(e.instancePath, e.params.additionalProperty)} is not a known key${known.length > 0 ? ` (known: ${known.join(', ')})` : ''}`
    }
    case 'enum':
      return `${subject} must be one of ${(e.params.allowedValues as unknown[]).join(', ')}`
    case 'type': {
      const types = String(e.params.type).split(',')
      return `${subject} must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(' or ')}`
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${subject} must be ${e.params.comparison} ${e.params.limit}`
    case 'minLength':
      return `${subject} must not be empty`
    case 'required':
      return `${dottedPath(e.instancePath, e.params.missingProperty)} is required`
    case 'anyOf':
      return `${subject} ${e.parentSchema?.['x-message'] ?? 'has the wrong shape'}`
    default:
      return `${subject} ${e.message ?? 'is invalid'}`
  }
}

/** The error to report when several were found: a combinator's own message beats its branches' details. */
export function firstError(errors: readonly SchemaError[]): SchemaError {
  return errors.find((e) => e.keyword === 'anyOf') ?? errors[0]
}
