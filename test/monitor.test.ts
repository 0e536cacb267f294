/**
 * watch's loop and history on built machines: what each run records, what changed between runs, how a stop
 * signal ends it, and how the history reads back (malformed lines counted, never fatal).
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {findingKinds} from '../src/checks/api.js'
import {diagnose} from '../src/doctor.js'
import {loadChecks} from '../src/plugins/load.js'
import {compareRuns} from '../src/monitor/compare.js'
import {
  appendHistory,
  defaultHistoryFile,
  historyEntry,
  readHistory,
  type HistoryEntry,
} from '../src/monitor/history.js'
import {parseSince} from '../src/monitor/since.js'
import {watchLoop} from '../src/monitor/watch.js'
import {exitCodeFor} from '../src/report/model.js'
import {formatByteDelta, renderWatchLine} from '../src/render/watch.js'
import {incident} from './support/incident.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: '0.0.0'}
const GiB = 1024 ** 3

/** A machine with a live agent and an orphan claude (with two MCP children) for each pid given. */
function machine(orphans: number[]) {
  const m = new Machine()
  const server = m.server({pid: 600})
  m.pane(server, 'gt-alive', {pid: 700, cmd: 'claude', mib: 300})
  for (const pid of orphans) {
    m.proc({pid, ppid: 600, cmd: 'claude', mib: 400, env: {TMUX: `${server.socket},600,9`, TMUX_PANE: '%9'}})
    m.proc({pid: pid + 1, ppid: pid, cmd: 'npm exec @modelcontextprotocol/server-filesystem /x', mib: 20})
    m.proc({
      pid: pid + 2,
      ppid: pid,
      cmd: 'node /x/node_modules/@modelcontextprotocol/server-memory/dist/index.js',
      mib: 30,
    })
  }
  return m.snapshot()
}

async function reportOf(orphans: number[]) {
  const {report} = await diagnose({tool, snapshot: machine(orphans), config: defaultConfig()})
  return {report, exitCode: exitCodeFor(report)}
}

/** What each built-in check's findings count as, as watch passes it. */
const kinds = findingKinds(await loadChecks({config: defaultConfig()}))

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-monitor-'))
})
afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

describe('a history entry', () => {
  it("records the report's counts and the orphan finding ids", async () => {
    const {report, exitCode} = await reportOf([1000, 2000])
    const entry = historyEntry(report, {startedAt: new Date('2026-01-11T12:00:00Z'), durationMs: 12.4, exitCode}, kinds)
    expect(entry).toMatchObject({
      v: 1,
      time: '2026-01-11T12:00:00.000Z',
      durationMs: 12,
      status: 'error',
      exitCode: 1,
      claudeProcesses: 3,
      tmuxSessions: 1,
    })
    expect(entry.orphanClaude).toBe(2)
    expect(entry.orphanMcp).toBe(4)
    expect(entry.orphans).toEqual(['orphan-claude:1000:10000', 'orphan-claude:2000:20000'])
    expect(entry.orphanMemoryBytes).toBe(2 * 450 * 1024 * 1024)
    expect(entry.fixed).toBeUndefined()
  })

  it("on the investigation's machine, equals the report's own summary", async () => {
    const {report} = await diagnose({tool, snapshot: incident().snapshot, config: defaultConfig()})
    const entry = historyEntry(report, {startedAt: new Date(), durationMs: 1, exitCode: 1}, kinds)
    const s = report.summary
    expect([entry.orphanClaude, entry.orphanMcp, entry.orphanMemoryBytes]).toEqual([
      s.orphanClaude,
      s.orphanMcp,
      s.orphanMemoryBytes,
    ])
    expect(entry.orphanClaude).toBe(12)
  })

  it('after a fix counts what was found, fixed included, and names what the fix ended', async () => {
    const before = (await reportOf([1000, 2000])).report
    const after = (await reportOf([2000])).report
    const fixedFinding = before.checks.find((c) => c.id === 'orphan-claude')!.findings.find((f) => f.pid === 1000)!
    const fixedReport = {
      ...after,
      summary: {...after.summary, fixed: 1, freedMemoryBytes: 450 * 1024 * 1024},
      fixed: [
        {
          ...fixedFinding,
          fix: {
            outcome: 'fixed' as const,
            detail: 'ended',
            signalled: [1000, 1001, 1002],
            freedBytes: 450 * 1024 * 1024,
          },
        },
      ],
    }
    const entry = historyEntry(fixedReport, {startedAt: new Date(), durationMs: 1, exitCode: 1}, kinds)
    expect(entry).toMatchObject({orphanClaude: 2, orphanMcp: 4, fixed: 1, fixedOrphans: ['orphan-claude:1000:10000']})
  })
})

describe('what changed between runs', () => {
  const entry = (orphans: string[], bytes: number, fixedOrphans?: string[]): HistoryEntry =>
    ({
      v: 1,
      time: '2026-01-11T12:00:00Z',
      orphans,
      orphanMemoryBytes: bytes,
      ...(fixedOrphans ? {fixedOrphans, fixed: fixedOrphans.length} : {}),
    }) as HistoryEntry

  it('new, gone, and the memory trend; nothing to compare on the first run', () => {
    expect(compareRuns(undefined, entry(['a'], 1))).toBeUndefined()
    expect(compareRuns(entry(['a', 'b'], 3 * GiB), entry(['b', 'c'], 4 * GiB))).toEqual({
      appeared: ['c'],
      gone: ['a'],
      memoryDeltaBytes: GiB,
    })
  })

  it('what the previous run fixed is not "gone" again', () => {
    expect(compareRuns(entry(['a', 'b'], 2, ['a']), entry(['b'], 1))?.gone).toEqual([])
  })

  it('renders one line: counts, change, trend', () => {
    expect(formatByteDelta(1.2 * GiB)).toBe('+1.2 GiB')
    expect(formatByteDelta(-300 * 1024 * 1024)).toBe('-300 MiB')
    const cur = {
      ...entry(['orphan-claude:5:50'], 1.2 * GiB),
      claudeProcesses: 3,
      tmuxSessions: 1,
      orphanClaude: 1,
      orphanMcp: 2,
      status: 'error',
    } as HistoryEntry
    const line = renderWatchLine(cur, compareRuns(entry(['orphan-claude:4:40'], 0), cur), 2, {color: false})
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d run 2: 3 claude, 1 session, 1 orphan claude, 2 orphan MCP, 1\.2 GiB held by orphans \(\+1\.2 GiB\); new: orphan-claude:5:50; gone: orphan-claude:4:40$/,
    )
    expect(renderWatchLine(cur, undefined, 1, {color: false})).toMatch(/; first run$/)
  })
})

describe('the watch loop', () => {
  it('runs --count times, never overlapping, each line appended whole, changes reported', async () => {
    const file = path.join(dir, 'state', 'history.jsonl')
    const sets = [[1000], [1000, 2000], [2000]]
    let active = 0
    let maxActive = 0
    const seen: Array<[number, string[], string[]]> = []
    const result = await watchLoop({
      kinds,
      intervalMs: 1,
      count: 3,
      historyFile: file,
      signal: new AbortController().signal,
      run: async () => {
        active++
        maxActive = Math.max(maxActive, active)
        const r = await reportOf(sets[seen.length])
        await new Promise((resolve) => setTimeout(resolve, 5))
        active--
        return r
      },
      onRun: (_e, change, index) => seen.push([index, change?.appeared ?? [], change?.gone ?? []]),
      onError: (message) => {
        throw new Error(message)
      },
    })
    expect(result).toEqual({runs: 3, failed: 0, stoppedBy: 'count'})
    expect(maxActive).toBe(1)
    expect(seen).toEqual([
      [1, [], []],
      [2, ['orphan-claude:2000:20000'], []],
      [3, [], ['orphan-claude:1000:10000']],
    ])
    const read = readHistory(file)
    expect(read.malformed).toBe(0)
    expect(read.entries.map((e) => [e.orphanClaude, e.orphanMcp])).toEqual([
      [1, 2],
      [2, 4],
      [1, 2],
    ])
    expect((fs.statSync(path.dirname(file)).mode & 0o777).toString(8)).toBe('700')
  })

  const base = (file: string, controller: AbortController) => ({
    historyFile: file,
    signal: controller.signal,
    onRun: () => {},
    onError: () => {},
  })

  it('a stop signal during the sleep ends the loop at once, after the recorded run', async () => {
    const file = path.join(dir, 'h.jsonl')
    const controller = new AbortController()
    const result = await watchLoop({
      kinds,
      ...base(file, controller),
      intervalMs: 600_000,
      run: () => reportOf([1000]),
      onRun: () => setTimeout(() => controller.abort(), 10),
    })
    expect(result).toEqual({runs: 1, failed: 0, stoppedBy: 'signal'})
    expect(readHistory(file).entries).toHaveLength(1)
  })

  it('a run the stop signal lands in is discarded (its tmux clients got the signal too), unless it fixed', async () => {
    const file = path.join(dir, 'h.jsonl')
    const controller = new AbortController()
    const interrupted: number[] = []
    let n = 0
    const result = await watchLoop({
      kinds,
      ...base(file, controller),
      intervalMs: 1,
      run: async () => {
        if (++n === 2) controller.abort()
        return reportOf([1000])
      },
      onInterrupted: (i) => interrupted.push(i),
    })
    expect(result).toEqual({runs: 1, failed: 0, stoppedBy: 'signal'})
    expect(interrupted).toEqual([2])
    expect(readHistory(file).entries).toHaveLength(1)

    const fixing = new AbortController()
    const fixFile = path.join(dir, 'fix.jsonl')
    await watchLoop({
      kinds,
      ...base(fixFile, fixing),
      intervalMs: 1,
      run: async () => {
        fixing.abort()
        const r = await reportOf([])
        return {...r, report: {...r.report, summary: {...r.report.summary, fixed: 1, freedMemoryBytes: 5}, fixed: []}}
      },
    })
    expect(readHistory(fixFile).entries.map((e) => e.fixed)).toEqual([1])
  })

  it('a run that throws is reported, not recorded, and the watch goes on', async () => {
    const file = path.join(dir, 'h.jsonl')
    const errors: string[] = []
    let n = 0
    const result = await watchLoop({
      kinds,
      ...base(file, new AbortController()),
      intervalMs: 1,
      count: 3,
      run: async () => {
        if (++n === 2) throw new Error('another gt-doctor --fix is running\nstack')
        return reportOf([])
      },
      onError: (m, i) => errors.push(`${i}: ${m}`),
    })
    expect(result).toEqual({runs: 2, failed: 1, stoppedBy: 'count'})
    expect(errors).toEqual(['2: another gt-doctor --fix is running'])
    expect(readHistory(file).entries).toHaveLength(2)
  })
})

describe('reading the history', () => {
  it('skips and counts malformed lines, never throws; a missing file is no error', () => {
    const file = path.join(dir, 'h.jsonl')
    expect(readHistory(file)).toEqual({entries: [], malformed: 0, missing: true})
    const good = {
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
    }
    appendHistory(file, good as HistoryEntry)
    fs.appendFileSync(
      file,
      '{"v":1,"time":"2026-01-11T12:01:00Z","orphanCl\n\nnot json\n[]\n{"v":2}\n' +
        JSON.stringify({...good, orphanClaude: 'x'}) +
        '\n',
    )
    appendHistory(file, {...good, orphanClaude: 3} as HistoryEntry)
    const read = readHistory(file)
    expect(read.entries.map((e) => e.orphanClaude)).toEqual([0, 3])
    expect(read.malformed).toBe(5)
  })

  it('lives under $XDG_STATE_HOME, else ~/.local/state', () => {
    expect(defaultHistoryFile({XDG_STATE_HOME: '/s'}, '/home/a')).toBe('/s/gt-doctor/history.jsonl')
    expect(defaultHistoryFile({XDG_STATE_HOME: 'relative'}, '/home/a')).toBe(
      '/home/a/.local/state/gt-doctor/history.jsonl',
    )
    expect(defaultHistoryFile({}, '/home/a')).toBe('/home/a/.local/state/gt-doctor/history.jsonl')
  })

  it('--since takes durations and dates, and refuses a bare number', () => {
    const now = new Date('2026-01-11T12:00:00Z')
    expect(parseSince('30m', now).toISOString()).toBe('2026-01-11T11:30:00.000Z')
    expect(parseSince('24h', now).toISOString()).toBe('2026-01-10T12:00:00.000Z')
    expect(parseSince('7d', now).toISOString()).toBe('2026-01-04T12:00:00.000Z')
    expect(parseSince('1.5h', now).toISOString()).toBe('2026-01-11T10:30:00.000Z')
    expect(parseSince('2026-01-11T08:00:00Z').toISOString()).toBe('2026-01-11T08:00:00.000Z')
    for (const bad of ['24', 'yesterday', '5 parsecs', '-3h', ''])
      expect(() => parseSince(bad, now), bad).toThrow(/--since expects/)
  })
})
