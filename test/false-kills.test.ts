/**
 * The adversarial pass's false kills (issue 18, items 1-3), on built snapshots: processes that look like
 * orphans by their parent but are not, or that the doctor cannot prove to be. Each must be left out of every
 * fixable finding; the ones the doctor could not prove are reported as info.
 *
 * The shapes are the ones real tmux 3.3a showed in a private PID namespace (test/live/false-kills.live.test.ts
 * checks them against real tmux): a popup's program is the server's child on a pty of its own, with TMUX but
 * no TMUX_PANE; a run-shell job is the server's child with no terminal, TMUX but no TMUX_PANE; a server
 * started from another server's pane inherits that TMUX_PANE, and so do its jobs; a pane respawned with
 * `respawn-pane -k` leaves its old program, if it ignored the hangup, under the server with the pane's id.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {loadConfig} from '../src/config/load.js'
import {diagnose} from '../src/doctor.js'
import type {Finding} from '../src/checks/api.js'
import {createRules} from '../src/rules/rules.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}
const mcp = 'node /home/a/node_modules/@modelcontextprotocol/server-memory/dist/index.js'

async function run(m: Machine) {
  const {results, report} = await diagnose({tool, snapshot: m.snapshot(), config: defaultConfig()})
  const of = (id: string): Finding[] => results.find((r) => r.id === id)?.findings ?? []
  const fixable = new Set(results.flatMap((r) => r.findings.filter((f) => f.fixable).flatMap((f) => f.pids)))
  const reported = new Set(
    results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').flatMap((f) => f.pids)),
  )
  const info = (id: string) =>
    of(id)
      .filter((f) => f.severity === 'info')
      .map((f) => [f.pid, f.fixable])
  return {report, of, fixable, reported, info}
}

/** A server with one live session (a shell in pane %0) and the TMUX value its children get. */
function serverWithSession(m: Machine, pid = 100, opts: {socket?: string} = {}) {
  const s = m.server({pid, socket: opts.socket})
  m.pane(s, 'main', {pid: pid + 1, cmd: 'bash', ttyNr: 34_816})
  return {s, tmux: `${s.socket},${pid},0`}
}

describe('popups and run-shell jobs are not orphans (item 1)', () => {
  it("leaves a claude in a display-popup alone: the server's child on a live pty of its own, no TMUX_PANE", async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    // `display-popup -E 'exec claude'`, and a popup whose sh -c stays as the claude's parent.
    m.proc({pid: 110, ppid: 100, cmd: 'claude', ttyNr: 34_822, env: {TMUX: tmux}})
    m.proc({pid: 111, ppid: 110, cmd: mcp, ttyNr: 34_822, env: {TMUX: tmux, CLAUDECODE: '1'}})
    const sh = m.proc({pid: 112, ppid: 100, cmd: 'sh -c claude', ttyNr: 34_823, env: {TMUX: tmux}})
    m.proc({pid: 113, ppid: sh.pid, cmd: 'claude', ttyNr: 34_823, env: {TMUX: tmux}})
    const {fixable, reported, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect([...reported]).toEqual([])
    expect(of('orphan-claude')).toEqual([])
  })

  it("even when the popup was given the pane's TMUX_PANE (display-popup -e): a killed pane's terminal is hung up, a popup's is not", async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    m.proc({pid: 110, ppid: 100, cmd: 'claude', ttyNr: 34_822, env: {TMUX: tmux, TMUX_PANE: '%7'}})
    expect([...(await run(m)).fixable]).toEqual([])
  })

  it('leaves a claude started by run-shell -b alone: no terminal, but no TMUX_PANE either', async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    m.proc({pid: 120, ppid: 100, cmd: 'claude -p "summarise the log"', ttyNr: 0, env: {TMUX: tmux}})
    m.proc({pid: 121, ppid: 120, cmd: mcp, ttyNr: 0, env: {TMUX: tmux, CLAUDECODE: '1'}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-claude')).toEqual([])
  })

  it('leaves a job alone whose TMUX_PANE the server inherited from the pane of another server that started it', async () => {
    const m = new Machine()
    const outer = m.server({pid: 100})
    m.pane(outer, 'main', {pid: 101, cmd: 'bash', ttyNr: 34_816, paneId: '%1'})
    // `tmux -L inner new -d` from pane %1 of the outer server: the inner server keeps TMUX_PANE=%1.
    const inner = m.server({pid: 200, label: 'inner'})
    m.processes.get(200)!.env = {TMUX: `${outer.socket},100,0`, TMUX_PANE: '%1'}
    m.pane(inner, 'work', {pid: 201, cmd: 'bash', ttyNr: 34_817})
    m.proc({pid: 210, ppid: 200, cmd: 'claude', ttyNr: 0, env: {TMUX: `${inner.socket},200,0`, TMUX_PANE: '%1'}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-claude')).toEqual([])
  })

  it('says "cannot verify" for a server child whose environment could not be read', async () => {
    const m = new Machine()
    serverWithSession(m)
    m.proc({pid: 130, ppid: 100, cmd: 'claude', ttyNr: 0, env: {}, envUnreadable: true})
    const {fixable, info} = await run(m)
    expect([...fixable]).toEqual([])
    expect(info('orphan-claude')).toEqual([[130, false]])
  })

  it('still ends the claude of a killed session (its TMUX_PANE names a pane the server no longer has) and of a respawned pane', async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    m.proc({pid: 140, ppid: 100, cmd: 'claude', ttyNr: 0, env: {TMUX: `${tmux.slice(0, -1)}5`, TMUX_PANE: '%9'}})
    // respawn-pane -k on pane %0: the old program ignored the hangup and stays under the server.
    m.proc({pid: 141, ppid: 100, cmd: 'claude', ttyNr: 0, env: {TMUX: tmux, TMUX_PANE: '%0'}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity, f.data?.evidence, f.reason])).toEqual([
      [
        140,
        'error',
        'parent-is-tmux-server',
        'its parent is the tmux server (pid 100) but no pane holds it: its session was killed',
      ],
      [
        141,
        'error',
        'parent-is-tmux-server',
        'its parent is the tmux server (pid 100) and its pane %0 now runs pid 101: the pane was respawned without it',
      ],
    ])
  })

  it("leaves a claude alone whose TMUX_PANE names the server's own dead pane (remain-on-exit)", async () => {
    const m = new Machine()
    const {s} = serverWithSession(m)
    m.pane(s, 'kept', {pid: 150, cmd: 'claude', ttyNr: 0, dead: true, paneId: '%4'})
    expect([...(await run(m)).fixable]).toEqual([])
  })

  it('does not end MCP trees a popup or a run-shell job started', async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    const popup = m.proc({
      pid: 160,
      ppid: 100,
      cmd: 'sh -c npx -y @upstash/context7-mcp',
      ttyNr: 34_830,
      env: {TMUX: tmux},
    })
    m.proc({pid: 161, ppid: popup.pid, cmd: 'npm exec @upstash/context7-mcp', ttyNr: 34_830, env: {TMUX: tmux}})
    m.proc({pid: 170, ppid: 100, cmd: 'mcp-server-git --repository .', ttyNr: 0, env: {TMUX: tmux}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-mcp')).toEqual([])
  })

  it("still ends an MCP server that was a killed pane's program", async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    m.proc({pid: 180, ppid: 100, cmd: 'mcp-server-git --repository .', ttyNr: 0, env: {TMUX: tmux, TMUX_PANE: '%6'}})
    const {of} = await run(m)
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity, f.fixable])).toEqual([[180, 'error', true]])
  })
})

describe('cannot verify, never fix: MCP trees whose owner did not answer (item 2)', () => {
  it("an MCP server that is a pane's program on a server that did not answer (SIGSTOPped)", async () => {
    const m = new Machine()
    const s = m.server({pid: 100, status: 'unresponsive'})
    m.proc({pid: 101, ppid: 100, cmd: mcp, env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%0'}})
    const {fixable, info, report} = await run(m)
    expect([...fixable]).toEqual([])
    expect(info('orphan-mcp')).toEqual([[101, false]])
    expect(report.summary.orphanMcp).toBe(0)
  })

  it('an MCP server under a tmux server process that no answering socket maps to (relative -S path, deleted socket)', async () => {
    const m = new Machine()
    m.proc({pid: 100, ppid: 1, comm: 'tmux: server', cmd: 'tmux -S rel/sock new-session -d mcp-server-git'})
    m.servers.push({
      socket: '/home/a/rel/sock',
      status: 'stale',
      error: 'no server running on /home/a/rel/sock',
      foundBy: ['process'],
      panes: [],
    })
    m.proc({pid: 101, ppid: 100, cmd: 'mcp-server-git --repository .', env: {TMUX_PANE: '%0'}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity, f.reason])).toEqual([
      [101, 'info', "its tmux server (pid 100) could not be queried: no socket that answered is that server's"],
    ])
  })

  it('an MCP tree under init whose TMUX names a server that did not answer', async () => {
    const m = new Machine()
    const s = m.server({pid: 100, status: 'error'})
    m.proc({
      pid: 110,
      ppid: 1,
      cmd: 'npm exec @upstash/context7-mcp',
      env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%3'},
    })
    m.proc({
      pid: 111,
      ppid: 110,
      cmd: 'node /home/a/.npm/_npx/x/node_modules/.bin/context7-mcp',
      env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%3'},
    })
    const {fixable, info} = await run(m)
    expect([...fixable]).toEqual([])
    expect(info('orphan-mcp')).toEqual([[110, false]])
  })

  it('an MCP server whose parent is outside this PID namespace (PPID 0: docker exec) is not adopted by anyone here', async () => {
    const m = new Machine()
    m.proc({pid: 120, ppid: 0, cmd: 'mcp-server-git --repository .'})
    expect([...(await run(m)).fixable]).toEqual([])
  })
})

describe('supervised processes are reported, never ended (item 3)', () => {
  const userUnit = '/user.slice/user-1000.slice/user@1000.service/app.slice/claude-agent.service'

  it('a claude run as a systemd --user unit: parent the subreaper, cgroup …/claude-agent.service', async () => {
    const m = new Machine()
    const user = m.proc({
      pid: 500,
      ppid: 1,
      cmd: '/lib/systemd/systemd --user',
      comm: 'systemd',
      cgroup: '/user.slice/user-1000.slice/user@1000.service/init.scope',
    })
    m.proc({pid: 510, ppid: user.pid, cmd: 'claude -p "triage the queue"', cgroup: userUnit})
    m.proc({pid: 511, ppid: 510, cmd: mcp, env: {CLAUDECODE: '1'}, cgroup: userUnit})
    const {fixable, of, report} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-claude').map((f) => [f.pid, f.severity, f.fixable, f.message, f.reason])).toEqual([
      [
        510,
        'info',
        false,
        'Supervised Claude process (claude-agent.service): a service, not an orphan; left alone',
        `runs in the systemd unit claude-agent.service (cgroup ${userUnit}), which supervises it: stop it with systemctl --user stop claude-agent.service`,
      ],
    ])
    expect(of('orphan-mcp')).toEqual([])
    expect(report.summary.orphanClaude).toBe(0)
    expect(report.summary.orphanMemoryBytes).toBe(0)
  })

  it('an SSE MCP server run as a system service: parent init, cgroup /system.slice/mcp-sse.service', async () => {
    const m = new Machine()
    m.proc({
      pid: 600,
      ppid: 1,
      cmd: 'node /opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js sse',
      cgroup: '/system.slice/mcp-sse.service',
    })
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity, f.message, f.data?.supervisor])).toEqual([
      [
        600,
        'info',
        'Supervised MCP server @modelcontextprotocol/server-everything (mcp-sse.service): a service, not an orphan; left alone',
        'mcp-sse.service',
      ],
    ])
    expect(of('orphan-mcp')[0].reason).toMatch(/stop it with systemctl stop mcp-sse\.service$/)
  })

  it('a claude PM2 supervises, started from a tmux pane that is gone since', async () => {
    const m = new Machine()
    const {s} = serverWithSession(m)
    const env = {TMUX: `${s.socket},100,3`, TMUX_PANE: '%5'}
    const pm2 = m.proc({
      pid: 700,
      ppid: 1,
      argv: ['PM2 v5.3.0: God Daemon (/home/a/.pm2)'],
      comm: 'PM2 v5.3.0: God',
      ttyNr: 0,
      env,
    })
    m.proc({pid: 710, ppid: pm2.pid, cmd: 'claude -p "watch CI"', ttyNr: 0, env})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-claude').map((f) => [f.pid, f.severity, f.data?.supervisor, f.reason])).toEqual([
      [710, 'info', 'PM2 (pid 700)', 'supervised by PM2 (pid 700), which restarts what it runs: stop it through PM2'],
    ])
  })

  it('a claude under supervisord, runsv, s6-supervise or supervise, behind a wrapper', async () => {
    for (const cmd of [
      '/usr/bin/python3 /usr/bin/supervisord -n -c /etc/supervisord.conf',
      'runsv /etc/service/agent',
      's6-supervise agent',
      'supervise /service/agent',
    ]) {
      const m = new Machine()
      const {s} = serverWithSession(m)
      const sup = m.proc({
        pid: 800,
        ppid: 1,
        cmd,
        ttyNr: 0,
        ...(cmd.startsWith('/usr/bin/python3') ? {comm: 'supervisord'} : {}),
      })
      const sh = m.proc({pid: 810, ppid: sup.pid, cmd: 'sh -c exec-agent', ttyNr: 0})
      m.proc({pid: 811, ppid: sh.pid, cmd: 'claude', ttyNr: 0, env: {TMUX: `${s.socket},100,3`, TMUX_PANE: '%5'}})
      const {fixable, info} = await run(m)
      expect([...fixable], cmd).toEqual([])
      expect(info('orphan-claude'), cmd).toEqual([[811, false]])
    }
  })

  it("never ends a supervisor, or what it runs, inside an orphan claude's tree or left behind by one", async () => {
    const m = new Machine()
    m.proc({pid: 900, ppid: 1, cmd: 'claude'})
    m.proc({pid: 901, ppid: 900, cmd: 'supervisord -n', env: {CLAUDECODE: '1'}})
    m.proc({pid: 902, ppid: 901, cmd: 'node /srv/app.js', env: {CLAUDECODE: '1'}})
    m.proc({pid: 903, ppid: 900, cmd: mcp, env: {CLAUDECODE: '1'}})
    // A PM2 daemon a claude started (it inherited CLAUDECODE=1), adopted by init, and the MCP server it runs.
    m.proc({
      pid: 910,
      ppid: 1,
      argv: ['PM2 v5.3.0: God Daemon (/home/a/.pm2)'],
      comm: 'PM2 v5.3.0: God',
      env: {CLAUDECODE: '1'},
    })
    m.proc({pid: 911, ppid: 910, cmd: 'sh -c node server.js', env: {CLAUDECODE: '1'}})
    m.proc({pid: 912, ppid: 911, cmd: mcp, env: {CLAUDECODE: '1'}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => f.pids)).toEqual([[900, 903]])
    expect(of('orphan-mcp')).toEqual([])
  })

  it("a unit that started tmux itself (cron.service) still leaves orphans: its leftovers share the server's cgroup", async () => {
    const m = new Machine()
    const cron = '/system.slice/cron.service'
    const {s} = serverWithSession(m, 100)
    m.processes.get(100)!.cgroup = cron
    m.proc({
      pid: 150,
      ppid: 1,
      cmd: 'claude',
      ttyNr: 0,
      cgroup: cron,
      env: {TMUX: `${s.socket},100,4`, TMUX_PANE: '%8'},
    })
    m.proc({pid: 151, ppid: 150, cmd: mcp, cgroup: cron, env: {CLAUDECODE: '1'}})
    m.proc({pid: 160, ppid: 1, cmd: 'npm exec @upstash/context7-mcp', cgroup: cron})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity])).toEqual([[150, 'error']])
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity])).toEqual([[160, 'error']])
  })

  it('a scope (a login session, a terminal tab) is not a service: its orphans are still orphans', async () => {
    const m = new Machine()
    m.proc({pid: 170, ppid: 1, cmd: 'claude', cgroup: '/user.slice/user-1000.slice/session-3.scope'})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity])).toEqual([[170, 'error']])
  })

  it('takes more supervisors from the configuration, and refuses one that would match every process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-supervisors-'))
    const file = path.join(dir, 'gt-doctor.config.json')
    fs.writeFileSync(file, JSON.stringify({rules: {supervisors: ['^forever ']}}))
    const config = await loadConfig({explicit: file})
    const rules = createRules(config.rules)
    expect(rules.isSupervisor({pid: 5, ppid: 1, comm: 'node', argv: ['forever', 'start', 'app.js'], env: {}})).toBe(
      true,
    )
    expect(rules.isSupervisor({pid: 6, ppid: 1, comm: 'runsv', argv: ['runsv', 'agent'], env: {}})).toBe(true)
    expect(rules.isSupervisor({pid: 1, ppid: 0, comm: 'runsv', argv: ['runsv'], env: {}})).toBe(false)
    fs.writeFileSync(file, JSON.stringify({rules: {supervisors: ['x?']}}))
    await expect(loadConfig({explicit: file})).rejects.toThrow(
      /^config .*gt-doctor\.config\.json: rules\.supervisors\[0\]: \/x\?\/ matches the empty string, so it would match every process$/,
    )
    fs.rmSync(dir, {recursive: true, force: true})
  })

  it("a unit the doctor itself runs in is the user's session (ssh.service without pam_systemd, a CI runner), not a supervisor", async () => {
    const ssh = '/system.slice/ssh.service'
    const m = new Machine(1000, 99_999)
    const shell = m.proc({pid: 300, ppid: 1, cmd: '-bash', ttyNr: 34_900, cgroup: ssh})
    m.proc({pid: 99_999, ppid: shell.pid, cmd: 'node /usr/bin/gt-doctor', ttyNr: 34_900, cgroup: ssh})
    // A dropped connection's claude, adopted by init, still in ssh.service.
    m.proc({pid: 310, ppid: 1, cmd: 'claude', ttyNr: 0, cgroup: ssh})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity])).toEqual([[310, 'error']])
  })

  it("holds leftovers too: a supervised one and one whose tmux server did not answer are info, a job's is not reported", async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    const mute = m.server({pid: 200, label: 'mute', status: 'unresponsive'})
    const leftover = (pid: number, ppid: number, extra: Partial<Parameters<Machine['proc']>[0]> = {}) => {
      const sh = m.proc({pid, ppid, cmd: 'bash -c node dev-server.js', ttyNr: 0, env: {CLAUDECODE: '1'}, ...extra})
      m.proc({pid: pid + 1, ppid: sh.pid, cmd: 'node dev-server.js', ttyNr: 0, env: {CLAUDECODE: '1'}, ...extra})
    }
    leftover(400, 1, {cgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice/dev-server.service'})
    leftover(410, 1, {env: {CLAUDECODE: '1', TMUX: `${mute.socket},200,0`, TMUX_PANE: '%2'}})
    leftover(420, 100, {env: {CLAUDECODE: '1', TMUX: tmux}})
    leftover(430, 1)
    const {of, report} = await run(m)
    expect(of('agent-leftover').map((f) => [f.pid, f.severity, f.fixable, f.data?.supervisor])).toEqual([
      [430, 'warning', false, undefined],
      [400, 'info', false, 'dev-server.service'],
      [410, 'info', false, undefined],
    ])
    expect(report.summary.leftovers).toBe(1)
  })
})
