import type {ErrorObject, ValidateFunction} from 'ajv'
import {DoctorError} from '../errors.js'
import {errnoReason, MiB, readRegularFile, readStreamBounded} from '../safe-fs.js'
import {deepFreeze} from '../freeze.js'
import schema from './snapshot-v1.schema.json' with {type: 'json'}
import {findDuplicatePid, findParentCycle} from './parents.js'
import {SNAPSHOT_VERSION, type Snapshot} from './types.js'
import {lazy} from '../lazy.js'

const ajv = lazy<typeof import('ajv')>('ajv')

let validator: ValidateFunction | undefined

function validate(value: unknown): ErrorObject[] {
  validator ??= new (ajv().Ajv)({allErrors: false, strict: true}).compile(schema)
  return validator(value) ? [] : (validator.errors ?? [])
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(top level)'
  if (error.keyword === 'additionalProperties')
    return `${where} has unexpected field "${String(error.params.additionalProperty)}"`
  if (error.keyword === 'enum')
    return `${where} must be one of ${(error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
  return `${where} ${error.message ?? 'is invalid'}`
}

/**
 * Checks that a parsed value is a snapshot this gt-doctor understands. Every failure is one line that names
 * the file and what is wrong: not JSON, not a snapshot, a snapshotVersion from a newer gt-doctor, or
 * processes no kernel shows (a pid twice, a parent cycle).
 */
export function parseSnapshot(text: string, source: string): Snapshot {
  if (text.trim() === '') throw new DoctorError(`${source} is empty: not a gt-doctor snapshot`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    const at = /at position (\d+)/.exec(why)
    const truncated =
      /end of (?:json )?(?:data|input)|unterminated/i.test(why) ||
      (at !== null && Number(at[1]) >= text.trimEnd().length - 1)
    throw new DoctorError(
      `${source} is not valid JSON${truncated ? ' (the file looks truncated)' : ''}: ${why.split('\n')[0]}`,
    )
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new DoctorError(`${source} is not a gt-doctor snapshot: expected a JSON object`)
  const version = (value as {snapshotVersion?: unknown}).snapshotVersion
  if (version === undefined) throw new DoctorError(`${source} is not a gt-doctor snapshot: it has no snapshotVersion`)
  if (typeof version === 'number' && Number.isInteger(version) && version > SNAPSHOT_VERSION) {
    throw new DoctorError(
      `${source} is snapshotVersion ${version}, written by a newer gt-doctor; this one reads version ${SNAPSHOT_VERSION}: upgrade gt-doctor`,
    )
  }
  if (version !== SNAPSHOT_VERSION)
    throw new DoctorError(
      `${source} has snapshotVersion ${JSON.stringify(version)}; this gt-doctor reads version ${SNAPSHOT_VERSION}`,
    )
  const errors = validate(value)
  if (errors.length > 0) throw new DoctorError(`${source} is not a valid gt-doctor snapshot: ${describe(errors[0])}`)
  const snapshot = value as Snapshot
  // What no kernel shows and the collector never writes: every walk over it would be guesswork, or endless.
  const duplicate = findDuplicatePid(snapshot.processes)
  if (duplicate !== undefined)
    throw new DoctorError(`${source} is not a valid gt-doctor snapshot: pid ${duplicate} appears twice in processes`)
  const cycle = findParentCycle(snapshot.processes)
  if (cycle) {
    const pids = cycle.length > 6 ? `${cycle.slice(0, 6).join(', ')}, … (${cycle.length} in all)` : cycle.join(', ')
    throw new DoctorError(
      `${source} is not a valid gt-doctor snapshot: its processes form a parent cycle (pids ${pids}); a snapshot the collector wrote never does`,
    )
  }
  return deepFreeze(snapshot)
}

/** A snapshot of 50,000 processes is about 40 MiB: the limit leaves room and still bounds memory. */
export const SNAPSHOT_READ_LIMIT = 256 * MiB

/**
 * Reads a recorded snapshot (`-` for standard input) and validates it against snapshot-v1.schema.json.
 * Only a regular file is read (a FIFO or /dev/zero would block or never end), and at most 256 MiB.
 */
export async function loadSnapshot(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<Snapshot> {
  const source = file === '-' ? 'standard input' : file
  const tooLarge = 'not a gt-doctor snapshot'
  let text: string
  try {
    text =
      file === '-'
        ? await readStreamBounded(stdin, SNAPSHOT_READ_LIMIT, tooLarge)
        : readRegularFile(file, SNAPSHOT_READ_LIMIT, tooLarge).text
  } catch (error) {
    const why = errnoReason(error)
    throw new DoctorError(
      `cannot read snapshot ${source}: ${why}${why.startsWith('not a regular file') ? '; use - for standard input' : ''}`,
    )
  }
  return parseSnapshot(text, source)
}

/** The snapshot as its file holds it: stable key order as collected, two-space indent, final newline. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return `${JSON.stringify(snapshot, null, 2)}\n`
}

/**
 * `--fix` acts on live processes; a recorded snapshot's pids belong to another machine or another moment.
 * Enforced here as well as by the flags' `exclusive`, so the rule holds whichever way the flags are spelled.
 */
export function refuseFixOnRecorded(flags: {from?: string; fix?: boolean; 'dry-run'?: boolean}): void {
  if (flags.from !== undefined && (flags.fix || flags['dry-run'])) {
    throw new DoctorError(
      '--fix cannot be used with --from: a recorded snapshot is not this machine now; run --fix on the live machine',
    )
  }
}
