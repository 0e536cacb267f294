/**
 * PPID cycles and duplicate pids: PID reuse while /proc is read can make two processes name each other as
 * parent, and a crafted `--from` snapshot can hold anything. Every walk must end, the collector repairs what
 * it read, and a recorded snapshot that could not come from a kernel is refused. Each test that could hang
 * runs in a child process with a time limit, so a regression fails instead of stalling the run.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'
import {parseSnapshot, serializeSnapshot} from '../src/snapshot/load.js'
import {findDuplicatePid, findParentCycle, repairParentLinks} from '../src/snapshot/parents.js'
import type {ProcessInfo, Snapshot} from '../src/snapshot/types.js'
import {runCli} from './support/cli.js'
import {Machine} from './support/machine.js'

const DIST = fileURLToPath(new URL('../dist/src/', import.meta.url))
const LIMIT_MS = 15_000

/** A launcher chain whose two links name each other (sh -c ↔ npm exec), an MCP server under it, and a claude in a loop with its shell. */
function cyclic(): Machine {
  const m = new Machine()
  m.proc({pid: 40, ppid: 41, cmd: 'sh -c npx -y @upstash/context7-mcp'})
  m.proc({pid: 41, ppid: 40, cmd: 'npm exec @upstash/context7-mcp'})
  m.proc({pid: 42, ppid: 41, cmd: 'node /home/a/.npm/_npx/x/node_modules/.bin/context7-mcp'})
  m.proc({pid: 50, ppid: 51, cmd: 'claude', env: {TMUX: '/tmp/tmux-1000/default,9,0', TMUX_PANE: '%9'}})
  m.proc({pid: 51, ppid: 50, cmd: 'bash -c claude'})
  m.server({pid: 60})
  return m
}

/** The detection core over `snapshot` in a child process (the built code), killed after LIMIT_MS. */
function analyzeInChild(snapshot: Snapshot): {status: number | null; out: any} {
  const script = `
    import {readFileSync} from 'node:fs'
    const {treeOf} = await import(${JSON.stringify(join(DIST, 'tree/process-tree.js'))})
    const {analyzeOrphans, orphanTreeCandidates} = await import(${JSON.stringify(join(DIST, 'analysis/orphans.js'))})
    const {createRules, DEFAULT_RULES} = await import(${JSON.stringify(join(DIST, 'rules/rules.js'))})
    const snapshot = JSON.parse(readFileSync(0, 'utf8'))
    const rules = createRules(DEFAULT_RULES)
    const tree = treeOf(snapshot)
    const a = analyzeOrphans(tree, rules)
    const candidates = [...orphanTreeCandidates(snapshot.processes, rules)].sort((x, y) => x - y)
    for (const p of snapshot.processes) tree.ancestors(p), tree.paneOwner(p), tree.subtree(p)
    console.log(JSON.stringify({claudes: a.claudes.map((c) => [c.proc.pid, c.kind]), mcp: a.mcpTrees.map((t) => t.members.map((m) => m.pid)), candidates}))
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    input: JSON.stringify(snapshot),
    encoding: 'utf8',
    timeout: LIMIT_MS,
    killSignal: 'SIGKILL',
  })
  return {status: r.status, out: r.status === 0 ? JSON.parse(r.stdout) : r.stderr}
}

describe('a PPID cycle', () => {
  it('ends every walk of the detection: the MCP launcher climb, the candidates, the tree', () => {
    const {status, out} = analyzeInChild(cyclic().snapshot())
    expect(status, `the analysis did not finish within ${LIMIT_MS} ms (or failed): ${String(out)}`).toBe(0)
    // Nothing in a loop is provably adopted by a reaper: nothing is an orphan.
    expect(out.mcp).toEqual([])
    expect(out.claudes).toEqual([[50, 'healthy']])
    expect(out.candidates).toEqual([40, 41, 42, 50, 51])
  })

  it('is found, and repaired by cutting the link to a parent that started after its child', () => {
    const m = cyclic()
    // pid 41 was reused: the npm exec read there started after the sh -c that names it as parent.
    m.processes.get(40)!.startTicks = 100
    m.processes.get(41)!.startTicks = 200
    const processes = m.snapshot().processes.map((p) => ({...p}))
    expect(findParentCycle(processes)?.sort()).toEqual([40, 41])
    expect(repairParentLinks(processes)).toEqual([40, 50])
    expect(findParentCycle(processes)).toBeUndefined()
    const byPid = new Map(processes.map((p) => [p.pid, p]))
    expect([byPid.get(40)!.ppid, byPid.get(41)!.ppid, byPid.get(42)!.ppid]).toEqual([40, 40, 41])
  })

  it('is cut at its lowest pid when start times cannot tell', () => {
    const processes: ProcessInfo[] = [
      {pid: 7, ppid: 9, comm: 'a', argv: [], env: {}},
      {pid: 8, ppid: 7, comm: 'b', argv: [], env: {}},
      {pid: 9, ppid: 8, comm: 'c', argv: [], env: {}},
      {pid: 10, ppid: 10, comm: 'd', argv: [], env: {}},
    ]
    expect(repairParentLinks(processes)).toEqual([7])
    expect(processes.map((p) => p.ppid)).toEqual([7, 7, 8, 10])
  })

  it('in a recorded snapshot is refused in one line, exit 2, by check --from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gt-doctor-cycle-'))
    const file = join(dir, 'cycle.json')
    writeFileSync(file, serializeSnapshot(cyclic().snapshot()))
    const r = runCli(['check', '--from', file], {timeoutMs: LIMIT_MS})
    expect(r.status, `check --from did not finish within ${LIMIT_MS} ms`).toBe(2)
    expect(r.stderr.trim()).toBe(
      `gt-doctor: ${file} is not a valid gt-doctor snapshot: its processes form a parent cycle (pids 40, 41); a snapshot the collector wrote never does`,
    )
    expect(r.stdout).toBe('')
  })
})

describe('duplicate pids', () => {
  const twice = () => {
    const s = new Machine().snapshot()
    return {...s, processes: [...s.processes, {pid: 1, ppid: 0, comm: 'imposter', argv: ['imposter'], env: {}}]}
  }

  it('are found', () => {
    expect(findDuplicatePid(twice().processes)).toBe(1)
    expect(findDuplicatePid(new Machine().snapshot().processes)).toBeUndefined()
  })

  it('in a recorded snapshot are refused in one line, exit 2', () => {
    expect(() => parseSnapshot(serializeSnapshot(twice()), 'x.json')).toThrow(
      /^x\.json is not a valid gt-doctor snapshot: pid 1 appears twice in processes$/,
    )
    const dir = mkdtempSync(join(tmpdir(), 'gt-doctor-dup-'))
    const file = join(dir, 'dup.json')
    writeFileSync(file, serializeSnapshot(twice()))
    const r = runCli(['check', '--from', file], {timeoutMs: LIMIT_MS})
    expect(r.status).toBe(2)
    expect(r.stderr.trim()).toBe(
      `gt-doctor: ${file} is not a valid gt-doctor snapshot: pid 1 appears twice in processes`,
    )
  })

  it('a process that is its own parent ("parent unknown", as the collector repairs a cycle) is accepted', () => {
    const m = new Machine()
    m.proc({pid: 40, ppid: 40, cmd: 'npm exec @upstash/context7-mcp'})
    expect(parseSnapshot(serializeSnapshot(m.snapshot()), 'x.json').processes.find((p) => p.pid === 40)?.ppid).toBe(40)
  })
})
