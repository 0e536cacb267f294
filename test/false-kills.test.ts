/**
 * The adversarial pass's false kills (issue 18, items 1-2), on built snapshots: processes that look like
 * orphans by their parent but are not, or that the doctor cannot prove to be. Each must be left out of every
 * fixable finding; the ones the doctor could not prove are reported as info.
 *
 * The shapes are the ones real tmux 3.3a showed in a private PID namespace (test/live/false-kills.live.test.ts
 * checks them against real tmux): a popup's program is the server's child on a pty of its own, with TMUX but
 * no TMUX_PANE; a run-shell job is the server's child with no terminal, TMUX but no TMUX_PANE; a server
 * started from another server's pane inherits that TMUX_PANE, and so do its jobs; a pane respawned with
 * `respawn-pane -k` leaves its old program, if it ignored the hangup, under the server with the pane's id.
 */
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import type {Finding} from '../src/checks/api.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}
const mcp = 'node /home/a/node_modules/@modelcontextprotocol/server-memory/dist/index.js'

async function run(m: Machine) {
  const {results, report} = await diagnose({tool, snapshot: m.snapshot(), config: defaultConfig()})
  const of = (id: string): Finding[] => results.find((r) => r.id === id)?.findings ?? []
  const fixable = new Set(results.flatMap((r) => r.findings.filter((f) => f.fixable).flatMap((f) => f.pids)))
  const reported = new Set(results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').flatMap((f) => f.pids)))
  const info = (id: string) => of(id).filter((f) => f.severity === 'info').map((f) => [f.pid, f.fixable])
  return {report, of, fixable, reported, info}
}

/** A server with one live session (a shell in pane %0) and the TMUX value its children get. */
function serverWithSession(m: Machine, pid = 100, opts: {socket?: string} = {}) {
  const s = m.server({pid, socket: opts.socket})
  m.pane(s, 'main', {pid: pid + 1, cmd: 'bash', ttyNr: 34_816})
  return {s, tmux: `${s.socket},${pid},0`}
}

describe('popups and run-shell jobs are not orphans (item 1)', () => {
  it('leaves a claude in a display-popup alone: the server\'s child on a live pty of its own, no TMUX_PANE', async () => {
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

  it('even when the popup was given the pane\'s TMUX_PANE (display-popup -e): a killed pane\'s terminal is hung up, a popup\'s is not', async () => {
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
      [140, 'error', 'parent-is-tmux-server', 'its parent is the tmux server (pid 100) but no pane holds it: its session was killed'],
      [141, 'error', 'parent-is-tmux-server', 'its parent is the tmux server (pid 100) and its pane %0 now runs pid 101: the pane was respawned without it'],
    ])
  })

  it('leaves a claude alone whose TMUX_PANE names the server\'s own dead pane (remain-on-exit)', async () => {
    const m = new Machine()
    const {s} = serverWithSession(m)
    m.pane(s, 'kept', {pid: 150, cmd: 'claude', ttyNr: 0, dead: true, paneId: '%4'})
    expect([...(await run(m)).fixable]).toEqual([])
  })

  it('does not end MCP trees a popup or a run-shell job started', async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    const popup = m.proc({pid: 160, ppid: 100, cmd: 'sh -c npx -y @upstash/context7-mcp', ttyNr: 34_830, env: {TMUX: tmux}})
    m.proc({pid: 161, ppid: popup.pid, cmd: 'npm exec @upstash/context7-mcp', ttyNr: 34_830, env: {TMUX: tmux}})
    m.proc({pid: 170, ppid: 100, cmd: 'mcp-server-git --repository .', ttyNr: 0, env: {TMUX: tmux}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-mcp')).toEqual([])
  })

  it('still ends an MCP server that was a killed pane\'s program', async () => {
    const m = new Machine()
    const {tmux} = serverWithSession(m)
    m.proc({pid: 180, ppid: 100, cmd: 'mcp-server-git --repository .', ttyNr: 0, env: {TMUX: tmux, TMUX_PANE: '%6'}})
    const {of} = await run(m)
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity, f.fixable])).toEqual([[180, 'error', true]])
  })
})

describe('cannot verify, never fix: MCP trees whose owner did not answer (item 2)', () => {
  it('an MCP server that is a pane\'s program on a server that did not answer (SIGSTOPped)', async () => {
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
    m.servers.push({socket: '/home/a/rel/sock', status: 'stale', error: 'no server running on /home/a/rel/sock', foundBy: ['process'], panes: []})
    m.proc({pid: 101, ppid: 100, cmd: 'mcp-server-git --repository .', env: {TMUX_PANE: '%0'}})
    const {fixable, of} = await run(m)
    expect([...fixable]).toEqual([])
    expect(of('orphan-mcp').map((f) => [f.pid, f.severity, f.reason])).toEqual([
      [101, 'info', 'its tmux server (pid 100) could not be queried: no socket that answered is that server\'s'],
    ])
  })

  it('an MCP tree under init whose TMUX names a server that did not answer', async () => {
    const m = new Machine()
    const s = m.server({pid: 100, status: 'error'})
    m.proc({pid: 110, ppid: 1, cmd: 'npm exec @upstash/context7-mcp', env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%3'}})
    m.proc({pid: 111, ppid: 110, cmd: 'node /home/a/.npm/_npx/x/node_modules/.bin/context7-mcp', env: {TMUX: `${s.socket},100,0`, TMUX_PANE: '%3'}})
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
