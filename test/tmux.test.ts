import {describe, expect, it} from 'vitest'
import {LIST_PANES_FORMAT, parseListPanes, socketFromServerArgv, socketFromTmuxEnv} from '../src/snapshot/tmux.js'

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
    })
    expect(LIST_PANES_FORMAT.split('\u001f')).toHaveLength(8)
  })
})
