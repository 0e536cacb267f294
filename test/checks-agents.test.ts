/**
 * The real Claude Code of today (issue 12), on built snapshots: detached headless runs are jobs, not orphans;
 * a Bash-tool command that outlived its claude is a leftover with its evidence; CLAUDE_PID and
 * CLAUDE_CODE_SESSION_ID tie a process to its claude; one launcher chain is one MCP server.
 */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {defaultConfig, type ResolvedConfig} from '../src/config/config.js'
import {configFromValue} from '../src/config/load.js'
import {diagnose} from '../src/doctor.js'
import {exitCodeFor} from '../src/report/model.js'
import {planRemediation} from '../src/remediation/plan.js'
import {parseSnapshot} from '../src/snapshot/load.js'
import {bashToolWrapper, childEnv, liveAgent, mcpEnv, paneEnv, ranFor, threeServers} from './support/claude-today.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}

async function run(m: Machine, config: ResolvedConfig = defaultConfig()) {
  const diagnosis = await diagnose({tool, snapshot: m.snapshot(), config})
  const {results, report} = diagnosis
  const of = (id: string) => results.find((r) => r.id === id)?.findings ?? []
  const signalled = new Set(
    planRemediation(diagnosis).items.flatMap((i) =>
      i.actions.flatMap((a) => (a.kind === 'terminate-tree' ? a.targets.map((t) => t.pid) : [])),
    ),
  )
  return {report, results, of, signalled, diagnosis}
}

function withOptions(id: string, options: Record<string, unknown>): ResolvedConfig {
  const config = defaultConfig()
  config.checks[id] = {options}
  return config
}

/**
 * The real scene after `tmux kill-session` of the sessions that started them: a healthy agent on each of two
 * servers, three deliberately detached headless runs (disowned, setsid, a setsid'd loop), and the Bash-tool
 * background command a crashed claude left behind.
 */
function realScene() {
  const m = new Machine()
  const a = m.server({pid: 100})
  const b = m.server({pid: 200, label: 'b'})
  const healthy = [liveAgent(m, a, 'work', 110), liveAgent(m, b, 'gt-polecat', 210)]

  // `claude -p … & disown` in a shell of a killed session: adopted by init, its session's shell gone.
  const disowned = m.proc({
    pid: 300,
    ppid: 1,
    sid: 290,
    pgid: 300,
    ttyNr: 0,
    comm: 'claude',
    argv: ['claude', '-p', 'summarise the logs'],
    env: paneEnv(a, '%7'),
    ...ranFor(123),
    mib: 250,
  })
  const disownedServers = threeServers(m, 300, 301, mcpEnv(300, 'd-300', true), 122)

  // `setsid -f claude -p …`: its own session.
  const setsid = m.proc({
    pid: 400,
    ppid: 1,
    sid: 400,
    pgid: 400,
    ttyNr: 0,
    comm: 'claude',
    argv: ['claude', '--print', 'write the changelog'],
    env: paneEnv(a, '%8'),
    ...ranFor(45),
    mib: 250,
  })
  const setsidServers = threeServers(m, 400, 401, mcpEnv(400, 'd-400', true), 44)

  // `setsid bash -c 'for i in 1 2 3; do claude -p "step $i"; done'`: ending step one would start step two.
  const loop = m.proc({
    pid: 500,
    ppid: 1,
    sid: 500,
    pgid: 500,
    ttyNr: 0,
    argv: ['bash', '-c', 'for i in 1 2 3; do claude -p "step $i"; done'],
    env: paneEnv(b, '%9'),
    ...ranFor(30),
  })
  const step = m.proc({
    pid: 501,
    ppid: 500,
    sid: 500,
    pgid: 500,
    ttyNr: 0,
    comm: 'claude',
    argv: ['claude', '-p', 'step 2'],
    env: paneEnv(b, '%9'),
    ...ranFor(4),
    mib: 250,
  })
  const stepServers = threeServers(m, 501, 502, mcpEnv(501, 'd-501', true), 4)

  // The crashed claude (pid 600, gone) left its Bash tool's background command: wrapper + command, parent init.
  const leftoverEnv = childEnv('crashed-600', {CLAUDE_PID: '600', ...paneEnv(a, '%3')})
  const wrapper = m.proc({
    pid: 610,
    ppid: 1,
    sid: 610,
    pgid: 610,
    ttyNr: 0,
    argv: bashToolWrapper('node dev-server.js'),
    env: leftoverEnv,
    ...ranFor(50),
  })
  const dev = m.proc({
    pid: 611,
    ppid: 610,
    sid: 610,
    pgid: 610,
    ttyNr: 0,
    argv: ['node', 'dev-server.js'],
    env: leftoverEnv,
    ...ranFor(50),
    mib: 80,
  })

  return {
    m,
    servers: {a, b},
    healthy: healthy.flatMap((h) => h.pids),
    detached: {
      disowned: [disowned.pid, ...disownedServers.flat()],
      setsid: [setsid.pid, ...setsidServers.flat()],
      loop: [loop.pid, step.pid, ...stepServers.flat()],
    },
    leftover: [wrapper.pid, dev.pid],
  }
}

describe('detached headless runs (detached-run)', () => {
  it('reports each detached run once, as info with its age, how it is detached and its tree; never as an orphan', async () => {
    const scene = realScene()
    const {of, report} = await run(scene.m)
    expect(of('orphan-claude')).toEqual([])
    const runs = of('detached-run')
    expect(runs.map((f) => [f.pid, f.severity, f.fixable, f.pids])).toEqual([
      [300, 'info', false, scene.detached.disowned],
      [400, 'info', false, scene.detached.setsid],
      [500, 'info', false, scene.detached.loop],
    ])
    expect(runs.map((f) => f.message)).toEqual([
      'Detached claude -p, 2h 3m old, disowned (adopted by init), 3 MCP servers (7 processes)',
      'Detached claude --print, 45m old, own session (setsid), 3 MCP servers (7 processes)',
      'Detached claude -p, 4m old, in a detached shell loop (bash 500), 3 MCP servers (8 processes)',
    ])
    expect(runs.map((f) => f.data?.detachedBy)).toEqual(['disowned', 'own-session', 'shell-loop'])
    expect(runs.map((f) => f.data?.claudePid)).toEqual([300, 400, 501])
    expect(runs[0].reason).toBe(
      'headless (-p), adopted by init after the shell that started it (session 290) went away; in no live tmux pane: a job detached on purpose',
    )
    expect(report.summary).toMatchObject({orphanClaude: 0, detachedRuns: 3})
  })

  it('is never planned for --fix by default, and check exits 0 when only detached runs and leftovers remain', async () => {
    const scene = realScene()
    const {signalled, report, of} = await run(scene.m)
    expect([...signalled]).toEqual([])
    expect(of('detached-run').length).toBe(3)
    expect(of('agent-leftover').length).toBe(1)
    expect(exitCodeFor(report)).toBe(0)
    expect(report.checks.find((c) => c.id === 'detached-run')?.status).toBe('ok')
  })

  it('keeps detached runs out of the orphan counts and the orphan memory', async () => {
    const scene = realScene()
    const {report, of} = await run(scene.m)
    expect(report.summary.orphanMcp).toBe(0)
    const [memory] = of('orphan-memory')
    // Only the leftover's two processes are held by orphans: 3 MiB (wrapper) + 80 MiB (its command).
    expect(memory.pids).toEqual(scene.leftover)
    expect(report.summary.orphanMemoryBytes).toBe((3 + 80) * 1024 ** 2)
  })

  it("does not call a detached run's gone tmux server a session mismatch", async () => {
    const m = new Machine()
    m.proc({
      pid: 10,
      ppid: 1,
      sid: 10,
      ttyNr: 0,
      comm: 'claude',
      argv: ['claude', '-p', 'x'],
      env: {TMUX: '/tmp/tmux-1000/gone,77,0', TMUX_PANE: '%1'},
    })
    const {of} = await run(m)
    expect(of('session-mismatch')).toEqual([])
    expect(of('detached-run').map((f) => f.pid)).toEqual([10])
  })

  it('calls a headless pane command its killed session left under the tmux server "left by a killed tmux session"', async () => {
    const m = new Machine()
    const s = m.server({pid: 30})
    m.pane(s, 'other', {pid: 31, cmd: '-bash', comm: 'bash', ttyNr: 34_900})
    // It was the pane's own command, so the session leader: sid == pid, but not setsid's doing.
    m.proc({
      pid: 40,
      ppid: 30,
      sid: 40,
      ttyNr: 0,
      comm: 'claude',
      argv: ['claude', '-p', 'x'],
      env: paneEnv(s, '%5'),
      ...ranFor(3),
    })
    const {of} = await run(m)
    expect(of('detached-run').map((f) => [f.pid, f.data?.detachedBy, f.message])).toEqual([
      [40, 'session-killed', 'Detached claude -p, 3m old, left by a killed tmux session, 0 MCP servers (1 process)'],
    ])
  })

  it("says so when a disowned run's session leader still runs (a subshell `(claude -p &)` from a live terminal)", async () => {
    const m = new Machine()
    m.proc({pid: 10, ppid: 1, sid: 10, ttyNr: 34_900, argv: ['-bash'], comm: 'bash'})
    m.proc({pid: 20, ppid: 1, sid: 10, ttyNr: 34_900, comm: 'claude', argv: ['claude', '-p', 'x'], ...ranFor(2)})
    const {of} = await run(m)
    expect(of('orphan-claude')).toEqual([])
    expect(of('detached-run').map((f) => [f.pid, f.data?.detachedBy, f.reason])).toEqual([
      [
        20,
        'disowned',
        "headless (-p), adopted by init while its session's leader (pid 10) still runs; in no live tmux pane: a job detached on purpose",
      ],
    ])
  })

  it("knows the SDK's stream-json shape, in both spellings, as headless", async () => {
    const m = new Machine()
    m.proc({
      pid: 10,
      ppid: 1,
      sid: 10,
      ttyNr: 0,
      comm: 'claude',
      argv: ['claude', '--output-format', 'stream-json', '--verbose', '--input-format', 'stream-json'],
    })
    m.proc({
      pid: 20,
      ppid: 1,
      sid: 20,
      ttyNr: 0,
      comm: 'node',
      argv: ['node', '/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js', '--output-format=stream-json'],
    })
    const {of} = await run(m)
    expect(of('orphan-claude')).toEqual([])
    expect(of('detached-run').map((f) => [f.pid, f.data?.headless])).toEqual([
      [10, '--output-format=stream-json'],
      [20, '--output-format=stream-json'],
    ])
  })

  it('leaves an interactive claude that no terminal holds an orphan, and a headless claude in a live pane healthy', async () => {
    const m = new Machine()
    const s = m.server({pid: 30})
    m.proc({pid: 10, ppid: 1, sid: 10, ttyNr: 0, comm: 'claude', argv: ['claude'], env: paneEnv(s, '%5')})
    const shell = m.pane(s, 'work', {pid: 31, cmd: '-bash', comm: 'bash', ttyNr: 34_900})
    const headless = m.proc({
      pid: 32,
      ppid: shell.pid,
      comm: 'claude',
      argv: ['claude', '-p', 'x'],
      ttyNr: 34_900,
      env: {...shell.env},
    })
    // A loop in a live pane is the user's foreground work.
    const loop = m.proc({
      pid: 33,
      ppid: shell.pid,
      argv: ['bash', '-c', 'while true; do claude -p y; done'],
      ttyNr: 0,
      env: {...shell.env},
    })
    m.proc({pid: 34, ppid: loop.pid, comm: 'claude', argv: ['claude', '-p', 'y'], ttyNr: 0, env: {...shell.env}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity])).toEqual([[10, 'error']])
    expect(of('detached-run')).toEqual([])
    expect(headless.pid).toBe(32)
  })

  it('leaves a headless claude under a live program (an SDK app, cron) alone', async () => {
    const m = new Machine()
    const app = m.proc({pid: 10, ppid: 1, argv: ['python3', '/srv/bot/main.py'], ttyNr: 0})
    m.proc({pid: 11, ppid: app.pid, comm: 'claude', argv: ['claude', '-p', 'x'], ttyNr: 0})
    const cron = m.proc({pid: 20, ppid: 1, argv: ['/usr/sbin/cron', '-f'], ttyNr: 0})
    const sh = m.proc({pid: 21, ppid: cron.pid, argv: ['/bin/sh', '-c', 'claude -p nightly'], ttyNr: 0})
    m.proc({pid: 22, ppid: sh.pid, comm: 'claude', argv: ['claude', '-p', 'nightly'], ttyNr: 0})
    const {results} = await run(m)
    expect(results.flatMap((r) => r.findings)).toEqual([])
  })

  it('ends a run past stuckAfterSeconds, the whole job (loop shell first), and leaves younger runs alone', async () => {
    const scene = realScene()
    const {of, signalled, report} = await run(scene.m, withOptions('detached-run', {stuckAfterSeconds: 3600}))
    const runs = of('detached-run')
    expect(runs.map((f) => [f.pid, f.severity, f.fixable])).toEqual([
      [300, 'error', true],
      [400, 'info', false],
      [500, 'info', false],
    ])
    expect(runs[0].message).toBe(
      'Stuck detached run: claude -p, 2h 3m old (limit 1h), disowned (adopted by init), 3 MCP servers (7 processes)',
    )
    expect([...signalled].sort((x, y) => x - y)).toEqual([...scene.detached.disowned].sort((x, y) => x - y))
    expect(exitCodeFor(report)).toBe(1)
    // Still a detached run, not an orphan claude.
    expect(report.summary).toMatchObject({orphanClaude: 0, detachedRuns: 3})

    // A loop's step counts from the step's own start: the loop is ended whole, shell first.
    const loopStuck = await run(realScene().m, withOptions('detached-run', {stuckAfterSeconds: 120}))
    const loop = loopStuck.diagnosis
    const plan = planRemediation(loop)
    const loopItem = plan.items.find((i) => i.finding.pid === 500)!
    expect(loopItem.actions[0].kind === 'terminate-tree' && loopItem.actions[0].targets.map((t) => t.pid)).toEqual(
      scene.detached.loop,
    )
  })

  it('refuses a stuckAfterSeconds that is not a positive number or null', async () => {
    await expect(run(new Machine(), withOptions('detached-run', {stuckAfterSeconds: 'soon'}))).rejects.toThrow(
      /stuckAfterSeconds/,
    )
    await expect(run(new Machine(), withOptions('detached-run', {stuckAfterSeconds: 0}))).rejects.toThrow(
      /stuckAfterSeconds/,
    )
    await expect(run(new Machine(), withOptions('detached-run', {stuckAfterSeconds: null}))).resolves.toBeDefined()
  })
})

describe("leftovers of an agent's tools (agent-leftover)", () => {
  it('reports the crash leftover with its evidence: the claude named by CLAUDE_PID is gone', async () => {
    const scene = realScene()
    const {of, report} = await run(scene.m)
    expect(of('orphan-mcp')).toEqual([])
    const [f] = of('agent-leftover')
    expect(f).toMatchObject({pid: 610, pids: scene.leftover, severity: 'warning', fixable: false})
    expect(f.message).toBe('Left behind by Claude Code (claude 600 is gone): node dev-server.js (2 processes)')
    expect(f.data).toMatchObject({evidence: 'claude-gone', claudePid: 600, lastPane: '%3', entrypoint: 'cli'})
    expect(f.reason).toMatch(/CLAUDE_PID=600.*no process 600 runs/)
    expect(report.summary).toMatchObject({leftovers: 1, orphanMcp: 0})
  })

  it('says PID reuse when CLAUDE_PID now names another program, or a claude that started after the leftover', async () => {
    const m = new Machine()
    m.proc({pid: 600, ppid: 1, argv: ['/usr/bin/python3', 'worker.py'], ...ranFor(10)})
    m.proc({
      pid: 610,
      ppid: 1,
      sid: 610,
      argv: ['bash', '-c', 'npm run dev'],
      env: childEnv('s1', {CLAUDE_PID: '600'}),
      ...ranFor(50),
    })
    m.proc({pid: 700, ppid: 1, comm: 'claude', argv: ['claude', '-p', 'x'], sid: 700, ...ranFor(5)})
    m.proc({
      pid: 710,
      ppid: 1,
      sid: 710,
      argv: ['bash', '-c', 'npm run dev'],
      env: childEnv('s2', {CLAUDE_PID: '700'}),
      ...ranFor(50),
    })
    const {of} = await run(m)
    expect(of('agent-leftover').map((f) => [f.pid, f.data?.evidence, f.data?.claudePid])).toEqual([
      [610, 'pid-reused', 600],
      [710, 'pid-reused', 700],
    ])
    expect(of('agent-leftover')[0].reason).toMatch(/PID 600 is now python3/)
    expect(of('agent-leftover')[1].reason).toMatch(/started after/)
  })

  it('says "tree shape only" without CLAUDE_PID', async () => {
    const m = new Machine()
    m.proc({pid: 20, ppid: 1, cmd: 'npm run dev', env: {CLAUDECODE: '1'}})
    m.proc({pid: 21, ppid: 20, cmd: 'node /app/node_modules/.bin/vite', env: {CLAUDECODE: '1'}})
    const {of} = await run(m)
    expect(of('agent-leftover').map((f) => [f.pid, f.pids, f.severity, f.fixable, f.data?.evidence])).toEqual([
      [20, [20, 21], 'warning', false, 'tree-shape'],
    ])
    expect(of('agent-leftover')[0].message).toBe('Left behind by Claude Code: npm run dev (2 processes)')
  })

  it('ends leftovers only when asked: fixLeftovers, or the deprecated orphan-mcp fixClaudeCodeChildren', async () => {
    const fromFile = (value: unknown) => configFromValue(value, '/tmp/gt-doctor.config.json')
    for (const config of [
      withOptions('agent-leftover', {fixLeftovers: true}),
      fromFile({checks: {'agent-leftover': {options: {fixLeftovers: true}}}}),
      fromFile({checks: {'orphan-mcp': {options: {fixClaudeCodeChildren: true}}}}),
    ]) {
      const scene = realScene()
      const {of, signalled} = await run(scene.m, config)
      expect(of('agent-leftover').map((f) => [f.pid, f.fixable])).toEqual([[610, true]])
      expect([...signalled]).toEqual(scene.leftover)
    }
    // Set both ways, the check's own option wins.
    const config = fromFile({
      checks: {
        'orphan-mcp': {options: {fixClaudeCodeChildren: true}},
        'agent-leftover': {options: {fixLeftovers: false}},
      },
    })
    const {of} = await run(realScene().m, config)
    expect(of('agent-leftover').map((f) => f.fixable)).toEqual([false])
  })

  it('counts leftover memory in orphan-memory', async () => {
    const m = new Machine()
    m.proc({pid: 20, ppid: 1, cmd: 'npm run dev', env: {CLAUDECODE: '1'}, mib: 10})
    const {of, report} = await run(m)
    expect(of('orphan-memory').map((f) => f.memoryBytes)).toEqual([10 * 1024 ** 2])
    expect(report.summary.orphanMemoryBytes).toBe(10 * 1024 ** 2)
  })
})

/** A live interactive claude, pid 32, in a shell (31) in a pane of the tmux server 30, started `age` s ago. */
function liveClaude32(argv = ['claude'], age = 50): Machine {
  const m = new Machine()
  const s = m.server({pid: 30})
  const shell = m.pane(s, 'work', {pid: 31, cmd: '-bash', comm: 'bash', ttyNr: 34_900, ...ranFor(60)})
  m.proc({pid: 32, ppid: shell.pid, comm: 'claude', argv, ttyNr: 34_900, env: {...shell.env}, ...ranFor(age)})
  return m
}

describe('CLAUDE_PID and CLAUDE_CODE_SESSION_ID tie a process to its claude', () => {
  it('a tool process or MCP server whose CLAUDE_PID names a live claude that started before it is owned, even under init', async () => {
    const m = liveClaude32()
    // Its Bash tool's `setsid` dev server and an MCP server whose launcher died: both reparented to init.
    m.proc({
      pid: 40,
      ppid: 1,
      sid: 40,
      argv: ['bash', '-c', 'node dev.js'],
      env: childEnv('s', {CLAUDE_PID: '32'}),
      ...ranFor(20),
    })
    m.proc({pid: 41, ppid: 40, argv: ['node', 'dev.js'], env: childEnv('s', {CLAUDE_PID: '32'}), ...ranFor(20)})
    m.proc({
      pid: 50,
      ppid: 1,
      argv: ['node', '/x/node_modules/@modelcontextprotocol/server-memory/dist/index.js'],
      env: childEnv('s', {CLAUDE_PID: '32'}),
      ...ranFor(20),
    })
    const {results} = await run(m)
    expect(results.flatMap((r) => r.findings)).toEqual([])
  })

  it("an MCP server whose CLAUDE_CODE_SESSION_ID is shared with a process inside a live claude's tree is owned", async () => {
    const m = liveClaude32()
    m.proc({
      pid: 33,
      ppid: 32,
      argv: ['node', '/x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js', '/w'],
      env: childEnv('sess-live'),
      ...ranFor(49),
    })
    // The memory server's launcher chain lost its head: its node reparented to init, same session.
    m.proc({
      pid: 60,
      ppid: 1,
      argv: ['node', '/x/node_modules/.bin/mcp-server-memory'],
      env: childEnv('sess-live'),
      ...ranFor(49),
    })
    // A server of another, dead session: an orphan.
    m.proc({
      pid: 70,
      ppid: 1,
      argv: ['node', '/x/node_modules/.bin/mcp-server-memory'],
      env: childEnv('sess-dead'),
      ...ranFor(49),
    })
    const {of} = await run(m)
    expect(of('orphan-mcp').map((f) => f.pid)).toEqual([70])
    expect(of('agent-leftover')).toEqual([])
  })

  it('an MCP server whose messaging socket names a live claude is owned; one naming a dead pid is judged by its tree', async () => {
    const m = liveClaude32()
    // Its only server, whose npm exec launcher was killed: reparented to init, still serving claude 32.
    m.proc({pid: 40, ppid: 1, argv: ['sh', '-c', "'mcp-server-memory'"], env: mcpEnv(32, 'only-server'), ...ranFor(49)})
    m.proc({
      pid: 41,
      ppid: 40,
      argv: ['node', '/x/node_modules/.bin/mcp-server-memory'],
      env: mcpEnv(32, 'only-server'),
      ...ranFor(49),
    })
    // The socket of a claude that is gone, even with the session id of one that lives (a resumed session).
    m.proc({
      pid: 50,
      ppid: 1,
      argv: ['node', '/x/node_modules/.bin/mcp-server-memory'],
      env: mcpEnv(20, 'gone'),
      ...ranFor(49),
    })
    m.proc({
      pid: 33,
      ppid: 32,
      argv: ['bash', '-c', 'make watch'],
      env: childEnv('resumed', {CLAUDE_PID: '32'}),
      ...ranFor(4),
    })
    m.proc({
      pid: 55,
      ppid: 1,
      argv: ['node', '/x/node_modules/.bin/mcp-server-memory'],
      env: mcpEnv(21, 'resumed'),
      ...ranFor(49),
    })
    const {of} = await run(m)
    expect(of('orphan-mcp').map((f) => f.pid)).toEqual([50, 55])
  })

  it('a server-everything that outlived its `sh -c` wrapper (relative script) is reported as a leftover, never ended by default', async () => {
    const m = new Machine()
    m.proc({pid: 60, ppid: 1, argv: ['node', 'dist/index.js'], env: mcpEnv(20, 'gone', true), ...ranFor(1)})
    const {of, signalled} = await run(m)
    expect(of('orphan-mcp')).toEqual([])
    expect(of('agent-leftover').map((f) => [f.pid, f.data?.evidence, f.data?.claudePid, f.data?.entrypoint])).toEqual([
      [60, 'claude-gone', 20, 'sdk-cli'],
    ])
    expect(of('agent-leftover')[0].reason).toMatch(/its messaging socket names claude 20\) and no process 20 runs/)
    expect([...signalled]).toEqual([])
  })

  it('CLAUDE_PID of a dead claude outweighs a shared session id (a resumed session does not adopt the old tools)', async () => {
    const m = liveClaude32(['claude', '--resume'], 5)
    m.proc({
      pid: 33,
      ppid: 32,
      argv: ['bash', '-c', 'make watch'],
      env: childEnv('sess-1', {CLAUDE_PID: '32'}),
      ...ranFor(4),
    })
    m.proc({
      pid: 40,
      ppid: 1,
      sid: 40,
      argv: ['bash', '-c', 'node dev.js'],
      env: childEnv('sess-1', {CLAUDE_PID: '20'}),
      ...ranFor(50),
    })
    const {of} = await run(m)
    expect(of('agent-leftover').map((f) => [f.pid, f.data?.evidence])).toEqual([[40, 'claude-gone']])
  })
})

describe('one launcher chain is one MCP server', () => {
  it('npm exec → sh -c → node is one server in the finding and the summary; two siblings are two', async () => {
    const m = new Machine()
    m.proc({pid: 10, ppid: 1, comm: 'npm exec mcp-se', argv: ['npm exec mcp-server-memory'], env: childEnv('x')})
    m.proc({pid: 11, ppid: 10, argv: ['sh', '-c', 'mcp-server-memory'], env: childEnv('x')})
    m.proc({pid: 12, ppid: 11, argv: ['node', '/x/node_modules/.bin/mcp-server-memory'], env: childEnv('x')})
    let {of, report} = await run(m)
    expect(of('orphan-mcp').map((f) => [f.pid, f.pids, f.data?.mcpServers, f.message])).toEqual([
      [10, [10, 11, 12], 1, 'Orphan MCP server mcp-server-memory (3 processes)'],
    ])
    expect(report.summary).toMatchObject({mcpServers: 1, orphanMcp: 1})

    // Under a live claude: the finding of an orphan claude and the summary count it once too.
    const m2 = new Machine()
    m2.proc({pid: 5, ppid: 1, comm: 'claude', argv: ['claude'], ttyNr: 0, ...ranFor(10)})
    threeServers(m2, 5, 20, childEnv('y'), 1)
    threeServers(m2, 5, 30, childEnv('y'), 1)
    ;({of, report} = await run(m2))
    expect(of('orphan-claude').map((f) => [f.data?.mcpServers, f.message])).toEqual([
      [6, 'Orphan claude, 10m old, 6 MCP servers (13 processes)'],
    ])
    expect(report.summary).toMatchObject({mcpServers: 6, orphanMcp: 6})
  })

  it('counts the real scene exactly: three servers per claude', async () => {
    const scene = realScene()
    const {report} = await run(scene.m)
    // 2 healthy agents + 3 detached runs, 3 servers each.
    expect(report.summary).toMatchObject({claudeProcesses: 5, mcpServers: 15})
  })
})

describe('the real scene, recorded (Claude Code 2.1.328 with the three real MCP servers, test/live/real-claude.live.test.ts)', async () => {
  // Collected in the live tier's namespace: 2 healthy interactive claudes (one per tmux server), 3 detached
  // runs (disowned, setsid, a setsid'd loop) and the crash leftover, each detached run with its 3 servers.
  const text = readFileSync(new URL('../fixtures/recorded/real-claude-2.1.328.snapshot.json', import.meta.url), 'utf8')
  const snapshot = parseSnapshot(text, 'real-claude-2.1.328.snapshot.json')
  const diagnosis = await diagnose({tool, snapshot, config: defaultConfig()})
  const of = (id: string) => diagnosis.results.find((r) => r.id === id)!.findings

  it('reports the detached runs and the leftover, counts the /proc truth, and exits 0 with nothing to end', () => {
    expect(of('orphan-claude')).toEqual([])
    expect(of('orphan-mcp')).toEqual([])
    expect(
      of('detached-run').map((f) => [f.pid, f.severity, f.data?.detachedBy, f.data?.mcpServers, f.pids.length]),
    ).toEqual([
      [63, 'info', 'disowned', 3, 7],
      [75, 'info', 'own-session', 3, 7],
      [80, 'info', 'shell-loop', 3, 8],
    ])
    expect(of('agent-leftover').map((f) => [f.pid, f.pids, f.data?.evidence, f.data?.claudePid])).toEqual([
      [531, [531, 532], 'claude-gone', 32],
    ])
    expect(diagnosis.report.summary).toMatchObject({
      claudeProcesses: 5,
      mcpServers: 15,
      orphanClaude: 0,
      orphanMcp: 0,
      detachedRuns: 3,
      leftovers: 1,
    })
    expect(diagnosis.report.host.claudeVersion).toBe('2.1.328')
    expect(planRemediation(diagnosis).items.flatMap((i) => i.actions)).toEqual([])
    expect(exitCodeFor(diagnosis.report)).toBe(0)
  })
})
