/**
 * The collector reads PSS (smaps_rollup) only for `orphanTreeCandidates`: that is only safe if every process
 * any orphan tree can hold is a candidate, whatever tmux answers. Proved here on the investigation's machine,
 * the recorded three-server machine and the shapes where a tree reaches beyond its MCP server.
 */
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {analyzeOrphans, orphanTreeCandidates} from '../src/analysis/orphans.js'
import {DEFAULT_RULES, createRules} from '../src/rules/rules.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {treeOf} from '../src/tree/process-tree.js'
import {incident} from './support/incident.js'
import {Machine} from './support/machine.js'

const rules = createRules(DEFAULT_RULES)
const mcpNode = 'node /x/node_modules/@modelcontextprotocol/server-memory/dist/index.js'

function treeMembers(snapshot: Snapshot): number[] {
  const {claudeTrees, mcpTrees, leftovers, detachedRuns} = analyzeOrphans(treeOf(snapshot), rules)
  return [...claudeTrees.values(), ...mcpTrees, ...leftovers, ...detachedRuns].flatMap((t) =>
    t.members.map((m) => m.pid),
  )
}

/** The same machine with every tmux server unresponsive or gone: the verdicts change, the candidates may not. */
function withServers(snapshot: Snapshot, status: 'unresponsive' | 'stale'): Snapshot {
  return {...snapshot, tmux: {...snapshot.tmux, servers: snapshot.tmux.servers.map((s) => ({...s, status, panes: []}))}}
}

function expectCovered(snapshot: Snapshot): Set<number> {
  const candidates = orphanTreeCandidates(snapshot.processes, rules)
  for (const s of [snapshot, withServers(snapshot, 'unresponsive'), withServers(snapshot, 'stale')]) {
    const missing = treeMembers(s).filter((pid) => !candidates.has(pid))
    expect(missing, 'orphan tree members that are not candidates').toEqual([])
  }
  return candidates
}

describe('orphanTreeCandidates', () => {
  it("holds every orphan tree member of the investigation's machine, and leaves unrelated processes out", () => {
    const {machine, expected} = incident()
    const snapshot = machine.snapshot()
    const candidates = expectCovered(snapshot)
    expect(treeMembers(snapshot).length).toBeGreaterThan(50)
    // Look-alikes under init are no one's tree (those a live claude started are inside its tree).
    const adopted = expected.lookalikes.filter((pid) => snapshot.processes.find((p) => p.pid === pid)!.ppid === 1)
    expect(adopted.length).toBeGreaterThan(0)
    for (const pid of adopted) expect(candidates.has(pid), `look-alike ${pid}`).toBe(false)
    expect(candidates.size).toBeLessThan(snapshot.processes.length)
  })

  it('holds every orphan tree member of the recorded three-server machine', () => {
    const snapshot: Snapshot = JSON.parse(
      readFileSync(new URL('../fixtures/recorded/three-servers.snapshot.json', import.meta.url), 'utf8'),
    )
    expectCovered(snapshot)
  })

  it("takes a wrapper's whole tree: siblings of the server, children of the claude, a claude's own launcher", () => {
    const m = new Machine()
    const sh = m.proc({pid: 40, ppid: 1, cmd: 'sh -c npx -y @upstash/context7-mcp & tail -f /tmp/log'})
    m.proc({pid: 41, ppid: sh.pid, cmd: 'npm exec @upstash/context7-mcp'})
    m.proc({pid: 42, ppid: 41, cmd: 'node /home/a/.npm/_npx/x/node_modules/.bin/context7-mcp'})
    m.proc({pid: 43, ppid: sh.pid, cmd: 'tail -f /tmp/log'})
    const claude = m.proc({pid: 50, ppid: 1, cmd: 'claude'})
    m.proc({pid: 51, ppid: claude.pid, cmd: 'bash -c make test', env: {CLAUDECODE: '1'}})
    m.proc({pid: 52, ppid: 51, cmd: 'make test'})
    m.proc({pid: 60, ppid: 1, cmd: 'timeout 3600 env FOO=1 node /srv/x/dev-server.js', env: {CLAUDECODE: '1'}})
    m.proc({pid: 61, ppid: 60, cmd: 'node /srv/x/dev-server.js', env: {CLAUDECODE: '1'}})
    m.proc({pid: 70, ppid: 1, cmd: 'nginx: master process'})
    // A detached loop of headless steps: its job is rooted at the shell above the claude.
    m.proc({pid: 80, ppid: 1, sid: 80, ttyNr: 0, argv: ['bash', '-c', 'for i in 1 2; do claude -p $i; done']})
    m.proc({pid: 81, ppid: 80, sid: 80, ttyNr: 0, argv: ['claude', '-p', '1']})
    m.proc({pid: 82, ppid: 81, cmd: mcpNode, env: {CLAUDECODE: '1'}})
    const snapshot = m.snapshot()
    const candidates = expectCovered(snapshot)
    for (const pid of [40, 41, 42, 43, 50, 51, 52, 60, 61, 80, 81, 82])
      expect(candidates.has(pid), `pid ${pid}`).toBe(true)
    expect(candidates.has(70)).toBe(false)
  })
})
