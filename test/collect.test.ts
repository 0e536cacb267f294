/**
 * The collector end to end on a recorded machine: /proc files, the process table ps-list saw and each tmux
 * server's list-panes answer, recorded from a private namespace by test/live/record-fixture.ts.
 */
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {collectSnapshot, type ListedProcess} from '../src/snapshot/collect.js'
import type {Snapshot} from '../src/snapshot/types.js'

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url))
const procRoot = path.join(fixtures, 'proc', 'three-servers')
const tmuxBin = fileURLToPath(new URL('./support/fake-tmux.mjs', import.meta.url))
const listed: ListedProcess[] = JSON.parse(readFileSync(path.join(procRoot, 'ps-list.json'), 'utf8'))

describe('collectSnapshot on a recorded /proc', () => {
  const saved = {...process.env}
  let snapshot: Snapshot
  beforeAll(async () => {
    // No host sockets: the socket directory scan looks in an empty private dir.
    process.env.TMUX_TMPDIR = mkdtempSync(path.join(tmpdir(), 'gt-doctor-test-'))
    process.env.FAKE_TMUX_DIR = path.join(procRoot, 'tmux')
    process.env.FAKE_TMUX_HANG = '/tmp/gt-live/tmux/mute'
    snapshot = await collectSnapshot({
      procRoot,
      listProcesses: async () => [...listed, {pid: 4_000_000, ppid: 1, name: 'vanished', cmd: 'vanished'}],
      tmuxBin,
      sockets: ['/tmp/gt-live/tmux/mute', '/tmp/gt-live/tmux/stale'],
      // The mute server costs the whole bound; the others are a node start each, which under a load of 20
      // on two cores took over 2 s. The bound only has to separate "answers" from "never answers".
      tmuxTimeoutMs: 8000,
    })
  }, 30_000)
  afterAll(() => {
    process.env = saved
  })

  it('enriches every listed process from /proc and drops the one that vanished', () => {
    expect(snapshot.processes.map((p) => p.pid)).toEqual(listed.map((p) => p.pid))
    const claude = snapshot.processes.find((p) => p.pid === 16)!
    expect(claude).toMatchObject({ppid: 15, comm: 'claude', argv: ['claude'], state: 'S', uid: 0})
    expect(claude.startTicks).toBeGreaterThan(0)
    expect(claude.startTimeMs).toBe(Math.round(snapshot.host.bootTimeMs! + (claude.startTicks! * 1000) / 100))
    expect(claude.rssBytes).toBeGreaterThan(claude.pssBytes!)
    expect(snapshot.processes.find((p) => p.pid === 2)?.argv.at(-1)).toMatch(/controller\.mjs$/)
  })

  it('keeps only the kept variables from environ: the planted API key is gone', () => {
    const text = JSON.stringify(snapshot)
    expect(text).not.toContain('sk-ant-')
    expect(text).not.toContain('PATH')
    expect(snapshot.processes.find((p) => p.pid === 99)?.env).toEqual({
      TMUX: '/tmp/gt-live/tmuxdir/tmux-0/hq,26,0',
      TMUX_PANE: '%0',
      CLAUDECODE: '1',
    })
  })

  it('finds every server: socket directory, server command lines, TMUX variables and --socket', () => {
    expect(snapshot.tmux.servers.map((s) => [s.socket, s.status, s.pid ?? null, [...s.foundBy].sort()])).toEqual([
      ['/tmp/gt-live/tmux/mute', 'unresponsive', null, ['flag']],
      ['/tmp/gt-live/tmux/stale', 'stale', null, ['flag']],
      ['/tmp/gt-live/tmux/witness', 'ok', 54, ['env', 'process']],
      ['/tmp/gt-live/tmuxdir/tmux-0/default', 'ok', 15, ['env', 'process']],
      ['/tmp/gt-live/tmuxdir/tmux-0/hq', 'ok', 26, ['env', 'process']],
    ])
    expect(snapshot.tmux.version).toBe('3.4')
    const hq = snapshot.tmux.servers.find((s) => s.socket.endsWith('/hq'))!
    expect(hq.panes.map((p) => [p.session, p.paneId, p.panePid, p.dead])).toEqual([
      ['hq-deacon', '%0', 27, false],
      ['hq-idle', '%2', 45, false],
    ])
  })

  it('is frozen and survives a JSON round trip unchanged', () => {
    expect(Object.isFrozen(snapshot)).toBe(true)
    expect(Object.isFrozen(snapshot.processes[0].argv)).toBe(true)
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot)
  })
})

describe('collectSnapshot: the process table and PSS', () => {
  const saved = {...process.env}
  beforeAll(() => {
    process.env.TMUX_TMPDIR = mkdtempSync(path.join(tmpdir(), 'gt-doctor-test-'))
    process.env.FAKE_TMUX_DIR = path.join(procRoot, 'tmux')
  })
  afterAll(() => {
    process.env = saved
  })

  it('lists the processes from /proc itself on Linux: the same table ps-list gave', async () => {
    const snapshot = await collectSnapshot({procRoot, tmuxBin})
    expect(snapshot.processes.map((p) => p.pid)).toEqual(listed.map((p) => p.pid))
    expect(snapshot.processes.find((p) => p.pid === 16)).toMatchObject({ppid: 15, comm: 'claude', argv: ['claude']})
  })

  it('reads PSS only for the processes pssFor names, keeps RSS for all, and says so', async () => {
    let offered: number[] = []
    const snapshot = await collectSnapshot({
      procRoot,
      tmuxBin,
      listProcesses: async () => listed,
      pssFor: (processes) => {
        offered = processes.map((p) => p.pid)
        return new Set([16, 19])
      },
    })
    expect(offered).toEqual(listed.map((p) => p.pid))
    const withPss = snapshot.processes.filter((p) => p.pssBytes !== undefined).map((p) => p.pid)
    expect(withPss).toEqual([16, 19])
    expect(snapshot.processes.filter((p) => p.argv.length > 0).every((p) => p.rssBytes !== undefined)).toBe(true)
    const full = await collectSnapshot({procRoot, tmuxBin, listProcesses: async () => listed})
    expect(snapshot.processes.find((p) => p.pid === 16)!.pssBytes).toBe(
      full.processes.find((p) => p.pid === 16)!.pssBytes,
    )
    expect(snapshot.limitations.find((l) => l.startsWith('PSS read only'))).toMatch(
      /^PSS read only for the 2 processes in Claude Code, MCP and CLAUDECODE=1 trees .*; RSS for the other \d+$/,
    )
    expect(full.limitations.some((l) => l.startsWith('PSS read only'))).toBe(false)
    // No Claude, MCP or CLAUDECODE process at all: nothing to measure, nothing to say.
    const none = await collectSnapshot({procRoot, tmuxBin, listProcesses: async () => listed, pssFor: () => new Set()})
    expect(none.processes.every((p) => p.pssBytes === undefined)).toBe(true)
    expect(none.limitations.some((l) => l.startsWith('PSS read only'))).toBe(false)
  })
})

describe('the recorded three-server snapshot', async () => {
  const snapshot: Snapshot = JSON.parse(
    readFileSync(path.join(fixtures, 'recorded', 'three-servers.snapshot.json'), 'utf8'),
  )
  const {results, report} = await diagnose({
    tool: {name: 'gt-doctor', version: 'test'},
    snapshot,
    config: defaultConfig(),
  })
  const of = (id: string) => results.find((r) => r.id === id)!.findings

  it("names the killed sessions' claudes (under the server, under init) and the exited claude's MCP trees", () => {
    expect(of('orphan-claude').map((f) => [f.pid, f.pids, f.data?.evidence])).toEqual([
      [19, [19, 63, 65], 'parent-is-tmux-server'],
      [37, [37, 90, 91], 'parent-is-init'],
    ])
    expect(of('orphan-mcp').map((f) => f.pids)).toEqual([
      [207, 211],
      [210, 212],
    ])
  })

  it("leaves the live agents, the user's shell, the npm exec servers and the look-alike alone", () => {
    const flagged = new Set(
      results.filter((r) => r.id !== 'orphan-memory').flatMap((r) => r.findings.flatMap((f) => f.pids)),
    )
    for (const pid of [16, 53, 56, 22, 27, 99, 108, 59, 109, 110, 178, 179, 206, 15, 26, 54, 1, 2])
      expect(flagged.has(pid), `pid ${pid}`).toBe(false)
    expect(of('session-mismatch').map((f) => f.session)).toEqual(['hq-idle'])
    expect(report.summary).toMatchObject({
      claudeProcesses: 5,
      tmuxSessions: 5,
      orphanClaude: 2,
      orphanMcp: 6,
      mcpServers: 12,
    })
  })
})
