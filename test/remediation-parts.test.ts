/**
 * The engine's pure parts on their own: the verdict for one target against its live re-read, and the adapter
 * that narrows a check's generic tmux action to what the engine may run.
 */
import {describe, expect, it} from 'vitest'
import type {ProcessTarget} from '../src/checks/api.js'
import type {LiveProcess} from '../src/remediation/probe.js'
import {narrowAction, sessionArgs} from '../src/remediation/termination.js'
import {verify, type Identity, type Lineage} from '../src/remediation/verify.js'

const id: Identity = {
  protectedPids: new Map([[900, 'the doctor itself']]),
  isTmuxServer: (live) => live.comm.startsWith('tmux'),
  isMultiplexerServer: (live) => live.comm === 'screen',
  isReaper: (pid) => pid === 1,
  invokingUid: 1000,
}
const lineage: Lineage = {adopter: () => undefined, rootAncestors: new Set(), describe: (ppid) => `PID ${ppid}`}
const target: ProcessTarget = {pid: 42, ppid: 1, startTicks: 500, uid: 1000, command: 'node mcp.js'}
const live = (over: Partial<LiveProcess> = {}): LiveProcess => ({
  pid: 42,
  ppid: 1,
  startTicks: 500,
  uid: 1000,
  state: 'S',
  comm: 'node',
  ...over,
})

describe('verify: one target against its live re-read', () => {
  it.each<[string, LiveProcess | undefined, ReturnType<typeof verify>['kind'], RegExp?]>([
    ['the same orphan', live(), 'ok'],
    ['gone', undefined, 'gone'],
    ['a zombie', live({state: 'Z'}), 'dead'],
    ['its pid reused', live({startTicks: 501}), 'spare', /PID reused/],
    ['another owner now', live({uid: 0}), 'spare', /owner changed from uid 1000 to uid 0/],
    [
      'adopted by a live process',
      live({ppid: 77}),
      'spare',
      /no longer an orphan: its parent changed from PID 1 to PID 77/,
    ],
    ['a tmux server', live({comm: 'tmux: server'}), 'spare', /a tmux server is never signalled/],
  ])('%s', (_, now, kind, detail) => {
    const v = verify(target, now, id, lineage)
    expect(v.kind).toBe(kind)
    if (detail) expect(v.kind === 'spare' && v.detail).toMatch(detail)
  })

  it('spares a target whose start time was never known, and the doctor itself', () => {
    expect(verify({...target, startTicks: undefined}, live(), id, lineage)).toMatchObject({
      kind: 'spare',
      detail: /start time unknown/,
    })
    expect(verify({...target, pid: 900}, live({pid: 900}), id, lineage)).toEqual({
      kind: 'spare',
      detail: 'the doctor itself is never signalled',
    })
  })
})

describe('narrowAction: the tmux commands the engine may run', () => {
  it('keeps kill-pane / respawn-pane of one pane, and marks anything else unsupported', () => {
    expect(narrowAction({kind: 'tmux', socket: '/s', args: ['kill-pane', '-t', '%3'], reason: 'r'})).toEqual({
      kind: 'dead-pane',
      command: 'kill-pane',
      socket: '/s',
      pane: '%3',
      args: ['kill-pane', '-t', '%3'],
    })
    expect(narrowAction({kind: 'tmux', socket: '/s', args: ['kill-server'], reason: 'r'})).toEqual({
      kind: 'unsupported-tmux',
      socket: '/s',
      args: ['kill-server'],
    })
    expect(narrowAction({kind: 'tmux', socket: '/s', args: ['kill-pane'], reason: 'r'})).toMatchObject({
      kind: 'unsupported-tmux',
    })
  })

  it('session stop names its session exactly (a bare -t name is a prefix match)', () => {
    expect(sessionArgs({kind: 'kill-session', socket: '/s', session: 'gt-a'})).toEqual(['kill-session', '-t', '=gt-a'])
    expect(sessionArgs({kind: 'send-keys', socket: '/s', pane: '%1', keys: 'C-c'})).toEqual([
      'send-keys',
      '-t',
      '%1',
      'C-c',
    ])
  })
})
