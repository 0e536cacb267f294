/**
 * The remediation engine's safety protocol, driven through its seam (a simulated process table and clock):
 * which processes it signals, which it spares and why, in what order, and what it reports.
 */
import {describe, expect, it} from 'vitest'
import type {Finding, FixAction} from '../src/checks/api.js'
import {MemoryAudit} from '../src/remediation/audit.js'
import {executePlan, type EngineOptions} from '../src/remediation/engine.js'
import type {PlanItem, RemediationPlan} from '../src/remediation/plan.js'
import {createRules, DEFAULT_RULES} from '../src/rules/rules.js'
import type {HostFacts} from '../src/snapshot/types.js'
import {FakeWorld} from './support/fake-world.js'

const MiB = 1024 * 1024
const DOCTOR = 900

/** A machine with the doctor (900) running in a shell (800), a tmux server (100) and an agent session. */
function world(): FakeWorld {
  const w = new FakeWorld()
  w.add({pid: 800, comm: 'bash', argv: ['bash']})
  w.add({pid: DOCTOR, ppid: 800, comm: 'node', argv: ['node', 'gt-doctor', '--fix']})
  w.add({pid: 100, comm: 'tmux: server', argv: ['tmux', 'new-session', '-d']})
  return w
}

const host: HostFacts = {
  platform: 'linux',
  release: '6.6',
  wsl: false,
  hostname: 'test',
  totalMemoryBytes: 64 * 1024 * MiB,
  bootTimeMs: 1_760_000_000_000,
  clockTicksPerSecond: 100,
  uid: 1000,
  doctorPid: DOCTOR,
  doctorAncestors: [800, 1],
}

function finding(id: string, pids: number[], extra: Partial<Finding> = {}): Finding {
  return {id, check: id.split(':')[0], severity: 'error', message: id, reason: 'orphaned', pid: pids[0], pids, fixable: true, ...extra}
}

/** One terminate-tree item per entry, targets pinned to what the world holds now (as detection saw it). */
function plan(w: FakeWorld, trees: Array<{id: string; pids: number[]; session?: string}>, extra: PlanItem[] = []): RemediationPlan {
  const memory = new Map<number, number>()
  const items: PlanItem[] = trees.map(({id, pids, session}) => {
    const targets = pids.map((pid) => {
      const p = w.procs.get(pid)!
      memory.set(pid, 100 * MiB)
      return {pid, startTicks: p.startTicks, ppid: p.ppid, uid: p.uid, command: p.argv?.join(' ') ?? p.comm}
    })
    const action: FixAction = {kind: 'terminate-tree', targets, session, reason: 'orphaned'}
    return {finding: finding(id, pids, {session}), actions: [action]}
  })
  return {items: [...items, ...extra], held: [], memory, host}
}

function run(w: FakeWorld, p: RemediationPlan, over: Partial<EngineOptions> = {}) {
  const audit = new MemoryAudit()
  const result = executePlan(p, {
    probe: w,
    clock: w.clock,
    audit,
    rules: createRules(DEFAULT_RULES),
    graceMs: 5000,
    invokingUid: 1000,
    doctorPid: DOCTOR,
    doctorAncestors: host.doctorAncestors,
    bootTimeMs: host.bootTimeMs,
    ...over,
  })
  return result.then((r) => ({...r, audit: audit.entries}))
}

/** An orphan claude (root) under init with two MCP servers, the second behind an `sh -c` wrapper. */
function orphanTree(w: FakeWorld, root: number, opts: {ppid?: number; ignoreTerm?: boolean} = {}): number[] {
  const onTerm = opts.ignoreTerm ? 'ignore' : 'exit'
  w.add({pid: root, ppid: opts.ppid ?? 1, comm: 'claude', argv: ['claude'], onTerm})
  w.add({pid: root + 1, ppid: root, comm: 'node', argv: ['node', 'server-a/index.js'], onTerm})
  w.add({pid: root + 2, ppid: root, comm: 'sh', argv: ['sh', '-c', 'node server-b'], onTerm})
  w.add({pid: root + 3, ppid: root + 2, comm: 'node', argv: ['node', 'server-b'], onTerm})
  return [root, root + 1, root + 2, root + 3]
}

describe('remediation engine', () => {
  it('SIGTERMs every member root first, waits, and reports the tree fixed with the memory it freed', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const r = await run(w, plan(w, [{id: 'orphan-claude:200:2000', pids, session: 'gt-a'}]))
    expect(w.kills()).toEqual([200, 201, 202, 203])
    expect(w.kills('SIGKILL')).toEqual([])
    for (const pid of pids) expect(w.procs.has(pid)).toBe(false)
    expect(r.outcomes.get('orphan-claude:200:2000')).toEqual({
      outcome: 'fixed',
      detail: 'ended 4 processes',
      signalled: [200, 201, 202, 203],
      freedBytes: 400 * MiB,
    })
    expect(r.audit.filter((e) => e.event === 'signal')).toHaveLength(4)
    expect(r.audit[0]).toMatchObject({
      event: 'signal',
      pid: 200,
      startTicks: 2000,
      startTime: new Date(host.bootTimeMs! + 20_000).toISOString(),
      uid: 1000,
      command: 'claude',
      session: 'gt-a',
      signal: 'SIGTERM',
      outcome: 'sent',
      findingId: 'orphan-claude:200:2000',
    })
    expect(r.audit.filter((e) => e.event === 'result').map((e) => [e.pid, e.outcome])).toEqual(pids.map((p) => [p, 'ended']))
  })

  it('never signals a reused PID: same pid, another start time', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids}])
    // Between detection and the fix, MCP server 201 exited and its pid went to someone's new shell.
    w.exit(201)
    w.reuse(201, {comm: 'bash', ppid: 800})
    const r = await run(w, p)
    expect(w.kills()).not.toContain(201)
    expect(w.procs.get(201)?.comm).toBe('bash')
    const spared = r.processes.find((x) => x.pid === 201)!
    expect(spared).toMatchObject({outcome: 'skipped', signals: []})
    expect(spared.detail).toMatch(/^PID reused: PID 201 is now another process \(start ticks 999999, detected 2010\)/)
    expect(r.outcomes.get('orphan-claude:200:2000')?.outcome).toBe('skipped')
    expect(r.audit.find((e) => e.event === 'skip')).toMatchObject({pid: 201, outcome: 'skipped', findingId: 'orphan-claude:200:2000'})
  })

  it('spares the whole tree when its root is reused, and signals nothing of it', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids}])
    w.beforeRead.set(200, () => {
      w.exit(200)
      w.reuse(200, {ppid: 800})
    })
    const r = await run(w, p)
    expect(w.kills()).toEqual([])
    expect(r.outcomes.get('orphan-claude:200:2000')).toMatchObject({outcome: 'skipped', signalled: [], freedBytes: 0})
    expect(r.outcomes.get('orphan-claude:200:2000')?.detail).toMatch(/^spared PID 200: PID reused/)
    expect(r.processes.filter((x) => x.pid !== 200).every((x) => x.detail.startsWith('spared with its tree: the root PID 200 is spared'))).toBe(true)
    expect(r.audit.filter((e) => e.event === 'skip').map((e) => e.pid)).toEqual(pids)
  })

  it("spares another user's process unless root asked for --all-users", async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude'], uid: 1001})
    const p = plan(w, [{id: 'orphan-claude:300:3000', pids: [300]}])
    let r = await run(w, p)
    expect(w.kills()).toEqual([])
    expect(r.processes[0]).toMatchObject({outcome: 'skipped', detail: 'owned by uid 1001, not by you (uid 1000)'})

    r = await run(w, p, {allUsers: true})
    expect(w.kills()).toEqual([])
    expect(r.processes[0].outcome).toBe('skipped')

    r = await run(w, p, {invokingUid: 0})
    expect(r.processes[0].detail).toBe('owned by uid 1001, not by you (uid 0); pass --all-users to include other users')
    expect(w.kills()).toEqual([])

    r = await run(w, p, {invokingUid: 0, allUsers: true})
    expect(w.kills()).toEqual([300])
    expect(r.outcomes.get('orphan-claude:300:3000')?.outcome).toBe('fixed')
  })

  it('spares a process whose owner changed since detection', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude']})
    const p = plan(w, [{id: 'orphan-claude:300:3000', pids: [300]}])
    w.procs.get(300)!.uid = 0
    const r = await run(w, p, {invokingUid: 0, allUsers: true})
    expect(w.kills()).toEqual([])
    expect(r.processes[0].detail).toBe('its owner changed from uid 1000 to uid 0')
  })

  it('never signals PID 1, a tmux server, the doctor or its ancestors, even when a plan names them', async () => {
    const w = world()
    w.add({pid: 700, ppid: 1, comm: 'zsh', argv: ['zsh']})
    // The doctor moved under 700 since the snapshot (whose ancestors were 800 and 1): the live chain counts too.
    w.procs.get(800)!.ppid = 700
    const p = plan(w, [
      {id: 'x:1', pids: [1]},
      {id: 'x:100', pids: [100]},
      {id: 'x:900', pids: [DOCTOR]},
      {id: 'x:800', pids: [800]},
      {id: 'x:700', pids: [700]},
    ])
    const r = await run(w, p)
    expect(w.kills()).toEqual([])
    expect(r.processes.map((x) => [x.pid, x.detail])).toEqual([
      [1, 'PID 1 is never signalled'],
      [100, 'a tmux server is never signalled'],
      [DOCTOR, 'the doctor itself is never signalled'],
      [800, 'an ancestor of the doctor (PID 900) is never signalled'],
      [700, 'an ancestor of the doctor (PID 900) is never signalled'],
    ])
  })

  it('spares a tree whose root is no longer an orphan: its parent changed to a live non-reaper', async () => {
    const w = world()
    const pids = orphanTree(w, 200, {ppid: 100})
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids}])
    w.procs.get(200)!.ppid = 800
    const r = await run(w, p)
    expect(w.kills()).toEqual([])
    expect(r.outcomes.get('orphan-claude:200:2000')?.detail).toMatch(
      /^spared PID 200: no longer an orphan: its parent changed from PID 100 to bash \(PID 800\), a live process/,
    )
  })

  it('still ends members reparented to init, to a subreaper or to another member when their parent died', async () => {
    const w = world()
    w.add({pid: 50, comm: 'systemd', argv: ['systemd', '--user']})
    const pids = orphanTree(w, 200, {ppid: 50})
    w.add({pid: 204, ppid: 203, comm: 'node', argv: ['node', 'helper']})
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids: [...pids, 204]}])
    // Since detection: the sh wrapper 202 died (its server 203 went to the subreaper), and 204 was adopted by 201.
    w.exit(202)
    expect(w.procs.get(203)?.ppid).toBe(50)
    w.procs.get(204)!.ppid = 201
    w.procs.get(201)!.termDelayMs = 50
    const r = await run(w, p)
    expect(w.kills()).toEqual([200, 201, 203, 204])
    // 202 is not signalled; whether it ended by itself or with its tree cannot be told apart once it is gone.
    expect(r.processes.find((x) => x.pid === 202)?.signals).toEqual([])
    expect(r.outcomes.get('orphan-claude:200:2000')).toMatchObject({outcome: 'fixed', signalled: [200, 201, 203, 204]})
  })

  it('still ends a member adopted by a subreaper above its root that the rules do not know (tini)', async () => {
    const w = world()
    w.add({pid: 60, comm: 'tini', argv: ['tini', '--', 'sh'], subreaper: true})
    const pids = orphanTree(w, 200, {ppid: 60})
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    w.exit(202)
    expect(w.procs.get(203)?.ppid).toBe(60)
    const r = await run(w, p)
    expect(w.kills()).toEqual([200, 201, 203])
    expect(r.outcomes.get('orphan-claude:200')?.outcome).toBe('fixed')
    // The same adopter is not good enough for a process outside that lineage.
    const w2 = world()
    w2.add({pid: 60, comm: 'tini', argv: ['tini', '--', 'sh'], subreaper: true})
    w2.add({pid: 300, ppid: 1, comm: 'claude', argv: ['claude']})
    w2.add({pid: 301, ppid: 300, comm: 'node', argv: ['node', 'mcp']})
    const p2 = plan(w2, [{id: 'orphan-claude:300', pids: [300, 301]}])
    w2.procs.get(301)!.ppid = 60
    const r2 = await run(w2, p2)
    expect(w2.kills()).toEqual([300])
    expect(r2.processes[1].detail).toBe('no longer an orphan: its parent changed from PID 300 to tini (PID 60), a live process')
  })

  it('spares the descendants of a spared member', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids}])
    w.procs.get(202)!.uid = 1001
    const r = await run(w, p)
    expect(w.kills()).toEqual([200, 201])
    expect(r.processes.find((x) => x.pid === 203)?.detail).toBe('its parent PID 202 in this tree is spared')
  })

  it('counts a member that a wrapper ended before its own signal as ended with its tree', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    w.procs.get(202)!.forwardsTermTo = [203]
    const r = await run(w, plan(w, [{id: 'orphan-claude:200', pids}]))
    expect(w.kills()).toEqual([200, 201, 202])
    expect(r.processes.find((x) => x.pid === 203)).toMatchObject({outcome: 'ended', detail: 'ended with its tree before its own signal', freedBytes: 100 * MiB})
    expect(r.outcomes.get('orphan-claude:200')).toMatchObject({outcome: 'fixed', detail: 'ended 4 processes', signalled: [200, 201, 202], freedBytes: 400 * MiB})
    expect(r.audit.find((e) => e.pid === 203)).toMatchObject({event: 'gone', detail: 'ended with its tree before its own signal'})
  })

  it('counts ESRCH (gone between the read and the signal) as already gone', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude']})
    w.add({pid: 310, comm: 'claude', argv: ['claude']})
    const p = plan(w, [
      {id: 'orphan-claude:300:3000', pids: [300]},
      {id: 'orphan-claude:310:3100', pids: [310]},
    ])
    w.beforeKill.set(300, () => w.exit(300))
    w.exit(310)
    const r = await run(w, p)
    expect(r.outcomes.get('orphan-claude:300:3000')).toEqual({outcome: 'already-gone', detail: 'every process had already exited', signalled: [], freedBytes: 0})
    expect(r.outcomes.get('orphan-claude:310:3100')?.outcome).toBe('already-gone')
    expect(r.audit).toEqual([
      expect.objectContaining({event: 'signal', pid: 300, signal: 'SIGTERM', outcome: 'already-gone', detail: 'ESRCH: it exited just before the signal'}),
      expect.objectContaining({event: 'gone', pid: 310, outcome: 'already-gone'}),
    ])
  })

  it('reports a zombie whose live parent does not reap it, and counts one held by init as gone', async () => {
    const w = world()
    // 400 (an orphan under a stuck parent 450 that never reaps) and 410 (under init) both end on SIGTERM.
    w.add({pid: 450, comm: 'tmux: server', neverReaps: true})
    w.add({pid: 400, ppid: 450, comm: 'claude', argv: ['claude']})
    w.add({pid: 410, ppid: 1, comm: 'claude', argv: ['claude']})
    const r = await run(w, plan(w, [
      {id: 'orphan-claude:400:4000', pids: [400]},
      {id: 'orphan-claude:410:4100', pids: [410]},
    ]))
    expect(w.procs.get(400)?.state).toBe('Z')
    expect(r.outcomes.get('orphan-claude:400:4000')).toMatchObject({outcome: 'skipped', detail: 'PID 400: zombie: parent PID 450 must reap it', signalled: [400]})
    expect(r.outcomes.get('orphan-claude:410:4100')?.outcome).toBe('fixed')
    expect(r.audit.find((e) => e.event === 'result' && e.pid === 400)).toMatchObject({outcome: 'zombie', detail: 'zombie: parent PID 450 must reap it'})
    // It waited the short post-kill window for the parent to reap, not the grace period.
    expect(w.now).toBeLessThanOrEqual(1000)
  })

  it('reports failed for a D-state process that survives SIGKILL', async () => {
    const w = world()
    w.add({pid: 500, comm: 'claude', argv: ['claude'], onTerm: 'ignore', onKill: 'stuck'})
    const r = await run(w, plan(w, [{id: 'orphan-claude:500:5000', pids: [500]}]))
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual(['kill 500 SIGTERM', 'kill 500 SIGKILL'])
    expect(r.outcomes.get('orphan-claude:500:5000')).toMatchObject({outcome: 'failed', signalled: [500], freedBytes: 0})
    expect(r.outcomes.get('orphan-claude:500:5000')?.detail).toMatch(/^PID 500: survived SIGKILL in state D/)
    expect(r.audit.at(-1)).toMatchObject({event: 'result', pid: 500, outcome: 'survived'})
  })

  it('SIGKILLs a TERM-ignoring member only after the grace period, then waits briefly', async () => {
    const w = world()
    w.add({pid: 600, comm: 'claude', argv: ['claude'], onTerm: 'ignore'})
    w.add({pid: 601, ppid: 600, comm: 'node', argv: ['node', 'mcp'], termDelayMs: 100})
    const r = await run(w, plan(w, [{id: 'orphan-claude:600:6000', pids: [600, 601]}]), {graceMs: 2000, pollMs: 50})
    const kills = w.calls.map((c, i) => [c, i] as const).filter(([c]) => c.startsWith('kill'))
    expect(kills.map(([c]) => c)).toEqual(['kill 600 SIGTERM', 'kill 601 SIGTERM', 'kill 600 SIGKILL'])
    const slept = (upTo: number) => w.calls.slice(0, upTo).filter((c) => c.startsWith('sleep')).reduce((n, c) => n + Number(c.split(' ')[1]), 0)
    // Both SIGTERMs before any wait; SIGKILL exactly when the 2 s grace is used up.
    expect(slept(kills[1][1])).toBe(0)
    expect(slept(kills[2][1])).toBe(2000)
    expect(r.outcomes.get('orphan-claude:600:6000')).toMatchObject({outcome: 'fixed', detail: 'ended 2 processes (1 by SIGKILL after the grace period)'})
    expect(r.audit.filter((e) => e.signal).map((e) => `${e.pid} ${e.signal}`)).toEqual(['600 SIGTERM', '601 SIGTERM', '600 SIGKILL'])
  })

  it('ends many trees within one grace period, not one per tree', async () => {
    const w = world()
    const trees = Array.from({length: 50}, (_, i) => {
      const root = 10_000 + i * 10
      return {id: `orphan-claude:${root}`, pids: orphanTree(w, root, {ignoreTerm: i % 5 === 0})}
    })
    const r = await run(w, plan(w, trees), {graceMs: 2000})
    const firstSleep = w.calls.findIndex((c) => c.startsWith('sleep'))
    // Every SIGTERM goes out before the first wait.
    expect(w.calls.slice(0, firstSleep).filter((c) => c.endsWith('SIGTERM'))).toHaveLength(200)
    expect(w.kills('SIGKILL')).toHaveLength(40)
    expect(w.now).toBe(2000)
    expect([...r.outcomes.values()].every((o) => o.outcome === 'fixed')).toBe(true)
    expect(w.procs.size).toBe(4)
  })

  it('stops waiting as soon as every member is gone', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude'], termDelayMs: 120})
    await run(w, plan(w, [{id: 'orphan-claude:300', pids: [300]}]), {pollMs: 25})
    expect(w.now).toBe(125)
    expect(w.kills('SIGKILL')).toEqual([])
  })

  it('never SIGKILLs a pid that was reused during the grace period', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude'], onTerm: 'ignore'})
    const p = plan(w, [{id: 'orphan-claude:300', pids: [300]}])
    // Reads of 300: verify, poll, poll at the deadline, then the re-read right before SIGKILL. By then the
    // TERM-ignoring claude has exited by itself and its pid belongs to a new shell.
    let reads = 0
    const probe = {
      read: (pid: number) => {
        if (pid === 300 && ++reads === 4) {
          w.exit(300)
          w.reuse(300, {ppid: 800})
        }
        return w.read(pid)
      },
      argv: (pid: number) => w.argv(pid),
      kill: (pid: number, s: 'SIGTERM' | 'SIGKILL') => w.kill(pid, s),
    }
    const r = await executePlan(p, {probe, clock: w.clock, audit: new MemoryAudit(), rules: createRules(DEFAULT_RULES), graceMs: 100, invokingUid: 1000, doctorPid: DOCTOR, pollMs: 100})
    expect(reads).toBeGreaterThanOrEqual(4)
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual(['kill 300 SIGTERM'])
    expect(w.procs.get(300)?.comm).toBe('bash')
    expect(r.outcomes.get('orphan-claude:300')).toMatchObject({outcome: 'fixed', signalled: [300]})
  })

  it('a dry run verifies but signals nothing and writes no audit line', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    w.add({pid: 300, comm: 'claude', argv: ['claude'], uid: 1001})
    const r = await run(w, plan(w, [{id: 'orphan-claude:200', pids}, {id: 'orphan-claude:300', pids: [300]}]), {dryRun: true})
    expect(w.kills()).toEqual([])
    expect(w.calls).toEqual([])
    expect(r.audit).toEqual([])
    expect(r.outcomes.get('orphan-claude:200')).toEqual({
      outcome: 'planned',
      detail: 'would end 4 processes (SIGTERM, then SIGKILL after 5 s)',
      signalled: [],
      freedBytes: 0,
    })
    expect(r.outcomes.get('orphan-claude:300')).toMatchObject({outcome: 'skipped', detail: 'spared PID 300: owned by uid 1001, not by you (uid 1000)'})
  })

  it('signals a process shared by two findings once', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const r = await run(w, plan(w, [{id: 'a:200', pids}, {id: 'b:203', pids: [203]}]))
    expect(w.kills()).toEqual([200, 201, 202, 203])
    expect(r.outcomes.get('b:203')).toMatchObject({outcome: 'fixed', signalled: [203], freedBytes: 0})
    expect(r.outcomes.get('a:200')?.freedBytes).toBe(400 * MiB)
  })

  it('a finding whose fix crashed fails; the others proceed', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude']})
    const crashed: PlanItem = {finding: finding('plugin/x:1', [300]), actions: [], error: 'fix crashed: boom'}
    const r = await run(w, plan(w, [{id: 'orphan-claude:300', pids: [300]}], [crashed]))
    expect(r.outcomes.get('plugin/x:1')).toEqual({outcome: 'failed', detail: 'fix crashed: boom', signalled: [], freedBytes: 0})
    expect(r.outcomes.get('orphan-claude:300')?.outcome).toBe('fixed')
  })

  it('kills a dead pane only while tmux still reports it dead, and runs no other tmux command', async () => {
    const w = world()
    const tmuxCalls: string[][] = []
    let dead = '1'
    const tmux = async (socket: string, args: string[]) => {
      tmuxCalls.push([socket, ...args])
      return args[0] === 'display-message' ? {code: 0, stdout: `${dead}\n`, stderr: ''} : {code: 0, stdout: '', stderr: ''}
    }
    const item = (id: string, args: string[]): PlanItem => ({
      finding: finding(id, [], {check: 'session-mismatch'}),
      actions: [{kind: 'tmux', socket: '/tmp/tmux-1000/default', args, reason: 'dead pane'}],
    })
    const p = plan(w, [], [item('session-mismatch:dead-pane:%3', ['kill-pane', '-t', '%3']), item('evil', ['kill-server'])])
    let r = await run(w, p, {tmux})
    expect(tmuxCalls).toEqual([
      ['/tmp/tmux-1000/default', 'display-message', '-p', '-t', '%3', '#{pane_dead}'],
      ['/tmp/tmux-1000/default', 'kill-pane', '-t', '%3'],
    ])
    expect(r.outcomes.get('session-mismatch:dead-pane:%3')).toMatchObject({outcome: 'fixed'})
    expect(r.outcomes.get('evil')).toMatchObject({outcome: 'skipped'})
    expect(r.audit.map((e) => [e.event, e.outcome])).toEqual([
      ['tmux', 'fixed'],
      ['tmux', 'skipped'],
    ])
    tmuxCalls.length = 0
    dead = '0'
    r = await run(w, p, {tmux})
    expect(tmuxCalls.map((c) => c[1])).toEqual(['display-message'])
    expect(r.outcomes.get('session-mismatch:dead-pane:%3')).toMatchObject({outcome: 'skipped', detail: 'pane %3 is alive again: left as it is'})
  })

  it('removes a stale socket only when it is the user\'s and nobody listens', async () => {
    const w = world()
    const removed: string[] = []
    const sockets = (listening: boolean, uid = 1000) => ({
      inspect: () => ({isSocket: true, uid}),
      listening: async () => listening,
      unlink: (path: string) => void removed.push(path),
    })
    const p = plan(w, [], [{finding: finding('stale:1', []), actions: [{kind: 'remove-socket', path: '/tmp/tmux-1000/old', reason: 'stale'}]}])
    expect((await run(w, p, {sockets: sockets(true)})).outcomes.get('stale:1')?.outcome).toBe('skipped')
    expect((await run(w, p, {sockets: sockets(false, 1001)})).outcomes.get('stale:1')?.outcome).toBe('skipped')
    expect(removed).toEqual([])
    expect((await run(w, p, {sockets: sockets(false)})).outcomes.get('stale:1')?.outcome).toBe('fixed')
    expect(removed).toEqual(['/tmp/tmux-1000/old'])
  })
})
