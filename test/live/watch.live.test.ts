/**
 * `gt-doctor watch` against a changing set of orphans in a private PID namespace: one orphan before run 1,
 * a second before run 2, the first one gone before run 3; then SIGTERM. The history must hold exactly those
 * three runs, complete, with the right counts, and the lines must name what appeared and what went.
 */
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {HistoryEntry} from '../../src/monitor/history.js'
import {
  CLAUDE_STANDIN,
  REPO_ROOT,
  type ExecResult,
  type LiveNamespace,
  describeLive,
  startNamespace,
} from './namespace.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

describeLive('watch on a live machine', () => {
  let ns: LiveNamespace
  afterAll(async () => {
    await ns?.close()
  })
  beforeAll(async () => {
    ns = await startNamespace()
  })

  it('records three runs with the counts of each moment and exits 0 on SIGTERM with a whole file', async () => {
    const history = path.join(ns.tmpdir, 'state', 'history.jsonl')
    const lines = () => (fs.existsSync(history) ? fs.readFileSync(history, 'utf8').split('\n').filter(Boolean) : [])
    const waitLines = (n: number) => ns.waitUntil(() => lines().length >= n, 20_000, 25, `${n} history lines`)

    // Three agents on one server; `keep` keeps the server up. Each claude keeps two MCP children.
    await ns.tmux(['new-session', '-d', '-s', 'keep', 'sleep 600'], 'w')
    const claudes: Record<string, number> = {}
    for (const name of ['gt-one', 'gt-two']) {
      await ns.tmux(['new-session', '-d', '-s', name, CLAUDE_STANDIN], 'w')
      const [c] = await ns.waitForStandins('claude', (p) => !Object.values(claudes).includes(p.pid))
      claudes[name] = c.pid
      const ready = await ns.waitReady(c.pid)
      for (const m of ready.mcp ?? []) await ns.waitReady(m)
    }
    const killSession = async (name: string) => {
      await ns.tmux(['kill-session', '-t', name], 'w')
      await ns.waitUntil(
        async () =>
          !(await ns.tmux(['list-panes', '-a', '-F', '#{pane_pid}'], 'w')).stdout.includes(String(claudes[name])),
      )
    }

    // Before run 1: one orphan (gt-one's claude survives its session, under the tmux server).
    await killSession('gt-one')
    const watch: Promise<ExecResult> = ns.exec(['node', BIN, 'watch', '--interval', '2', '--history', history], {
      timeoutMs: 60_000,
      env: {XDG_STATE_HOME: path.join(ns.tmpdir, 'xdg'), NO_COLOR: '1'},
    })
    await waitLines(1)
    // Before run 2: a second orphan.
    await killSession('gt-two')
    await waitLines(2)
    // Before run 3: the first orphan and its MCP servers are gone.
    const first = (await ns.waitReady(claudes['gt-one'])).mcp ?? []
    for (const pid of [claudes['gt-one'], ...first]) await ns.kill(pid, 'SIGKILL')
    await ns.waitUntil(
      async () => !(await ns.ps()).some((p) => [claudes['gt-one'], ...first].includes(p.pid)),
      5000,
      25,
      'first orphan gone',
    )
    await waitLines(3)

    const [proc] = await ns.waitForProcs((p) => p.args.includes(`${BIN} watch`))
    await ns.kill(proc.pid, 'SIGTERM')
    const r = await watch
    expect(r.timedOut).toBe(false)
    expect(r.code, r.stderr).toBe(0)

    const text = fs.readFileSync(history, 'utf8')
    expect(text.endsWith('\n')).toBe(true)
    const entries = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEntry)
    expect(entries.map((e) => [e.orphanClaude, e.orphanMcp, e.tmuxSessions])).toEqual([
      [1, 2, 2],
      [2, 4, 1],
      [1, 2, 1],
    ])
    const id = (pid: number) => entries.flatMap((e) => e.orphans).find((o) => o.startsWith(`orphan-claude:${pid}:`))!
    const [one, two] = [id(claudes['gt-one']), id(claudes['gt-two'])]
    expect(entries.map((e) => [...e.orphans].sort())).toEqual([[one], [one, two].sort(), [two]])
    expect(entries[1].orphanMemoryBytes).toBeGreaterThan(entries[0].orphanMemoryBytes)

    // A run's line wraps at 80 columns (piped) with a two-space hanging indent: joined back here.
    const out = r.stdout
      .trim()
      .replace(/\n {2}/g, ' ')
      .split('\n')
    expect(out[0]).toMatch(/run 1: .*1 orphan claude, 2 orphan MCP.*; first run$/)
    expect(out[1]).toMatch(
      new RegExp(`run 2: .*2 orphan claude, 4 orphan MCP, .* held by orphans \\(\\+.*\\); new: ${two}$`),
    )
    expect(out[2]).toMatch(new RegExp(`run 3: .*1 orphan claude, 2 orphan MCP, .* \\(-.*\\); gone: ${one}$`))
    expect(out[out.length - 1]).toBe(`stopped after 3 recorded runs; history: ${history}`)
  }, 60_000)

  it('with --fix --yes each run ends what it found: the next run finds nothing and calls nothing "gone"', async () => {
    const history = path.join(ns.tmpdir, 'state', 'fix.jsonl')
    // The orphan the first test left: gone, so that this one starts from a clean machine.
    const leftover = (await ns.ps())
      .filter((p) => p.comm === 'claude' || p.args.includes('server-standin'))
      .map((p) => p.pid)
    for (const pid of leftover) await ns.kill(pid, 'SIGKILL')
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => leftover.includes(p.pid)), 5000, 25, 'leftovers gone')
    const known = new Set((await ns.ps()).map((p) => p.pid))
    await ns.tmux(['new-session', '-d', '-s', 'gt-three', CLAUDE_STANDIN], 'w')
    const [claude] = await ns.waitForStandins('claude', (p) => !known.has(p.pid))
    const {mcp = []} = await ns.waitReady(claude.pid)
    for (const m of mcp) await ns.waitReady(m)
    await ns.tmux(['kill-session', '-t', 'gt-three'], 'w')
    await ns.waitUntil(
      async () => !(await ns.tmux(['list-panes', '-a', '-F', '#{pane_pid}'], 'w')).stdout.includes(String(claude.pid)),
    )

    const r = await ns.exec(
      [
        'node',
        BIN,
        'watch',
        '--interval',
        '0.5',
        '--count',
        '2',
        '--fix',
        '--yes',
        '--grace',
        '0.5',
        '--history',
        history,
      ],
      {
        timeoutMs: 30_000,
        env: {XDG_STATE_HOME: path.join(ns.tmpdir, 'xdg'), NO_COLOR: '1'},
      },
    )
    expect(r.code, r.stderr).toBe(0)
    const entries = fs
      .readFileSync(history, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as HistoryEntry)
    expect(entries.map((e) => [e.orphanClaude, e.orphanMcp, e.fixed, e.fixedOrphans?.length])).toEqual([
      [1, 2, 1, 1],
      [0, 0, 0, 0],
    ])
    expect(await ns.alive(claude.pid)).toBe(false)
    // A run's line wraps at 80 columns (piped) with a two-space hanging indent: joined back here.
    const out = r.stdout
      .trim()
      .replace(/\n {2}/g, ' ')
      .split('\n')
    expect(out[0]).toMatch(/run 1: .*1 orphan claude, 2 orphan MCP.*; first run; fixed 1 \(.* freed\)$/)
    expect(out[1]).toMatch(/run 2: .*0 orphan claude, 0 orphan MCP.*; no change; fixed 0 \(0 B freed\)$/)
    // --json: one JSON object a line, the runs and the stop, nothing else on stdout.
    const json = await ns.exec(
      ['node', BIN, 'watch', '--json', '--interval', '0.2', '--count', '2', '--history', history],
      {timeoutMs: 30_000},
    )
    expect(json.code, json.stderr).toBe(0)
    const objects = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(objects.map((o) => [o.type, o.index])).toEqual([
      ['run', 1],
      ['run', 2],
      ['stopped', undefined],
    ])
    expect(objects[1]).toMatchObject({orphanClaude: 0, change: {appeared: [], gone: []}})
    expect(objects[2]).toEqual({type: 'stopped', runs: 2, failed: 0, history})
    // Without --yes there is nobody to confirm each run: refused before the first.
    const refused = await ns.exec(['node', BIN, 'watch', '--fix', '--count', '1', '--history', history])
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim()).toBe('gt-doctor: watch --fix needs --yes: nobody is there to confirm each run')
  }, 60_000)
})
