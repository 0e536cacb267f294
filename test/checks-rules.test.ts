import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}
const mcp = 'node /home/a/node_modules/@modelcontextprotocol/server-memory/dist/index.js'

async function run(m: Machine, only?: string[]) {
  const {results, report} = await diagnose({tool, snapshot: m.snapshot(), config: defaultConfig(), only})
  const of = (id: string) => results.find((r) => r.id === id)?.findings ?? []
  return {
    report,
    of,
    flagged: new Set(results.flatMap((r) => r.findings.filter((f) => f.severity !== 'info').flatMap((f) => f.pids))),
  }
}

describe('orphan-claude', () => {
  it('leaves a claude in a plain terminal alone: its parent shell is alive', async () => {
    const m = new Machine()
    const term = m.proc({pid: 10, ppid: 1, cmd: 'gnome-terminal-server'})
    const shell = m.proc({pid: 11, ppid: term.pid, cmd: 'bash', ttyNr: 34_817})
    m.proc({pid: 12, ppid: shell.pid, cmd: 'claude', ttyNr: 34_817})
    m.proc({pid: 13, ppid: 12, cmd: mcp})
    const {of, flagged} = await run(m)
    expect(of('orphan-claude')).toEqual([])
    expect(of('orphan-mcp')).toEqual([])
    expect(flagged.size).toBe(0)
  })

  it("finds the native installer's version-named binary orphaned under init", async () => {
    const m = new Machine()
    m.proc({pid: 20, ppid: 1, cmd: '/home/a/.local/share/claude/versions/2.1.233 --resume', comm: '2.1.233'})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => f.pid)).toEqual([20])
  })

  it('reports "cannot verify" (info, not fixable) for claudes under a tmux server that does not answer', async () => {
    const m = new Machine()
    const s = m.server({pid: 30, status: 'unresponsive'})
    m.proc({pid: 31, ppid: 30, cmd: 'claude'})
    m.proc({pid: 32, ppid: 31, cmd: mcp})
    // And one whose TMUX variable names that server but which was reparented to init.
    m.proc({pid: 33, ppid: 1, cmd: 'claude', env: {TMUX: `${s.socket},30,0`, TMUX_PANE: '%3'}})
    const {of, flagged, report} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.severity, f.fixable])).toEqual([
      [31, 'info', false],
      [33, 'info', false],
    ])
    expect(of('orphan-mcp')).toEqual([])
    expect(flagged.size).toBe(0)
    expect(report.summary.orphanClaude).toBe(0)
  })

  it('finds a claude whose pane is gone and whose wrapper survived, but not one a live terminal still holds', async () => {
    const m = new Machine()
    const s = m.server({pid: 40})
    m.pane(s, 'gt-live', {pid: 41, cmd: 'bash', ttyNr: 34_818})
    // Wrapper that ignored SIGHUP, its terminal hung up (tty 0), pane %9 gone.
    const wrapper = m.proc({pid: 42, ppid: 1, cmd: 'gt polecat run', ttyNr: 0})
    m.proc({pid: 43, ppid: wrapper.pid, cmd: 'claude', ttyNr: 0, env: {TMUX: `${s.socket},40,5`, TMUX_PANE: '%9'}})
    // The same stale TMUX variables, but inside a terminal the user opened from tmux and kept.
    const shell = m.proc({pid: 44, ppid: 1, cmd: 'bash', ttyNr: 34_900})
    m.proc({pid: 45, ppid: shell.pid, cmd: 'claude', ttyNr: 34_900, env: {TMUX: `${s.socket},40,5`, TMUX_PANE: '%9'}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.data?.evidence])).toEqual([[43, 'pane-gone']])
  })

  it("never judges the doctor's own ancestors, even an orphaned claude running it", async () => {
    const m = new Machine(1000, 52)
    m.proc({pid: 50, ppid: 1, cmd: 'claude'})
    m.proc({pid: 51, ppid: 50, cmd: 'bash -c gt-doctor', env: {CLAUDECODE: '1'}})
    m.proc({pid: 52, ppid: 51, cmd: 'node /usr/bin/gt-doctor', env: {CLAUDECODE: '1'}})
    const {flagged} = await run(m)
    expect([...flagged]).toEqual([])
  })

  it('names the session a recycled pane left its claude in, but not a session of a restarted server', async () => {
    const m = new Machine()
    const s = m.server({pid: 90})
    m.pane(s, 'gt-polecat', {pid: 91, cmd: 'bash', ttyNr: 7})
    m.proc({pid: 92, ppid: 90, cmd: 'claude', env: {TMUX: `${s.socket},90,0`, TMUX_PANE: '%5'}})
    m.proc({pid: 93, ppid: 90, cmd: 'claude', env: {TMUX: `${s.socket},77,0`, TMUX_PANE: '%5'}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.session])).toEqual([
      [92, 'gt-polecat'],
      [93, undefined],
    ])
  })

  it('skips zombies: a dead claude holds nothing to end', async () => {
    const m = new Machine()
    m.proc({pid: 60, ppid: 1, cmd: '', comm: 'claude', state: 'Z'})
    const {of, report} = await run(m)
    expect(of('orphan-claude')).toEqual([])
    expect(report.summary.claudeProcesses).toBe(0)
  })

  it('gives a reused pid a different finding id', async () => {
    const a = new Machine()
    a.proc({pid: 70, ppid: 1, cmd: 'claude', startTicks: 100})
    const b = new Machine()
    b.proc({pid: 70, ppid: 1, cmd: 'claude', startTicks: 200})
    const [fa] = (await run(a)).of('orphan-claude')
    const [fb] = (await run(b)).of('orphan-claude')
    expect(fa.id).not.toBe(fb.id)
  })

  it('covers a claude started by an orphan claude in the outer tree, once', async () => {
    const m = new Machine()
    m.proc({pid: 80, ppid: 1, cmd: 'claude'})
    m.proc({pid: 81, ppid: 80, cmd: 'bash -c claude -p hi', env: {CLAUDECODE: '1'}})
    m.proc({pid: 82, ppid: 81, cmd: 'claude -p hi', env: {CLAUDECODE: '1'}})
    const {of} = await run(m)
    expect(of('orphan-claude').map((f) => [f.pid, f.pids])).toEqual([[80, [80, 81, 82]]])
  })
})

describe('orphan-mcp', () => {
  it('leaves MCP servers of a live editor alone (their parent is alive)', async () => {
    const m = new Machine()
    const code = m.proc({pid: 10, ppid: 1, cmd: '/usr/share/code/code --type=extensionHost'})
    m.proc({pid: 11, ppid: code.pid, cmd: mcp})
    m.proc({pid: 12, ppid: code.pid, cmd: 'npx -y @modelcontextprotocol/server-github'})
    const {flagged} = await run(m)
    expect(flagged.size).toBe(0)
  })

  it('leaves a Claude-started process with no MCP server and no claude above it to agent-leftover', async () => {
    const m = new Machine()
    m.proc({pid: 20, ppid: 1, cmd: 'npm run dev', env: {CLAUDECODE: '1'}})
    m.proc({pid: 21, ppid: 20, cmd: 'node /app/node_modules/.bin/vite', env: {CLAUDECODE: '1'}})
    const {of} = await run(m)
    expect(of('orphan-mcp')).toEqual([])
    expect(of('agent-leftover').map((f) => [f.pid, f.pids, f.severity, f.fixable])).toEqual([
      [20, [20, 21], 'warning', false],
    ])
  })

  it('never roots a tree at a tmux server or a live pane, even with CLAUDECODE=1', async () => {
    const m = new Machine()
    const s = m.server({pid: 30})
    // A tmux server started from a claude's Bash tool inherits CLAUDECODE=1.
    m.processes.set(30, {...m.processes.get(30)!, env: {CLAUDECODE: '1'}})
    m.pane(s, 'work', {pid: 31, cmd: 'bash', env: {CLAUDECODE: '1'}})
    m.proc({pid: 32, ppid: 31, cmd: mcp, env: {CLAUDECODE: '1'}})
    const {flagged} = await run(m)
    expect(flagged.size).toBe(0)
  })

  it('climbs sh -c / npm exec wrappers to the root that init adopted, and counts one server', async () => {
    const m = new Machine()
    m.proc({pid: 40, ppid: 1, cmd: 'sh -c npx -y @upstash/context7-mcp'})
    m.proc({pid: 41, ppid: 40, cmd: 'npm exec @upstash/context7-mcp'})
    m.proc({pid: 42, ppid: 41, cmd: 'node /home/a/.npm/_npx/x/node_modules/.bin/context7-mcp'})
    const {of, report} = await run(m)
    expect(of('orphan-mcp').map((f) => [f.pid, f.pids, f.data?.mcpServers])).toEqual([[40, [40, 41, 42], 1]])
    expect(report.summary.orphanMcp).toBe(1)
  })

  it('does not climb through an interactive shell or a generic node app', async () => {
    const m = new Machine()
    const app = m.proc({pid: 50, ppid: 1, cmd: 'node /srv/agent/index.js'})
    m.proc({pid: 51, ppid: app.pid, cmd: mcp})
    const sh = m.proc({pid: 52, ppid: 1, cmd: 'bash'})
    m.proc({pid: 53, ppid: sh.pid, cmd: 'mcp-server-git --repository .'})
    const {flagged} = await run(m)
    expect(flagged.size).toBe(0)
  })
})

describe('session-mismatch', () => {
  it('reports dead panes, panes with two claudes and claudes whose server is gone', async () => {
    const m = new Machine()
    const s = m.server({pid: 10})
    m.pane(s, 'gt-dead', {pid: 11, cmd: 'bash', dead: true})
    const shell = m.pane(s, 'gt-two', {pid: 12, cmd: 'bash'})
    m.proc({pid: 13, ppid: shell.pid, cmd: 'claude'})
    m.proc({pid: 14, ppid: shell.pid, cmd: 'claude'})
    m.server({pid: 20, label: 'gone', status: 'stale'})
    const t = m.proc({pid: 21, ppid: 1, cmd: 'bash', ttyNr: 5})
    m.proc({pid: 22, ppid: t.pid, cmd: 'claude', ttyNr: 5, env: {TMUX: '/tmp/tmux-1000/gone,20,0', TMUX_PANE: '%0'}})
    const {of} = await run(m)
    const kinds = of('session-mismatch').map((f) => [f.data?.kind, f.session ?? f.pid])
    expect(kinds).toEqual([
      ['dead-pane', 'gt-dead'],
      ['multiple-claudes', 'gt-two'],
      ['agent-session-without-claude', 'gt-dead'],
      ['server-gone', 22],
    ])
  })

  it('is skipped when tmux is not installed', async () => {
    const m = new Machine()
    m.tmuxAvailable = false
    const {report} = await run(m)
    expect(report.checks.find((c) => c.id === 'session-mismatch')).toMatchObject({
      status: 'skipped',
      error: 'skipped: tmux not found',
    })
  })
})
