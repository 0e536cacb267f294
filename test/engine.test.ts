/**
 * The remediation engine's safety protocol, driven through its seam (a simulated process table and clock):
 * which processes it signals, which it spares and why, in what order, and what it reports.
 */
import {describe, expect, it} from 'vitest'
import type {Finding, FixAction} from '../src/checks/api.js'
import {MemoryAudit, type AuditEntry, type AuditSink} from '../src/remediation/audit.js'
import {describeAuditFailure, executePlan, type EngineOptions} from '../src/remediation/engine.js'
import type {PlanItem, RemediationPlan} from '../src/remediation/plan.js'
import {createRules, DEFAULT_RULES} from '../src/rules/rules.js'
import type {HostFacts} from '../src/snapshot/types.js'
import type {Signal} from '../src/remediation/probe.js'
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
  return {
    id,
    check: id.split(':')[0],
    severity: 'error',
    message: id,
    reason: 'orphaned',
    pid: pids[0],
    pids,
    fixable: true,
    ...extra,
  }
}

/** One terminate-tree item per entry, targets pinned to what the world holds now (as detection saw it). */
function plan(
  w: FakeWorld,
  trees: Array<{id: string; pids: number[]; session?: string}>,
  extra: PlanItem[] = [],
): RemediationPlan {
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
  // Detection saw everything the world holds now: a process started later is a newcomer.
  const detectedAtTicks = Math.max(...[...w.procs.values()].map((x) => x.startTicks))
  return {items: [...items, ...extra], held: [], memory, host, detectedAtTicks}
}

const runWith = (w: FakeWorld, p: RemediationPlan, audit: AuditSink, over: Partial<EngineOptions> = {}) =>
  executePlan(p, {
    probe: w,
    clock: w.clock,
    audit,
    rules: createRules(DEFAULT_RULES),
    graceMs: 5000,
    invokingUid: 1000,
    doctorPid: DOCTOR,
    doctorAncestors: host.doctorAncestors,
    ...over,
  })

/** runWith into an in-memory audit log, returned with the result; the host's boot time is known. */
function run(w: FakeWorld, p: RemediationPlan, over: Partial<EngineOptions> = {}) {
  const audit = new MemoryAudit()
  return runWith(w, p, audit, {bootTimeMs: host.bootTimeMs, ...over}).then((r) => ({...r, audit: audit.entries}))
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

/** A finding whose fix is one tmux command on `socket` (session-mismatch's dead pane). */
function deadPane(id: string, socket: string, args: string[]): PlanItem {
  return {
    finding: finding(id, [], {check: 'session-mismatch'}),
    actions: [{kind: 'tmux', socket, args, reason: 'dead pane'}],
  }
}

/**
 * tmux servers for the engine: per socket, its file's owner and the pid the server reports (its process is in
 * the world); every pane asked about is dead unless `dead` says otherwise. Every tmux call is recorded.
 */
function tmuxServers(w: FakeWorld, sockets: Record<string, {pid: number | undefined; uid: number}>) {
  const out = {
    sockets,
    calls: [] as string[][],
    dead: '1',
    options: {} as Partial<EngineOptions>,
  }
  out.options = {
    tmux: async (socket: string, args: string[]) => {
      out.calls.push([socket, ...args])
      if (args.join(' ') === 'display-message -p #{pid}') {
        const pid = sockets[socket]?.pid
        return pid === undefined
          ? {code: 1, stdout: '', stderr: 'no server'}
          : {code: 0, stdout: `${pid}\n`, stderr: ''}
      }
      return args[0] === 'display-message'
        ? {code: 0, stdout: `${out.dead}\n`, stderr: ''}
        : {code: 0, stdout: '', stderr: ''}
    },
    sockets: {
      inspect: (path: string) => (sockets[path] ? {isSocket: true, uid: sockets[path].uid} : undefined),
      listening: async () => true,
      unlink: () => {},
    },
  }
  void w
  return out
}

describe('remediation engine', () => {
  it('stops every member root first, then SIGTERMs and SIGCONTs them, waits, and reports the tree fixed with the memory it freed', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const r = await run(w, plan(w, [{id: 'orphan-claude:200:2000', pids, session: 'gt-a'}]))
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual(
      ['SIGSTOP', 'SIGTERM', 'SIGCONT'].flatMap((s) => pids.map((pid) => `kill ${pid} ${s}`)),
    )
    expect(w.kills('SIGKILL')).toEqual([])
    for (const pid of pids) expect(w.procs.has(pid)).toBe(false)
    expect(r.outcomes.get('orphan-claude:200:2000')).toEqual({
      outcome: 'fixed',
      detail: 'ended 4 processes',
      signalled: [200, 201, 202, 203],
      freedBytes: 400 * MiB,
    })
    expect(r.audit.filter((e) => e.event === 'signal' && e.signal === 'SIGTERM')).toHaveLength(4)
    // The first line: the intent to stop the root, before anything was sent.
    expect(r.audit[0]).toMatchObject({
      event: 'intent',
      pid: 200,
      startTicks: 2000,
      signal: 'SIGSTOP',
      outcome: 'intended',
      command: 'claude',
      uid: 1000,
    })
    expect(r.audit.find((e) => e.event === 'signal' && e.signal === 'SIGTERM')).toMatchObject({
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
    expect(r.audit.filter((e) => e.event === 'result').map((e) => [e.pid, e.outcome])).toEqual(
      pids.map((p) => [p, 'ended']),
    )
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
    expect(r.audit.find((e) => e.event === 'skip')).toMatchObject({
      pid: 201,
      outcome: 'skipped',
      findingId: 'orphan-claude:200:2000',
    })
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
    expect(
      r.processes
        .filter((x) => x.pid !== 200)
        .every((x) => x.detail.startsWith('spared with its tree: the root PID 200 is spared')),
    ).toBe(true)
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
    expect(w.kills('SIGTERM')).toEqual([300])
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
    expect(w.kills('SIGTERM')).toEqual([200, 201, 203, 204])
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
    expect(w.kills('SIGTERM')).toEqual([200, 201, 203])
    expect(r.outcomes.get('orphan-claude:200')?.outcome).toBe('fixed')
    // The same adopter is not good enough for a process outside that lineage.
    const w2 = world()
    w2.add({pid: 60, comm: 'tini', argv: ['tini', '--', 'sh'], subreaper: true})
    w2.add({pid: 300, ppid: 1, comm: 'claude', argv: ['claude']})
    w2.add({pid: 301, ppid: 300, comm: 'node', argv: ['node', 'mcp']})
    const p2 = plan(w2, [{id: 'orphan-claude:300', pids: [300, 301]}])
    w2.procs.get(301)!.ppid = 60
    const r2 = await run(w2, p2)
    expect(w2.kills('SIGTERM')).toEqual([300])
    expect(r2.processes[1].detail).toBe(
      'no longer an orphan: its parent changed from PID 300 to tini (PID 60), a live process',
    )
  })

  it('spares the descendants of a spared member', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200:2000', pids}])
    w.procs.get(202)!.uid = 1001
    const r = await run(w, p)
    expect(w.kills('SIGTERM')).toEqual([200, 201])
    expect(r.processes.find((x) => x.pid === 203)?.detail).toBe('its parent PID 202 in this tree is spared')
  })

  it('a member its wrapper ends first (both got SIGTERM while stopped) counts as ended by its SIGTERM', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    w.procs.get(202)!.forwardsTermTo = [203]
    const r = await run(w, plan(w, [{id: 'orphan-claude:200', pids}]))
    expect(w.kills('SIGTERM')).toEqual([200, 201, 202, 203])
    // The wrapper, continued, passed its SIGTERM on: 203 was gone before its own SIGCONT, which is not sent.
    expect(w.kills('SIGCONT')).toEqual([200, 201, 202])
    expect(r.processes.find((x) => x.pid === 203)).toMatchObject({
      outcome: 'ended',
      detail: 'ended by SIGTERM',
      freedBytes: 100 * MiB,
    })
    expect(r.outcomes.get('orphan-claude:200')).toMatchObject({
      outcome: 'fixed',
      detail: 'ended 4 processes',
      signalled: [200, 201, 202, 203],
      freedBytes: 400 * MiB,
    })
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
    expect(r.outcomes.get('orphan-claude:300:3000')).toEqual({
      outcome: 'already-gone',
      detail: 'every process had already exited',
      signalled: [],
      freedBytes: 0,
    })
    expect(r.outcomes.get('orphan-claude:310:3100')?.outcome).toBe('already-gone')
    // Every tree is verified before any is signalled.
    expect(r.audit.filter((e) => e.event !== 'intent')).toEqual([
      expect.objectContaining({event: 'gone', pid: 310, outcome: 'already-gone'}),
      expect.objectContaining({
        event: 'signal',
        pid: 300,
        signal: 'SIGSTOP',
        outcome: 'already-gone',
        detail: 'ESRCH: it exited just before the signal',
      }),
    ])
  })

  it('reports a zombie whose live parent does not reap it, and counts one held by init as gone', async () => {
    const w = world()
    // 400 (an orphan under a stuck parent 450 that never reaps) and 410 (under init) both end on SIGTERM.
    w.add({pid: 450, comm: 'tmux: server', neverReaps: true})
    w.add({pid: 400, ppid: 450, comm: 'claude', argv: ['claude']})
    w.add({pid: 410, ppid: 1, comm: 'claude', argv: ['claude']})
    const r = await run(
      w,
      plan(w, [
        {id: 'orphan-claude:400:4000', pids: [400]},
        {id: 'orphan-claude:410:4100', pids: [410]},
      ]),
    )
    expect(w.procs.get(400)?.state).toBe('Z')
    expect(r.outcomes.get('orphan-claude:400:4000')).toMatchObject({
      outcome: 'skipped',
      detail: 'PID 400: zombie: parent PID 450 must reap it',
      signalled: [400],
    })
    expect(r.outcomes.get('orphan-claude:410:4100')?.outcome).toBe('fixed')
    expect(r.audit.find((e) => e.event === 'result' && e.pid === 400)).toMatchObject({
      outcome: 'zombie',
      detail: 'zombie: parent PID 450 must reap it',
    })
    // It waited the short post-kill window for the parent to reap, not the grace period.
    expect(w.now).toBeLessThanOrEqual(1000)
  })

  it('reports failed for a D-state process that survives SIGKILL', async () => {
    const w = world()
    w.add({pid: 500, comm: 'claude', argv: ['claude'], onTerm: 'ignore', onKill: 'stuck'})
    const r = await run(w, plan(w, [{id: 'orphan-claude:500:5000', pids: [500]}]))
    expect(w.ending()).toEqual(['kill 500 SIGTERM', 'kill 500 SIGKILL'])
    expect(r.outcomes.get('orphan-claude:500:5000')).toMatchObject({outcome: 'failed', signalled: [500], freedBytes: 0})
    expect(r.outcomes.get('orphan-claude:500:5000')?.detail).toMatch(/^PID 500: survived SIGKILL in state D/)
    expect(r.audit.at(-1)).toMatchObject({event: 'result', pid: 500, outcome: 'survived'})
  })

  it('SIGKILLs a TERM-ignoring member only after the grace period, then waits briefly', async () => {
    const w = world()
    w.add({pid: 600, comm: 'claude', argv: ['claude'], onTerm: 'ignore'})
    w.add({pid: 601, ppid: 600, comm: 'node', argv: ['node', 'mcp'], termDelayMs: 100})
    const r = await run(w, plan(w, [{id: 'orphan-claude:600:6000', pids: [600, 601]}]), {graceMs: 2000, pollMs: 50})
    const kills = w.calls.map((c, i) => [c, i] as const).filter(([c]) => / SIG(TERM|KILL)$/.test(c))
    expect(kills.map(([c]) => c)).toEqual(['kill 600 SIGTERM', 'kill 601 SIGTERM', 'kill 600 SIGKILL'])
    const slept = (upTo: number) =>
      w.calls
        .slice(0, upTo)
        .filter((c) => c.startsWith('sleep'))
        .reduce((n, c) => n + Number(c.split(' ')[1]), 0)
    // Both SIGTERMs before any wait; SIGKILL exactly when the 2 s grace is used up.
    expect(slept(kills[1][1])).toBe(0)
    expect(slept(kills[2][1])).toBe(2000)
    expect(r.outcomes.get('orphan-claude:600:6000')).toMatchObject({
      outcome: 'fixed',
      detail: 'ended 2 processes (1 by SIGKILL after the grace period)',
    })
    expect(
      r.audit
        .filter((e) => e.event === 'signal' && e.signal !== 'SIGSTOP' && e.signal !== 'SIGCONT')
        .map((e) => `${e.pid} ${e.signal}`),
    ).toEqual(['600 SIGTERM', '601 SIGTERM', '600 SIGKILL'])
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
    // At the end of the grace the TERM-ignoring claude has exited by itself and its pid belongs to a new
    // shell: the reads right before the second stop and the SIGKILL see the new start time.
    let reused = false
    const probe = {
      read: (pid: number) => {
        if (pid === 300 && w.now >= 100 && !reused) {
          reused = true
          w.exit(300)
          w.reuse(300, {ppid: 800})
        }
        return w.read(pid)
      },
      argv: (pid: number) => w.argv(pid),
      children: (pid: number) => w.children(pid),
      kill: (pid: number, s: Signal) => w.kill(pid, s),
    }
    const r = await executePlan(p, {
      probe,
      clock: w.clock,
      audit: new MemoryAudit(),
      rules: createRules(DEFAULT_RULES),
      graceMs: 100,
      invokingUid: 1000,
      doctorPid: DOCTOR,
      pollMs: 100,
    })
    expect(reused).toBe(true)
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual([
      'kill 300 SIGSTOP',
      'kill 300 SIGTERM',
      'kill 300 SIGCONT',
    ])
    expect(w.procs.get(300)?.comm).toBe('bash')
    expect(r.outcomes.get('orphan-claude:300')).toMatchObject({outcome: 'fixed', signalled: [300]})
  })

  it('a dry run verifies but signals nothing and writes no audit line', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    w.add({pid: 300, comm: 'claude', argv: ['claude'], uid: 1001})
    const r = await run(
      w,
      plan(w, [
        {id: 'orphan-claude:200', pids},
        {id: 'orphan-claude:300', pids: [300]},
      ]),
      {dryRun: true},
    )
    expect(w.kills()).toEqual([])
    expect(w.calls).toEqual([])
    expect(r.audit).toEqual([])
    expect(r.outcomes.get('orphan-claude:200')).toEqual({
      outcome: 'planned',
      detail: 'would end 4 processes (SIGTERM, then SIGKILL after 5 s)',
      signalled: [],
      freedBytes: 0,
    })
    expect(r.outcomes.get('orphan-claude:300')).toMatchObject({
      outcome: 'skipped',
      detail: 'spared PID 300: owned by uid 1001, not by you (uid 1000)',
    })
  })

  it('signals a process shared by two findings once', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const r = await run(
      w,
      plan(w, [
        {id: 'a:200', pids},
        {id: 'b:203', pids: [203]},
      ]),
    )
    expect(w.kills('SIGTERM')).toEqual([200, 201, 202, 203])
    expect(w.kills('SIGSTOP')).toEqual([200, 201, 202, 203])
    expect(r.outcomes.get('b:203')).toMatchObject({outcome: 'fixed', signalled: [203], freedBytes: 0})
    expect(r.outcomes.get('a:200')?.freedBytes).toBe(400 * MiB)
  })

  it('a finding whose fix crashed fails; the others proceed', async () => {
    const w = world()
    w.add({pid: 300, comm: 'claude', argv: ['claude']})
    const crashed: PlanItem = {finding: finding('plugin/x:1', [300]), actions: [], error: 'fix crashed: boom'}
    const r = await run(w, plan(w, [{id: 'orphan-claude:300', pids: [300]}], [crashed]))
    expect(r.outcomes.get('plugin/x:1')).toEqual({
      outcome: 'failed',
      detail: 'fix crashed: boom',
      signalled: [],
      freedBytes: 0,
    })
    expect(r.outcomes.get('orphan-claude:300')?.outcome).toBe('fixed')
  })

  it('kills a dead pane only while tmux still reports it dead, and runs no other tmux command', async () => {
    const w = world()
    const servers = tmuxServers(w, {'/tmp/tmux-1000/default': {pid: 100, uid: 1000}})
    const p = plan(
      w,
      [],
      [
        deadPane('session-mismatch:dead-pane:%3', '/tmp/tmux-1000/default', ['kill-pane', '-t', '%3']),
        deadPane('evil', '/tmp/tmux-1000/default', ['kill-server']),
      ],
    )
    let r = await run(w, p, servers.options)
    expect(servers.calls).toEqual([
      ['/tmp/tmux-1000/default', 'display-message', '-p', '#{pid}'],
      ['/tmp/tmux-1000/default', 'display-message', '-p', '-t', '%3', '#{pane_dead}'],
      ['/tmp/tmux-1000/default', 'kill-pane', '-t', '%3'],
    ])
    expect(r.outcomes.get('session-mismatch:dead-pane:%3')).toMatchObject({outcome: 'fixed'})
    expect(r.outcomes.get('evil')).toMatchObject({outcome: 'skipped'})
    // The intent is recorded (and flushed) before kill-pane runs.
    expect(r.audit.map((e) => [e.event, e.outcome])).toEqual([
      ['intent', 'intended'],
      ['tmux', 'fixed'],
      ['tmux', 'skipped'],
    ])
    servers.calls.length = 0
    servers.dead = '0'
    r = await run(w, p, servers.options)
    expect(servers.calls.map((c) => c[1])).toEqual(['display-message', 'display-message'])
    expect(r.outcomes.get('session-mismatch:dead-pane:%3')).toMatchObject({
      outcome: 'skipped',
      detail: 'pane %3 is alive again: left as it is',
    })
  })

  it("runs tmux commands only on the user's own server: socket owner and server process, read right before acting", async () => {
    const w = world()
    w.add({pid: 110, uid: 65534, comm: 'tmux: server', argv: ['tmux']})
    const servers = tmuxServers(w, {
      '/tmp/tmux-65534/default': {pid: 110, uid: 65534},
      // A socket file of root's, but the server answering on it runs as nobody.
      '/tmp/tmux-0/odd': {pid: 110, uid: 0},
      '/tmp/tmux-0/mute': {pid: undefined, uid: 0},
      '/tmp/tmux-0/ours': {pid: 100, uid: 0},
    })
    w.procs.get(100)!.uid = 0
    const p = plan(
      w,
      [],
      Object.keys(servers.sockets).map((socket) => deadPane(`dead:${socket}`, socket, ['kill-pane', '-t', '%1'])),
    )
    const asRoot = {...servers.options, invokingUid: 0}
    let r = await run(w, p, asRoot)
    expect(servers.calls.filter((c) => c[1] === 'kill-pane').map((c) => c[0])).toEqual(['/tmp/tmux-0/ours'])
    expect(r.outcomes.get('dead:/tmp/tmux-65534/default')).toMatchObject({
      outcome: 'skipped',
      detail:
        'the tmux server on /tmp/tmux-65534/default belongs to uid 65534 (its socket file), not to you (uid 0); pass --all-users to include other users',
    })
    expect(r.outcomes.get('dead:/tmp/tmux-0/odd')?.detail).toBe(
      'the tmux server on /tmp/tmux-0/odd belongs to uid 65534 (its process, PID 110), not to you (uid 0); pass --all-users to include other users',
    )
    expect(r.outcomes.get('dead:/tmp/tmux-0/mute')?.detail).toBe(
      'the tmux server on /tmp/tmux-0/mute did not tell its pid, so its owner cannot be verified',
    )
    expect(r.outcomes.get('dead:/tmp/tmux-0/ours')?.outcome).toBe('fixed')
    // Refusals are recorded like spared processes, with the reason.
    expect(r.audit.filter((e) => e.outcome === 'skipped').map((e) => e.socket)).toEqual([
      '/tmp/tmux-65534/default',
      '/tmp/tmux-0/odd',
      '/tmp/tmux-0/mute',
    ])

    // root with --all-users: every server.
    servers.calls.length = 0
    r = await run(w, p, {...asRoot, allUsers: true})
    expect(servers.calls.filter((c) => c[1] === 'kill-pane').map((c) => c[0])).toEqual(Object.keys(servers.sockets))
    // A user never acts on root's server, even when root's pane is dead.
    servers.calls.length = 0
    r = await run(w, p, servers.options)
    expect(servers.calls.filter((c) => c[1] === 'kill-pane')).toEqual([])
    expect(r.outcomes.get('dead:/tmp/tmux-0/ours')?.detail).toBe(
      'the tmux server on /tmp/tmux-0/ours belongs to uid 0 (its socket file), not to you (uid 1000)',
    )
  })

  it("removes a stale socket only when it is the user's and nobody listens", async () => {
    const w = world()
    const removed: string[] = []
    const sockets = (listening: boolean, uid = 1000) => ({
      inspect: () => ({isSocket: true, uid}),
      listening: async () => listening,
      unlink: (path: string) => void removed.push(path),
    })
    const p = plan(
      w,
      [],
      [
        {
          finding: finding('stale:1', []),
          actions: [{kind: 'remove-socket', path: '/tmp/tmux-1000/old', reason: 'stale'}],
        },
      ],
    )
    expect((await run(w, p, {sockets: sockets(true)})).outcomes.get('stale:1')?.outcome).toBe('skipped')
    expect((await run(w, p, {sockets: sockets(false, 1001)})).outcomes.get('stale:1')?.outcome).toBe('skipped')
    expect(removed).toEqual([])
    expect((await run(w, p, {sockets: sockets(false)})).outcomes.get('stale:1')?.outcome).toBe('fixed')
    expect(removed).toEqual(['/tmp/tmux-1000/old'])
  })
})

describe('multiplexer servers', () => {
  it('never signals a screen or zellij server, whatever a plan says', async () => {
    const w = world()
    w.add({pid: 600, comm: 'screen', argv: ['SCREEN', '-dmS', 'agents']})
    w.add({pid: 601, comm: 'zellij', argv: ['/usr/bin/zellij', '--server', '/run/user/1000/zellij/0.43.1/work']})
    const r = await run(
      w,
      plan(w, [
        {id: 'bad:600', pids: [600]},
        {id: 'bad:601', pids: [601]},
      ]),
    )
    expect(r.processes.map((p) => [p.pid, p.outcome, p.detail])).toEqual([
      [600, 'skipped', 'a screen or zellij server is never signalled'],
      [601, 'skipped', 'a screen or zellij server is never signalled'],
    ])
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual([])
  })
})

describe('container actions', () => {
  const ID = 'c'.repeat(64)
  function dockerPlan(w: FakeWorld, remove: boolean) {
    w.add({pid: 500, comm: 'docker', argv: ['docker', 'run', '-i', '--rm', 'mcp/x']})
    const p = plan(w, [{id: 'orphan-mcp:500', pids: [500]}])
    const stop: FixAction = {
      kind: 'stop-container',
      runtime: 'docker',
      id: ID,
      name: 'mcp-x',
      remove,
      client: {pid: 500, startTicks: w.procs.get(500)!.startTicks},
      reason: 'its container',
    }
    p.items[0].actions.push(stop)
    return p
  }
  function fakeDocker(answers: Record<string, {code: number; stderr?: string}> = {}) {
    const calls: string[] = []
    return {
      calls,
      run: async (runtime: 'docker' | 'podman', args: string[]) => {
        calls.push([runtime, ...args].join(' '))
        const a = answers[args[0]] ?? {code: 0}
        return {code: a.code, stdout: '', stderr: a.stderr ?? ''}
      },
    }
  }

  it('stops the container after its client is ended, intent on record first; rm only when --rm left it', async () => {
    const w = world()
    const docker = fakeDocker()
    const r = await run(w, dockerPlan(w, true), {containers: docker.run})
    expect(docker.calls).toEqual([`docker stop ${ID}`, `docker rm ${ID}`])
    expect(r.outcomes.get('orphan-mcp:500')?.outcome).toBe('fixed')
    const lines = r.audit.filter((e) => e.event === 'container' || (e.event === 'intent' && e.runtime))
    expect(lines.map((e) => [e.event, e.args?.[0], e.outcome])).toEqual([
      ['intent', 'stop', 'intended'],
      ['intent', 'rm', 'intended'],
      ['container', 'rm', 'fixed'],
    ])
  })

  it('"No such container" after the stop: --rm removed it; without --rm nothing is removed', async () => {
    let w = world()
    let docker = fakeDocker({rm: {code: 1, stderr: 'Error response from daemon: No such container: ' + ID}})
    let r = await run(w, dockerPlan(w, true), {containers: docker.run})
    expect(r.sideResults[0]).toMatchObject({outcome: 'fixed', detail: 'docker stop mcp-x (removed by --rm)'})
    w = world()
    docker = fakeDocker()
    r = await run(w, dockerPlan(w, false), {containers: docker.run})
    expect(docker.calls).toEqual([`docker stop ${ID}`])
  })

  it('a dry run asks nothing; a client the engine spared keeps its container', async () => {
    let w = world()
    let docker = fakeDocker()
    let r = await run(w, dockerPlan(w, true), {containers: docker.run, dryRun: true})
    expect(docker.calls).toEqual([])
    expect(r.sideResults[0].outcome).toBe('planned')
    w = world()
    docker = fakeDocker()
    const p = dockerPlan(w, true)
    w.procs.get(500)!.startTicks += 1 // PID reuse: not the client detection saw
    r = await run(w, p, {containers: docker.run})
    expect(docker.calls).toEqual([])
    expect(r.sideResults[0]).toMatchObject({outcome: 'skipped'})
  })

  it('a container is stopped only for the very client that was ended: a client named by another start time keeps it', async () => {
    const w = world()
    const docker = fakeDocker()
    const p = dockerPlan(w, true)
    const stop = p.items[0].actions.find((a) => a.kind === 'stop-container')!
    if (stop.kind === 'stop-container') stop.client = {...stop.client, startTicks: (stop.client.startTicks ?? 0) + 1}
    const r = await run(w, p, {containers: docker.run})
    expect(r.processes.map((x) => [x.pid, x.outcome])).toEqual([[500, 'ended']])
    expect(docker.calls).toEqual([])
    expect(r.sideResults[0]).toMatchObject({outcome: 'skipped'})
  })
})

/** An audit sink that writes its lines and flushes into the world's call log, so their order with the kills shows. */
class RecordingAudit implements AuditSink {
  readonly entries: Array<Omit<AuditEntry, 'time' | 'run'>> = []
  constructor(
    private readonly w: FakeWorld,
    /** Throws (like a full disk) on the write with this 0-based index, and every one after it. */
    private readonly failAt = Infinity,
  ) {}
  write(entry: Omit<AuditEntry, 'time' | 'run'>): void {
    if (this.entries.length >= this.failAt)
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})
    this.entries.push(entry)
    this.w.calls.push(`audit ${entry.event} ${entry.pid ?? entry.socket} ${entry.signal ?? ''}`.trim())
  }
  flush(): void {
    this.w.calls.push('flush')
  }
}

/** Every kill in the world's calls came after its own intent line and a flush of it. */
function everyKillRecordedFirst(calls: string[], except: (call: string) => boolean = () => false): void {
  calls.forEach((call, i) => {
    if (!call.startsWith('kill ') || except(call)) return
    const [, pid, signal] = call.split(' ')
    const intent = calls.lastIndexOf(`audit intent ${pid} ${signal}`, i)
    expect(intent, `intent before ${call}`).toBeGreaterThanOrEqual(0)
    expect(calls.slice(intent, i), `flush between the intent and ${call}`).toContain('flush')
  })
}

describe('freezing a tree before ending it (issue 18, item 16)', () => {
  it('stops every member, stops the children they started since detection, then SIGTERMs and SIGCONTs them all', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    // After detection an MCP server started a helper, and the helper one more.
    const late = w.fork(203, {comm: 'node', argv: ['node', 'helper.js']})!.pid
    const later = w.fork(late)!.pid
    const r = await run(w, p)
    const frozen = [...pids, late, later]
    expect(w.calls.filter((c) => c.startsWith('kill'))).toEqual([
      ...pids.map((pid) => `kill ${pid} SIGSTOP`),
      `kill ${late} SIGSTOP`,
      `kill ${later} SIGSTOP`,
      ...frozen.map((pid) => `kill ${pid} SIGTERM`),
      ...frozen.map((pid) => `kill ${pid} SIGCONT`),
    ])
    expect(w.procs.size).toBe(4)
    expect(r.outcomes.get('orphan-claude:200')).toMatchObject({
      outcome: 'fixed',
      detail: 'ended 4 processes; 2 processes started after detection ended with their tree',
      signalled: frozen,
      freedBytes: 400 * MiB,
    })
    expect(r.processes.filter((x) => x.newcomer).map((x) => [x.pid, x.outcome, x.command])).toEqual([
      [late, 'ended', 'node helper.js'],
      [later, 'ended', 'sleep 60'],
    ])
    // Not in the plan the user saw: each is recorded as a newcomer before it is stopped.
    expect(r.audit.filter((e) => e.event === 'newcomer').map((e) => [e.pid, e.detail])).toEqual([
      [late, 'not in the plan: a child of PID 203 of this tree'],
      [later, `not in the plan: a child of PID ${late} of this tree`],
    ])
  })

  it('a member that forks during the grace is stopped again and SIGKILLed with everything it started: nothing escapes to init', async () => {
    const w = world()
    w.add({pid: 600, comm: 'claude', argv: ['claude'], onTerm: 'ignore', forkEveryMs: 50, forkAs: {onTerm: 'ignore'}})
    const r = await run(w, plan(w, [{id: 'orphan-claude:600', pids: [600]}]), {graceMs: 1000, pollMs: 25})
    expect([...w.procs.values()].filter((x) => x.comm === 'sleep')).toEqual([])
    expect(w.procs.size).toBe(4)
    const kills = w.calls.filter((c) => c.startsWith('kill'))
    const children = w.kills('SIGSTOP').filter((pid) => pid !== 600)
    expect(children).toHaveLength(20)
    // After the grace: the parent stopped first, then each child; then every SIGKILL, the parent's last.
    expect(kills.slice(3)).toEqual([
      'kill 600 SIGSTOP',
      ...children.map((pid) => `kill ${pid} SIGSTOP`),
      ...[...children].reverse().map((pid) => `kill ${pid} SIGKILL`),
      'kill 600 SIGKILL',
    ])
    expect(r.outcomes.get('orphan-claude:600')).toMatchObject({
      outcome: 'fixed',
      detail:
        'ended 1 process (1 by SIGKILL after the grace period); 20 processes started after detection ended with their tree',
    })
  })

  it("SIGKILLs the deepest first: a survivor continued by the hangup its session leader's death causes cannot fork first", async () => {
    const w = world()
    w.hangupOnLeaderExit = true
    w.add({pid: 600, comm: 'claude', argv: ['claude'], onTerm: 'ignore'})
    w.add({pid: 601, ppid: 600, comm: 'node', argv: ['node', 'mcp'], onTerm: 'ignore'})
    const p = plan(w, [{id: 'orphan-claude:600', pids: [600, 601]}])
    // From the SIGCONT after its SIGTERM on, 601 starts a child whenever it is continued.
    w.beforeKill.set(600, () => (w.procs.get(601)!.forksOnCont = true))
    await run(w, p, {graceMs: 1000})
    expect(w.ending().slice(-2)).toEqual(['kill 601 SIGKILL', 'kill 600 SIGKILL'])
    expect([...w.procs.values()].filter((x) => x.comm === 'sleep')).toEqual([])
    expect(w.procs.size).toBe(4)
  })

  it("verifies each newcomer like a target: another user's, a live pane's, a tmux server, one older than detection and a reused pid are left alone", async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    // In the snapshot but not in the plan: detection left it out, so the engine does not overrule it.
    w.add({pid: 260, ppid: 201, comm: 'node', argv: ['node', 'old-helper.js']})
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    const theirs = w.fork(201, {uid: 1001, comm: 'sudo'})!.pid
    const pane = w.fork(201, {comm: 'bash'})!.pid
    const server = w.fork(202, {comm: 'tmux: server'})!.pid
    const good = w.fork(202)!.pid
    const reused = w.fork(202)!.pid
    // Between the listing of 202's children and the read of this one, it exited and its pid went to a shell elsewhere.
    w.beforeRead.set(reused, () => {
      w.procs.delete(reused)
      w.reuse(reused, {ppid: 800, startTicks: 2_000_000})
    })
    const r = await run(w, p, {livePanes: new Set([pane])})
    const signalled = new Set(w.kills())
    for (const pid of [theirs, pane, server, 260, reused]) expect(signalled.has(pid), `PID ${pid}`).toBe(false)
    expect(signalled.has(good)).toBe(true)
    const detail = (pid: number) => r.processes.find((x) => x.pid === pid)?.detail
    expect(detail(theirs)).toBe('owned by uid 1001, not by you (uid 1000)')
    expect(detail(pane)).toBe('the process of a live tmux pane is never signalled')
    expect(detail(server)).toBe('a tmux server is never signalled')
    expect(detail(260)).toBe('running since before detection, yet not in the plan: left alone')
    expect(r.processes.find((x) => x.pid === reused)).toBeUndefined()
    expect(w.procs.get(reused)?.comm).toBe('bash')
    // What is left of the tree is said, not hidden behind "fixed".
    expect(r.outcomes.get('orphan-claude:200')?.outcome).toBe('skipped')
    expect(r.audit.filter((e) => e.event === 'skip').map((e) => e.pid)).toEqual([260, theirs, pane, server])
  })

  it("writes each signal's intent, and flushes it, before sending the signal", async () => {
    const w = world()
    const pids = orphanTree(w, 200, {ignoreTerm: true})
    w.procs.get(200)!.forkEveryMs = 100
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    w.fork(201)
    const audit = new RecordingAudit(w)
    await runWith(w, p, audit, {graceMs: 500})
    const kills = w.calls.filter((c) => c.startsWith('kill'))
    expect(new Set(kills.map((c) => c.split(' ')[2]))).toEqual(new Set(['SIGSTOP', 'SIGTERM', 'SIGCONT', 'SIGKILL']))
    everyKillRecordedFirst(w.calls)
    // ...and its outcome after it.
    w.calls.forEach((c, i) => {
      if (c.startsWith('kill ')) expect(w.calls[i + 1]).toBe(`audit signal ${c.slice(5)}`)
    })
  })

  it('waits for each SIGSTOP to take effect before reading children: a fork in progress is not missed', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    // 202 was running elsewhere when stopped: it completes a fork before it shows state T.
    let child: number | undefined
    Object.assign(w.procs.get(202)!, {stopsAfterReads: 2, whileStopping: () => (child ??= w.fork(202)?.pid)})
    const r = await run(w, p)
    expect(child).toBeDefined()
    expect(w.calls.filter((c) => c.startsWith(`kill ${child} `))).toEqual([
      `kill ${child} SIGSTOP`,
      `kill ${child} SIGTERM`,
      `kill ${child} SIGCONT`,
    ])
    expect(r.processes.find((x) => x.pid === child)).toMatchObject({newcomer: true, outcome: 'ended'})
  })

  it('verifies a member again right before its first signal: one reused since its tree was verified is spared', async () => {
    const w = world()
    const a = orphanTree(w, 200)
    w.add({pid: 300, comm: 'claude', argv: ['claude']})
    w.add({pid: 301, ppid: 300, comm: 'node', argv: ['node', 'mcp']})
    const p = plan(w, [
      {id: 'a', pids: a},
      {id: 'b', pids: [300, 301]},
    ])
    // Both trees are verified before either is stopped; while the first is being ended, 300 exits and its pid is reused.
    w.beforeKill.set(203, () => {
      w.exit(300)
      w.reuse(300, {ppid: 800})
    })
    const r = await run(w, p)
    expect(w.calls.filter((c) => c.startsWith('kill 300') || c.startsWith('kill 301'))).toEqual([])
    expect(r.processes.find((x) => x.pid === 300)?.detail).toMatch(/^PID reused: PID 300 is now another process/)
    expect(r.processes.find((x) => x.pid === 301)?.detail).toMatch(/^spared with its tree: the root PID 300 is spared/)
    expect(r.audit.filter((e) => e.pid === 300).map((e) => e.event)).toEqual(['intent', 'intent', 'intent', 'skip'])
  })

  it("puts every tree's intents on disk with one flush, not one per tree", async () => {
    const w = world()
    const trees = Array.from({length: 50}, (_, i) => ({
      id: `t${i}`,
      pids: orphanTree(w, 10_000 + i * 10, {ignoreTerm: i % 5 === 0}),
    }))
    await runWith(w, plan(w, trees), new RecordingAudit(w), {graceMs: 2000})
    // One before the SIGSTOPs, SIGTERMs and SIGCONTs of all 50 trees, one before the second stop and SIGKILL of the 10 that stayed.
    expect(w.calls.filter((c) => c === 'flush')).toHaveLength(2)
    expect(w.kills('SIGKILL')).toHaveLength(40)
    everyKillRecordedFirst(w.calls)
  })

  it('reports a child that escaped before the tree was stopped (init adopted it), and does not signal it', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const p = plan(w, [{id: 'orphan-claude:200', pids}])
    const escaped = w.fork(202, {comm: 'node', argv: ['node', 'helper.js']})!.pid
    // Its parent, the wrapper, exited before the fix: init adopted it (and 203, still ended as a member).
    w.exit(202)
    const r = await run(w, p)
    expect(w.kills()).not.toContain(escaped)
    expect(w.procs.get(escaped)?.ppid).toBe(1)
    expect(r.processes.find((x) => x.pid === escaped)).toMatchObject({outcome: 'escaped', signals: []})
    expect(r.outcomes.get('orphan-claude:200')).toMatchObject({
      outcome: 'failed',
      detail: `1 process started after detection escaped the tree before it was stopped (PID ${escaped}; now children of init or a subreaper): not signalled; ended 3 processes; 1 process had already exited`,
    })
    expect(r.audit.find((e) => e.event === 'escaped')).toMatchObject({
      pid: escaped,
      outcome: 'not-signalled',
      command: 'node helper.js',
    })
  })

  it('a member that cannot be stopped is refused as before; the rest of its tree still ends', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    w.procs.get(201)!.refuses = true
    const r = await run(w, plan(w, [{id: 'orphan-claude:200', pids}]))
    expect(w.calls.filter((c) => c.startsWith('kill 201'))).toEqual(['kill 201 SIGSTOP'])
    expect(r.processes.find((x) => x.pid === 201)).toMatchObject({
      outcome: 'survived',
      detail: 'SIGSTOP refused (EPERM)',
    })
    expect(w.kills('SIGTERM')).toEqual([200, 202, 203])
    expect(r.outcomes.get('orphan-claude:200')?.outcome).toBe('failed')
  })

  it('a SIGINT to the doctor while a tree is stopped waits until the tree is continued', async () => {
    const w = world()
    const pids = orphanTree(w, 200)
    const before = process.listenerCount('SIGINT')
    let during = 0
    w.beforeKill.set(201, () => (during = process.listenerCount('SIGINT')))
    await run(w, plan(w, [{id: 'orphan-claude:200', pids}]))
    expect(during).toBe(before + 1)
    expect(process.listenerCount('SIGINT')).toBe(before)
  })
})

describe('the audit log before every signal (issue 18, item 7)', () => {
  /** Two trees: 600 ignores SIGTERM (with 601), 700 and 701 do not. */
  const twoTrees = () => {
    const w = world()
    w.add({pid: 600, comm: 'claude', argv: ['claude'], onTerm: 'ignore'})
    w.add({pid: 601, ppid: 600, comm: 'node', argv: ['node', 'mcp']})
    w.add({pid: 700, comm: 'claude', argv: ['claude']})
    w.add({pid: 701, ppid: 700, comm: 'node', argv: ['node', 'mcp']})
    return {
      w,
      p: plan(w, [
        {id: 'orphan-claude:600', pids: [600, 601]},
        {id: 'orphan-claude:700', pids: [700, 701]},
      ]),
    }
  }

  it('when the log fills up, signals nothing more: no SIGKILL, the next tree resumed as it was, and says so', async () => {
    const {w, p} = twoTrees()
    // Both trees' twelve intents and the first tree's six outcomes fit; the line saying 700 was stopped does not.
    const r = await runWith(w, p, new RecordingAudit(w, 18), {graceMs: 1000})
    // 700's SIGSTOP went out before its line failed: it is continued (unrecorded), nothing else.
    expect(w.calls.filter((c) => c.startsWith('kill 7'))).toEqual(['kill 700 SIGSTOP', 'kill 700 SIGCONT'])
    expect(w.kills('SIGKILL')).toEqual([])
    expect(r.auditFailure).toEqual({code: 'ENOSPC', signalled: 2, notSignalled: 2})
    expect(describeAuditFailure('/s/actions.jsonl', r.auditFailure!)).toBe(
      'the audit log /s/actions.jsonl could not be written (ENOSPC): stopped after signalling 2 processes; 2 were not signalled',
    )
    // The SIGTERMed are watched to the end of the grace, not SIGKILLed.
    expect(w.now).toBe(1000)
    expect(r.outcomes.get('orphan-claude:600')).toMatchObject({outcome: 'failed'})
    expect(r.processes.find((x) => x.pid === 600)?.detail).toBe(
      'still running after SIGTERM: no SIGKILL followed, as the audit log could not be written (ENOSPC)',
    )
    expect(r.processes.find((x) => x.pid === 601)?.outcome).toBe('ended')
    expect(r.outcomes.get('orphan-claude:700')).toMatchObject({
      outcome: 'failed',
      detail: '2 processes not signalled: the audit log could not be written',
    })
    expect(r.processes.find((x) => x.pid === 700)).toMatchObject({
      outcome: 'skipped',
      unrecorded: true,
      detail: 'not signalled: the audit log could not be written (ENOSPC)',
    })
    expect(w.procs.get(700)?.state).toBe('S')
  })

  it('whenever the log fails, every signal sent was recorded first and no process is left stopped', async () => {
    // Every point of failure of a full run: a tree with a newcomer, one that forks in the grace, one plain.
    const scene = () => {
      const w = world()
      const a = orphanTree(w, 200)
      w.add({
        pid: 600,
        comm: 'claude',
        argv: ['claude'],
        onTerm: 'ignore',
        forkEveryMs: 200,
        forkAs: {onTerm: 'ignore'},
      })
      w.add({pid: 700, comm: 'claude', argv: ['claude']})
      const p = plan(w, [
        {id: 'a', pids: a},
        {id: 'b', pids: [600]},
        {id: 'c', pids: [700]},
      ])
      w.fork(201)
      return {w, p}
    }
    const full = scene()
    const whole = new RecordingAudit(full.w)
    await runWith(full.w, full.p, whole, {graceMs: 1000})
    expect(whole.entries.length).toBeGreaterThan(40)
    for (let k = 0; k < whole.entries.length; k++) {
      const {w, p} = scene()
      const r = await runWith(w, p, new RecordingAudit(w, k), {graceMs: 1000})
      expect(r.auditFailure?.code, `failing at write ${k}`).toBe('ENOSPC')
      expect(
        [...w.procs.values()].filter((x) => x.stopped).map((x) => x.pid),
        `stopped after failing at write ${k}`,
      ).toEqual([])
      // The only unrecorded signal: the SIGCONT that undoes this run's own SIGSTOP.
      const failedAt = w.calls.findIndex(
        (c, i) => c.startsWith('kill ') && !w.calls.slice(0, i).includes(`audit intent ${c.slice(5)}`),
      )
      const unrecorded = failedAt < 0 ? [] : w.calls.slice(failedAt).filter((c) => c.startsWith('kill '))
      expect(
        unrecorded.every((c) => c.endsWith(' SIGCONT')),
        `failing at write ${k}: ${unrecorded.join(', ')}`,
      ).toBe(true)
      everyKillRecordedFirst(w.calls, (c) => unrecorded.includes(c))
      expect(w.kills('SIGKILL').length, `no SIGKILL after failing at write ${k}`).toBeLessThanOrEqual(
        full.w.kills('SIGKILL').length,
      )
    }
  })

  it('a flush that fails (EIO) counts as a write that failed', async () => {
    const {w, p} = twoTrees()
    const audit = new RecordingAudit(w)
    audit.flush = () => {
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), {code: 'EIO'})
    }
    const r = await runWith(w, p, audit)
    expect(w.kills()).toEqual([])
    expect(r.auditFailure).toEqual({code: 'EIO', signalled: 0, notSignalled: 4})
  })

  it('runs no tmux command it could not record', async () => {
    const w = world()
    const servers = tmuxServers(w, {'/tmp/tmux-1000/default': {pid: 100, uid: 1000}})
    const p = plan(w, [], [deadPane('dead', '/tmp/tmux-1000/default', ['kill-pane', '-t', '%3'])])
    const r = await runWith(w, p, new RecordingAudit(w, 0), servers.options)
    expect(servers.calls.filter((c) => c[1] === 'kill-pane')).toEqual([])
    expect(r.outcomes.get('dead')).toMatchObject({
      outcome: 'failed',
      detail: 'not run: the audit log could not be written (ENOSPC)',
    })
  })
})
