import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {
  LIST_PANES_FORMAT,
  parseListPanes,
  queryServer,
  socketFromServerArgv,
  socketFromTmuxEnv,
} from '../src/snapshot/tmux.js'

describe('tmux discovery', () => {
  it('finds the socket a server serves from its original command line', () => {
    expect(socketFromServerArgv(['tmux', 'new-session', '-d'], 1000, undefined)).toBe('/tmp/tmux-1000/default')
    expect(socketFromServerArgv(['tmux', '-L', 'hq', 'new', '-d'], 1000, undefined)).toBe('/tmp/tmux-1000/hq')
    expect(socketFromServerArgv(['tmux', '-Lhq', 'new'], 1000, '/run/user/1000')).toBe('/run/user/1000/tmux-1000/hq')
    expect(socketFromServerArgv(['tmux', '-f', '/dev/null', '-S', '/tmp/x/sock', 'new'], 0, undefined)).toBe(
      '/tmp/x/sock',
    )
    expect(socketFromServerArgv(['tmux', '-2', '-f', '/etc/tmux.conf', '-L', 'gt', 'attach'], 0, undefined)).toBe(
      '/tmp/tmux-0/gt',
    )
    // A -L after the command is the command's own argument, not the socket.
    expect(socketFromServerArgv(['tmux', 'new', '-s', 'x', 'grep', '-L', 'y'], 5, undefined)).toBe(
      '/tmp/tmux-5/default',
    )
  })

  it('reads the socket from a TMUX variable', () => {
    expect(socketFromTmuxEnv('/tmp/tmux-1000/default,1234,0')).toBe('/tmp/tmux-1000/default')
    expect(socketFromTmuxEnv('garbage')).toBeUndefined()
  })

  it('parses list-panes output, including session names with spaces', () => {
    const line = (f: string[]) => f.join('\u001f')
    const out = [
      line(['900', 'gt-a', '$0', '0', '%0', '901', '0', 'claude']),
      line(['900', 'my session', '$1', '2', '%5', '950', '1', 'bash']),
      '',
    ].join('\n')
    expect(parseListPanes(out)).toEqual({
      serverPid: 900,
      panes: [
        {
          session: 'gt-a',
          sessionId: '$0',
          windowIndex: 0,
          paneId: '%0',
          panePid: 901,
          dead: false,
          currentCommand: 'claude',
        },
        {
          session: 'my session',
          sessionId: '$1',
          windowIndex: 2,
          paneId: '%5',
          panePid: 950,
          dead: true,
          currentCommand: 'bash',
        },
      ],
      unreadable: 0,
    })
    expect(LIST_PANES_FORMAT.split('\u001f')).toHaveLength(8)
  })

  it('counts the lines it cannot read (tmux outside a UTF-8 locale turns the separator into _)', () => {
    const sanitized = '900_gt-a_$0_0_%0_901_0_claude\n900_gt-b_$1_0_%1_902_0_bash\n'
    expect(parseListPanes(sanitized)).toEqual({serverPid: undefined, panes: [], unreadable: 2})
    const badPid = ['900', 'gt-a', '$0', '0', '%0', 'x', '0', 'claude'].join('\u001f')
    expect(parseListPanes(badPid).unreadable).toBe(1)
  })

  it('keeps a pane command that holds the separator whole', () => {
    const line = ['900', 'gt-a', '$0', '0', '%0', '901', '0', 'a\u001fb'].join('\u001f')
    expect(parseListPanes(line).panes[0].currentCommand).toBe('a\u001fb')
  })
})

describe('queryServer', () => {
  // A stand-in tmux binary: records its arguments and answers as tmux does outside a UTF-8 locale.
  const dir = mkdtempSync(join(tmpdir(), 'gt-tmux-'))
  const bin = join(dir, 'tmux')
  writeFileSync(bin, `#!/bin/sh\necho "$@" > ${dir}/args\nprintf '900_gt-a_$0_0_%%0_901_0_claude\\n'\n`, {mode: 0o755})
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  it('asks with -u, and an answer it cannot read leaves the server unverified, never empty', async () => {
    const server = await queryServer({path: '/tmp/nowhere', foundBy: ['flag']}, 5000, bin)
    expect(readFileSync(join(dir, 'args'), 'utf8').split(' ').slice(0, 4)).toEqual([
      '-u',
      '-S',
      '/tmp/nowhere',
      'list-panes',
    ])
    expect(server).toMatchObject({status: 'error', panes: []})
    expect(server.error).toMatch(/cannot read \(1 line\)/)
  })
})
