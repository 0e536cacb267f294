import type {Ajv, ValidateFunction} from 'ajv'
import type {Check, RegisteredCheck} from '../checks/api.js'
import {DoctorError} from '../errors.js'
import type {ResolvedConfig} from './config.js'
import {ConfigError} from './load.js'
import {describeError, firstError} from './schema.js'
import {lazy} from '../lazy.js'

const ajvModule = lazy<typeof import('ajv')>('ajv')

function fail(config: ResolvedConfig, problem: string): never {
  if (config.source) throw new ConfigError(config.source, problem)
  throw new DoctorError(`config: ${problem}`)
}

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
const A: Record<string, string> = {
  array: 'an array',
  object: 'an object',
  boolean: 'true or false',
  number: 'a number',
  string: 'a string',
}

const validators = new WeakMap<object, ValidateFunction>()
let ajv: Ajv | undefined

/** A check's options as the config gives them, against its `optionsSchema`, or else the shape of its defaults. */
function optionsProblem(check: Check<any>, options: Record<string, unknown>, at: string): string | undefined {
  if (check.optionsSchema) {
    let validate = validators.get(check.optionsSchema)
    if (!validate) {
      ajv ??= new (ajvModule().Ajv)({allErrors: false, verbose: true, strict: false})
      try {
        validate = ajv.compile(check.optionsSchema)
      } catch (error) {
        return `check ${check.id} has an invalid optionsSchema: ${(error as Error).message}`
      }
      validators.set(check.optionsSchema, validate)
    }
    if (validate(options)) return undefined
    const e = firstError(validate.errors ?? [])
    const escaped = at.split('.').map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1'))
    return describeError({...e, instancePath: `/${escaped.join('/')}${e.instancePath}`} as Parameters<
      typeof describeError
    >[0])
  }
  const defaults = (check.defaultOptions ?? {}) as Record<string, unknown>
  const known = Object.keys(defaults)
  for (const [key, value] of Object.entries(options)) {
    if (!(key in defaults)) {
      return known.length === 0
        ? `${at}: ${check.id} takes no options`
        : `${at}.${key} is not an option of ${check.id} (known: ${known.join(', ')})`
    }
    const want = typeOf(defaults[key])
    if (want !== 'null' && want !== 'undefined' && typeOf(value) !== want)
      return `${at}.${key} must be ${A[want] ?? want}`
  }
  return undefined
}

/**
 * Settings for checks that exist, with options they take. An unknown id is an error listing the known
 * ones, unless something failed to load (its checks cannot be known; the failure is reported anyway).
 */
export function validateCheckSettings(
  config: ResolvedConfig,
  all: readonly RegisteredCheck[],
  somethingFailedToLoad = false,
): void {
  const byId = new Map(all.map((c) => [c.check.id, c.check]))
  for (const [id, settings] of Object.entries(config.checks)) {
    const check = byId.get(id)
    if (!check) {
      if (somethingFailedToLoad) continue
      fail(config, `checks.${id} is not a known check; known checks: ${[...byId.keys()].join(', ')}`)
    }
    if (settings.options) {
      const problem = optionsProblem(check, settings.options, `checks.${id}.options`)
      if (problem) fail(config, problem)
    }
  }
}
