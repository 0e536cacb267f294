/**
 * The real Claude Code of today (issue 12), on built snapshots: one launcher chain is one MCP server.
 */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {defaultConfig, type ResolvedConfig} from '../src/config/config.js'
import {configFromValue} from '../src/config/load.js'
import {diagnose} from '../src/doctor.js'
import {exitCodeFor} from '../src/report/model.js'
import {planRemediation} from '../src/remediation/plan.js'
import {parseSnapshot} from '../src/snapshot/load.js'
import {bashToolWrapper, childEnv, liveAgent, mcpEnv, paneEnv, ranFor, threeServers} from './support/claude-today.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}

async function run(m: Machine, config: ResolvedConfig = defaultConfig()) {
  const diagnosis = await diagnose({tool, snapshot: m.snapshot(), config})
  const {results, report} = diagnosis
  const of = (id: string) => results.find((r) => r.id === id)?.findings ?? []
  const signalled = new Set(planRemediation(diagnosis).items.flatMap((i) => i.actions.flatMap((a) => (a.kind === 'terminate-tree' ? a.targets.map((t) => t.pid) : []))))
  return {report, results, of, signalled, diagnosis}
}

function withOptions(id: string, options: Record<string, unknown>): ResolvedConfig {
  const config = defaultConfig()
  config.checks[id] = {options}
  return config
}

/**
 * The real scene after `tmux kill-session` of the sessions that started them: a healthy agent on each of two
 * servers, three deliberately detached headless runs (disowned, setsid, a setsid'd loop), and the Bash-tool
 * background command a crashed claude left behind.
 */
function realScene() {
  const m = new Machine()
  const a = m.server({pid: 100})
  const b = m.server({pid: 200, label: 'b'})
  const healthy = [liveAgent(m, a, 'work', 110), liveAgent(m, b, 'gt-polecat', 210)]

  // `claude -p … & disown` in a shell of a killed session: adopted by init, its session's shell gone.
  const disowned = m.proc({pid: 300, ppid: 1, sid: 290, pgid: 300, ttyNr: 0, comm: 'claude', argv: ['claude', '-p', 'summarise the logs'], env: paneEnv(a, '%7'), ...ranFor(123), mib: 250})
  const disownedServers = threeServers(m, 300, 301, mcpEnv(300, 'd-300', true), 122)

  // `setsid -f claude -p …`: its own session.
  const setsid = m.proc({pid: 400, ppid: 1, sid: 400, pgid: 400, ttyNr: 0, comm: 'claude', argv: ['claude', '--print', 'write the changelog'], env: paneEnv(a, '%8'), ...ranFor(45), mib: 250})
  const setsidServers = threeServers(m, 400, 401, mcpEnv(400, 'd-400', true), 44)

  // `setsid bash -c 'for i in 1 2 3; do claude -p "step $i"; done'`: ending step one would start step two.
  const loop = m.proc({pid: 500, ppid: 1, sid: 500, pgid: 500, ttyNr: 0, argv: ['bash', '-c', 'for i in 1 2 3; do claude -p "step $i"; done'], env: paneEnv(b, '%9'), ...ranFor(30)})
  const step = m.proc({pid: 501, ppid: 500, sid: 500, pgid: 500, ttyNr: 0, comm: 'claude', argv: ['claude', '-p', 'step 2'], env: paneEnv(b, '%9'), ...ranFor(4), mib: 250})
  const stepServers = threeServers(m, 501, 502, mcpEnv(501, 'd-501', true), 4)

  // The crashed claude (pid 600, gone) left its Bash tool's background command: wrapper + command, parent init.
  const leftoverEnv = childEnv('crashed-600', {CLAUDE_PID: '600', ...paneEnv(a, '%3')})
  const wrapper = m.proc({pid: 610, ppid: 1, sid: 610, pgid: 610, ttyNr: 0, argv: bashToolWrapper('node dev-server.js'), env: leftoverEnv, ...ranFor(50)})
  const dev = m.proc({pid: 611, ppid: 610, sid: 610, pgid: 610, ttyNr: 0, argv: ['node', 'dev-server.js'], env: leftoverEnv, ...ranFor(50), mib: 80})

  return {
    m,
    servers: {a, b},
    healthy: healthy.flatMap((h) => h.pids),
    detached: {
      disowned: [disowned.pid, ...disownedServers.flat()],
      setsid: [setsid.pid, ...setsidServers.flat()],
      loop: [loop.pid, step.pid, ...stepServers.flat()],
    },
    leftover: [wrapper.pid, dev.pid],
  }
}

describe('one launcher chain is one MCP server', () => {
  it('npm exec → sh -c → node is one server in the finding and the summary; two siblings are two', async () => {
    const m = new Machine()
    m.proc({pid: 10, ppid: 1, comm: 'npm exec mcp-se', argv: ['npm exec mcp-server-memory'], env: childEnv('x')})
    m.proc({pid: 11, ppid: 10, argv: ['sh', '-c', 'mcp-server-memory'], env: childEnv('x')})
    m.proc({pid: 12, ppid: 11, argv: ['node', '/x/node_modules/.bin/mcp-server-memory'], env: childEnv('x')})
    let {of, report} = await run(m)
    expect(of('orphan-mcp').map((f) => [f.pid, f.pids, f.data?.mcpServers, f.message])).toEqual([
      [10, [10, 11, 12], 1, 'Orphan MCP server mcp-server-memory (3 processes)'],
    ])
    expect(report.summary).toMatchObject({mcpServers: 1, orphanMcp: 1})

    // Under a live claude: the finding of an orphan claude and the summary count it once too.
    const m2 = new Machine()
    m2.proc({pid: 5, ppid: 1, comm: 'claude', argv: ['claude'], ttyNr: 0, ...ranFor(10)})
    threeServers(m2, 5, 20, childEnv('y'), 1)
    threeServers(m2, 5, 30, childEnv('y'), 1)
    ;({of, report} = await run(m2))
    expect(of('orphan-claude').map((f) => [f.data?.mcpServers, f.message])).toEqual([[6, 'Orphan claude, 10m old, 6 MCP servers (13 processes)']])
    expect(report.summary).toMatchObject({mcpServers: 6, orphanMcp: 6})
  })

  it('counts the real scene exactly: three servers per claude', async () => {
    const scene = realScene()
    const {report} = await run(scene.m)
    // 2 healthy agents + 3 detached runs, 3 servers each.
    expect(report.summary).toMatchObject({claudeProcesses: 5, mcpServers: 15})
  })
})
