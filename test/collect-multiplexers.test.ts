import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  collectMultiplexers,
  parseScreenWindows,
  parseZellijSessions,
  type MuxRunner,
} from '../src/snapshot/multiplexers.js'
import {collectContainers, parseContainerList} from '../src/snapshot/containers.js'
import type {ProcessInfo} from '../src/snapshot/types.js'

const proc = (pid: number, argv: string[], env: ProcessInfo['env'] = {}): ProcessInfo => ({
  pid,
  ppid: 1,
  comm: argv[0].split('/').pop()!.slice(0, 15),
  argv,
  env,
})
const empty = mkdtempSync(join(tmpdir(), 'gtd-screendir-'))
afterAll(() => rmSync(empty, {recursive: true, force: true}))

/** A runner that answers from a table and records what it was asked. */
function recorded(answers: Record<string, Partial<Awaited<ReturnType<MuxRunner>>>>) {
  const asked: string[] = []
  const run: MuxRunner = async (bin, args) => {
    const line = [bin, ...args].join(' ')
    asked.push(line)
    const a = Object.entries(answers).find(([k]) => line.startsWith(k))?.[1] ?? {code: 1, stderr: 'unknown'}
    return {code: 0, stdout: '', stderr: '', timedOut: false, missing: false, ...a}
  }
  return {asked, run}
}

describe('screen and zellij answers (shapes from screen 4.09 and zellij-utils/src/sessions.rs)', () => {
  it('reads the window numbers of screen -Q windows, flags included', () => {
    expect(parseScreenWindows('0 sh  1* claude  2- bash  10$ x ')).toEqual([0, 1, 2, 10])
  })
  it('reads zellij list-sessions --no-formatting, exited sessions apart', () => {
    const out =
      'work [Created 2h 3m ago] (current)\nold [Created 3days ago] (EXITED - attach to resurrect)\nmy session [Created 10s ago] \n'
    expect(parseZellijSessions(out)).toEqual([
      {name: 'work', exited: false},
      {name: 'old', exited: true},
      {name: 'my session', exited: false},
    ])
  })
})

describe('collectMultiplexers', () => {
  it('asks each screen session once; a session that does not answer is unresponsive, a gone one stale', async () => {
    const {asked, run} = recorded({
      'screen -S 300.live': {stdout: '0 bash  1* claude'},
      'screen -S 400.slow': {timedOut: true, code: null},
      'screen -S 500.gone': {code: 1, stdout: 'No screen session found.\n'},
    })
    const processes = [
      proc(300, ['SCREEN', '-dmS', 'live']),
      proc(301, ['claude'], {STY: '300.live', WINDOW: '1'}),
      proc(302, ['bash'], {STY: '300.live', WINDOW: '0'}),
      proc(400, ['SCREEN', '-dmS', 'slow']),
      proc(401, ['claude'], {STY: '400.slow', WINDOW: '0'}),
      proc(501, ['claude'], {STY: '500.gone', WINDOW: '0'}),
    ]
    const {screen, zellij} = await collectMultiplexers(processes, {run, screenDir: empty, timeoutMs: 50})
    expect(asked.sort()).toEqual([
      'screen -S 300.live -Q windows',
      'screen -S 400.slow -Q windows',
      'screen -S 500.gone -Q windows',
    ])
    expect(screen.sessions.map((s) => [s.id, s.status, s.windows])).toEqual([
      ['300.live', 'ok', [0, 1]],
      ['400.slow', 'unresponsive', undefined],
      ['500.gone', 'stale', undefined],
    ])
    expect(zellij.sessions).toEqual([])
  })

  it('a SCREEN process whose socket is elsewhere cannot be asked: error, not stale', async () => {
    const {run} = recorded({'screen -S 300': {code: 1, stdout: 'No screen session found.\n'}})
    const {screen} = await collectMultiplexers([proc(300, ['SCREEN', '-dmS', 'live'])], {run, screenDir: empty})
    expect(screen.sessions).toMatchObject([{id: '300', pid: 300, status: 'error'}])
  })

  it('asks zellij once for every session, servers found by `zellij --server SOCKET` and by ZELLIJ_SESSION_NAME', async () => {
    const {asked, run} = recorded({
      'zellij list-sessions': {
        stdout: 'work [Created 1h ago] \nold [Created 2days ago] (EXITED - attach to resurrect)\n',
      },
    })
    const processes = [
      proc(600, ['/usr/bin/zellij', '--server', '/run/user/0/zellij/0.43.1/work']),
      proc(601, ['claude'], {ZELLIJ_SESSION_NAME: 'work', ZELLIJ_PANE_ID: '0'}),
      proc(701, ['claude'], {ZELLIJ_SESSION_NAME: 'old', ZELLIJ_PANE_ID: '0'}),
    ]
    const {zellij} = await collectMultiplexers(processes, {run, screenDir: empty})
    expect(asked).toEqual(['zellij list-sessions --no-formatting'])
    expect(zellij.sessions.map((s) => [s.id, s.status, s.pid])).toEqual([
      ['old', 'stale', undefined],
      ['work', 'ok', 600],
    ])
  })

  it('zellij that does not answer leaves every session unresponsive; no multiplexer, no call', async () => {
    const slow = recorded({zellij: {timedOut: true, code: null}})
    const {zellij} = await collectMultiplexers([proc(601, ['claude'], {ZELLIJ_SESSION_NAME: 'work'})], {
      run: slow.run,
      screenDir: empty,
    })
    expect(zellij.sessions).toMatchObject([{id: 'work', status: 'unresponsive'}])
    const none = recorded({})
    await collectMultiplexers([proc(2, ['bash'])], {run: none.run, screenDir: empty})
    expect(none.asked).toEqual([])
  })
})

describe('collectContainers', () => {
  it('asks a runtime only when a run client runs, once', async () => {
    const {asked, run} = recorded({'docker ps': {stdout: 'abc123\tmcp-x\tmcp/x\ndef456\tweb,alias\tnginx\n'}})
    expect(await collectContainers([proc(2, ['bash'])], {run})).toBeUndefined()
    const r = await collectContainers(
      [proc(10, ['docker', 'run', '-i', '--rm', 'mcp/x']), proc(11, ['/usr/bin/docker', 'run', 'mcp/y'])],
      {run},
    )
    expect(asked).toEqual(['docker ps --no-trunc --format {{.ID}}\t{{.Names}}\t{{.Image}}'])
    expect(r).toEqual([
      {
        runtime: 'docker',
        status: 'ok',
        containers: parseContainerList('abc123\tmcp-x\tmcp/x\ndef456\tweb,alias\tnginx\n'),
      },
    ])
    expect(r![0].containers[1].names).toEqual(['web', 'alias'])
  })
  it('a runtime that cannot be asked says why', async () => {
    const {run} = recorded({'podman ps': {missing: true, code: null}})
    expect(await collectContainers([proc(10, ['podman', 'run', 'mcp/x'])], {run})).toMatchObject([
      {runtime: 'podman', status: 'error', error: 'podman not found on PATH'},
    ])
  })
})
