import {describe, expect, it} from 'vitest'
import {ProcessTree} from '../src/tree/process-tree.js'
import {Machine} from './support/machine.js'

function machine() {
  const m = new Machine()
  const a = m.server({pid: 100})
  const b = m.server({pid: 200, label: 'agents'})
  m.pane(a, 'gt-alpha', {pid: 101, cmd: 'bash'})
  m.proc({pid: 102, ppid: 101, cmd: 'claude', mib: 300})
  m.proc({
    pid: 103,
    ppid: 102,
    cmd: 'node /x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
    mib: 50,
  })
  m.pane(b, 'hq-beta', {pid: 201, cmd: 'claude'})
  m.pane(b, 'hq-dead', {pid: 202, cmd: 'bash', dead: true})
  m.proc({pid: 203, ppid: 202, cmd: 'claude'})
  m.proc({pid: 300, ppid: 1, cmd: 'claude', pssBytes: undefined, rssBytes: 7})
  return m
}

describe('ProcessTree', () => {
  it('links parents and children', () => {
    const t = new ProcessTree(machine().snapshot())
    expect(t.children(102).map((p) => p.pid)).toEqual([103])
    expect(t.ancestors(t.get(103)!).map((p) => p.pid)).toEqual([102, 101, 100, 1])
    expect(t.subtree(t.get(101)!).map((p) => p.pid)).toEqual([101, 102, 103])
  })

  it('finds the nearest ancestor matching a predicate', () => {
    const t = new ProcessTree(machine().snapshot())
    expect(t.nearestAncestor(t.get(103)!, (p) => p.comm === 'bash')?.pid).toBe(101)
    expect(t.nearestAncestor(t.get(103)!, (p) => p.comm === 'nope')).toBeUndefined()
  })

  it('knows which live pane, server and session a process descends from', () => {
    const t = new ProcessTree(machine().snapshot())
    const owner = t.paneOwner(t.get(103)!)
    expect(owner?.pane.session).toBe('gt-alpha')
    expect(owner?.server.socket).toBe('/tmp/tmux-1000/default')
    expect(t.paneOwner(t.get(201)!)?.server.socket).toBe('/tmp/tmux-1000/agents')
    // A dead pane owns nothing, and neither does init.
    expect(t.isInLivePane(t.get(203)!)).toBe(false)
    expect(t.isInLivePane(t.get(300)!)).toBe(false)
    expect(t.isInLivePane(t.get(100)!)).toBe(false)
  })

  it('ignores panes of servers that did not answer', () => {
    const m = new Machine()
    const s = m.server({pid: 100, status: 'unresponsive'})
    s.panes.push({
      session: 'x',
      sessionId: '$0',
      windowIndex: 0,
      paneId: '%0',
      panePid: 101,
      dead: false,
      currentCommand: 'bash',
    })
    m.proc({pid: 101, ppid: 100, cmd: 'bash'})
    const t = new ProcessTree(m.snapshot())
    expect(t.isInLivePane(t.get(101)!)).toBe(false)
  })

  it('counts memory once per process, PSS first', () => {
    const t = new ProcessTree(machine().snapshot())
    expect(t.memoryOf([102, 103, 103])).toEqual({bytes: 350 * 1024 * 1024, source: 'pss'})
    expect(t.memoryOf([300]).source).toBe('rss')
    expect(t.memoryOf([102, 300]).source).toBe('mixed')
  })

  it('survives parent cycles and missing parents', () => {
    const m = new Machine()
    m.proc({pid: 10, ppid: 11, cmd: 'a'})
    m.proc({pid: 11, ppid: 10, cmd: 'b'})
    m.proc({pid: 12, ppid: 4242, cmd: 'c'})
    const t = new ProcessTree(m.snapshot())
    expect(t.ancestors(t.get(10)!).map((p) => p.pid)).toEqual([11])
    expect(t.ancestors(t.get(12)!)).toEqual([])
    expect(t.isInLivePane(t.get(10)!)).toBe(false)
  })

  it('answers pane ownership for every process in linear time', () => {
    // A chain 20,000 deep would be quadratic without memoisation; this must return promptly.
    const m = new Machine()
    const s = m.server({pid: 100})
    m.pane(s, 'deep', {pid: 101, cmd: 'bash'})
    for (let pid = 102; pid < 20_102; pid++) m.proc({pid, ppid: pid - 1, cmd: 'sh'})
    const t = new ProcessTree(m.snapshot())
    let owned = 0
    for (const p of t.snapshot.processes) if (t.isInLivePane(p)) owned++
    expect(owned).toBe(20_001)
  })

  it('answers server and session lookups as a first-match search would', () => {
    const m = new Machine()
    const a = m.server({pid: 100})
    const b = m.server({pid: 200, socket: a.socket})
    m.pane(a, 'first', {pid: 101, cmd: 'bash'})
    m.pane(a, 'first', {pid: 102, cmd: 'bash', paneId: '%7'})
    m.pane(b, 'second', {pid: 201, cmd: 'bash'})
    const t = new ProcessTree(m.snapshot())
    expect(t.server(a.socket)?.pid).toBe(100)
    expect(t.serverByPid(200)?.pid).toBe(200)
    expect(t.serverByPid(300)).toBeUndefined()
    expect(t.sessionFromTmuxEnv(`${a.socket},100,0`)).toBe('first')
    expect(t.sessionFromTmuxEnv(`${a.socket},200,0`)).toBeUndefined()
    expect(t.sessionFromTmuxEnv(`${a.socket},100,9`)).toBeUndefined()
    expect(t.findPane(a.socket, '%7')?.panePid).toBe(102)
    expect(t.findPane(a.socket, '%0')?.panePid).toBe(101)
    expect(t.findPane('/nowhere', '%0')).toBeUndefined()
  })
})
