/**
 * `gt-doctor history` on a recorded history (fixtures/history/watch.jsonl: a day of two-hourly runs in which
 * orphans pile up to the investigation's 12 claudes, with one line torn by a crashed writer).
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import type {HistoryResult} from '../src/commands/history.js'

const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const fixture = fileURLToPath(new URL('../fixtures/history/watch.jsonl', import.meta.url))
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-history-'))
afterAll(() => fs.rmSync(tmp, {recursive: true, force: true}))

/** Text compared without its spaces and line breaks: a path longer than a line is broken inside itself. */
const squeezed = (text: string) => text.replace(/\s+/g, '')
/** A message wrapped to 80 columns (continuation lines indented) read as the one sentence it is. */
const joined = (text: string) => text.trim().replace(/\n +/g, ' ')

function history(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'history', ...args], {
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', TZ: 'UTC', XDG_STATE_HOME: tmp},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('gt-doctor history', () => {
  it('wraps and escapes the lines that name the file, however long its path and whatever it holds', () => {
    const deep = path.join(tmp, 'a-directory-name-long-enough-to-push-the-note-past-eighty-columns')
    fs.mkdirSync(deep, {recursive: true})
    fs.copyFileSync(fixture, path.join(deep, 'watch.jsonl'))
    const r = history(['--file', path.join(deep, 'watch.jsonl')])
    const lines = r.stdout.split('\n')
    expect(lines.filter((l) => [...l].length > 80)).toEqual([])
    // The path is longer than a line, so it is broken inside: compare without the spaces and breaks.
    expect(squeezed(r.stdout)).toContain(squeezed(`note: skipped 1 malformed line in ${deep}/watch.jsonl`))
    const missing = history(['--file', path.join(tmp, 'no\u001b[2Jsuch', 'history.jsonl')])
    expect(missing.code).toBe(0)
    expect(missing.stdout).not.toContain('\u001b')
    expect(missing.stdout).toContain('no\\x1b[2Jsuch')
  })

  it('charts both counts and tables every run; the torn line is skipped with a note', () => {
    const r = history(['--file', fixture])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).not.toMatch(/\u001b\[/)
    const lines = r.stdout.split('\n')
    expect(lines[0]).toBe('12 runs from 2026-01-11 00:00:00 to 2026-01-11 22:00:00')
    // The claude chart: y axis from 0 to 12, the line ending at the top.
    const block = lines.slice(lines.indexOf('Orphan claude processes') + 1, lines.indexOf('Orphan MCP servers') - 1)
    const chart = block.filter((l) => /[┤┼]/.test(l))
    expect(chart[0]).toMatch(/^\s*12 .*─\s*$/)
    // Stretched over the width: 12 runs, two hours apart, fill the 80 columns (no run before 02:00 had an orphan).
    expect(chart[chart.length - 1]).toMatch(/^\s*0 +┼─+╯$/)
    // Even steps on the y axis, and a time axis under the chart's ends.
    expect(chart.map((l) => Number(l.trim().split(/\s/)[0]))).toEqual([12, 10, 8, 6, 4, 2, 0])
    expect(block[block.length - 1]).toMatch(/^ +00:00 +22:00$/)
    expect(lines.every((l) => [...l].length <= 80)).toBe(true)
    expect(Math.max(...chart.map((l) => [...l].length))).toBeGreaterThan(70)
    expect(lines).toContain('Orphan MCP servers')
    expect(lines).toContain('Memory held by orphans')
    const rows = lines
      .filter((l) => /^│ 2026-01-11/.test(l))
      .map((l) =>
        l
          .split('│')
          .slice(1, -1)
          .map((c) => c.trim()),
      )
    expect(rows).toHaveLength(12)
    expect(rows[0]).toEqual(['2026-01-11 00:00:00', '7', '15', '0', '0', '0 B'])
    expect(rows[11]).toEqual(['2026-01-11 22:00:00', '19', '15', '12', '113', '5.7 GiB'])
    // On one line when the checkout's path is short; wrapped (at the width, asserted above) when it is not.
    expect(squeezed(r.stdout)).toContain(squeezed(`note: skipped 1 malformed line in ${fixture}`))
  })

  it('--since filters by a date, --limit keeps the latest rows', () => {
    const r = history(['--file', fixture, '--since', '2026-01-11T18:00:00Z', '--limit', '2'])
    expect(r.code).toBe(0)
    expect(r.stdout.split('\n')[0]).toBe('3 runs from 2026-01-11 18:00:00 to 2026-01-11 22:00:00')
    expect(r.stdout).toContain('The latest 2 of 3 runs')
    expect(r.stdout.match(/^│ 2026-01-11 (\d\d)/gm)).toEqual(['│ 2026-01-11 20', '│ 2026-01-11 22'])
  })

  it('--since takes a duration back from now', () => {
    // The same runs, moved so that the last one was 30 minutes ago: 24h reaches 12 of them, 5h three.
    const entries = fs
      .readFileSync(fixture, 'utf8')
      .trim()
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l)]
        } catch {
          return []
        }
      })
    const shift = Date.now() - 30 * 60 * 1000 - Date.parse(entries[entries.length - 1].time)
    const file = path.join(tmp, 'recent.jsonl')
    fs.writeFileSync(
      file,
      entries.map((e) => JSON.stringify({...e, time: new Date(Date.parse(e.time) + shift).toISOString()})).join('\n') +
        '\n',
    )
    const json = (since: string) =>
      JSON.parse(history(['--file', file, '--since', since, '--json']).stdout) as HistoryResult
    expect(json('24h').points).toHaveLength(12)
    expect(json('5h').points.map((p) => p.orphanClaude)).toEqual([9, 12, 12])
    expect(json('10m').points).toEqual([])
    expect(joined(history(['--file', file, '--since', '10m']).stdout)).toMatch(/^No runs since .* the latest was at /)
  })

  it('--json returns the points, the filter and the skipped-line count', () => {
    const r = history(['--file', fixture, '--json', '--since', '2026-01-11T20:00:00Z'])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as HistoryResult
    expect(out).toMatchObject({file: fixture, since: '2026-01-11T20:00:00.000Z', malformed: 1})
    expect(out.points.map((p) => [p.time, p.orphanClaude, p.orphanMcp])).toEqual([
      ['2026-01-11T20:00:00.000Z', 12, 113],
      ['2026-01-11T22:00:00.000Z', 12, 113],
    ])
    expect(out.points[0].orphans).toHaveLength(12)
  })

  it('a missing or empty history is a friendly line and exit 0; a bad --since is one line and exit 2', () => {
    const missing = history(['--file', path.join(tmp, 'none.jsonl')])
    expect(missing).toMatchObject({code: 0, stderr: ''})
    expect(joined(missing.stdout)).toBe(
      `No history yet: ${path.join(tmp, 'none.jsonl')} does not exist. \`gt-doctor watch\` records one.`,
    )
    const empty = path.join(tmp, 'empty.jsonl')
    fs.writeFileSync(empty, '\n')
    expect(joined(history(['--file', empty]).stdout)).toBe(`No runs recorded in ${empty} yet.`)
    // The default file: under $XDG_STATE_HOME.
    expect(history([]).stdout).toContain(path.join(tmp, 'gt-doctor', 'history.jsonl'))
    const bad = history(['--file', fixture, '--since', '24'])
    expect(bad.code).toBe(2)
    expect(bad.stderr.trim().split('\n')).toEqual([
      'gt-doctor: --since expects a duration like 30m, 24h or 7d, or a date like 2026-01-11, got "24"',
    ])
  })

  it('only garbage: nothing to show, the skipped lines counted, exit 0', () => {
    const file = path.join(tmp, 'garbage.jsonl')
    fs.writeFileSync(file, 'x\n{"v":1}\n')
    const r = history(['--file', file])
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toEqual([
      `No runs recorded in ${file} yet.`,
      `note: skipped 2 malformed lines in ${file}`,
    ])
  })
})

describe('usage errors of watch and session stop: one line, exit 2, nothing run', () => {
  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [bin, ...args], {
      encoding: 'utf8',
      env: {...process.env, NO_COLOR: '1', XDG_STATE_HOME: tmp},
    })
    return {code: r.status, stdout: r.stdout, stderr: r.stderr.trim().split('\n')}
  }

  it('watch', () => {
    expect(cli(['watch', '--interval', '0'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: [
        'gt-doctor: --interval: expected seconds above 0 and up to 86400 (a decimal number like 0.5 or 10), got "0"',
      ],
    })
    expect(cli(['watch', '--interval', '0x10'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: [
        'gt-doctor: --interval: expected seconds above 0 and up to 86400 (a decimal number like 0.5 or 10), got "0x10"',
      ],
    })
    expect(cli(['watch', '--count', '1', '--history', '/etc/passwd/x'])).toMatchObject({code: 2, stdout: ''})
    expect(cli(['watch', '--count', '1', '--only', 'nope', '--history', path.join(tmp, 'w.jsonl')]).stderr).toEqual([
      'gt-doctor: unknown check "nope"; known checks: agent-leftover, detached-run, orphan-claude, orphan-mcp, orphan-memory, session-mismatch',
    ])
  })

  it('a history or state directory under /proc is refused in one line, not created forever (recursive mkdir loops there)', () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = spawnSync(process.execPath, [bin, ...args], {
        encoding: 'utf8',
        timeout: 30_000,
        env: {...process.env, NO_COLOR: '1', XDG_STATE_HOME: tmp, ...env},
      })
      return {code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr.trim().split('\n')}
    }
    const viaFlag = run(['watch', '--count', '1', '--history', '/proc/self/x/h.jsonl'])
    expect(viaFlag).toMatchObject({code: 2, signal: null})
    expect(viaFlag.stderr).toHaveLength(1)
    expect(viaFlag.stderr[0]).toMatch(
      /^gt-doctor: cannot write the history file \/proc\/self\/x\/h\.jsonl: \/proc is a kernel file system/,
    )
    const viaState = run(['watch', '--count', '1'], {XDG_STATE_HOME: '/proc/self/x'})
    expect(viaState).toMatchObject({code: 2, signal: null})
    expect(viaState.stderr).toHaveLength(1)
    expect(viaState.stderr[0]).toContain('/proc is a kernel file system')
  })

  it('a missing history directory is made one level at a time, 0700', () => {
    const file = path.join(tmp, 'deep', 'er', 'h.jsonl')
    const r = spawnSync(process.execPath, [bin, 'watch', '--count', '1', '--history', file], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {...process.env, NO_COLOR: '1', XDG_STATE_HOME: tmp},
    })
    expect(r.signal).toBeNull()
    expect(fs.existsSync(file)).toBe(true)
    expect(fs.statSync(path.join(tmp, 'deep')).mode & 0o777).toBe(0o700)
  })

  it('--grace 0x10, 1e3, " 5" and Infinity are refused, not read as numbers', () => {
    for (const bad of ['0x10', '1e3', ' 5', 'Infinity']) {
      expect(cli(['check', '--fix', '--dry-run', '--grace', bad])).toMatchObject({
        code: 2,
        stdout: '',
        stderr: [`gt-doctor: --grace: expected seconds from 0 to 3600 (a decimal number like 0.5 or 10), got "${bad}"`],
      })
    }
  })

  it('session stop', () => {
    expect(cli(['session', 'stop'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: ['gt-doctor: name the sessions to stop, or pass --all-matching REGEX'],
    })
    expect(cli(['session', 'stop', '--all-matching', '('])).toMatchObject({
      code: 2,
      stderr: ['gt-doctor: --all-matching: Invalid regular expression: /(/: Unterminated group'],
    })
  })
})
