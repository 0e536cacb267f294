/**
 * session stop on built machines: which sessions and processes it records, the order of its tmux commands and
 * signals, and that a pid reused between the Ctrl-C wait and the signals is never signalled.
 */
import {describe, expect, it} from 'vitest'
import {MemoryAudit, type AuditSink} from '../src/remediation/audit.js'
import {executeRequest} from '../src/remediation/engine.js'
import {planTeardown, type TeardownPlan} from '../src/remediation/teardown-plan.js'
import {runTeardown, type TeardownDeps} from '../src/remediation/teardown-steps.js'
import {socketPath} from '../src/remediation/stop-sessions.js'
import {createRules, DEFAULT_RULES} from '../src/rules/rules.js'
import {FakeWorld, type FakeProc} from './support/fake-world.js'
import {Machine} from './support/machine.js'

/** Server A: gt-one (claude 1000 + MCP 1001, 1002 under it + 1003 under 1001), gt-two (claude 2000); server B: hq (claude 3000). */
function machine() {
  const m = new Machine()
  const a = m.server({pid: 600})
  const b = m.server({pid: 700, label: 'hq'})
  m.pane(a, 'gt-one', {pid: 1000, cmd: 'claude'})
  m.proc({pid: 1001, ppid: 1000, cmd: 'npm exec @modelcontextprotocol/server-filesystem /x'})
  m.proc({pid: 1003, ppid: 1001, cmd: 'node /x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'})
  m.proc({pid: 1002, ppid: 1000, cmd: 'node /x/node_modules/@modelcontextprotocol/server-memory/dist/index.js'})
  m.pane(a, 'gt-two', {pid: 2000, cmd: 'claude'})
  m.pane(a, 'gt-one-extra', {pid: 2500, cmd: 'sleep 600'})
  m.pane(b, 'hq', {pid: 3000, cmd: 'claude'})
  m.pane(b, 'gt-two', {pid: 3100, cmd: 'claude'})
  return {m, a, b}
}

describe('planTeardown: what session stop records', () => {
  it("records each pane's whole tree, MCP grandchildren included, root first", () => {
    const {m, a} = machine()
    const plan = planTeardown(m.snapshot(), {names: ['gt-one'], socket: a.socket})
    expect(plan.sessions.map((s) => [s.session, s.socket, s.panes.map((p) => p.paneId)])).toEqual([
      ['gt-one', a.socket, ['%0']],
    ])
    expect(plan.sessions[0].processes.map((p) => [p.pid, p.startTicks, p.paneRoot])).toEqual([
      [1000, 10000, true],
      [1001, 10010, false],
      [1002, 10020, false],
      [1003, 10030, false],
    ])
    expect(plan.memory.get(1003)).toBe(3 * 1024 * 1024)
  })

  it('an unknown session is one line listing the sessions; a prefix is not a session', () => {
    const {m, a} = machine()
    const err = (names: string[], socket?: string) => {
      try {
        planTeardown(m.snapshot(), {names, socket})
      } catch (e) {
        return [(e as Error).message, (e as {exitCode?: number}).exitCode]
      }
      return undefined
    }
    expect(err(['gt-on'], a.socket)).toEqual(['unknown session gt-on; sessions: gt-one, gt-one-extra, gt-two', 2])
    expect(err(['nope', 'gt-one', 'x'], a.socket)).toEqual([
      'unknown sessions nope, x; sessions: gt-one, gt-one-extra, gt-two',
      2,
    ])
    expect(err(['hq'], '/tmp/none')).toEqual(['no tmux server answers on /tmp/none', 2])
    // Without --socket every server counts; a name on two servers needs one.
    expect(err(['gt-two'])?.[0]).toMatch(
      /^session gt-two exists on several tmux servers \(.*default, .*hq\): pass --socket$/,
    )
    expect(planTeardown(m.snapshot(), {names: ['hq']}).sessions.map((s) => s.socket)).toEqual([
      m.snapshot().tmux.servers[1].socket,
    ])
  })

  it('lists at most 20 sessions in the error line', () => {
    const m = new Machine()
    const a = m.server({pid: 600})
    for (let i = 0; i < 25; i++) m.pane(a, `gt-${String(i).padStart(2, '0')}`, {pid: 1000 + i, cmd: 'claude'})
    expect(() => planTeardown(m.snapshot(), {names: ['x']})).toThrow(
      /^unknown session x; sessions: gt-00, .*, gt-19 and 5 more$/,
    )
  })

  it('--all-matching adds every matching session, on every server unless --socket', () => {
    const {m, a} = machine()
    expect(
      planTeardown(m.snapshot(), {names: [], allMatching: /^gt-one/, socket: a.socket}).sessions.map((s) => s.session),
    ).toEqual(['gt-one', 'gt-one-extra'])
    expect(
      planTeardown(m.snapshot(), {names: ['gt-one'], allMatching: /^gt-/})
        .sessions.map((s) => `${s.session}@${s.socket.split('/').pop()}`)
        .sort(),
    ).toEqual(['gt-one@default', 'gt-one-extra@default', 'gt-two@default', 'gt-two@hq'].sort())
    expect(() => planTeardown(m.snapshot(), {names: [], allMatching: /^zz/})).toThrow(
      /^no session matches \/\^zz\/; sessions: gt-one, gt-one-extra, gt-two, hq$/,
    )
  })

  it('refuses to stop the session the doctor itself runs in', () => {
    const m = new Machine(1000, 99_999)
    const a = m.server({pid: 600})
    m.pane(a, 'mine', {pid: 1000, cmd: 'bash'})
    m.proc({pid: 99_999, ppid: 1000, cmd: 'node gt-doctor session stop mine'})
    expect(() => planTeardown(m.snapshot(), {names: ['mine']})).toThrow(
      'gt-doctor runs inside session mine (pane %0): stopping it would end the doctor itself; run it from outside the session',
    )
  })

  it('--socket takes a path or a -L name', () => {
    expect(socketPath('/tmp/x/../s')).toBe('/tmp/s')
    expect(socketPath('gt', {TMUX_TMPDIR: '/run/t'}, 1000)).toBe('/run/t/tmux-1000/gt')
    expect(socketPath('gt', {}, 0)).toBe('/tmp/tmux-0/gt')
  })
})

/** The fake world for gt-one of machine(): how each process reacts is set per test. */
function world(react: Partial<Record<number, Partial<FakeProc>>>) {
  const w = new FakeWorld()
  w.add({pid: 600, comm: 'tmux: server', argv: ['tmux']})
  for (const [pid, ppid] of [
    [1000, 600],
    [1001, 1000],
    [1002, 1000],
    [1003, 1001],
  ]) {
    w.add({pid, ppid, comm: pid === 1000 ? 'claude' : 'node', ...react[pid]})
  }
  return w
}

async function stop(
  w: FakeWorld,
  plan: TeardownPlan,
  onCtrlC: () => void = () => {},
  beforeEngine: () => void = () => {},
  more: {refuse?: TeardownDeps['refuse']; audit?: AuditSink} = {},
) {
  const tmux: string[] = []
  const audit = more.audit ?? new MemoryAudit()
  let sessionOpen = true
  const runTmux: TeardownDeps['tmux'] = async (_socket, args) => {
    tmux.push(args.join(' '))
    if (args[0] === 'send-keys') onCtrlC()
    if (args[0] === 'has-session')
      return {code: sessionOpen ? 0 : 1, stdout: '', stderr: sessionOpen ? '' : "can't find session"}
    if (args[0] === 'kill-session') sessionOpen = false
    return {code: 0, stdout: '', stderr: ''}
  }
  const engineOptions = {
    probe: w,
    audit,
    rules: createRules(DEFAULT_RULES),
    graceMs: 2000,
    invokingUid: 1000,
    doctorPid: 99_999,
    clock: w.clock,
    tmux: runTmux,
  }
  const result = await runTeardown(
    plan,
    {
      tmux: runTmux,
      act: (request) => executeRequest(request, engineOptions),
      isAlive: (p) => {
        const live = w.read(p.pid)
        return live !== undefined && live.startTicks === p.startTicks && live.state !== 'Z'
      },
      execute: (request) => {
        beforeEngine()
        return executeRequest(request, engineOptions)
      },
      audit,
      refuse: more.refuse ?? (async () => undefined),
      sleep: w.clock.sleep,
      now: w.clock.now,
    },
    {graceMs: 2000, interruptWaitMs: 2000, pollMs: 100},
  )
  const signals = w.calls.filter((c) => c.startsWith('kill'))
  return {result, tmux, signals, audit}
}

describe('runTeardown: the graceful stop', () => {
  const plan = () => planTeardown(machine().m.snapshot(), {names: ['gt-one'], socket: machine().a.socket})

  it('disarms, then Ctrl-C; when everything exits on it, no signal at all', async () => {
    const w = world({})
    const {result, tmux, signals} = await stop(w, plan(), () => {
      for (const pid of [1003, 1001, 1002, 1000]) w.exit(pid)
    })
    expect(signals).toEqual([])
    expect(result.survived).toBe(0)
    expect(result.sessions[0].processes.map((p) => [p.pid, p.ended])).toEqual([
      [1000, 'ctrl-c'],
      [1001, 'ctrl-c'],
      [1002, 'ctrl-c'],
      [1003, 'ctrl-c'],
    ])
    expect(tmux).toEqual([
      'set-hook -u -t =gt-one: pane-died',
      'set-hook -u -t =gt-one: pane-exited',
      'set-option -w -t =gt-one:0 remain-on-exit off',
      'set-hook -w -u -t =gt-one:0 pane-died',
      'set-hook -w -u -t =gt-one:0 pane-exited',
      'set-option -p -t %0 remain-on-exit off',
      'set-hook -p -u -t %0 pane-died',
      'set-hook -p -u -t %0 pane-exited',
      'send-keys -t %0 C-c',
      'has-session -t =gt-one',
      'kill-session -t =gt-one',
    ])
    expect(result.sessions[0].outcome).toBe('killed')
  })

  it('what ignores Ctrl-C gets SIGTERM, what ignores that too gets SIGKILL after the grace; then kill-session', async () => {
    const w = world({1000: {onTerm: 'ignore'}, 1002: {onTerm: 'ignore'}})
    const {result, tmux, audit} = await stop(w, plan())
    // Everything at once, root first, then SIGKILL for the two that stayed (the root last).
    expect(w.ending()).toEqual([
      'kill 1000 SIGTERM',
      'kill 1001 SIGTERM',
      'kill 1003 SIGTERM',
      'kill 1002 SIGTERM',
      'kill 1002 SIGKILL',
      'kill 1000 SIGKILL',
    ])
    expect(result.sessions[0].processes.map((p) => [p.pid, p.ended])).toEqual([
      [1000, 'sigkill'],
      [1001, 'sigterm'],
      [1002, 'sigkill'],
      [1003, 'sigterm'],
    ])
    expect(result.survived).toBe(0)
    // The engine's audit: every signal with the identity it was verified against; the stop's tmux commands too.
    const entries = (audit as MemoryAudit).entries
    expect(
      entries
        .filter((e) => e.event === 'signal' && e.signal === 'SIGTERM')
        .map((e) => [e.pid, e.startTicks, e.signal, e.findingId])[0],
    ).toEqual([1000, 10000, 'SIGTERM', 'session-stop:gt-one:%0'])
    // Each tmux command that ends processes is recorded before it runs, and its outcome after.
    expect(entries.filter((e) => e.args).map((e) => `${e.event} ${e.args?.[0]} ${e.outcome}`)).toEqual([
      'intent send-keys intended',
      'tmux send-keys done',
      'intent kill-session intended',
      'tmux kill-session done',
    ])
    expect(tmux.indexOf('kill-session -t =gt-one')).toBe(tmux.length - 1)
  })

  it('a pid reused after the Ctrl-C wait is never signalled; a process SIGKILL cannot end is reported as survived', async () => {
    const w = world({1003: {onTerm: 'ignore', onKill: 'stuck'}})
    // 1002 ends and its pid is taken by an unrelated process between the wait and the engine's re-check.
    const {result, signals} = await stop(w, plan(), undefined, () => {
      w.exit(1002)
      w.reuse(1002, {comm: 'bash', uid: 1000})
    })
    expect(signals.filter((s) => s.startsWith('kill 1002'))).toEqual([])
    expect(w.read(1002)?.comm).toBe('bash')
    const by = Object.fromEntries(result.sessions[0].processes.map((p) => [p.pid, p]))
    expect(by[1002]).toMatchObject({ended: 'exited'})
    expect(by[1002].detail).toContain('PID reused')
    expect(by[1003]).toMatchObject({ended: 'survived'})
    expect(by[1003].detail).toContain('state D')
    expect(result.survived).toBe(1)
  })

  it("leaves a session on another user's server alone: no tmux command, no signal, and says why", async () => {
    const w = world({1000: {onTerm: 'ignore'}})
    const why =
      'the tmux server on /tmp/tmux-1000/default belongs to uid 1000 (its socket file), not to you (uid 0); pass --all-users to include other users'
    const asked: string[] = []
    const {result, tmux, signals, audit} = await stop(w, plan(), undefined, undefined, {
      refuse: async (socket) => {
        asked.push(socket)
        return {detail: why}
      },
    })
    expect(asked.length).toBeGreaterThan(0)
    expect(tmux).toEqual([])
    expect(signals).toEqual([])
    expect(result.sessions[0]).toMatchObject({outcome: 'skipped', notes: [`left alone: ${why}`]})
    expect(result.sessions[0].processes.every((p) => p.ended === 'left' && p.detail === why)).toBe(true)
    expect(result.survived).toBe(1)
    expect((audit as MemoryAudit).entries).toEqual([
      expect.objectContaining({event: 'tmux', session: 'gt-one', outcome: 'skipped', detail: why}),
    ])
  })

  it('sends no Ctrl-C and no signal it could not record first', async () => {
    const w = world({})
    const full: AuditSink = {
      write: () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})
      },
    }
    const {result, tmux, signals} = await stop(w, plan(), undefined, undefined, {audit: full})
    expect(tmux.filter((c) => c.startsWith('send-keys') || c.startsWith('kill-session'))).toEqual([])
    expect(signals).toEqual([])
    expect(result.auditFailure).toEqual({code: 'ENOSPC', signalled: 0, notSignalled: 4})
    expect(result.sessions[0]).toMatchObject({
      outcome: 'kill-failed',
      notes: ['kill-session not run: the audit log could not be written (ENOSPC)'],
    })
    expect(result.sessions[0].processes[0]).toMatchObject({
      ended: 'survived',
      detail: 'not signalled: the audit log could not be written (ENOSPC)',
    })
  })
})
