/**
 * What the collector records so that detection can tell a false kill from an orphan: an environment it could
 * not read (as opposed to one without TMUX variables), the cgroup of the processes an orphan tree can hold,
 * and parent links repaired when PID reuse during the reads made them impossible. On a fake /proc.
 */
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {collectSnapshot} from '../src/snapshot/collect.js'
import {parseCgroup} from '../src/snapshot/proc.js'
import {writeFakeProc, type FakeProc} from './support/fake-proc.js'

const tmuxBin = fileURLToPath(new URL('./support/fake-tmux.mjs', import.meta.url))
const unit = '/user.slice/user-1000.slice/user@1000.service/app.slice/claude-agent.service'

const machine: FakeProc[] = [
  {pid: 1, ppid: 0, comm: 'systemd', argv: ['/sbin/init'], startTicks: 1, environ: {}, cgroup: '0::/init.scope\n'},
  // PID reuse while /proc was read: 10 names 11 as its parent, but the 11 read later started after 10 (and names 10).
  {
    pid: 10,
    ppid: 11,
    comm: 'sh',
    argv: ['sh', '-c', 'npx -y @upstash/context7-mcp'],
    startTicks: 500,
    environ: {CLAUDECODE: '1'},
  },
  {
    pid: 11,
    ppid: 10,
    comm: 'npm exec @upsta',
    argv: ['npm exec @upstash/context7-mcp'],
    startTicks: 900,
    environ: {CLAUDECODE: '1'},
  },
  {
    pid: 12,
    ppid: 11,
    comm: 'node',
    argv: ['node', '/h/.npm/_npx/x/node_modules/.bin/context7-mcp'],
    startTicks: 950,
    environ: {CLAUDECODE: '1'},
  },
  {
    pid: 20,
    ppid: 1,
    comm: 'systemd',
    argv: ['/lib/systemd/systemd', '--user'],
    startTicks: 100,
    environ: {},
    cgroup: '0::/user.slice/user-1000.slice/user@1000.service/init.scope\n',
  },
  {
    pid: 21,
    ppid: 20,
    comm: 'claude',
    argv: ['claude', '-p', 'triage'],
    startTicks: 1000,
    environ: {},
    cgroup: `0::${unit}\n`,
  },
  // Another user's claude: its environ cannot be read.
  {
    pid: 30,
    ppid: 1,
    comm: 'claude',
    argv: ['claude'],
    startTicks: 1100,
    uid: 1001,
    cgroup: '0::/user.slice/user-1001.slice/session-4.scope\n',
  },
  // cgroup v1 / hybrid: the name=systemd line says where systemd put it.
  {
    pid: 40,
    ppid: 1,
    comm: 'mcp-server-git',
    argv: ['mcp-server-git', '--repository', '/srv'],
    startTicks: 1200,
    environ: {},
    cgroup: '12:pids:/system.slice/mcp-git.service\n1:name=systemd:/system.slice/mcp-git.service\n0::/\n',
  },
  // Not in any orphan tree: its cgroup is not read.
  {
    pid: 50,
    ppid: 1,
    comm: 'cron',
    argv: ['/usr/sbin/cron', '-f'],
    startTicks: 150,
    environ: {},
    cgroup: '0::/system.slice/cron.service\n',
  },
  // A tmux server: always read, a unit that started tmux owns a killed session's leftovers no more than tmux does.
  {
    pid: 60,
    ppid: 1,
    comm: 'tmux: server',
    argv: ['tmux', '-L', 'gone', 'new-session', '-d'],
    startTicks: 160,
    environ: {},
    cgroup: '0::/system.slice/cron.service\n',
  },
  // The doctor itself: always read, its unit is the user's session.
  {
    pid: process.pid,
    ppid: 1,
    comm: 'node',
    argv: ['node', 'gt-doctor'],
    startTicks: 2000,
    environ: {},
    cgroup: '0::/system.slice/ssh.service\n',
  },
]

describe('the collector, on a fake /proc', () => {
  const saved = {...process.env}
  const procRoot = writeFakeProc(machine)
  beforeAll(() => {
    process.env.TMUX_TMPDIR = mkdtempSync(path.join(tmpdir(), 'gt-doctor-test-'))
    process.env.FAKE_TMUX_DIR = mkdtempSync(path.join(tmpdir(), 'gt-doctor-test-'))
  })
  afterAll(() => {
    process.env = saved
  })
  const collect = () =>
    collectSnapshot({
      procRoot,
      tmuxBin,
      pssFor: () => new Set(),
      cgroupFor: () => new Set([1, 10, 11, 12, 20, 21, 30, 40]),
    })

  it('cuts a parent link PID reuse made impossible, and says so', async () => {
    const s = await collect()
    const ppid = (pid: number) => s.processes.find((p) => p.pid === pid)!.ppid
    expect([ppid(10), ppid(11), ppid(12)]).toEqual([10, 10, 11])
    expect(s.limitations).toContain(
      '1 process (pid 10) named a parent that started after it (pid reuse while /proc was read): parent unknown, not judged; run again',
    )
    // What was cut is judged by nobody: no orphan MCP tree, no hang.
    const {results} = await diagnose({tool: {name: 'gt-doctor', version: 'test'}, snapshot: s, config: defaultConfig()})
    expect(results.flatMap((r) => r.findings).filter((f) => f.pids.some((pid) => pid >= 10 && pid <= 12))).toEqual([])
  })

  it('marks an environment it could not read, and only that one', async () => {
    const s = await collect()
    expect(s.processes.find((p) => p.pid === 30)).toMatchObject({env: {}, envUnreadable: true})
    expect(s.processes.filter((p) => p.envUnreadable).map((p) => p.pid)).toEqual([30])
  })

  it('reads the cgroup of the chosen processes, of tmux servers and of the doctor only', async () => {
    const s = await collect()
    expect(Object.fromEntries(s.processes.filter((p) => p.cgroup).map((p) => [p.pid, p.cgroup]))).toEqual({
      1: '/init.scope',
      20: '/user.slice/user-1000.slice/user@1000.service/init.scope',
      21: unit,
      30: '/user.slice/user-1001.slice/session-4.scope',
      40: '/system.slice/mcp-git.service',
      60: '/system.slice/cron.service',
      [process.pid]: '/system.slice/ssh.service',
    })
  })

  it('gives what detection needs: the unit claude and the service MCP server are supervised, never fixed', async () => {
    const s = await collect()
    const {results} = await diagnose({tool: {name: 'gt-doctor', version: 'test'}, snapshot: s, config: defaultConfig()})
    const of = (id: string) =>
      results.find((r) => r.id === id)!.findings.map((f) => [f.pid, f.severity, f.fixable, f.data?.supervisor])
    expect(of('orphan-claude')).toEqual([
      [30, 'error', true, undefined],
      [21, 'info', false, 'claude-agent.service'],
    ])
    expect(of('orphan-mcp')).toEqual([[40, 'info', false, 'mcp-git.service']])
  })
})

describe('parseCgroup', () => {
  it("takes the unified path, or name=systemd's where the unified one is the root", () => {
    expect(parseCgroup('0::/system.slice/a.service\n')).toBe('/system.slice/a.service')
    expect(parseCgroup('1:name=systemd:/system.slice/b.service\n0::/\n')).toBe('/system.slice/b.service')
    expect(parseCgroup('9:name=systemd:/\n0::/gt/c.service\n')).toBe('/gt/c.service')
    expect(parseCgroup('4:memory:/x\n1:name=systemd:/user.slice/d.service\n')).toBe('/user.slice/d.service')
    expect(parseCgroup('0::/\n')).toBe('/')
    expect(parseCgroup('')).toBeUndefined()
  })
})
