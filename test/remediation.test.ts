/**
 * Everything around the engine: the plan built from a diagnosis, the report after a fix, the exit codes,
 * the audit log, the lock, and the flags that may refuse before anything runs.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import orphanClaude from '../checks/orphan-claude.js'
import orphanMcp from '../checks/orphan-mcp.js'
import orphanMemory from '../checks/orphan-memory.js'
import sessionMismatch from '../checks/session-mismatch.js'
import {defineCheck, type RegisteredCheck} from '../src/checks/api.js'
import {runChecks} from '../src/checks/runner.js'
import {defaultConfig} from '../src/config/config.js'
import type {Diagnosis} from '../src/doctor.js'
import {DoctorError} from '../src/errors.js'
import {AuditLog} from '../src/remediation/audit.js'
import {fixRequest} from '../src/cli/fix-flow.js'
import {parseSeconds} from '../src/cli/seconds.js'
import {planRemediation, plannedOtherActions, plannedProcesses} from '../src/remediation/plan.js'
import {fixedReport, plannedReport} from '../src/report/fix-report.js'
import {nextStep} from '../src/render/table.js'
import {procProbe} from '../src/remediation/probe.js'
import {tmuxServerRefusal, type ServerOwnership} from '../src/remediation/server-ownership.js'
import {stateDir} from '../src/state-dir.js'
import {renderFixed, renderPlan} from '../src/render/fix.js'
import {buildReport, exitCodeFor, type FixOutcome} from '../src/report/model.js'
import {createRules} from '../src/rules/rules.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {Machine} from './support/machine.js'

const MCP = 'node /home/u/.npm/_npx/1/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js'
const builtins: RegisteredCheck[] = [orphanClaude, orphanMcp, orphanMemory, sessionMismatch].map((check) => ({
  check,
  source: {kind: 'built-in'},
}))

/** The incident: a killed session's claude under the tmux server, one under init, an npm-exec MCP tree, a dead pane. */
function incident(): Snapshot {
  const m = new Machine()
  const server = m.server({pid: 100})
  m.pane(server, 'gt-keep', {pid: 101, cmd: 'claude', mib: 300})
  m.proc({pid: 102, ppid: 101, cmd: MCP, mib: 40, env: {CLAUDECODE: '1'}})
  m.pane(server, 'gt-dead', {pid: 150, cmd: 'bash', dead: true})
  m.proc({pid: 200, ppid: 100, cmd: 'claude', mib: 400, env: {TMUX: `${server.socket},100,7`, TMUX_PANE: '%9'}})
  m.proc({pid: 201, ppid: 200, cmd: MCP, mib: 50, env: {CLAUDECODE: '1'}})
  m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 350})
  m.proc({pid: 400, ppid: 1, cmd: 'npm exec @modelcontextprotocol/server-filesystem', mib: 30, env: {CLAUDECODE: '1'}})
  m.proc({pid: 401, ppid: 400, cmd: MCP, mib: 60, env: {CLAUDECODE: '1'}})
  m.proc({pid: 500, ppid: 1, cmd: 'tail -f /var/log/mcp-server.log'})
  return m.snapshot()
}

async function diagnosisOf(snapshot: Snapshot, checks = builtins): Promise<Diagnosis> {
  const config = defaultConfig()
  const results = await runChecks(checks, snapshot, {config})
  const report = buildReport({
    snapshot,
    results,
    rules: createRules(config.rules),
    tool: {name: 'gt-doctor', version: '0.0.0'},
  })
  return {config, checks, snapshot, results, report}
}

describe('remediation plan', () => {
  it('turns every fixable orphan finding into one terminate-tree action, root first', async () => {
    const plan = planRemediation(await diagnosisOf(incident()))
    expect(plan.items.map((i) => i.finding.id)).toEqual([
      'orphan-claude:200:2000',
      'orphan-claude:300:3000',
      'orphan-mcp:400:4000',
    ])
    expect(plan.items.every((i) => i.error === undefined)).toBe(true)
    expect(plannedProcesses(plan).map((p) => [p.pid, p.root, p.memoryBytes! / 1024 ** 2])).toEqual([
      [200, true, 400],
      [201, false, 50],
      [300, true, 350],
      [400, true, 30],
      [401, false, 60],
    ])
    const [first] = plan.items[0].actions
    expect(first).toMatchObject({
      kind: 'terminate-tree',
      targets: [{pid: 200, startTicks: 2000, ppid: 100, uid: 1000, command: 'claude'}, {pid: 201}],
    })
  })

  it('leaves session-mismatch alone unless it is named with --only', async () => {
    let plan = planRemediation(await diagnosisOf(incident()))
    expect(plan.held.map((h) => [h.finding.id, h.why])).toEqual([
      ['session-mismatch:dead-pane:/tmp/tmux-1000/default:%1', 'fixed only when named: --fix --only session-mismatch'],
    ])
    expect(plannedOtherActions(plan)).toEqual([])
    plan = planRemediation(await diagnosisOf(incident()), {only: ['session-mismatch']})
    expect(plan.held).toEqual([])
    expect(plannedOtherActions(plan).map((a) => a.action)).toEqual([
      {
        kind: 'tmux',
        socket: '/tmp/tmux-1000/default',
        args: ['kill-pane', '-t', '%1'],
        reason: 'Dead pane %1 in session gt-dead kept by remain-on-exit',
      },
    ])
  })

  it('a plugin fix that throws, or targets a process its finding does not list, fails alone', async () => {
    const plugin = (
      id: string,
      fix: () => never | ReturnType<NonNullable<RegisteredCheck['check']['fix']>>,
    ): RegisteredCheck => ({
      check: defineCheck({
        id,
        title: id,
        description: id,
        fixable: true,
        detect: () => [
          {
            id: `${id}:300`,
            check: id,
            severity: 'error',
            message: 'm',
            reason: 'r',
            pid: 300,
            pids: [300],
            fixable: true,
          },
        ],
        fix,
      }),
      source: {kind: 'plugin', name: `${id}@1.0.0`},
    })
    const thrower = plugin('thrower', () => {
      throw new Error('boom\nstack')
    })
    const greedy = plugin('greedy', () => [
      {kind: 'terminate-tree', targets: [{pid: 101, ppid: 100, command: 'claude'}], reason: 'x'},
    ])
    // A container of a client in another finding's tree is not this finding's to stop.
    const borrower = plugin('borrower', () => [
      {kind: 'terminate-tree', targets: [{pid: 300, ppid: 1, command: 'x'}], reason: 'x'},
      {kind: 'stop-container', runtime: 'docker', id: 'c'.repeat(64), remove: false, client: {pid: 101}, reason: 'x'},
    ])
    const plan = planRemediation(await diagnosisOf(incident(), [...builtins, thrower, greedy, borrower]))
    expect(plan.items.find((i) => i.finding.id === 'thrower:300')).toMatchObject({
      actions: [],
      error: 'fix crashed: boom',
    })
    expect(plan.items.find((i) => i.finding.id === 'greedy:300')).toMatchObject({
      actions: [],
      error: 'malformed fix: the fix targets PID 101, which its finding does not list',
    })
    expect(plan.items.find((i) => i.finding.id === 'borrower:300')).toMatchObject({
      actions: [],
      error: 'malformed fix: the fix stops the container of PID 101, which its finding does not list',
    })
    expect(plan.items.filter((i) => !i.error)).toHaveLength(3)
  })

  it('renders every process it will signal with command, session, memory and why', async () => {
    const plan = planRemediation(await diagnosisOf(incident()))
    const text = renderPlan(plan, {color: false, graceMs: 5000, width: 160})
    expect(text).toContain('Plan: end 5 processes in 3 trees (890 MiB): SIGTERM, then SIGKILL after 5 s')
    expect(text).toMatch(/│ 200 +│ claude +│/)
    expect(text).toMatch(/│ +└ 201 +│ node .*│ 50 MiB +│ in the tree of PID/)
    expect(text).toContain('│ node …/@modelcontextprotoc')
    // Fitted to the width it is given (the terminal's, 80 when piped): no line wider.
    for (const width of [60, 80, 120])
      expect(
        renderPlan(plan, {color: false, graceMs: 5000, width})
          .split('\n')
          .filter((l) => [...l].length > width),
      ).toEqual([])
    expect(text).toContain('in the tree of PID 200')
    expect(text).toContain('its parent is the tmux server (pid 100)')
    expect(text).toContain('Left alone: 1 finding (fixed only when named: --fix --only session-mismatch)')
    expect(text).not.toMatch(/\u001b\[/)
  })
})

describe('report after a fix', () => {
  const outcome = (o: FixOutcome['outcome'], freedBytes = 0): FixOutcome => ({
    outcome: o,
    detail: o,
    signalled: [],
    freedBytes,
  })

  it('shows the residual state, what was fixed, and the memory freed', async () => {
    const before = (await diagnosisOf(incident())).report
    const m = new Machine()
    m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 350})
    const after = (await diagnosisOf(m.snapshot())).report
    const outcomes = new Map([
      ['orphan-claude:200:2000', outcome('fixed', 450)],
      ['orphan-claude:300:3000', outcome('skipped')],
      ['orphan-mcp:400:4000', outcome('already-gone')],
    ])
    const report = fixedReport(before, after, outcomes)
    expect(report.summary).toMatchObject({fixed: 1, freedMemoryBytes: 450, orphanClaude: 1})
    expect(report.fixed?.map((f) => [f.id, f.fix?.outcome])).toEqual([
      ['orphan-claude:200:2000', 'fixed'],
      ['orphan-claude:300:3000', 'skipped'],
      ['orphan-mcp:400:4000', 'already-gone'],
    ])
    // The spared orphan is still there, and says why it is.
    const left = report.checks.find((c) => c.id === 'orphan-claude')!.findings
    expect(left.map((f) => [f.id, f.fix?.outcome])).toEqual([['orphan-claude:300:3000', 'skipped']])
    expect(exitCodeFor(report)).toBe(1)
    expect(renderFixed(report, {color: false, width: 100})).toMatch(/orphan-claude +│ fixed +│ 200 \(\+1\)/)
    for (const width of [40, 80])
      expect(
        renderFixed(report, {color: false, width})
          .split('\n')
          .filter((l) => [...l].length > width),
      ).toEqual([])

    const clean = fixedReport(before, (await diagnosisOf(new Machine().snapshot())).report, outcomes)
    expect(exitCodeFor(clean)).toBe(0)
    // A failed action is exit 3 even when the re-check no longer sees its process.
    const failed = fixedReport(
      before,
      (await diagnosisOf(new Machine().snapshot())).report,
      new Map([['orphan-claude:200:2000', outcome('failed')]]),
    )
    expect(exitCodeFor(failed)).toBe(3)
  })

  it('a dry run marks each planned finding and changes nothing else', async () => {
    const before = (await diagnosisOf(incident())).report
    const report = plannedReport(before, new Map([['orphan-claude:200:2000', outcome('planned')]]))
    expect(report.summary).toEqual(before.summary)
    expect(report.fixed).toBeUndefined()
    expect(report.checks[0].findings.map((f) => f.fix?.outcome)).toEqual(['planned', undefined])
    expect(exitCodeFor(report)).toBe(1)
  })

  it('the closing line after a dry run says to carry out the plan; after a fix, nothing is left to say', async () => {
    const before = (await diagnosisOf(incident())).report
    const planned = new Map(
      before.checks.flatMap((c) => c.findings.filter((f) => f.fixable).map((f) => [f.id, outcome('planned')])),
    )
    expect(nextStep(before)).toMatch(
      /^Next: run `gt-doctor --fix` to fix \d+ findings .*--dry-run` shows the plan first\)\.$/,
    )
    expect(nextStep(plannedReport(before, planned))).toMatch(
      /^Next: run `gt-doctor --fix` to carry out this plan: fix \d+ findings and free [\d.]+ \w+\.$/,
    )
    const done = new Map([...planned.keys()].map((id) => [id, outcome('fixed')]))
    expect(nextStep(plannedReport(before, done))).toBeUndefined()
  })
})

describe('fix flags', () => {
  const tty = {stdinIsTTY: true, uid: 1000}
  it('asks for nothing unless --fix or --dry-run', () => {
    expect(fixRequest({}, tty)).toBeUndefined()
    expect(() => fixRequest({yes: true}, tty)).toThrow('--yes applies only with --fix')
  })
  it('refuses to fix without a terminal unless --yes, with exit 2', () => {
    const refuse = () => fixRequest({fix: true}, {stdinIsTTY: false, uid: 1000})
    expect(refuse).toThrow(DoctorError)
    expect(refuse).toThrow(
      '--fix asks for confirmation but stdin is not a terminal: pass --yes to fix without asking, or --dry-run to only see the plan',
    )
    try {
      refuse()
    } catch (e) {
      expect((e as DoctorError).exitCode).toBe(2)
    }
    expect(fixRequest({fix: true, yes: true}, {stdinIsTTY: false, uid: 1000})).toMatchObject({
      yes: true,
      dryRun: false,
      graceMs: 5000,
    })
    expect(fixRequest({'dry-run': true}, {stdinIsTTY: false, uid: 1000})).toMatchObject({dryRun: true})
  })
  it('--grace and the other second flags take plain decimal seconds only', () => {
    expect([
      parseSeconds('0.5', 0, 3600),
      parseSeconds('2', 0, 3600),
      parseSeconds('10', 0, 3600),
      parseSeconds('0', 0, 3600),
    ]).toEqual([0.5, 2, 10, 0])
    for (const bad of ['0x10', '1e3', ' 5', '5 ', 'Infinity', '-1', '', '+5', '0b1', '5s', '3601']) {
      expect(() => parseSeconds(bad, 0, 3600), JSON.stringify(bad)).toThrow(
        `expected seconds from 0 to 3600 (a decimal number like 0.5 or 10), got "${bad}"`,
      )
    }
  })

  it('takes --grace in seconds and --all-users only from root', () => {
    expect(fixRequest({fix: true, grace: 0.5}, tty)?.graceMs).toBe(500)
    expect(() => fixRequest({fix: true, 'all-users': true}, tty)).toThrow('--all-users needs root (you are uid 1000)')
    expect(fixRequest({fix: true, 'all-users': true}, {stdinIsTTY: true, uid: 0})?.allUsers).toBe(true)
  })
})

// The fix lock has its own file: fix-lock.test.ts.
describe('state: audit log', () => {
  const dirs: string[] = []
  const tmp = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-doctor-state-'))
    dirs.push(d)
    return d
  }
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, {recursive: true, force: true})
  })

  it('lives under $XDG_STATE_HOME/gt-doctor, by default ~/.local/state/gt-doctor', () => {
    expect(stateDir({XDG_STATE_HOME: '/x/state'}, '/home/u')).toBe('/x/state/gt-doctor')
    expect(stateDir({}, '/home/u')).toBe('/home/u/.local/state/gt-doctor')
    expect(stateDir({XDG_STATE_HOME: 'relative'}, '/home/u')).toBe('/home/u/.local/state/gt-doctor')
  })

  it('appends one JSON line per entry to a private directory', () => {
    const dir = path.join(tmp(), 'deep', 'gt-doctor')
    const log = new AuditLog(dir, 'run-1', () => new Date('2026-01-11T12:00:00Z'))
    log.write({event: 'signal', findingId: 'f', pid: 5, signal: 'SIGTERM', outcome: 'sent'})
    log.close()
    new AuditLog(dir, 'run-2').close()
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(dir, 'actions.jsonl')).mode & 0o777).toBe(0o600)
    const lines = fs
      .readFileSync(path.join(dir, 'actions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines).toEqual([
      {
        time: '2026-01-11T12:00:00.000Z',
        run: 'run-1',
        event: 'signal',
        findingId: 'f',
        pid: 5,
        signal: 'SIGTERM',
        outcome: 'sent',
      },
    ])
  })

  it('puts lines on disk on flush, and fails with a code once closed', () => {
    const dir = tmp()
    const log = new AuditLog(dir, 'run-1')
    log.write({event: 'intent', findingId: 'f', pid: 5, signal: 'SIGSTOP', outcome: 'intended'})
    log.flush()
    log.close()
    expect(() => log.write({event: 'signal', findingId: 'f', outcome: 'sent'})).toThrow(
      expect.objectContaining({code: 'EBADF'}),
    )
    expect(() => log.flush()).toThrow(expect.objectContaining({code: 'EBADF'}))
    expect(fs.readFileSync(path.join(dir, 'actions.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1)
  })

  it('refuses to fix when the audit log cannot be written', () => {
    const file = path.join(tmp(), 'not-a-dir')
    fs.writeFileSync(file, '')
    expect(() => new AuditLog(path.join(file, 'gt-doctor'), 'r')).toThrow(
      /cannot open the audit log .*nothing was signalled/,
    )
  })
})

describe('procProbe', () => {
  const stat = (ticks: number) => `243 (node) S 222 243 243 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 ${ticks} 1000 200`
  const probe = (files: Array<string | undefined>) => {
    const reads = [...files]
    return procProbe('/proc', () => reads.shift())
  }

  it('reads a process as gone when it vanishes between its stat and its status', () => {
    expect(probe([stat(500), undefined, undefined]).read(243)).toBeUndefined()
    // ...or when its pid was taken by another process meanwhile.
    expect(probe([stat(500), undefined, stat(900)]).read(243)).toBeUndefined()
  })

  it('lists the children of every thread, or scans every stat where the kernel has no children files', () => {
    const files: Record<string, string> = {
      '/proc/243/stat': stat(500),
      '/proc/243/task/243/children': '250 251 ',
      '/proc/243/task/244/children': '252 ',
    }
    const dirs: Record<string, string[]> = {'/proc/243/task': ['243', '244']}
    expect(
      procProbe(
        '/proc',
        (f) => files[f],
        (d) => dirs[d],
      )
        .children(243)
        .sort(),
    ).toEqual([250, 251, 252])
    expect(
      procProbe(
        '/proc',
        (f) => files[f],
        () => undefined,
      ).children(243),
    ).toEqual([])
    const old: Record<string, string> = {
      '/proc/243/stat': stat(500),
      '/proc/260/stat': '260 (sleep) S 243 243 243 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 900 1000 200',
      '/proc/261/stat': '261 (sleep) S 1 261 261 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 901 1000 200',
    }
    const oldDirs: Record<string, string[]> = {
      '/proc/243/task': ['243'],
      '/proc': ['243', '260', '261', 'self', 'stat'],
    }
    expect(
      procProbe(
        '/proc',
        (f) => old[f],
        (d) => oldDirs[d],
      ).children(243),
    ).toEqual([260])
  })

  it('reads session and process group with the identity', () => {
    expect(probe([stat(500), 'Uid:\t1000\t1000\t1000\t1000\n']).read(243)).toMatchObject({
      sid: 243,
      pgid: 243,
      ppid: 222,
    })
  })

  it('keeps a live process whose status cannot be read, with its owner unknown', () => {
    expect(probe([stat(500), undefined, stat(500)]).read(243)).toMatchObject({
      pid: 243,
      startTicks: 500,
      ppid: 222,
      uid: undefined,
    })
    expect(probe([stat(500), 'Uid:\t1000\t1000\t1000\t1000\n']).read(243)).toMatchObject({uid: 1000, startTicks: 500})
  })
})

describe('tmuxServerRefusal', () => {
  const owner = (uid: number, calls: string[][]): ServerOwnership => ({
    tmux: async (socket, args) => {
      calls.push([socket, ...args])
      return {code: 0, stdout: '100\n', stderr: ''}
    },
    sockets: {inspect: () => ({isSocket: true, uid}), listening: async () => false, unlink: () => {}},
    probe: {
      read: (pid) => (pid === 100 ? {pid, startTicks: 1, ppid: 1, uid, state: 'S', comm: 'tmux: server'} : undefined),
    },
    isTmuxServer: (live) => live.comm === 'tmux: server',
    invokingUid: 1000,
  })

  it('asks the server for its pid, or takes the one it reported when recorded and reads it from /proc again', async () => {
    const calls: string[][] = []
    expect(await tmuxServerRefusal('/s', owner(1000, calls))).toBeUndefined()
    expect(calls).toEqual([['/s', 'display-message', '-p', '#{pid}']])
    calls.length = 0
    expect(await tmuxServerRefusal('/s', owner(1000, calls), 100)).toBeUndefined()
    expect(calls).toEqual([])
    // A recorded pid that is no tmux server any more (the server was replaced): its owner cannot be verified.
    expect((await tmuxServerRefusal('/s', owner(1000, calls), 101))?.detail).toBe(
      'the tmux server on /s names PID 101, which is no tmux server here, so its owner cannot be verified',
    )
    expect((await tmuxServerRefusal('/s', owner(1001, calls), 100))?.detail).toBe(
      'the tmux server on /s belongs to uid 1001 (its socket file), not to you (uid 1000)',
    )
  })
})
