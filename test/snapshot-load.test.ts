import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {DoctorError} from '../src/errors.js'
import {claudeVersionClue, detectClaudeVersion, pickClaudeVersion} from '../src/snapshot/claude-version.js'
import {loadSnapshot, parseSnapshot, refuseFixOnRecorded, serializeSnapshot} from '../src/snapshot/load.js'
import {Machine} from './support/machine.js'
import {INCIDENT_FIXTURE} from './support/incident.js'

const good = () => serializeSnapshot(new Machine().snapshot())

function failure(fn: () => unknown): DoctorError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(DoctorError)
    return error as DoctorError
  }
  throw new Error('did not throw')
}

describe('parseSnapshot', () => {
  it('accepts what serializeSnapshot writes, and the incident fixture', () => {
    expect(parseSnapshot(good(), 'x.json').processes[0].pid).toBe(1)
    expect(parseSnapshot(readFileSync(INCIDENT_FIXTURE, 'utf8'), 'incident').processes.length).toBeGreaterThan(200)
  })

  const cases: Array<[string, string, RegExp]> = [
    ['empty file', '', /^x\.json is empty: not a gt-doctor snapshot$/],
    ['malformed JSON', '{"snapshotVersion": 1,,}', /^x\.json is not valid JSON: /],
    ['truncated file', good().slice(0, 400), /^x\.json is not valid JSON \(the file looks truncated\): /],
    ['a JSON array', '[]', /^x\.json is not a gt-doctor snapshot: expected a JSON object$/],
    [
      'a report instead of a snapshot',
      '{"schemaVersion": 1, "checks": []}',
      /^x\.json is not a gt-doctor snapshot: it has no snapshotVersion$/,
    ],
    [
      'a future version',
      good().replace('"snapshotVersion": 1', '"snapshotVersion": 7'),
      /^x\.json is snapshotVersion 7, written by a newer gt-doctor; this one reads version 1: upgrade gt-doctor$/,
    ],
    [
      'a nonsense version',
      good().replace('"snapshotVersion": 1', '"snapshotVersion": "one"'),
      /^x\.json has snapshotVersion "one"; this gt-doctor reads version 1$/,
    ],
    [
      'a missing field',
      good().replace('"limitations"', '"limits"'),
      /^x\.json is not a valid gt-doctor snapshot: \(top level\) must have required property 'limitations'$/,
    ],
    [
      'a wrongly typed pid',
      good().replace('"pid": 1,', '"pid": "1",'),
      /^x\.json is not a valid gt-doctor snapshot: \/processes\/0\/pid must be integer$/,
    ],
    [
      'an environment key that is never kept',
      good().replace('"env": {}', '"env": {"AWS_SECRET_ACCESS_KEY": "x"}'),
      /^x\.json is not a valid gt-doctor snapshot: \/processes\/0\/env has unexpected field "AWS_SECRET_ACCESS_KEY"$/,
    ],
  ]
  for (const [what, text, message] of cases) {
    it(`refuses ${what} in one line, exit 2`, () => {
      const e = failure(() => parseSnapshot(text, 'x.json'))
      expect(e.message).toMatch(message)
      expect(e.message).not.toContain('\n')
      expect(e.exitCode).toBe(2)
    })
  }
})

describe('loadSnapshot', () => {
  it('reads a file and standard input', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-doctor-snap-'))
    writeFileSync(join(dir, 's.json'), good())
    expect((await loadSnapshot(join(dir, 's.json'))).snapshotVersion).toBe(1)
    expect((await loadSnapshot('-', Readable.from([good()]))).snapshotVersion).toBe(1)
  })

  it('says what is wrong with a file it cannot read', async () => {
    await expect(loadSnapshot('/nonexistent/s.json')).rejects.toThrow(
      /^cannot read snapshot \/nonexistent\/s\.json: no such file$/,
    )
    await expect(loadSnapshot(tmpdir())).rejects.toThrow(/: it is a directory$/)
  })
})

describe('--fix on a recorded snapshot', () => {
  it('is refused', () => {
    expect(failure(() => refuseFixOnRecorded({from: 's.json', fix: true})).message).toMatch(
      /^--fix cannot be used with --from/,
    )
    expect(() => refuseFixOnRecorded({from: 's.json'})).not.toThrow()
    expect(() => refuseFixOnRecorded({fix: true})).not.toThrow()
  })
})

describe('Claude Code version', () => {
  it('reads the native binary path and the npm package', () => {
    expect(claudeVersionClue(['/home/u/.local/share/claude/versions/2.1.3', '--resume'])).toEqual({version: '2.1.3'})
    expect(claudeVersionClue(['claude'], '/home/u/.local/share/claude/versions/2.0.76')).toEqual({version: '2.0.76'})
    expect(claudeVersionClue(['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js'])).toEqual({
      packageDir: '/usr/lib/node_modules/@anthropic-ai/claude-code',
    })
    expect(claudeVersionClue(['claude'])).toBeUndefined()
  })

  it('picks the version most processes run, the newest on a tie', () => {
    expect(pickClaudeVersion(['2.0.9', '2.0.10'])).toBe('2.0.10')
    expect(pickClaudeVersion(['2.0.9', '2.0.9', '2.0.10'])).toBe('2.0.9')
    expect(pickClaudeVersion([])).toBeUndefined()
  })

  it('asks /proc/PID/exe and package.json only when the command line does not say', () => {
    const m = new Machine()
    m.proc({pid: 10, argv: ['claude'], comm: 'claude'})
    m.proc({pid: 11, argv: ['node', '/opt/lib/node_modules/@anthropic-ai/claude-code/cli.js'], comm: 'node'})
    m.proc({pid: 12, argv: ['node', '/opt/lib/node_modules/@anthropic-ai/claude-code/cli.js'], comm: 'node'})
    m.proc({pid: 13, argv: ['bash'], comm: 'bash'})
    const asked: string[] = []
    const version = detectClaudeVersion(m.snapshot().processes, {
      readExe: (pid) => (asked.push(`exe ${pid}`), pid === 10 ? '/x/claude/versions/2.1.3' : undefined),
      readPackageVersion: (dir) => (asked.push(`pkg ${dir}`), '2.1.0'),
    })
    expect(version).toBe('2.1.0')
    expect(asked).toEqual(['exe 10', 'pkg /opt/lib/node_modules/@anthropic-ai/claude-code'])
  })
})
