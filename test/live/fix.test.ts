/**
 * `gt-doctor --fix` against real processes, each test in its own PID namespace: the incident's state, built
 * from stand-ins, must lose exactly its orphans and keep everything else.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import {afterEach, beforeEach, expect, it, onTestFinished} from 'vitest'
import {CLAUDE_STANDIN, REPO_ROOT, describeLive, startNamespace, type LiveNamespace} from './namespace.js'
import {
  fixLockHolder,
  healthySession,
  lookAlikes,
  orphanMcpTrees,
  orphanUnderInit,
  orphanUnderServer,
  plainSession,
  readAudit,
  runDoctor,
  serverPid,
  terminalClaude,
} from './scenarios.js'

const schema = JSON.parse(fs.readFileSync(new URL('../../src/report/report-v1.schema.json', import.meta.url), 'utf8'))
const ajv = new Ajv({allErrors: true, strict: false})
;(addFormats as unknown as (a: Ajv) => void)(ajv)
const validReport = ajv.compile(schema)

const hasScript = spawnSync('script', ['--version']).status === 0
const sorted = (pids: Iterable<number>) => [...pids].sort((a, b) => a - b)

describeLive('gt-doctor --fix (live)', () => {
  let ns: LiveNamespace
  let state: string
  beforeEach(async () => {
    ns = await startNamespace()
    state = path.join(ns.tmpdir, 'state')
  })
  afterEach(async () => {
    await ns?.close()
  })

  it("ends every orphan tree of the incident, and nothing else", async () => {
    await plainSession(ns, 'default', 'scratch')
    const underServer = await orphanUnderServer(ns, 'default', 'gt-a')
    const underInit = await orphanUnderInit(ns)
    const tough = await orphanUnderInit(ns, {ignoreTerm: true})
    const shWrapped = await orphanUnderInit(ns, {wrapper: 'sh'})
    const npmWrapped = await orphanUnderInit(ns, {wrapper: 'npm-exec'})
    const mcpTrees = await orphanMcpTrees(ns)
    const healthy = await healthySession(ns, 'second', 'gt-healthy')
    const terminal = await terminalClaude(ns)
    const looks = await lookAlikes(ns)
    // One that ends by itself while the doctor works (it ignores SIGTERM, so only its own exit or SIGKILL ends it).
    const {pid: quitter} = await ns.spawn([CLAUDE_STANDIN], {
      orphan: true,
      env: {STANDIN_MCP: '0', STANDIN_IGNORE_TERM: '1', STANDIN_EXIT_AFTER_MS: '1500'},
    })
    await ns.waitReady(quitter)
    const servers = [await serverPid(ns, 'default'), await serverPid(ns, 'second')]

    const orphanTrees = [underServer.pids, underInit.pids, tough.pids, shWrapped.pids, npmWrapped.pids, ...mcpTrees]
    const mustDie = new Set([...orphanTrees.flat(), quitter])
    const before = await ns.ps()
    const mustLive = before.map((p) => p.pid).filter((pid) => !mustDie.has(pid))
    expect(mustLive).toEqual(expect.arrayContaining([1, ns.controllerPid, ...servers, ...healthy.pids, ...terminal.pids, terminal.shell, ...looks]))

    const r = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout)
    expect(validReport(report), JSON.stringify(validReport.errors)).toBe(true)

    // Exactly the orphans died; everything else lives, and no zombie is left behind.
    const after = await ns.ps()
    expect(sorted(after.map((p) => p.pid))).toEqual(sorted(mustLive))
    expect(after.filter((p) => p.state === 'Z')).toEqual([])

    // Per finding: what was done.
    const fixed = new Map<number, any>(report.fixed.map((f: any) => [f.pid, f]))
    for (const tree of orphanTrees) {
      const fix = fixed.get(tree[0])?.fix
      expect(fix, `tree of ${tree[0]}`).toMatchObject({outcome: 'fixed', detail: expect.stringMatching(new RegExp(`^ended ${tree.length} processes`))})
      // A wrapper may pass SIGTERM on and end its server before the doctor signals it: then it ended with its tree.
      expect(fix.signalled).toContain(tree[0])
      expect(tree).toEqual(expect.arrayContaining(fix.signalled))
      expect(fix.freedBytes).toBeGreaterThan(0)
    }
    expect(fixed.get(tough.claude).fix.detail).toBe('ended 3 processes (3 by SIGKILL after the grace period)')
    expect(fixed.get(underInit.claude).fix.detail).toBe('ended 3 processes')
    expect(fixed.get(mcpTrees[0][0]).check).toBe('orphan-mcp')
    // The quitter: gone either before the doctor looked, or before or after the signal, but never a failure.
    if (fixed.has(quitter)) expect(['fixed', 'already-gone']).toContain(fixed.get(quitter).fix.outcome)
    const roots = new Set(orphanTrees.map((t) => t[0]))
    expect([...fixed.keys()].filter((pid) => pid !== quitter).sort()).toEqual([...roots].sort())
    expect(report.summary).toMatchObject({orphanClaude: 0, orphanMcp: 0, orphanMemoryBytes: 0, status: 'ok'})
    expect(report.summary.fixed).toBe(orphanTrees.length + (fixed.get(quitter)?.fix.outcome === 'fixed' ? 1 : 0))
    expect(report.summary.freedMemoryBytes).toBe(report.fixed.reduce((n: number, f: any) => n + f.fix.freedBytes, 0))
    for (const id of ['orphan-claude', 'orphan-mcp', 'orphan-memory']) expect(report.checks.find((c: any) => c.id === id).findings).toEqual([])

    // The audit log: a SIGTERM for every member of every orphan tree, SIGKILL only for the TERM-ignoring one,
    // and not one line about any other process.
    const audit = readAudit(state)
    expect(audit.every((e) => mustDie.has(e.pid))).toBe(true)
    const signals = audit.filter((e) => e.event === 'signal')
    const termed = signals.filter((e) => e.signal === 'SIGTERM' && e.outcome === 'sent').map((e) => e.pid)
    const endedFirst = audit.filter((e) => (e.event === 'gone' || e.outcome === 'already-gone') && e.pid !== quitter)
    expect(endedFirst.every((e) => /ended with its tree|ESRCH/.test(e.detail))).toBe(true)
    expect(sorted([...termed, ...endedFirst.map((e) => e.pid)].filter((pid) => pid !== quitter))).toEqual(sorted(orphanTrees.flat()))
    const killed = signals.filter((e) => e.signal === 'SIGKILL').map((e) => e.pid)
    expect(sorted(killed.filter((pid) => pid !== quitter))).toEqual(sorted(tough.pids))
    for (const e of signals) {
      expect(e).toMatchObject({run: expect.stringMatching(/^\d+@/), uid: 0, outcome: expect.stringMatching(/^(sent|already-gone)$/), findingId: expect.any(String)})
      expect(Date.parse(e.time)).toBeGreaterThan(0)
      expect(Date.parse(e.startTime)).toBeGreaterThan(0)
      expect(e.startTicks).toBeGreaterThan(0)
    }
    expect(signals.find((e) => e.pid === underInit.claude)).toMatchObject({command: 'claude', signal: 'SIGTERM'})
    const results = audit.filter((e) => e.event === 'result')
    expect(results.every((e) => e.outcome === 'ended')).toBe(true)
    expect(new Set(audit.map((e) => e.run)).size).toBe(1)
    expect(fs.statSync(path.join(state, 'gt-doctor')).mode & 0o777).toBe(0o700)

    // A following check finds no orphan.
    const again = await runDoctor(ns, ['--json'])
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout).summary).toMatchObject({orphanClaude: 0, orphanMcp: 0, claudeProcesses: 2})
  }, 60_000)

  it('--dry-run signals nothing; without a terminal or with another --fix running it refuses with exit 2', async () => {
    const orphan = await orphanUnderInit(ns)
    const tough = await orphanUnderInit(ns, {ignoreTerm: true, mcp: 1})
    const all = [...orphan.pids, ...tough.pids]
    const alive = async () => (await Promise.all(all.map((pid) => ns.alive(pid)))).every(Boolean)

    const dry = await runDoctor(ns, ['--fix', '--dry-run', '--json'])
    expect(dry.code).toBe(1)
    const planned = JSON.parse(dry.stdout)
    expect(validReport(planned)).toBe(true)
    const findings = planned.checks.find((c: any) => c.id === 'orphan-claude').findings
    expect(findings.map((f: any) => f.fix)).toEqual([
      {outcome: 'planned', detail: 'would end 3 processes (SIGTERM, then SIGKILL after 5 s)', signalled: [], freedBytes: 0},
      {outcome: 'planned', detail: 'would end 2 processes (SIGTERM, then SIGKILL after 5 s)', signalled: [], freedBytes: 0},
    ])
    expect(planned.fixed).toBeUndefined()
    const text = await runDoctor(ns, ['--fix', '--dry-run'])
    expect(text.stdout).toContain('Plan: end 5 processes in 2 trees')
    expect(text.stdout).toMatch(new RegExp(`│ ${orphan.claude} +│ claude +│`))
    expect(await alive()).toBe(true)
    expect(fs.existsSync(path.join(state, 'gt-doctor', 'actions.jsonl'))).toBe(false)

    // ns.exec gives the doctor a pipe for stdin: no terminal to confirm on.
    const refused = await runDoctor(ns, ['--fix'])
    expect(refused).toMatchObject({code: 2, stdout: ''})
    expect(refused.stderr).toBe(
      'gt-doctor: --fix asks for confirmation but stdin is not a terminal: pass --yes to fix without asking, or --dry-run to only see the plan\n',
    )
    const refusedJson = await runDoctor(ns, ['--fix', '--json'])
    expect(refusedJson.code).toBe(2)
    expect(JSON.parse(refusedJson.stdout)).toMatchObject({error: {exitCode: 2}})

    // Another --fix holds the lock (a live process that took it): wait briefly, then refuse, naming it. The lock
    // is per uid: a run with another XDG_STATE_HOME waits for it just the same.
    const holder = await fixLockHolder(ns)
    const lockedMessage = new RegExp(
      `^gt-doctor: another gt-doctor --fix is running \\(pid ${holder}, lock \\S+/fix-${holder}-\\d+-[0-9a-f]+\\.lock held for more than 3 s\\); run again when it has finished\\n$`,
    )
    for (const stateHome of [state, path.join(ns.tmpdir, 'other-state')]) {
      const locked = await runDoctor(ns, ['--fix', '--yes'], {stateHome})
      expect(locked.code).toBe(2)
      expect(locked.stderr).toMatch(lockedMessage)
    }
    expect(await alive()).toBe(true)
    // Its holder SIGKILLed: its lock file stays, and the next --fix takes it over at once. A fix.lock another
    // user planted in the XDG state directory (where the old proper-lockfile lock was kept) means nothing any more.
    expect(await ns.kill(holder, 'SIGKILL')).toBe(true)
    await ns.waitUntil(async () => !(await ns.alive(holder)))
    expect(fs.readdirSync(ns.lockDir)).toHaveLength(1)
    fs.mkdirSync(path.join(state, 'gt-doctor', 'fix.lock'), {recursive: true})
    fs.chownSync(path.join(state, 'gt-doctor', 'fix.lock'), 65534, 65534)

    // The human output of a real fix: the plan, what was fixed, what is left.
    const done = await runDoctor(ns, ['--fix', '--yes', '--grace', '0.5'])
    expect(done.stderr).not.toContain('another gt-doctor')
    expect(done.code).toBe(0)
    expect(fs.readdirSync(ns.lockDir)).toEqual([])
    expect(done.stdout).toContain('Plan: end 5 processes in 2 trees')
    expect(done.stdout).toMatch(/Fix results\n/)
    expect(done.stdout).toMatch(/orphan-claude +│ fixed +│ \d+ \(\+1\) .*ended 2 processes \(2 by SIGKILL after the grace/)
    expect(done.stdout).toMatch(/2 fixed \(\d+(\.\d)? MiB freed\)/)
    for (const pid of all) expect(await ns.alive(pid)).toBe(false)
  }, 60_000)

  it("spares another user's orphan unless root passes --all-users", async () => {
    const mine = await orphanUnderInit(ns, {mcp: 0})
    // An orphan claude owned by nobody (65534); it cannot write the stand-in state dir, so wait for its title.
    // The checkout may sit under a 0700 directory (mktemp -d) that nobody cannot enter: run a world-readable copy.
    const pub = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-standin-'))
    fs.chmodSync(pub, 0o755)
    const standin = path.join(pub, 'claude')
    fs.copyFileSync(CLAUDE_STANDIN, standin)
    fs.chmodSync(standin, 0o755)
    onTestFinished(() => fs.rmSync(pub, {recursive: true, force: true}))
    const {pid: theirs} = await ns.spawn(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', standin], {
      orphan: true,
      env: {STANDIN_MCP: '0', STANDIN_STATE_DIR: null},
    })
    await ns.waitForProcs((p) => p.pid === theirs && p.comm === 'claude' && p.ppid === 1)

    const r = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'])
    expect(r.code).toBe(1)
    const report = JSON.parse(r.stdout)
    expect(await ns.alive(mine.claude)).toBe(false)
    expect(await ns.alive(theirs)).toBe(true)
    const spared = report.fixed.find((f: any) => f.pid === theirs)
    expect(spared.fix).toEqual({
      outcome: 'skipped',
      detail: `spared PID ${theirs}: owned by uid 65534, not by you (uid 0); pass --all-users to include other users`,
      signalled: [],
      freedBytes: 0,
    })
    // Still there after the fix, and still saying why.
    expect(report.checks.find((c: any) => c.id === 'orphan-claude').findings.map((f: any) => [f.pid, f.fix?.outcome])).toEqual([[theirs, 'skipped']])
    const audit = readAudit(state)
    expect(audit.filter((e) => e.pid === theirs)).toEqual([
      expect.objectContaining({event: 'skip', outcome: 'skipped', uid: 65534, command: 'claude', detail: expect.stringContaining('owned by uid 65534')}),
    ])

    const all = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--all-users', '--json'])
    expect(all.code).toBe(0)
    expect(await ns.alive(theirs)).toBe(false)
    expect(readAudit(state).filter((e) => e.pid === theirs && e.event === 'signal')).toEqual([expect.objectContaining({signal: 'SIGTERM', uid: 65534})])
  })

  it('kills a dead pane only when session-mismatch is named with --only', async () => {
    await plainSession(ns, 'panes', 'keep')
    expect((await ns.tmux(['set-option', '-g', 'remain-on-exit', 'on'], 'panes')).code).toBe(0)
    expect((await ns.tmux(['new-session', '-d', '-s', 'scratch-dead', 'true'], 'panes')).code).toBe(0)
    const dead = async () => (await ns.tmux(['list-panes', '-a', '-F', '#{session_name} #{pane_dead}'], 'panes')).stdout
    await ns.waitUntil(async () => (await dead()).includes('scratch-dead 1'))

    const r = await runDoctor(ns, ['--fix', '--yes', '--json'])
    expect(r.code).toBe(0)
    const finding = JSON.parse(r.stdout).checks.find((c: any) => c.id === 'session-mismatch').findings[0]
    expect(finding.fix).toMatchObject({outcome: 'skipped', detail: 'fixed only when named: --fix --only session-mismatch'})
    expect(await dead()).toContain('scratch-dead 1')

    const named = await runDoctor(ns, ['--fix', '--yes', '--only', 'session-mismatch', '--json'])
    expect(named.code).toBe(0)
    const report = JSON.parse(named.stdout)
    expect(report.fixed.map((f: any) => f.fix.outcome)).toEqual(['fixed'])
    expect(report.checks.map((c: any) => c.id)).toEqual(['session-mismatch'])
    expect(await dead()).not.toContain('scratch-dead')
    expect(await dead()).toContain('keep 0')
    expect(readAudit(state)).toEqual([expect.objectContaining({event: 'tmux', outcome: 'fixed', args: ['kill-pane', '-t', finding.data.paneId]})])
  })

  it.skipIf(!hasScript)('asks on a terminal: no signals nothing, yes fixes', async () => {
    const tree = await orphanUnderInit(ns, {mcp: 1})
    // script(1) gives the doctor a pseudo-terminal and types the answer into it.
    const onTty = (answer: string) =>
      ns.exec(['script', '-qec', `${process.execPath} ${path.join(REPO_ROOT, 'bin', 'run.js')} --fix --grace 0.5`, '/dev/null'], {
        input: answer,
        cwd: REPO_ROOT,
        timeoutMs: 20_000,
        env: {XDG_STATE_HOME: state, NODE_ENV: null, NO_COLOR: '1', TERM: 'dumb'},
      })
    const no = await onTty('n\r')
    expect(no.code).toBe(1)
    expect(no.stdout).toContain('End 2 processes?')
    expect(no.stdout).toContain('Nothing was signalled.')
    expect(await ns.alive(tree.claude)).toBe(true)
    expect(readAudit(state)).toEqual([])

    const yes = await onTty('y\r')
    expect(yes.code).toBe(0)
    expect(yes.stdout).toContain('1 fixed')
    for (const pid of tree.pids) expect(await ns.alive(pid)).toBe(false)
  })
})
