/**
 * The adversarial pass's false kills (issue 18, items 1-3) against real tmux, in a private PID namespace:
 * what looks orphaned by its parent but is not (a popup, a run-shell job, a job of a server started from
 * another server's pane, a supervised service) or cannot be proved to be (an MCP server whose tmux server
 * does not answer) must survive the default `--fix`, next to the killed session's and the respawned pane's
 * claudes, which must not.
 *
 * Facts these rest on, seen with tmux 3.3a here: a popup's program is the server's child, in a session of its
 * own on a pty that is no pane's, with TMUX and no TMUX_PANE; a `run-shell -b` job is the server's child with
 * no terminal, TMUX and no TMUX_PANE; a server started from a pane keeps that pane's TMUX_PANE in its
 * environment and its jobs inherit it; `respawn-pane -k` leaves an old program that ignores SIGHUP under the
 * server, its TMUX_PANE naming the (live) respawned pane; with a relative `-S` path, TMUX is relative too.
 * PM2 is a stand-in (a node process with PM2's title), the cgroups are private ones this file creates.
 */
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {CLAUDE_STANDIN, describeLive, pythonAvailable, useNamespace} from './namespace.js'
import {healthySession, isMcpServer, orphanUnderServer, plainSession, runDoctor, serverPid} from './scenarios.js'

/** A cgroup directory tests may create children in (cgroup v2, or v1's name=systemd), or undefined. */
function cgroupBase(): string | undefined {
  for (const dir of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup', '/sys/fs/cgroup/systemd']) {
    if (!fs.existsSync(path.join(dir, 'cgroup.procs'))) continue
    const probe = path.join(dir, `gt-live-probe-${process.pid}`)
    try {
      fs.mkdirSync(probe)
      fs.rmdirSync(probe)
      return dir
    } catch {}
  }
  return undefined
}

const CGROUP_BASE = process.getuid?.() === 0 ? cgroupBase() : undefined

describeLive('no false kills (live)', () => {
  const ns = useNamespace()
  const pid: Record<string, number> = {}
  /** Every process that must survive the fix (the trees of the popups, jobs, services, unverifiable servers). */
  const mustLive: number[] = []
  const mustDie: number[] = []
  let cgroupDir: string | undefined
  let check: Report

  const fixable = (r: Report) =>
    new Set(r.checks.flatMap((c) => c.findings.filter((f) => f.fixable).flatMap((f) => f.pids)))
  const infoPids = (r: Report, check: string) =>
    r.checks
      .find((c) => c.id === check)!
      .findings.filter((f) => f.severity === 'info')
      .map((f) => f.pid)
  const claudeUnder = async (parent: number) => (await ns.waitForStandins('claude', (p) => p.ppid === parent))[0].pid
  /** A claude stand-in and its MCP children, once all are ready. */
  const treeOf = async (claude: number) => {
    const state = await ns.waitReady(claude)
    for (const m of state.mcp ?? []) await ns.waitReady(m)
    return [claude, ...(state.mcp ?? [])]
  }

  beforeAll(async () => {
    const sock = ns.socket('a')
    await plainSession(ns, 'a', 'main')
    const server = await serverPid(ns, 'a')
    pid.server = server

    // An attached client on a pseudo-terminal: display-popup needs one. Its stdin is a pipe kept open.
    await ns.spawn(['sh', '-c', `sleep 3600 | script -qfc "tmux -f /dev/null -S ${sock} attach -t main" /dev/null`], {
      env: {TERM: 'xterm-256color'},
    })
    let client = ''
    await ns.waitUntil(
      async () => (client = (await ns.tmux(['list-clients', '-F', '#{client_name}'], 'a')).stdout.trim()) !== '',
      10_000,
      100,
      'an attached client',
    )

    // A claude in a popup (`exec`: the claude is the server's own child, as with a default-shell that execs).
    await ns.spawn(
      ['tmux', '-f', '/dev/null', '-S', sock, 'display-popup', '-c', client, '-E', `exec ${CLAUDE_STANDIN}`],
      {env: {TMUX: null, TMUX_PANE: null}},
    )
    pid.popup = await claudeUnder(server)
    mustLive.push(...(await treeOf(pid.popup)))
    // A claude started by run-shell -b.
    await ns.tmux(['run-shell', '-b', `exec ${CLAUDE_STANDIN}`], 'a')
    pid.job = (await ns.waitForStandins('claude', (p) => p.ppid === server && p.pid !== pid.popup))[0].pid
    mustLive.push(...(await treeOf(pid.job)))

    // A server started from a pane of server a: it inherits that TMUX_PANE, and so does its run-shell job.
    const inner = ns.socket('inner')
    await ns.tmux(
      ['new-window', '-t', 'main', `tmux -f /dev/null -S ${inner} new-session -d -s inner 'sleep 3600'; sleep 3600`],
      'a',
    )
    await ns.waitUntil(
      async () => (await ns.tmux(['list-panes', '-a'], 'inner')).code === 0,
      5000,
      50,
      'the inner server',
    )
    const innerServer = await serverPid(ns, 'inner')
    expect((await ns.environ(innerServer))?.TMUX_PANE).toBe('%1')
    await ns.tmux(['run-shell', '-b', `exec ${CLAUDE_STANDIN}`], 'inner')
    pid.nestedJob = await claudeUnder(innerServer)
    expect((await ns.environ(pid.nestedJob))?.TMUX_PANE).toBe('%1')
    mustLive.push(...(await treeOf(pid.nestedJob)))

    // The orphans that must still go: a killed session's claude, and a respawned pane's old claude.
    mustDie.push(...(await orphanUnderServer(ns, 'a', 'gt-killed')).pids)
    const respawned = await healthySession(ns, 'a', 'gt-respawn')
    await ns.tmux(['respawn-pane', '-k', '-t', 'gt-respawn', 'sleep 3600'], 'a')
    await ns.waitUntil(
      async () =>
        (await ns.tmux(['list-panes', '-t', 'gt-respawn', '-F', '#{pane_pid}'], 'a')).stdout.trim() !==
        String(respawned.claude),
      5000,
      50,
      'pane respawned',
    )
    expect(await ns.alive(respawned.claude)).toBe(true)
    mustDie.push(...respawned.pids)

    // MCP servers that are a pane's program on a server the doctor cannot ask.
    const mcpPane = async (session: string, opts: {cwd?: string; socketArg?: string} = {}) => {
      const tmux = (args: string[]) =>
        ns.exec(['tmux', '-f', '/dev/null', '-S', opts.socketArg ?? ns.socket(session), ...args], {
          cwd: opts.cwd,
          env: {TMUX: null, TMUX_PANE: null},
        })
      const r = await tmux(['new-session', '-d', '-s', session, `node ${ns.mcpScript}`])
      expect(r.code, r.stderr).toBe(0)
      const panePid = Number((await tmux(['list-panes', '-F', '#{pane_pid}'])).stdout.trim())
      // The pane's program is the server (or its sh -c, which then runs it).
      const [mcp] = await ns.waitForProcs((x) => isMcpServer(x) && (x.pid === panePid || x.ppid === panePid))
      await ns.waitReady(mcp.pid)
      return {mcp: mcp.pid, server: (await ns.ps()).find((x) => x.pid === panePid)!.ppid}
    }
    const stopped = await mcpPane('stopped')
    pid.stoppedMcp = stopped.mcp
    pid.stoppedServer = stopped.server
    await ns.kill(stopped.server, 'SIGSTOP')
    pid.deletedMcp = (await mcpPane('deleted')).mcp
    fs.rmSync(ns.socket('deleted'))
    fs.mkdirSync(path.join(ns.tmpdir, 'rel'))
    pid.relativeMcp = (await mcpPane('relative', {cwd: ns.tmpdir, socketArg: 'rel/sock'})).mcp
    mustLive.push(pid.stoppedMcp, pid.deletedMcp, pid.relativeMcp)

    // A claude PM2 runs, started from a tmux pane that is gone since.
    const pm2 = path.join(ns.tmpdir, 'pm2-god-daemon-standin-with-a-long-name.js')
    fs.writeFileSync(
      pm2,
      "process.title = 'PM2 v5.3.0: God Daemon (/root/.pm2)'\n" +
        "require('node:child_process').spawn(process.env.CLAUDE_STANDIN, [], {stdio: 'ignore'}).on('error', () => {})\n" +
        'setInterval(() => {}, 1 << 30)\n',
    )
    const {pid: daemon} = await ns.spawn(['node', pm2], {
      orphan: true,
      detached: true,
      env: {CLAUDE_STANDIN, TMUX: `${sock},${server},9`, TMUX_PANE: '%99'},
    })
    pid.pm2 = daemon
    pid.pm2Claude = await claudeUnder(daemon)
    mustLive.push(daemon, ...(await treeOf(pid.pm2Claude)))

    // A claude run as a systemd --user unit, and an SSE MCP server run as a system service: private cgroups.
    if (CGROUP_BASE && pythonAvailable()) {
      cgroupDir = path.join(CGROUP_BASE, `gt-live-${process.pid}-${Date.now()}`)
      const unit = path.join(cgroupDir, 'user.slice', 'user@0.service', 'app.slice', 'claude-agent.service')
      const service = path.join(cgroupDir, 'system.slice', 'mcp-sse.service')
      fs.mkdirSync(unit, {recursive: true})
      fs.mkdirSync(service, {recursive: true})
      const sd = await ns.spawnSubreaper()
      pid.unitClaude = (
        await sd.spawn(['sh', '-c', `echo $$ > ${unit}/cgroup.procs && exec ${CLAUDE_STANDIN}`], {orphan: true})
      ).pid
      mustLive.push(...(await treeOf(pid.unitClaude)))
      pid.serviceMcp = (
        await ns.spawn(['sh', '-c', `echo $$ > ${service}/cgroup.procs && exec node ${ns.mcpScript}`], {orphan: true})
      ).pid
      await ns.waitReady(pid.serviceMcp)
      mustLive.push(pid.serviceMcp)
    }

    const r = await runDoctor(ns, ['check', '--json'], {timeoutMs: 60_000})
    expect(r.stderr).toBe('')
    check = JSON.parse(r.stdout)
  }, 120_000)

  afterAll(async () => {
    await ns.close()
    if (cgroupDir) {
      // Deepest first; the namespace's processes are gone with it.
      const dirs: string[] = []
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, {withFileTypes: true})) if (e.isDirectory()) walk(path.join(d, e.name))
        dirs.push(d)
      }
      try {
        walk(cgroupDir)
        for (const d of dirs) fs.rmdirSync(d)
      } catch {}
    }
  })

  it('offers to end none of the popup, the jobs, the PM2 claude, the services and the unverifiable MCP servers', () => {
    const offered = fixable(check)
    expect(
      mustLive.filter((p) => offered.has(p)),
      JSON.stringify(pid),
    ).toEqual([])
    expect(
      mustDie.filter((p) => !offered.has(p)),
      JSON.stringify(pid),
    ).toEqual([])
  })

  it('reports the MCP servers whose tmux server it could not ask as "cannot verify", and the supervised ones', () => {
    const mcp = infoPids(check, 'orphan-mcp')
    expect(mcp).toEqual(
      expect.arrayContaining([pid.stoppedMcp, pid.deletedMcp, pid.relativeMcp, ...(cgroupDir ? [pid.serviceMcp] : [])]),
    )
    const claude = check.checks.find((c) => c.id === 'orphan-claude')!.findings.filter((f) => f.severity === 'info')
    expect(claude.map((f) => [f.pid, f.data?.supervisor])).toEqual(
      expect.arrayContaining([
        [pid.pm2Claude, `PM2 (pid ${pid.pm2})`],
        ...(cgroupDir ? [[pid.unitClaude, 'claude-agent.service']] : []),
      ]),
    )
    // The popup and the jobs are healthy: not reported at all.
    const reported = new Set(check.checks.flatMap((c) => c.findings.flatMap((f) => f.pids)))
    expect([pid.popup, pid.job, pid.nestedJob].filter((p) => reported.has(p))).toEqual([])
  })

  it.skipIf(!CGROUP_BASE || !pythonAvailable())(
    "records the services' cgroups in the snapshot (skipped where no cgroup can be created)",
    async () => {
      const r = await runDoctor(ns, ['snapshot', '--no-redact'], {timeoutMs: 60_000})
      const processes: Array<{pid: number; cgroup?: string}> = JSON.parse(r.stdout).processes
      const cgroup = (p: number) => processes.find((x) => x.pid === p)?.cgroup
      expect(cgroup(pid.unitClaude)).toMatch(/\/user@0\.service\/app\.slice\/claude-agent\.service$/)
      expect(cgroup(pid.serviceMcp)).toMatch(/\/system\.slice\/mcp-sse\.service$/)
    },
  )

  it("--fix ends the killed and respawned sessions' claudes and leaves everything else alive", async () => {
    const r = await runDoctor(ns, ['--fix', '--yes', '--grace', '1', '--json'], {timeoutMs: 60_000})
    expect(r.stderr).toBe('')
    const after = new Set((await ns.ps()).filter((p) => p.state !== 'Z').map((p) => p.pid))
    expect(
      mustLive.filter((p) => !after.has(p)),
      JSON.stringify(pid),
    ).toEqual([])
    expect(
      mustDie.filter((p) => after.has(p)),
      JSON.stringify(pid),
    ).toEqual([])
    expect(after.has(pid.stoppedServer)).toBe(true)
  })
})
