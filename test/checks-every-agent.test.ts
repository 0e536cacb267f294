/**
 * Issue 13's scene: agents other than Claude Code, shaped as their packages run them (src/rules/agents.ts),
 * after `tmux kill-session`: an orphaned Codex (node launcher above its native binary, Node < 22.15), an
 * orphaned Gemini CLI (its waiting parent and relaunched child), a detached `opencode run`, an orphan
 * `mcp-remote` chain; beside them healthy agents in live panes and look-alikes that are no agents.
 */
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {planRemediation} from '../src/remediation/plan.js'
import {mcpEnv, paneEnv, ranFor} from './support/claude-today.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}
const G = '/home/u/.npm-global/lib/node_modules'
const CODEX_JS = `${G}/@openai/codex/bin/codex.js`
const CODEX = `${G}/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex`
const GEMINI = `${G}/@google/gemini-cli/bundle/gemini.js`
const MEMORY = `${G}/@modelcontextprotocol/server-memory/dist/index.js`

function scene() {
  const m = new Machine()
  const a = m.server({pid: 100})

  // Healthy: a codex and a gemini in live panes, each with an MCP server.
  const codexPane = m.pane(a, 'work', {pid: 110, comm: 'node', argv: ['node', CODEX_JS], ttyNr: 34_900, ...ranFor(90)})
  const codexLive = m.proc({
    pid: 111,
    ppid: 110,
    argv: [CODEX],
    ttyNr: 34_900,
    env: {...codexPane.env, CODEX_MANAGED_BY_NPM: '1'},
    ...ranFor(90),
  })
  m.proc({pid: 112, ppid: 111, argv: ['node', MEMORY], env: {...codexLive.env}, ...ranFor(89)})
  const geminiPane = m.pane(a, 'work', {pid: 120, comm: 'node', argv: ['node', GEMINI], ttyNr: 34_901, ...ranFor(80)})
  const geminiLive = m.proc({
    pid: 121,
    ppid: 120,
    argv: ['node', '--max-old-space-size=4096', GEMINI],
    ttyNr: 34_901,
    env: {...geminiPane.env, GEMINI_CLI_NO_RELAUNCH: 'true'},
    ...ranFor(80),
  })
  m.proc({
    pid: 122,
    ppid: 121,
    argv: ['npx', '-y', '@modelcontextprotocol/server-memory'],
    env: {...geminiLive.env},
    ...ranFor(79),
  })

  // Orphaned Codex: its session was killed; the launcher was adopted by init, the native binary and its MCP
  // server still below it.
  const codexEnv = paneEnv(a, '%7')
  m.proc({
    pid: 300,
    ppid: 1,
    sid: 290,
    pgid: 300,
    ttyNr: 0,
    comm: 'node',
    argv: ['node', CODEX_JS, '--full-auto'],
    env: codexEnv,
    ...ranFor(200),
    mib: 60,
  })
  m.proc({
    pid: 301,
    ppid: 300,
    sid: 290,
    pgid: 300,
    ttyNr: 0,
    argv: [CODEX, '--full-auto'],
    env: {...codexEnv, CODEX_MANAGED_BY_NPM: '1'},
    ...ranFor(200),
    mib: 120,
  })
  m.proc({
    pid: 302,
    ppid: 301,
    sid: 290,
    pgid: 300,
    ttyNr: 0,
    argv: ['node', MEMORY],
    env: {...codexEnv, CODEX_MANAGED_BY_NPM: '1'},
    ...ranFor(199),
    mib: 40,
  })

  // Orphaned Gemini CLI: the parent that waits for its relaunched child, adopted by init.
  const geminiEnv = paneEnv(a, '%8')
  m.proc({
    pid: 400,
    ppid: 1,
    sid: 390,
    pgid: 400,
    ttyNr: 0,
    comm: 'node',
    argv: ['node', GEMINI],
    env: geminiEnv,
    ...ranFor(150),
    mib: 50,
  })
  m.proc({
    pid: 401,
    ppid: 400,
    sid: 390,
    pgid: 400,
    ttyNr: 0,
    comm: 'node',
    argv: ['node', '--max-old-space-size=8192', GEMINI],
    env: {...geminiEnv, GEMINI_CLI_NO_RELAUNCH: 'true'},
    ...ranFor(150),
    mib: 200,
  })

  // A detached `opencode run` (setsid): a job, not an orphan.
  m.proc({
    pid: 500,
    ppid: 1,
    sid: 500,
    pgid: 500,
    ttyNr: 0,
    argv: ['opencode', 'run', 'fix the failing tests'],
    env: paneEnv(a, '%9'),
    ...ranFor(20),
    mib: 150,
  })

  // An orphan mcp-remote chain of a gone claude (npm's retitled launcher → sh -c → the .bin script).
  const remoteEnv = mcpEnv(777, 'gone-777')
  m.proc({
    pid: 600,
    ppid: 1,
    comm: 'npm exec mcp-re',
    argv: ['npm exec mcp-remote https://mcp.example.com/sse'],
    env: remoteEnv,
    ...ranFor(300),
    mib: 30,
  })
  m.proc({
    pid: 601,
    ppid: 600,
    comm: 'sh',
    argv: ['sh', '-c', 'mcp-remote https://mcp.example.com/sse'],
    env: remoteEnv,
    ...ranFor(300),
    mib: 1,
  })
  m.proc({
    pid: 602,
    ppid: 601,
    comm: 'node',
    argv: ['node', '/home/u/p/node_modules/.bin/mcp-remote', 'https://mcp.example.com/sse'],
    env: remoteEnv,
    ...ranFor(300),
    mib: 45,
  })

  // Look-alikes under init that are no agents: Datadog's `agent`, an editor's Copilot language server.
  m.proc({
    pid: 700,
    ppid: 1,
    argv: ['/opt/datadog-agent/bin/agent/agent', 'run', '-p', '/opt/datadog-agent/run/agent.pid'],
    ...ranFor(900),
  })
  m.proc({
    pid: 710,
    ppid: 1,
    comm: 'node',
    argv: ['node', `${G}/@github/copilot-language-server/dist/language-server.js`, '--stdio'],
    ...ranFor(60),
  })
  return m
}

async function run(m: Machine) {
  const diagnosis = await diagnose({tool, snapshot: m.snapshot(), config: defaultConfig()})
  const of = (id: string) => diagnosis.results.find((r) => r.id === id)?.findings ?? []
  const signalled = planRemediation(diagnosis).items.flatMap((i) =>
    i.actions.flatMap((a) => (a.kind === 'terminate-tree' ? a.targets.map((t) => t.pid) : [])),
  )
  return {diagnosis, of, signalled, report: diagnosis.report}
}

describe('every agent: the orphan, detached-run and leftover logic is the same for all of them', () => {
  it('gives exactly the findings those processes deserve and nothing else', async () => {
    const {of, diagnosis} = await run(scene())
    const orphans = of('orphan-claude')
    expect(orphans.map((f) => [f.pid, f.severity, f.fixable, f.pids, f.data?.agent, f.data?.evidence])).toEqual([
      [300, 'error', true, [300, 301, 302], 'codex', 'parent-is-init'],
      [400, 'error', true, [400, 401], 'gemini', 'parent-is-init'],
    ])
    expect(orphans.map((f) => f.message)).toEqual([
      'Orphan codex, 3h 20m old, 1 MCP server (3 processes)',
      'Orphan gemini, 2h 30m old, 0 MCP servers (2 processes)',
    ])
    const runs = of('detached-run')
    expect(
      runs.map((f) => [f.pid, f.severity, f.fixable, f.data?.agent, f.data?.headless, f.data?.detachedBy]),
    ).toEqual([[500, 'info', false, 'opencode', 'run', 'own-session']])
    expect(runs[0].message).toBe('Detached opencode run, 20m old, own session (setsid), 0 MCP servers (1 process)')
    const mcp = of('orphan-mcp')
    expect(mcp.map((f) => [f.pid, f.severity, f.fixable, f.pids, f.data?.mcpServers])).toEqual([
      [600, 'error', true, [600, 601, 602], 1],
    ])
    expect(of('agent-leftover')).toEqual([])
    expect(of('session-mismatch')).toEqual([])
    // Only the checks above and the memory they hold have anything to say.
    const speaking = diagnosis.results.filter((r) => r.findings.length > 0).map((r) => r.id)
    expect(speaking.sort()).toEqual(['detached-run', 'orphan-claude', 'orphan-mcp', 'orphan-memory'])
  })

  it('--fix ends exactly the orphans: the Codex, the Gemini CLI and the mcp-remote chain, never the detached run', async () => {
    const {signalled} = await run(scene())
    expect([...signalled].sort((x, y) => x - y)).toEqual([300, 301, 302, 400, 401, 600, 601, 602])
  })

  it('counts per agent in summary.agents; the totals stay the sums, claudeProcesses stays Claude Code', async () => {
    const {report} = await run(scene())
    expect(report.summary).toMatchObject({
      claudeProcesses: 0,
      orphanClaude: 2,
      orphanMcp: 2,
      detachedRuns: 1,
      leftovers: 0,
    })
    expect(report.summary.agents).toEqual({
      codex: {processes: 2, orphans: 1, detachedRuns: 0, leftovers: 0},
      gemini: {processes: 2, orphans: 1, detachedRuns: 0, leftovers: 0},
      opencode: {processes: 1, orphans: 0, detachedRuns: 1, leftovers: 0},
    })
  })

  it("a dev server another agent's shell tool left behind is that agent's leftover, reported and not ended", async () => {
    const m = scene()
    m.proc({
      pid: 800,
      ppid: 1,
      sid: 800,
      pgid: 800,
      ttyNr: 0,
      argv: ['node', 'dev-server.js'],
      env: {CODEX_SANDBOX_NETWORK_DISABLED: '1', CODEX_MANAGED_BY_NPM: '1'},
      ...ranFor(30),
      mib: 70,
    })
    const {of, signalled} = await run(m)
    const left = of('agent-leftover')
    expect(left.map((f) => [f.pid, f.severity, f.fixable, f.data?.agent, f.data?.evidence])).toEqual([
      [800, 'warning', false, 'codex', 'tree-shape'],
    ])
    expect(left[0].message).toBe('Left behind by OpenAI Codex CLI: node dev-server.js')
    expect(signalled).not.toContain(800)
  })
})
