/**
 * The doctor against a real machine state, built from scratch in a private PID namespace: two private tmux
 * servers, stand-in claudes that ignore SIGHUP, sessions killed the way Gas Town kills them. Asserts the
 * exact sets each check reports, by pid.
 */
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import type {Snapshot} from '../../src/snapshot/types.js'
import {
  CLAUDE_STANDIN,
  REPO_ROOT,
  type LiveNamespace,
  type NsProcess,
  describeLive,
  runsNode,
  startNamespace,
} from './namespace.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')
const isMcp = (p: NsProcess) => runsNode(p) && p.args.includes('@modelcontextprotocol/server-standin')

describeLive('checks on a live machine', () => {
  let ns: LiveNamespace
  const pid: Record<string, number> = {}
  let report: Report
  let code: number | null
  let snapshot: Snapshot

  beforeAll(async () => {
    ns = await startNamespace()
    const find = async (match: (p: NsProcess) => boolean) => (await ns.waitForStandins('claude', match))[0].pid

    // Server A keeps running: a healthy agent and a killed one whose claude stays under the server.
    await ns.tmux(['new-session', '-d', '-s', 'gt-alive', CLAUDE_STANDIN], 'a')
    await ns.tmux(['new-session', '-d', '-s', 'gt-killed', CLAUDE_STANDIN], 'a')
    await ns.waitForStandins('claude', undefined, 2)
    const panes = (await ns.tmux(['list-panes', '-a', '-F', '#{session_name} #{pane_pid}'], 'a')).stdout
    for (const line of panes.trim().split('\n')) {
      const [name, p] = line.split(' ')
      pid[name] = Number(p)
    }
    // Server B: a claude behind `sh -c`, so the shell dies of the hangup and init adopts the claude.
    await ns.tmux(['new-session', '-d', '-s', 'hq-one', `sh -c '${CLAUDE_STANDIN}; true'`], 'b')
    await ns.tmux(['new-session', '-d', '-s', 'hq-two', 'sleep 600'], 'b')
    pid.hqClaude = await find((p) => p.pid !== pid['gt-alive'] && p.pid !== pid['gt-killed'])
    // A claude in a "terminal": its parent shell lives, no tmux involved.
    const {pid: shell} = await ns.spawn(['sh', '-c', `${CLAUDE_STANDIN}; true`])
    pid.terminal = await find((p) => p.ppid === shell)
    // A claude that exits on its own and leaves its MCP servers to init.
    const {pid: quitter} = await ns.spawn([CLAUDE_STANDIN], {orphan: true, env: {STANDIN_EXIT_AFTER_MS: '1500'}})
    pid.quitter = quitter
    // Look-alikes.
    pid.tail = (
      await ns.spawn(['sh', '-c', `touch ${ns.tmpdir}/mcp-server.log; exec tail -f ${ns.tmpdir}/mcp-server.log`], {
        orphan: true,
      })
    ).pid
    pid.daemon = (await ns.spawn(['sleep', '600'], {orphan: true})).pid

    // A server that accepts connections but never answers, and a claude that names it: cannot verify.
    const mute = path.join(ns.tmpdir, 'tmux', 'mute')
    await ns.spawn(['node', '-e', `require('net').createServer(() => {}).listen(${JSON.stringify(mute)})`], {
      orphan: true,
    })
    await ns.waitUntil(async () => (await ns.exec(['test', '-S', mute])).code === 0, 5000, 50, 'mute socket')
    pid.unverifiable = (
      await ns.spawn([CLAUDE_STANDIN], {orphan: true, env: {STANDIN_MCP: '0', TMUX: `${mute},1,0`, TMUX_PANE: '%0'}})
    ).pid
    // A socket left behind by a server that died: stale, noted, not fatal.
    const stale = path.join(ns.tmpdir, 'tmux', 'stale')
    const {pid: dying} = await ns.spawn(
      ['node', '-e', `require('net').createServer().listen(${JSON.stringify(stale)})`],
      {orphan: true},
    )
    await ns.waitUntil(async () => (await ns.exec(['test', '-S', stale])).code === 0, 5000, 50, 'stale socket')
    await ns.kill(dying, 'SIGKILL')

    for (const p of (await ns.ps()).filter((x) => x.comm === 'claude' || isMcp(x))) await ns.waitReady(p.pid)
    await ns.tmux(['kill-session', '-t', 'gt-killed'], 'a')
    await ns.tmux(['kill-session', '-t', 'hq-one'], 'b')
    await ns.waitUntil(
      async () => (await ns.ps()).find((p) => p.pid === pid.hqClaude)?.ppid === 1,
      5000,
      50,
      'hq claude adopted by init',
    )
    await ns.waitUntil(async () => !(await ns.alive(pid.quitter)), 5000, 50, 'quitter exited')

    const sockets = ['--socket', mute, '--socket', stale]
    const r = await ns.exec(['node', BIN, 'check', '--json', ...sockets], {timeoutMs: 20_000})
    code = r.code
    report = JSON.parse(r.stdout)
    const s = await ns.exec([
      'node',
      '--input-type=module',
      '-e',
      `import {collectSnapshot} from '${REPO_ROOT}/dist/src/snapshot/collect.js'; console.log(JSON.stringify(await collectSnapshot({sockets: ${JSON.stringify([mute, stale])}, tmuxTimeoutMs: 500})))`,
    ])
    snapshot = JSON.parse(s.stdout)
  }, 60_000)

  afterAll(async () => {
    await ns?.close()
  })

  const findings = (check: string) => report.checks.find((c) => c.id === check)!.findings

  it("sees every server and every pane, and only the namespace's processes", () => {
    expect(snapshot.tmux.servers.map((s) => [path.basename(s.socket), s.status])).toEqual([
      ['a', 'ok'],
      ['b', 'ok'],
      ['mute', 'unresponsive'],
      ['stale', 'stale'],
    ])
    const a = snapshot.tmux.servers[0]
    expect(a.panes.map((p) => [p.session, p.panePid, p.dead])).toEqual([['gt-alive', pid['gt-alive'], false]])
    const claude = snapshot.processes.find((p) => p.pid === pid['gt-alive'])!
    expect(claude).toMatchObject({comm: 'claude', argv: ['claude'], ppid: a.pid, state: 'S'})
    expect(claude.env.TMUX).toContain(a.socket)
    expect(Object.keys(claude.env).sort()).toEqual(['TMUX', 'TMUX_PANE'])
    expect(claude.startTicks).toBeGreaterThan(0)
    expect(claude.pssBytes).toBeGreaterThan(0)
    expect(claude.rssBytes).toBeGreaterThan(0)
    expect(snapshot.processes.find((p) => p.pid === 1)?.argv.join(' ')).toContain('gt-live-init')
    expect(snapshot.processes.length).toBeLessThan(40)
  })

  it('names exactly the orphan claudes: under the tmux server and under init', () => {
    expect(
      findings('orphan-claude')
        .filter((f) => f.severity === 'error')
        .map((f) => [f.pid, f.data?.evidence])
        .sort(),
    ).toEqual(
      [
        [pid['gt-killed'], 'parent-is-tmux-server'],
        [pid.hqClaude, 'parent-is-init'],
      ].sort(),
    )
    for (const f of findings('orphan-claude').filter((f) => f.severity === 'error')) expect(f.pids).toHaveLength(3)
  })

  it('says "cannot verify" for the claude whose server does not answer, and never calls it an orphan', () => {
    const info = findings('orphan-claude').filter((f) => f.severity === 'info')
    expect(info.map((f) => [f.pid, f.fixable])).toEqual([[pid.unverifiable, false]])
  })

  it('names exactly the MCP servers the exited claude left behind, one tree each', () => {
    const quitterMcp = snapshot.processes.filter((p) => isMcpProc(p.argv) && p.ppid === 1).map((p) => p.pid)
    expect(quitterMcp).toHaveLength(2)
    expect(
      findings('orphan-mcp')
        .map((f) => f.pid)
        .sort(),
    ).toEqual(quitterMcp.sort())
  })

  it('flags nothing healthy: the live agent, the terminal claude, the look-alikes', () => {
    const flagged = new Set(
      report.checks
        .filter((c) => c.id !== 'orphan-memory')
        .flatMap((c) => c.findings.filter((f) => f.severity !== 'info').flatMap((f) => f.pids)),
    )
    for (const p of [pid['gt-alive'], pid.terminal, pid.tail, pid.daemon, pid.unverifiable, 1])
      expect(
        flagged.has(p),
        `pid ${p} of ${JSON.stringify(pid)} flagged: ${JSON.stringify(report.checks.map((c) => c.findings.map((f) => [f.pids, f.reason])))}`,
      ).toBe(false)
    for (const s of snapshot.tmux.servers) if (s.pid) expect(flagged.has(s.pid), `server ${s.socket}`).toBe(false)
  })

  it('counts and exits as the contract says', () => {
    expect(report.summary).toMatchObject({claudeProcesses: 5, tmuxSessions: 2, orphanClaude: 2, orphanMcp: 6})
    // hq-two is named like an agent session but runs no claude.
    expect(findings('session-mismatch').map((f) => f.session)).toEqual(['hq-two'])
    expect(code).toBe(1)
  })
})

function isMcpProc(argv: string[]): boolean {
  return argv[0] === 'node' && (argv[1] ?? '').includes('@modelcontextprotocol/server-standin')
}
