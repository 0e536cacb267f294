/**
 * Proves the live-test harness itself: private PID namespace, reaping PID 1, private tmux servers, the
 * stand-in claude / MCP programs, and a teardown that leaves nothing behind on the host.
 */
import {spawn} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, afterEach, beforeAll, expect, it} from 'vitest'
import {
  CLAUDE_STANDIN,
  type LiveNamespace,
  type NsProcess,
  describeLive,
  networkUnavailableReason,
  pythonAvailable,
  runsNode,
  startNamespace,
  waitUntil,
} from './namespace.js'

const isMcp = (p: NsProcess) => p.args.includes('@modelcontextprotocol/server-standin/index.js') && runsNode(p)

/** Host view: pids of host processes whose command line mentions `needle`. */
function hostPidsMentioning(needle: string): number[] {
  const pids: number[] = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) pids.push(Number(name))
    } catch {}
  }
  return pids
}

function hostAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describeLive('live harness', () => {
  let ns: LiveNamespace

  beforeAll(async () => {
    ns = await startNamespace()
  })
  // One test's leftovers (after a failure, say) must not be found by the next one: empty the namespace.
  afterEach(async () => {
    const ours = (p: NsProcess) => p.pid !== 1 && p.pid !== ns.controllerPid
    for (const p of (await ns.ps()).filter(ours)) await ns.kill(p.pid, 'SIGKILL')
    await ns.waitUntil(async () => !(await ns.ps()).some(ours), 5000, 50, 'namespace emptied')
  })
  afterAll(async () => {
    await ns?.close()
  })

  it('runs the controller in a private PID namespace that hides the host', async () => {
    expect(ns.controllerPid).toBe(2)
    const procs = await ns.ps()
    const init = procs.find((p) => p.pid === 1)
    expect(init?.comm).toBe('bash')
    expect(init?.args).toContain('gt-live-init')
    expect(procs.find((p) => p.pid === ns.controllerPid)?.ppid).toBe(1)
    // Only our own processes: everything is PID 1 or descends from it, and the host's pids do not exist here.
    expect(procs.every((p) => p.pid === 1 || p.ppid >= 1)).toBe(true)
    expect(procs.length).toBeLessThan(10)
    expect(process.pid).toBeGreaterThan(50)
    expect(await ns.alive(process.pid)).toBe(false)
    expect(await ns.readFile('/proc/1/cmdline')).toContain('gt-live-init')
    // exec reports output and exit status; the tmpdir is shared with the host.
    const r = await ns.exec(['sh', '-c', 'echo $$; cat; echo err >&2; exit 3'], {input: 'hi\n'})
    expect(r).toMatchObject({code: 3, signal: null, stderr: 'err\n', timedOut: false})
    expect(Number(r.stdout.split('\n')[0])).toBeLessThan(50)
    expect(r.stdout.split('\n')[1]).toBe('hi')
    fs.writeFileSync(path.join(ns.tmpdir, 'probe'), 'shared')
    expect(await ns.readFile(path.join(ns.tmpdir, 'probe'))).toBe('shared')
    const slow = await ns.exec(['sleep', '5'], {timeoutMs: 100})
    expect(slow).toMatchObject({timedOut: true, signal: 'SIGKILL'})
  })

  it('PID 1 reaps orphans that exit or are killed (no zombies)', async () => {
    // `sh -c 'sleep & '` orphans the sleep to PID 1 at once; it exits after 0.5 s.
    const r = await ns.exec(['sh', '-c', 'sleep 0.5 >/dev/null 2>&1 & echo $!'])
    const pid = Number(r.stdout.trim())
    expect((await ns.ps()).find((p) => p.pid === pid)).toMatchObject({ppid: 1, comm: 'sleep'})
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => p.pid === pid), 3000, 50, 'orphan reaped')

    // A stand-in claude started as an orphan, killed by SIGKILL: gone, not a Z entry.
    const {pid: claude} = await ns.spawn([CLAUDE_STANDIN], {orphan: true, env: {STANDIN_MCP: '0'}})
    await ns.waitForProcs((p) => p.pid === claude && p.ppid === 1 && p.comm === 'claude')
    expect(await ns.kill(claude, 'SIGKILL')).toBe(true)
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => p.pid === claude), 3000, 50, 'killed claude reaped')

    // A stand-in that exits by itself is reaped too.
    const {pid: quitter} = await ns.spawn([CLAUDE_STANDIN], {
      orphan: true,
      env: {STANDIN_MCP: '0', STANDIN_EXIT_AFTER_MS: '200'},
    })
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => p.pid === quitter), 3000, 50, 'exited claude reaped')
    expect((await ns.ps()).filter((p) => p.state === 'Z')).toEqual([])
  })

  it('a tmux session runs the stand-in claude; orphans survive kill-session and reparent', async () => {
    expect((await ns.tmux(['new-session', '-d', '-s', 'gt-a', CLAUDE_STANDIN])).code).toBe(0)
    expect((await ns.tmux(['new-session', '-d', '-s', 'gt-b', 'sleep 600'])).code).toBe(0)
    const [server] = await ns.waitForProcs((p) => p.comm === 'tmux: server')
    expect(server.ppid).toBe(1)
    expect(server.args).toContain(ns.socket('default'))

    const [claude] = await ns.waitForStandins('claude')
    // process.title rewrote comm and cmdline: the kernel shows "claude", as for the real CLI.
    expect(claude.argv).toEqual(['claude'])
    expect(claude.ppid).toBe(server.pid)
    const mcp = await ns.waitForProcs((p) => isMcp(p) && p.ppid === claude.pid, 2)
    expect(mcp).toHaveLength(2)
    // Visible in /proc is not ready: wait until the handlers are installed before anything signals them.
    expect((await ns.waitReady(claude.pid)).mcp?.sort()).toEqual(mcp.map((m) => m.pid).sort())
    for (const m of mcp) await ns.waitReady(m.pid)
    expect(mcp[0].argv).toEqual(['node', ns.mcpScript])
    expect((await ns.environ(mcp[0].pid))?.CLAUDECODE).toBe('1')
    expect((await ns.environ(claude.pid))?.TMUX).toContain(ns.socket('default'))
    const panes = await ns.tmux(['list-panes', '-a', '-F', '#{session_name} #{pane_pid}'])
    expect(panes.stdout).toContain(`gt-a ${claude.pid}`)

    // kill-session hangs up the pane; the claude ignores SIGHUP and stays a child of the still-running server.
    expect((await ns.tmux(['kill-session', '-t', 'gt-a'])).code).toBe(0)
    await ns.waitUntil(
      async () => !(await ns.tmux(['list-panes', '-a', '-F', '#{pane_pid}'])).stdout.includes(String(claude.pid)),
    )
    await new Promise((r) => setTimeout(r, 100))
    let procs = await ns.ps()
    expect(procs.find((p) => p.pid === claude.pid)).toMatchObject({ppid: server.pid, comm: 'claude'})
    expect(await ns.alive(claude.pid)).toBe(true)
    for (const m of mcp) expect(procs.find((p) => p.pid === m.pid)?.ppid).toBe(claude.pid)

    // Last session gone: the server exits and the orphan claude reparents to PID 1.
    await ns.tmux(['kill-session', '-t', 'gt-b'])
    await ns.waitUntil(
      async () => (await ns.ps()).find((p) => p.pid === claude.pid)?.ppid === 1,
      5000,
      50,
      'claude reparented to PID 1',
    )
    // The server exits on its own once its last session is gone; on a loaded machine that takes a moment.
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => p.pid === server.pid), 5000, 50, 'tmux server exited')
    procs = await ns.ps()
    expect(procs.filter((p) => mcp.some((m) => m.pid === p.pid)).map((p) => p.ppid)).toEqual([claude.pid, claude.pid])

    // Killing the orphan claude leaves its MCP children to PID 1; killing those leaves no zombie.
    await ns.kill(claude.pid, 'SIGTERM')
    await ns.waitUntil(
      async () => (await ns.ps()).filter((p) => mcp.some((m) => m.pid === p.pid) && p.ppid === 1).length === 2,
    )
    for (const m of mcp) await ns.kill(m.pid, 'SIGTERM')
    await ns.waitUntil(
      async () => !(await ns.ps()).some((p) => p.pid === claude.pid || mcp.some((m) => m.pid === p.pid)),
      3000,
      50,
      'all reaped',
    )
    expect((await ns.ps()).filter((p) => p.state === 'Z')).toEqual([])
  })

  it('a claude behind a shell pane is reparented when the shell dies of the hangup', async () => {
    await ns.tmux(['new-session', '-d', '-s', 'gt-sh', `${CLAUDE_STANDIN}; echo done`], 'shell')
    const [server] = await ns.waitForProcs((p) => p.comm === 'tmux: server' && p.args.includes(ns.socket('shell')))
    const [claude] = await ns.waitForStandins('claude')
    const shell = (await ns.ps()).find((p) => p.pid === claude.ppid)!
    expect(shell.ppid).toBe(server.pid)
    for (const m of await ns.waitForProcs((p) => isMcp(p) && p.ppid === claude.pid, 2)) await ns.waitReady(m.pid)
    await ns.waitReady(claude.pid)
    await ns.tmux(['kill-session', '-t', 'gt-sh'], 'shell')
    // The shell dies of SIGHUP; tmux is not a subreaper, so the claude goes to PID 1 (the server exits too).
    await ns.waitUntil(
      async () => (await ns.ps()).find((p) => p.pid === claude.pid)?.ppid === 1,
      5000,
      50,
      'claude reparented',
    )
    expect(await ns.alive(shell.pid)).toBe(false)
    await ns.kill(claude.pid, 'SIGKILL')
    for (const m of (await ns.ps()).filter(isMcp)) await ns.kill(m.pid, 'SIGKILL')
    await ns.waitUntil(async () => !(await ns.ps()).some((p) => p.comm === 'claude' || isMcp(p)))
  })

  it('stand-in options: wrappers, SIGTERM-proof, clean exit on SIGINT', async () => {
    const sh = await ns.spawn([CLAUDE_STANDIN], {
      env: {STANDIN_MCP: '1', STANDIN_MCP_WRAPPER: 'sh', STANDIN_TITLE: 'claude-sh'},
    })
    const npm = await ns.spawn([CLAUDE_STANDIN], {
      env: {STANDIN_MCP: '1', STANDIN_MCP_WRAPPER: 'npm-exec', STANDIN_TITLE: 'claude-npm'},
    })
    // Mid-exec, a child reads comm `sh` before its new argv is in place: wait for both.
    const [shWrap] = await ns.waitForProcs((p) => p.ppid === sh.pid && p.comm === 'sh' && p.argv.length > 0)
    expect(shWrap.argv.slice(0, 2)).toEqual(['sh', '-c'])
    await ns.waitForProcs((p) => isMcp(p) && p.ppid === shWrap.pid)
    const [npmWrap] = await ns.waitForProcs(
      (p) => p.ppid === npm.pid && p.args === 'npm exec @modelcontextprotocol/server-standin',
    )
    expect(npmWrap.comm).toBe('npm exec @model')
    await ns.waitForProcs((p) => isMcp(p) && p.ppid === npmWrap.pid)

    // STANDIN_IGNORE_TERM: SIGTERM does nothing, SIGKILL does.
    const tough = await ns.spawn([CLAUDE_STANDIN], {
      env: {STANDIN_MCP: '1', STANDIN_IGNORE_TERM: '1', STANDIN_TITLE: 'claude-tough'},
    })
    const [toughMcp] = await ns.waitForProcs((p) => isMcp(p) && p.ppid === tough.pid)
    await Promise.all([tough.pid, toughMcp.pid, sh.pid, npm.pid, npmWrap.pid].map((pid) => ns.waitReady(pid)))
    await ns.kill(tough.pid, 'SIGTERM')
    await ns.kill(toughMcp.pid, 'SIGTERM')
    await ns.kill(tough.pid, 'SIGHUP')
    await new Promise((r) => setTimeout(r, 300))
    expect(await ns.alive(tough.pid)).toBe(true)
    expect(await ns.alive(toughMcp.pid)).toBe(true)
    await ns.kill(tough.pid, 'SIGKILL')
    await ns.kill(toughMcp.pid, 'SIGKILL')
    await ns.waitUntil(async () => !(await ns.alive(tough.pid)) && !(await ns.alive(toughMcp.pid)))

    // SIGINT is ignored by default, and a clean exit (children first) with STANDIN_EXIT_ON_INT=1.
    const polite = await ns.spawn([CLAUDE_STANDIN], {
      env: {STANDIN_EXIT_ON_INT: '1', STANDIN_MCP_WRAPPER: 'sh', STANDIN_TITLE: 'claude-polite'},
    })
    const wraps = await ns.waitForProcs((p) => p.ppid === polite.pid && p.comm === 'sh' && p.argv.length > 0, 2)
    const servers = await ns.waitForProcs((p) => isMcp(p) && wraps.some((w) => w.pid === p.ppid), 2)
    await Promise.all([polite.pid, ...servers.map((p) => p.pid)].map((pid) => ns.waitReady(pid)))
    await ns.kill(sh.pid, 'SIGINT')
    await ns.kill(polite.pid, 'SIGINT')
    const gone = [polite, ...wraps, ...servers].map((p) => p.pid)
    await ns.waitUntil(
      async () => !(await ns.ps()).some((p) => gone.includes(p.pid)),
      3000,
      50,
      'polite claude and its children gone',
    )
    expect(await ns.alive(sh.pid)).toBe(true)

    // SIGTERM without STANDIN_IGNORE_TERM ends claude and orphans its wrapped servers (the bug).
    await ns.kill(npm.pid, 'SIGTERM')
    await ns.waitUntil(async () => (await ns.ps()).find((p) => p.pid === npmWrap.pid)?.ppid === 1)
    const ours = (p: NsProcess) => p.pid !== 1 && p.pid !== ns.controllerPid
    for (const p of (await ns.ps()).filter(ours)) await ns.kill(p.pid, 'SIGKILL')
    await ns.waitUntil(async () => !(await ns.ps()).some(ours), 3000, 50, 'namespace emptied')
  })

  it.skipIf(!pythonAvailable())('a subreaper titled `systemd --user` adopts orphans instead of PID 1', async () => {
    const sd = await ns.spawnSubreaper()
    const me = (await ns.ps()).find((p) => p.pid === sd.pid)!
    expect(me.comm).toBe('systemd')
    expect(me.args).toBe('systemd --user')
    expect((await ns.ps()).find((p) => p.pid === sd.controllerPid)?.ppid).toBe(sd.pid)

    expect((await sd.tmux(['new-session', '-d', '-s', 'gt-sd', CLAUDE_STANDIN], 'sd')).code).toBe(0)
    const [server] = await ns.waitForProcs((p) => p.comm === 'tmux: server' && p.args.includes(ns.socket('sd')))
    expect(server.ppid).toBe(sd.pid)
    const [claude] = await ns.waitForStandins('claude', (p) => p.ppid === server.pid)
    for (const m of await ns.waitForProcs((p) => isMcp(p) && p.ppid === claude.pid, 2)) await ns.waitReady(m.pid)
    await ns.waitReady(claude.pid)
    await sd.tmux(['kill-session', '-t', 'gt-sd'], 'sd')
    await ns.waitUntil(
      async () => (await ns.ps()).find((p) => p.pid === claude.pid)?.ppid === sd.pid,
      5000,
      50,
      'claude adopted by subreaper',
    )

    const {pid: orphan} = await sd.spawn(['sleep', '600'], {orphan: true})
    expect((await ns.ps()).find((p) => p.pid === orphan)?.ppid).toBe(sd.pid)
    await ns.kill(claude.pid, 'SIGKILL')
    await ns.kill(orphan, 'SIGKILL')
    await ns.waitUntil(
      async () => !(await ns.ps()).some((p) => p.pid === claude.pid || p.pid === orphan),
      3000,
      50,
      'subreaper reaps',
    )
    await ns.kill(sd.pid, 'SIGKILL')
  })
})

describeLive('live harness teardown', () => {
  it('close() kills everything in the namespace and is idempotent', async () => {
    const ns = await startNamespace()
    const {tmpdir, hostPid} = ns
    await ns.tmux(['new-session', '-d', '-s', 'gt-x', CLAUDE_STANDIN])
    await ns.spawn([CLAUDE_STANDIN], {orphan: true, detached: true, env: {STANDIN_IGNORE_TERM: '1'}})
    await ns.waitForProcs(isMcp, 4)
    expect(hostPidsMentioning(tmpdir).length).toBeGreaterThanOrEqual(4)
    await Promise.all([ns.close(), ns.close()])
    await ns.close()
    expect(ns.closed).toBe(true)
    expect(hostAlive(hostPid)).toBe(false)
    expect(hostPidsMentioning(tmpdir)).toEqual([])
    expect(fs.existsSync(tmpdir)).toBe(false)
    await expect(ns.ps()).rejects.toThrow(/closed/)
  })

  it('a test process that dies without close() leaves no namespace behind', async () => {
    const code = `
      import {startNamespace, CLAUDE_STANDIN} from ${JSON.stringify(new URL('./namespace.ts', import.meta.url).pathname)}
      const ns = await startNamespace()
      await ns.tmux(['new-session', '-d', '-s', 'gt-crash', CLAUDE_STANDIN])
      await ns.waitForProcs((p) => p.args.includes('server-standin/index.js'), 2)
      process.stdout.write(JSON.stringify({tmpdir: ns.tmpdir, hostPid: ns.hostPid}) + '\\n')
      setInterval(() => {}, 1000)
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const info = await new Promise<{tmpdir: string; hostPid: number}>((resolve, reject) => {
      let buf = ''
      child.stdout.on('data', (d) => {
        buf += d
        if (buf.includes('\n')) resolve(JSON.parse(buf))
      })
      child.once('exit', (c) => reject(new Error(`helper exited early (${c})`)))
    })
    try {
      expect(hostPidsMentioning(info.tmpdir).length).toBeGreaterThanOrEqual(3)
      child.kill('SIGKILL')
      await waitUntil(
        () => !hostAlive(info.hostPid) && hostPidsMentioning(info.tmpdir).length === 0,
        5000,
        50,
        'namespace gone',
      )
    } finally {
      child.kill('SIGKILL')
      fs.rmSync(info.tmpdir, {recursive: true, force: true})
    }
  })
})

describeLive(
  'live harness network namespace',
  () => {
    it('{network: true} has loopback up and nothing else; env may depend on the tmpdir', async () => {
      const ns = await startNamespace({network: true, env: (tmpdir) => ({GT_LIVE_HOME: path.join(tmpdir, 'home')})})
      try {
        expect(ns.env.GT_LIVE_HOME).toBe(path.join(ns.tmpdir, 'home'))
        const links = await ns.exec(['ip', '-o', 'link', 'show'])
        expect(
          links.stdout
            .trim()
            .split('\n')
            .map((l) => l.split(':')[1].trim()),
        ).toEqual(['lo'])
        expect(links.stdout).toMatch(/<LOOPBACK,UP,LOWER_UP>/)
        // Loopback answers (a real claude's model listens there); the only route is loopback's own.
        const probe = `const net = require('node:net'); const s = net.createServer((c) => c.end('pong')).listen(0, '127.0.0.1', () =>
          net.connect(s.address().port, '127.0.0.1').on('data', (d) => { process.stdout.write(String(d)); process.exit(0) }))`
        expect((await ns.exec([process.execPath, '-e', probe])).stdout).toBe('pong')
        expect((await ns.exec(['ip', 'route', 'show'])).stdout.trim()).toBe('')
      } finally {
        await ns.close()
      }
    })
  },
  networkUnavailableReason(),
)
