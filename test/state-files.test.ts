/**
 * The files the doctor writes and reads on the user's behalf (issue 18 items 6 and 13): the audit log, the
 * history, --output, and what --from / history --file read. Each test plants what an attacker (or an
 * accident) would: a symbolic link into a root-only file, a FIFO, a device, a directory of another user,
 * and checks that the doctor refuses in one line instead of writing through it, blocking or reading forever.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {AuditLog} from '../src/remediation/audit.js'
import {ensureStateDir} from '../src/state-dir.js'
import {appendHistory, ensureHistoryWritable, readHistory, type HistoryEntry} from '../src/monitor/history.js'
import {writeOutput} from '../src/render/output.js'
import {loadSnapshot} from '../src/snapshot/load.js'
import {BIN} from './support/cli.js'

const root = process.getuid?.() === 0
const NOBODY = 65534

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-files-')))
})
afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

/** A file only root may read or write, holding something that must survive. */
function precious(): string {
  const file = path.join(dir, 'root-only')
  fs.writeFileSync(file, 'precious\n', {mode: 0o600})
  return file
}

const fifo = (file: string) => {
  expect(spawnSync('mkfifo', [file]).status).toBe(0)
  return file
}

const entry = {
  v: 1,
  time: '2026-01-11T12:00:00Z',
  durationMs: 1,
  status: 'ok',
  exitCode: 0,
  claudeProcesses: 1,
  tmuxSessions: 1,
  mcpServers: 0,
  orphanClaude: 0,
  orphanMcp: 0,
  orphanMemoryBytes: 0,
  orphans: [],
} as unknown as HistoryEntry

/** The one-line message `fn` throws (it must throw a DoctorError, exit 2). */
function refusal(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    expect((error as {exitCode?: number}).exitCode).toBe(2)
    expect((error as Error).message).not.toContain('\n')
    return (error as Error).message
  }
  throw new Error('did not refuse')
}

describe('the state directory', () => {
  it('is created 0700 with its missing parents', () => {
    const state = path.join(dir, 'a', 'b', 'gt-doctor')
    ensureStateDir(state)
    expect(fs.statSync(state).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(dir, 'a')).mode & 0o777).toBe(0o700)
  })

  it('is refused when others may write to it', () => {
    const state = path.join(dir, 'gt-doctor')
    fs.mkdirSync(state, {mode: 0o700})
    fs.chmodSync(state, 0o770)
    expect(refusal(() => ensureStateDir(state))).toBe(
      `unsafe state directory ${state}: writable by its group (mode 0770); chmod 700 it`,
    )
    fs.chmodSync(state, 0o1777)
    expect(refusal(() => new AuditLog(state, 'r'))).toBe(
      `cannot open the audit log ${state}/actions.jsonl: unsafe state directory ${state}: writable by others (mode 1777); chmod 700 it; nothing was signalled`,
    )
  })

  it.skipIf(!root)('is refused when it is a symbolic link someone else planted; your own link is followed', () => {
    const elsewhere = path.join(dir, 'elsewhere')
    fs.mkdirSync(elsewhere, {mode: 0o700})
    const state = path.join(dir, 'gt-doctor')
    fs.symlinkSync(elsewhere, state)
    ensureStateDir(state)
    fs.lchownSync(state, NOBODY, NOBODY)
    expect(refusal(() => new AuditLog(state, 'r'))).toBe(
      `cannot open the audit log ${state}/actions.jsonl: unsafe state directory ${state}: it is a symbolic link owned by uid ${NOBODY}, not by you (uid 0); nothing was signalled`,
    )
    expect(fs.readdirSync(elsewhere)).toEqual([])
  })

  it.skipIf(!root)('is refused when another user owns it', () => {
    const state = path.join(dir, 'gt-doctor')
    fs.mkdirSync(state, {mode: 0o700})
    fs.chownSync(state, NOBODY, NOBODY)
    expect(refusal(() => ensureStateDir(state))).toBe(
      `unsafe state directory ${state}: owned by uid ${NOBODY} (mode 0700), not by you (uid 0); it must be yours`,
    )
    expect(fs.readdirSync(state)).toEqual([])
  })
})

describe('the audit log and the history are appended to, never through a link', () => {
  it('a symbolic link at actions.jsonl into a root-only file is refused; the file is untouched', () => {
    const target = precious()
    const state = path.join(dir, 'state')
    fs.mkdirSync(state, {mode: 0o700})
    fs.symlinkSync(target, path.join(state, 'actions.jsonl'))
    expect(refusal(() => new AuditLog(state, 'r'))).toBe(
      `cannot open the audit log ${state}/actions.jsonl: it is a symbolic link (the doctor never writes through one); nothing was signalled`,
    )
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
  })

  it('a FIFO or a hard link at the history file is refused without blocking', () => {
    const state = path.join(dir, 'state')
    fs.mkdirSync(state, {mode: 0o700})
    const file = fifo(path.join(state, 'history.jsonl'))
    expect(refusal(() => ensureHistoryWritable(file))).toBe(
      `cannot write the history file ${file}: not a regular file (a FIFO)`,
    )
    expect(refusal(() => appendHistory(file, entry))).toBe(
      `cannot write the history file ${file}: not a regular file (a FIFO)`,
    )
    fs.rmSync(file)
    const target = precious()
    fs.linkSync(target, file)
    expect(refusal(() => appendHistory(file, entry))).toBe(
      `cannot write the history file ${file}: it has 2 hard links (writing to it would change another file too)`,
    )
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
  })

  it('a symbolic link at the history file is refused, the target untouched', () => {
    const target = precious()
    const file = path.join(dir, 'history.jsonl')
    fs.symlinkSync(target, file)
    expect(refusal(() => appendHistory(file, entry))).toBe(
      `cannot write the history file ${file}: it is a symbolic link (the doctor never writes through one)`,
    )
    expect(refusal(() => ensureHistoryWritable(file))).toMatch(/symbolic link/)
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
  })

  it('a regular file of its own is appended to as before', () => {
    const file = path.join(dir, 'deep', 'h.jsonl')
    ensureHistoryWritable(file)
    appendHistory(file, entry)
    appendHistory(file, entry)
    expect(readHistory(file).entries).toHaveLength(2)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
  })
})

describe('--output', () => {
  const refusedWrite = async (file: string) => {
    const error = await writeOutput(file, 'report\n').catch((e) => e)
    expect(error?.exitCode).toBe(2)
    return error.message as string
  }

  it('refuses a symbolic link (into a root-only file), leaving both untouched', async () => {
    const target = precious()
    const link = path.join(dir, 'report.json')
    fs.symlinkSync(target, link)
    expect(await refusedWrite(link)).toBe(
      `cannot write ${link}: it is a symbolic link (the doctor never writes through one)`,
    )
    expect(fs.readFileSync(target, 'utf8')).toBe('precious\n')
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true)
  })

  it('refuses a FIFO, a device and a directory without blocking', async () => {
    expect(await refusedWrite(fifo(path.join(dir, 'report.prom')))).toBe(
      `cannot write ${dir}/report.prom: not a regular file (a FIFO)`,
    )
    expect(await refusedWrite('/dev/null')).toBe('cannot write /dev/null: not a regular file (a character device)')
    expect(await refusedWrite(dir)).toBe(`cannot write ${dir}: it is a directory`)
  })

  it('replaces a regular file atomically, keeping its mode; a new file is 0644; no temporary file is left', async () => {
    const file = path.join(dir, 'gt_doctor.prom')
    await writeOutput(file, 'one\n')
    expect(fs.statSync(file).mode & 0o777).toBe(0o644)
    fs.chmodSync(file, 0o640)
    const inode = fs.statSync(file).ino
    await writeOutput(file, 'two\n')
    expect(fs.readFileSync(file, 'utf8')).toBe('two\n')
    expect(fs.statSync(file).mode & 0o777).toBe(0o640)
    expect(fs.statSync(file).ino).not.toBe(inode)
    expect(fs.readdirSync(dir)).toEqual(['gt_doctor.prom'])
  })

  it('through the CLI: a FIFO at --output is one line and exit 2, in bounded time', () => {
    const target = fifo(path.join(dir, 'out.json'))
    const r = spawnSync(
      process.execPath,
      [BIN, 'check', '--from', path.resolve('fixtures/reports/incident.snapshot.json'), '--json', '--output', target],
      {
        encoding: 'utf8',
        timeout: 20_000,
        env: {...process.env, NODE_ENV: 'production'},
      },
    )
    expect(r.signal).toBeNull()
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(`gt-doctor: cannot write ${target}: not a regular file (a FIFO)\n`)
  })
})

describe('files read on the user behalf are regular files of bounded size', () => {
  const cli = (args: string[], input?: number) =>
    spawnSync(process.execPath, [BIN, ...args], {
      encoding: 'utf8',
      timeout: 30_000,
      stdio: [input ?? 'pipe', 'pipe', 'pipe'],
      env: {...process.env, NODE_ENV: 'production', NO_COLOR: '1', XDG_STATE_HOME: dir},
    })

  it('check --from refuses /dev/zero and a FIFO; --from - stops reading past 256 MiB', async () => {
    await expect(loadSnapshot('/dev/zero')).rejects.toThrow(
      'cannot read snapshot /dev/zero: not a regular file (a character device); use - for standard input',
    )
    const f = fifo(path.join(dir, 'snap.json'))
    await expect(loadSnapshot(f)).rejects.toThrow(
      `cannot read snapshot ${f}: not a regular file (a FIFO); use - for standard input`,
    )
    const zero = fs.openSync('/dev/zero', 'r')
    try {
      const r = cli(['check', '--from', '-'], zero)
      expect(r.signal).toBeNull()
      expect(r.status).toBe(2)
      expect(r.stderr).toBe(
        'gt-doctor: cannot read snapshot standard input: larger than 256 MiB: not a gt-doctor snapshot\n',
      )
    } finally {
      fs.closeSync(zero)
    }
  })

  it('history --file refuses /dev/zero and a FIFO in one line, exit 2, in bounded time', () => {
    for (const [file, kind] of [
      ['/dev/zero', 'a character device'],
      [fifo(path.join(dir, 'h.jsonl')), 'a FIFO'],
    ]) {
      const r = cli(['history', '--file', file])
      expect(r.signal).toBeNull()
      expect(r.status).toBe(2)
      expect(r.stderr).toBe(`gt-doctor: cannot read the history file ${file}: not a regular file (${kind})\n`)
    }
  })

  it('a history larger than the read limit: the latest runs are read, the rest is skipped with a note', () => {
    const file = path.join(dir, 'big.jsonl')
    const line = (i: number) =>
      JSON.stringify({...entry, time: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(), orphanClaude: i % 7}) +
      '\n'
    fs.writeFileSync(file, Array.from({length: 1000}, (_, i) => line(i)).join(''))
    const size = fs.statSync(file).size
    const read = readHistory(file, {maxBytes: 64 * 1024})
    expect(read.skippedBytes).toBeGreaterThan(size - 64 * 1024 - 1)
    expect(read.malformed).toBe(0)
    expect(read.entries.at(-1)?.time).toBe(new Date(Date.UTC(2026, 0, 1) + 999 * 60_000).toISOString())
    expect(read.entries.length).toBeLessThan(1000)
    // A line longer than the limit is one malformed line, never a giant string.
    fs.writeFileSync(file, `${'x'.repeat(200 * 1024)}\n${line(1)}`)
    expect(readHistory(file, {maxBytes: 64 * 1024})).toMatchObject({
      malformed: 0,
      entries: [expect.objectContaining({orphanClaude: 1})],
    })
  })
})
