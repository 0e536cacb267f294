/**
 * The doctor run where no UTF-8 locale is set (cron, systemd units, CI): tmux then rewrites control
 * characters of its answers to `_`. A healthy claude in a live pane must stay healthy there, and --fix must
 * end nothing. (It once read every server as having no panes and called every pane's claude an orphan.)
 */
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {CLAUDE_STANDIN, REPO_ROOT, type LiveNamespace, describeLive, startNamespace} from './namespace.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')
const NO_LOCALE = {LANG: null, LANGUAGE: null, LC_CTYPE: null, LC_ALL: 'C'}

describeLive('without a UTF-8 locale (live)', () => {
  let ns: LiveNamespace
  const pid: Record<string, number> = {}

  beforeAll(async () => {
    ns = await startNamespace({env: NO_LOCALE})
    await ns.tmux(['new-session', '-d', '-s', 'gt-alive', CLAUDE_STANDIN], 'a')
    await ns.tmux(['new-session', '-d', '-s', 'gt-killed', CLAUDE_STANDIN], 'a')
    await ns.tmux(['new-session', '-d', '-s', 'two words', 'sleep 600'], 'a')
    await ns.waitForStandins('claude', undefined, 2)
    const panes = (await ns.tmux(['list-panes', '-a', '-F', '#{session_name}:#{pane_pid}'], 'a')).stdout
    for (const line of panes.trim().split('\n')) {
      const [name, p] = line.split(':')
      pid[name] = Number(p)
    }
    for (const p of [pid['gt-alive'], pid['gt-killed']]) await ns.waitReady(p)
    // The stand-in ignores SIGHUP, as the report's claudes did: it stays under the server, an orphan.
    await ns.tmux(['kill-session', '-t', 'gt-killed'], 'a')
  }, 60_000)

  afterAll(async () => {
    await ns?.close()
  })

  it("reads the server: the killed session's claude is the one orphan, the live pane's is healthy", async () => {
    const r = await ns.exec(['node', BIN, 'check', '--json'], {env: NO_LOCALE, timeoutMs: 20_000})
    const report: Report = JSON.parse(r.stdout)
    expect(report.limitations.filter((l) => /tmux/.test(l))).toEqual([])
    // orphan-memory adds its one total of what the orphans hold, with no pid of its own.
    const perProcess = report.checks.filter((c) => c.id !== 'orphan-memory')
    expect(perProcess.flatMap((c) => c.findings.map((f) => [c.id, f.severity, f.pid]))).toEqual([
      ['orphan-claude', 'error', pid['gt-killed']],
    ])
    expect(report.summary.tmuxSessions).toBe(2)
    expect(r.code).toBe(1)
  })

  it("--fix --yes ends the orphan and leaves the live pane's claude alone", async () => {
    const r = await ns.exec(['node', BIN, 'check', '--fix', '--yes', '--json'], {env: NO_LOCALE, timeoutMs: 30_000})
    expect(r.code).toBe(0)
    expect(await ns.alive(pid['gt-killed'])).toBe(false)
    expect(await ns.alive(pid['gt-alive'])).toBe(true)
  })
})
