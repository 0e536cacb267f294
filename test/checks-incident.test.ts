import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {exitCodeFor} from '../src/report/model.js'
import {INVESTIGATION, incident} from './support/incident.js'

const tool = {name: 'gt-doctor', version: 'test'}

describe("the investigation's machine (hq-gxwn)", async () => {
  const {snapshot, expected} = incident()
  const {report, results} = await diagnose({tool, snapshot, config: defaultConfig()})
  const of = (id: string) => results.find((r) => r.id === id)!.findings

  it('counts what the investigation counted', () => {
    expect(report.summary).toMatchObject({
      claudeProcesses: 19,
      tmuxSessions: 15,
      orphanClaude: 12,
      mcpServers: 115,
      orphanMcp: 80,
    })
    // ~5.8 GiB held by the orphan claudes alone; the MCP servers under them add the rest.
    const claudeOnly = 12 * 495 * 1024 ** 2
    expect(claudeOnly / 1024 ** 3).toBeCloseTo(5.8, 1)
    expect(report.summary.orphanMemoryBytes).toBeGreaterThan(claudeOnly)
  })

  it('names exactly the 12 orphan claudes, each with its whole tree', () => {
    const findings = of('orphan-claude').filter((f) => f.severity === 'error')
    expect(findings.map((f) => f.pid).sort()).toEqual([...expected.orphanClaude].sort())
    for (const f of findings) {
      expect(f.pids[0]).toBe(f.pid)
      expect(f.data?.mcpServers).toBe(5)
      expect(f.pids).toHaveLength(1 + 9) // claude + 9 processes of its 5 MCP servers
      expect(f.fixable).toBe(true)
    }
    expect(of('orphan-claude').filter((f) => f.severity !== 'error')).toEqual([])
  })

  it('says why: tmux server, init, or systemd --user', () => {
    const evidence = of('orphan-claude').map((f) => f.data?.evidence)
    expect(evidence.filter((e) => e === 'parent-is-tmux-server')).toHaveLength(7)
    expect(evidence.filter((e) => e === 'parent-is-init')).toHaveLength(3)
    expect(evidence.filter((e) => e === 'parent-is-subreaper')).toHaveLength(2)
  })

  it('names exactly the orphan MCP trees whose claude is gone, each once', () => {
    const findings = of('orphan-mcp')
    expect(findings.map((f) => f.pid).sort()).toEqual([...expected.orphanMcpRoots].sort())
    expect(findings.every((f) => f.severity === 'error' && f.fixable)).toBe(true)
    const all = [...of('orphan-claude'), ...findings].flatMap((f) => f.pids)
    expect(new Set(all).size).toBe(all.length)
  })

  it('flags nothing healthy and no look-alike', () => {
    const flagged = new Set(
      results.filter((r) => r.id !== 'orphan-memory').flatMap((r) => r.findings.flatMap((f) => f.pids)),
    )
    for (const pid of [...expected.healthy, ...expected.lookalikes, 99_999, 1, 500, 600, 700])
      expect(flagged.has(pid), `pid ${pid}`).toBe(false)
  })

  it('reports the idle agent sessions as mismatches, and nothing else there', () => {
    const findings = of('session-mismatch')
    expect(findings.map((f) => f.session).sort()).toEqual([...expected.idleAgents].sort())
    expect(findings.every((f) => f.severity === 'warning' && !f.fixable)).toBe(true)
  })

  it('reports the memory held by orphans as an error above the limit', () => {
    const [f] = of('orphan-memory')
    expect(f.severity).toBe('error')
    expect(f.memoryBytes).toBe(report.summary.orphanMemoryBytes)
    expect(f.memorySource).toBe('pss')
    expect((f.data?.top as unknown[]).length).toBe(5)
  })

  it('exits 1', () => {
    expect(exitCodeFor(report)).toBe(1)
  })

  it('gives stable finding ids: check, pid and start time', () => {
    const f = of('orphan-claude')[0]
    const p = snapshot.processes.find((x) => x.pid === f.pid)!
    expect(f.id).toBe(`orphan-claude:${p.pid}:${p.startTicks}`)
  })
})

// The report layout (the fixture behind every golden) is the same investigation with its own pids.
describe("the investigation's machine as the report records it", async () => {
  const {snapshot, expected} = incident({layout: 'report'})
  const {report, results} = await diagnose({tool, snapshot, config: defaultConfig()})
  const of = (id: string) => results.find((r) => r.id === id)!.findings

  it('counts what the investigation counted, as the exactness layout does', () => {
    expect(report.summary).toMatchObject(INVESTIGATION)
  })

  it('names the orphans and idle agents it was built with', () => {
    expect(of('orphan-claude').map((f) => f.pid)).toEqual(expect.arrayContaining(expected.orphanClaude))
    expect(of('orphan-claude')).toHaveLength(expected.orphanClaude.length)
    expect(
      of('orphan-mcp')
        .map((f) => f.pid)
        .sort(),
    ).toEqual([...expected.orphanMcpRoots].sort())
    expect(
      of('session-mismatch')
        .map((f) => f.session)
        .sort(),
    ).toEqual([...expected.idleAgents].sort())
  })
})
