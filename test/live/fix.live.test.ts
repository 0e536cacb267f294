/**
 * `gt-doctor --fix` against real processes, each test in its own PID namespace: the incident's state, built
 * from stand-ins, must lose exactly its orphans and keep everything else; and where issue 18's adversarial
 * pass broke it: a tree that forks while it is ended, a full audit filesystem, another user's tmux server.
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
  isMcpServer,
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

  it('ends every orphan tree of the incident, and nothing else', async () => {
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
    expect(mustLive).toEqual(
      expect.arrayContaining([
        1,
        ns.controllerPid,
        ...servers,
        ...healthy.pids,
        ...terminal.pids,
        terminal.shell,
        ...looks,
      ]),
    )

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
      expect(fix, `tree of ${tree[0]}`).toMatchObject({
        outcome: 'fixed',
        detail: expect.stringMatching(new RegExp(`^ended ${tree.length} processes`)),
      })
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
    for (const id of ['orphan-claude', 'orphan-mcp', 'orphan-memory'])
      expect(report.checks.find((c: any) => c.id === id).findings).toEqual([])

    // The audit log: a SIGTERM for every member of every orphan tree, SIGKILL only for the TERM-ignoring one,
    // and not one line about any other process.
    const audit = readAudit(state)
    expect(audit.every((e) => mustDie.has(e.pid))).toBe(true)
    const signals = audit.filter((e) => e.event === 'signal')
    const termed = signals.filter((e) => e.signal === 'SIGTERM' && e.outcome === 'sent').map((e) => e.pid)
    const endedFirst = audit.filter((e) => (e.event === 'gone' || e.outcome === 'already-gone') && e.pid !== quitter)
    expect(endedFirst.every((e) => /ended with its tree|ESRCH/.test(e.detail))).toBe(true)
    expect(sorted([...termed, ...endedFirst.map((e) => e.pid)].filter((pid) => pid !== quitter))).toEqual(
      sorted(orphanTrees.flat()),
    )
    const killed = signals.filter((e) => e.signal === 'SIGKILL').map((e) => e.pid)
    expect(sorted(killed.filter((pid) => pid !== quitter))).toEqual(sorted(tough.pids))
    for (const e of signals) {
      expect(e).toMatchObject({
        run: expect.stringMatching(/^\d+@/),
        uid: 0,
        outcome: expect.stringMatching(/^(sent|already-gone)$/),
        findingId: expect.any(String),
      })
      expect(Date.parse(e.time)).toBeGreaterThan(0)
      expect(Date.parse(e.startTime)).toBeGreaterThan(0)
      expect(e.startTicks).toBeGreaterThan(0)
    }
    expect(signals.find((e) => e.pid === underInit.claude && e.signal === 'SIGTERM')).toMatchObject({
      command: 'claude',
      outcome: 'sent',
    })
    // Each tree was frozen first: every SIGTERM went to a stopped process, continued right after (unless the
    // kernel did first: a process group that loses its last link outside gets SIGHUP and SIGCONT).
    for (const pid of termed) {
      const [stop, term, ...rest] = signals.filter((e) => e.pid === pid).map((e) => e.signal)
      expect([stop, term, rest[0] ?? 'SIGCONT'], `PID ${pid}`).toEqual(['SIGSTOP', 'SIGTERM', 'SIGCONT'])
    }
    // Every signal's intent is in the log before it.
    for (const [i, e] of audit.entries()) {
      if (e.event === 'signal')
        expect(audit.slice(0, i).some((x) => x.event === 'intent' && x.pid === e.pid && x.signal === e.signal)).toBe(
          true,
        )
    }
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
      {
        outcome: 'planned',
        detail: 'would end 3 processes (SIGTERM, then SIGKILL after 5 s)',
        signalled: [],
        freedBytes: 0,
      },
      {
        outcome: 'planned',
        detail: 'would end 2 processes (SIGTERM, then SIGKILL after 5 s)',
        signalled: [],
        freedBytes: 0,
      },
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
    // The detail wraps inside its cell at 80 columns (piped): the row read with its continuation lines.
    expect(done.stdout.replace(/[\s│]+/g, ' ')).toMatch(
      /orphan-claude fixed \d+ \(\+1\) .*ended 2 processes \(2 by SIGKILL after the grace/,
    )
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
    expect(
      report.checks.find((c: any) => c.id === 'orphan-claude').findings.map((f: any) => [f.pid, f.fix?.outcome]),
    ).toEqual([[theirs, 'skipped']])
    const audit = readAudit(state)
    expect(audit.filter((e) => e.pid === theirs)).toEqual([
      expect.objectContaining({
        event: 'skip',
        outcome: 'skipped',
        uid: 65534,
        command: 'claude',
        detail: expect.stringContaining('owned by uid 65534'),
      }),
    ])

    const all = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--all-users', '--json'])
    expect(all.code).toBe(0)
    expect(await ns.alive(theirs)).toBe(false)
    expect(readAudit(state).filter((e) => e.pid === theirs && e.event === 'signal' && e.signal === 'SIGTERM')).toEqual([
      expect.objectContaining({outcome: 'sent', uid: 65534}),
    ])
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
    expect(finding.fix).toMatchObject({
      outcome: 'skipped',
      detail: 'fixed only when named: --fix --only session-mismatch',
    })
    expect(await dead()).toContain('scratch-dead 1')

    const named = await runDoctor(ns, ['--fix', '--yes', '--only', 'session-mismatch', '--json'])
    expect(named.code).toBe(0)
    const report = JSON.parse(named.stdout)
    expect(report.fixed.map((f: any) => f.fix.outcome)).toEqual(['fixed'])
    expect(report.checks.map((c: any) => c.id)).toEqual(['session-mismatch'])
    expect(await dead()).not.toContain('scratch-dead')
    expect(await dead()).toContain('keep 0')
    expect(readAudit(state)).toEqual([
      expect.objectContaining({event: 'intent', outcome: 'intended', args: ['kill-pane', '-t', finding.data.paneId]}),
      expect.objectContaining({event: 'tmux', outcome: 'fixed', args: ['kill-pane', '-t', finding.data.paneId]}),
    ])
  })

  it.skipIf(!hasScript)('asks on a terminal: no signals nothing, yes fixes', async () => {
    const tree = await orphanUnderInit(ns, {mcp: 1})
    // script(1) gives the doctor a pseudo-terminal and types the answer into it.
    const onTty = (answer: string) =>
      ns.exec(
        [
          'script',
          '-qec',
          `${process.execPath} ${path.join(REPO_ROOT, 'bin', 'run.js')} --fix --grace 0.5`,
          '/dev/null',
        ],
        {
          input: answer,
          cwd: REPO_ROOT,
          timeoutMs: 20_000,
          env: {XDG_STATE_HOME: state, NODE_ENV: null, NO_COLOR: '1', TERM: 'dumb'},
        },
      )
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

  // ---- issue 18: a tree that keeps forking (item 16), a full audit filesystem (item 7), another user's tmux server (item 4)

  it('a tree that forks every 50 ms through the grace: frozen, every child it started ends with it, none escapes', async () => {
    // An orphan MCP launcher (`sh -c`, under init) that shrugs off SIGTERM and starts a job every 50 ms beside
    // its server: what a respawning wrapper or a busy agent does while the doctor waits for it to end.
    const loop = `trap '' TERM; node '${ns.mcpScript}' & while :; do sleep 3607 & sleep 0.05; done`
    const {pid: launcher} = await ns.spawn(['sh', '-c', loop], {
      orphan: true,
      detached: true,
      env: {STANDIN_IGNORE_TERM: '1'},
    })
    const [server] = await ns.waitForProcs((p) => p.ppid === launcher && isMcpServer(p))
    await ns.waitReady(server.pid)
    await ns.waitForProcs((p) => p.ppid === launcher && p.args === 'sleep 3607', 3)
    const tree = async () =>
      (await ns.ps()).filter(
        (p) => p.pid === launcher || p.pid === server.pid || p.args === 'sleep 3607' || p.args === 'sleep 0.05',
      )

    const r = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    // Nothing of it is left: no job escaped to init, nothing is left stopped.
    expect(await tree()).toEqual([])
    expect((await ns.ps()).filter((p) => p.state === 'T')).toEqual([])
    const fix = JSON.parse(r.stdout).fixed.find((f: any) => f.pid === launcher).fix
    expect(fix.outcome).toBe('fixed')
    // About 20 jobs started during the 1 s grace, a few more between detection and the freeze.
    const [, newcomers] = /(\d+) processes started after detection ended with their tree/.exec(fix.detail) ?? []
    expect(Number(newcomers), fix.detail).toBeGreaterThanOrEqual(10)
    const audit = readAudit(state)
    expect(audit.filter((e) => e.event === 'newcomer').length).toBeGreaterThanOrEqual(Number(newcomers))
    expect(audit.filter((e) => e.event === 'escaped')).toEqual([])

    const again = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'])
    expect(again.code).toBe(0)
    const report = JSON.parse(again.stdout)
    expect(report.fixed ?? []).toEqual([])
    expect(report.summary).toMatchObject({orphanClaude: 0, orphanMcp: 0})
  })

  it('an audit log on a full filesystem: nothing more is signalled, nothing is left stopped, one line, exit 3', async () => {
    const trees = await Promise.all(Array.from({length: 6}, () => orphanUnderInit(ns)))
    const all = trees.flatMap((t) => t.pids)
    // A 64 KiB tmpfs as the state directory (in the namespace's own mount namespace), full but for six pages:
    // room for every tree's intents (about 17 KB) and the lines of two trees' passes (about 3 KB each), not
    // for the third's.
    const xdg = path.join(ns.tmpdir, 'full')
    fs.mkdirSync(xdg)
    const sh = async (script: string) => {
      const r = await ns.exec(['sh', '-c', script])
      expect(r.code, r.stderr).toBe(0)
    }
    await sh(
      `mount -t tmpfs -o size=64k,mode=0700 tmpfs '${xdg}' && dd if=/dev/zero of='${xdg}/fill' bs=4096 count=10 2>/dev/null`,
    )

    const r = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'], {stateHome: xdg})
    expect(r.code, r.stderr).toBe(3)
    const line =
      /^gt-doctor: the audit log (\S+) could not be written \(ENOSPC\): stopped after signalling (\d+) process(?:es)?; (\d+) (?:was|were) not signalled\n$/.exec(
        r.stderr,
      )
    expect(line, r.stderr).not.toBeNull()
    const [, file, signalled, notSignalled] = line!
    expect(file).toBe(path.join(xdg, 'gt-doctor', 'actions.jsonl'))
    expect(Number(signalled)).toBeGreaterThan(0)
    expect(Number(notSignalled)).toBeGreaterThan(0)
    expect(Number(signalled) + Number(notSignalled)).toBeLessThanOrEqual(all.length)
    expect((await ns.ps()).filter((p) => p.state === 'T')).toEqual([])

    // The log holds whole lines only, and every signal in it came after its intent.
    const text = (await ns.readFile(file))!
    expect(text.endsWith('\n')).toBe(true)
    const audit = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    for (const [i, e] of audit.entries()) {
      if (e.event === 'signal')
        expect(audit.slice(0, i).some((x) => x.event === 'intent' && x.pid === e.pid && x.signal === e.signal)).toBe(
          true,
        )
    }
    // Whatever got its SIGTERM ends by it; whatever did not is running as before, not stopped. The last
    // SIGTERM may be one whose outcome line no longer fitted: its flushed intent is its record.
    const termed = new Set(
      audit.filter((e) => e.event === 'signal' && e.signal === 'SIGTERM' && e.outcome === 'sent').map((e) => e.pid),
    )
    const alive = async () =>
      (await Promise.all(all.map(async (pid) => ((await ns.alive(pid)) ? pid : 0)))).filter(Boolean)
    await ns.waitUntil(async () => (await alive()).length === all.length - Number(signalled))
    const untouched = await alive()
    expect(untouched.filter((pid) => termed.has(pid))).toEqual([])
    expect(Number(signalled) - termed.size).toBeLessThanOrEqual(1)
    expect(untouched.length).toBeGreaterThanOrEqual(Number(notSignalled))
    expect((await ns.ps()).filter((p) => p.state === 'T')).toEqual([])
    const report = JSON.parse(r.stdout)
    expect(report.fixed.filter((f: any) => f.fix.outcome === 'failed').length).toBeGreaterThan(0)

    // With room again, the next --fix ends the rest.
    await sh(`rm '${xdg}/fill'`)
    const next = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'], {stateHome: xdg})
    expect(next.stderr).toBe('')
    expect(next.code).toBe(0)
    for (const pid of all) expect(await ns.alive(pid)).toBe(false)
  })

  it("root never runs kill-pane on another user's tmux server without --all-users", async () => {
    // nobody's (65534) tmux server, its socket in a directory of nobody's, with remain-on-exit and a dead pane.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-nobody-tmux-'))
    onTestFinished(() => fs.rmSync(dir, {recursive: true, force: true}))
    fs.chownSync(dir, 65534, 65534)
    const socket = path.join(dir, 'theirs')
    const asNobody = (args: string[]) =>
      ns.exec(
        [
          'setpriv',
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          'tmux',
          '-f',
          '/dev/null',
          '-S',
          socket,
          ...args,
        ],
        {
          // SHELL too: without it tmux falls back to nobody's passwd shell, nologin, and every pane dies at once.
          env: {TMUX: null, TMUX_PANE: null, HOME: dir, TMUX_TMPDIR: dir, SHELL: '/bin/sh'},
        },
      )
    for (const args of [
      ['new-session', '-d', '-s', 'keep', 'sleep 3600'],
      ['set-option', '-g', 'remain-on-exit', 'on'],
      ['new-session', '-d', '-s', 'scratch-dead', 'true'],
    ]) {
      const r = await asNobody(args)
      expect(r.code, r.stderr).toBe(0)
    }
    const panes = async () => (await asNobody(['list-panes', '-a', '-F', '#{session_name} #{pane_dead}'])).stdout
    await ns.waitUntil(async () => (await panes()).includes('scratch-dead 1'))

    const r = await runDoctor(ns, ['--fix', '--yes', '--only', 'session-mismatch', '--json'])
    expect(r.stderr).toBe('')
    const report = JSON.parse(r.stdout)
    const dead = report.fixed.find((f: any) => f.data?.kind === 'dead-pane' && f.socket === socket)
    expect(dead.fix).toMatchObject({
      outcome: 'skipped',
      detail: `the tmux server on ${socket} belongs to uid 65534 (its socket file), not to you (uid 0); pass --all-users to include other users`,
    })
    expect(await panes()).toContain('scratch-dead 1')
    expect(readAudit(state)).toEqual([
      expect.objectContaining({event: 'tmux', socket, outcome: 'skipped', detail: dead.fix.detail}),
    ])

    const all = await runDoctor(ns, ['--fix', '--yes', '--only', 'session-mismatch', '--all-users', '--json'])
    expect(all.stderr).toBe('')
    expect(JSON.parse(all.stdout).fixed.find((f: any) => f.socket === socket).fix.outcome).toBe('fixed')
    expect(await panes()).not.toContain('scratch-dead')
    expect(await panes()).toContain('keep 0')
    expect(
      readAudit(state)
        .slice(1)
        .map((e) => [e.event, e.outcome]),
    ).toEqual([
      ['intent', 'intended'],
      ['tmux', 'fixed'],
    ])

    // session stop: nobody's session is left alone, with the reason, unless root passes --all-users.
    const stop = (more: string[]) =>
      ns.exec(
        [
          process.execPath,
          path.join(REPO_ROOT, 'bin', 'run.js'),
          'session',
          'stop',
          'keep',
          '--socket',
          socket,
          '--json',
          ...more,
        ],
        {
          cwd: REPO_ROOT,
          timeoutMs: 30_000,
          env: {XDG_STATE_HOME: state, NO_COLOR: '1', NODE_ENV: null},
        },
      )
    const refused = await stop([])
    expect(refused.code, refused.stderr).toBe(3)
    expect(JSON.parse(refused.stdout).sessions[0]).toMatchObject({
      outcome: 'skipped',
      notes: [`left alone: ${dead.fix.detail}`],
    })
    expect(await panes()).toContain('keep 0')
    const stopped = await stop(['--all-users', '--grace', '0.5', '--wait', '0.5'])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(JSON.parse(stopped.stdout).sessions[0].outcome).toMatch(/^(killed|closed-by-itself)$/)
    expect(await panes()).not.toContain('keep')
  })
})
