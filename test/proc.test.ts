import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {
  environValue,
  parseBootTime,
  parseCmdline,
  parseEnviron,
  parseSmapsRollup,
  parseStat,
  parseStatus,
  readProcEnviron,
  readProcText,
} from '../src/snapshot/proc.js'
import {KEPT_ENV_KEYS} from '../src/snapshot/types.js'

describe('/proc parsers', () => {
  it('parses stat with spaces and parentheses in the command name', () => {
    const line =
      '4242 (tmux: server (x)) S 1 4242 4242 0 -1 4194560 0 0 0 0 1 2 0 0 20 0 1 0 123456 1000 200 18446744073709551615'
    expect(parseStat(line)).toEqual({
      comm: 'tmux: server (x)',
      state: 'S',
      ppid: 1,
      pgid: 4242,
      sid: 4242,
      ttyNr: 0,
      startTicks: 123456,
      kernelThread: false,
    })
    // kthreadd's children carry PF_KTHREAD; a pid namespace's pid 2 is an ordinary process.
    expect(parseStat('77 (kworker/0:1) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 40 0 0')?.kernelThread).toBe(true)
  })

  it('rejects a truncated stat', () => {
    expect(parseStat('')).toBeUndefined()
    expect(parseStat('12 (x')).toBeUndefined()
  })

  it('reads uid and VmRSS from status, and nothing for kernel threads', () => {
    expect(parseStatus('Name:\tclaude\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t  524288 kB\n')).toEqual({
      uid: 1000,
      rssBytes: 536870912,
    })
    expect(parseStatus('Name:\tkthreadd\nUid:\t0\t0\t0\t0\n')).toEqual({uid: 0})
  })

  it('reads Pss from smaps_rollup', () => {
    expect(parseSmapsRollup('00400000-7ffd [rollup]\nRss:  1000 kB\nPss:  512 kB\nPss_Anon: 100 kB\n')).toBe(512 * 1024)
    expect(parseSmapsRollup('')).toBeUndefined()
  })

  it('splits cmdline on NUL', () => {
    expect(parseCmdline('node\0/x/cli.js\0--flag\0')).toEqual(['node', '/x/cli.js', '--flag'])
    expect(parseCmdline('claude')).toEqual(['claude'])
    expect(parseCmdline('claude\0\0\0\0')).toEqual(['claude'])
    expect(parseCmdline('')).toEqual([])
  })

  it('keeps only the tmux/screen/zellij/Claude variables of KEPT_ENV_KEYS from environ, never the messaging token', () => {
    const environ =
      'HOME=/home/a\0ANTHROPIC_API_KEY=sk-ant-secret\0TMUX=/tmp/tmux-1000/default,99,0\0TMUX_PANE=%3\0CLAUDECODE=1\0CLAUDE_CODE_SESSION_ID=abc\0' +
      'CLAUDE_PID=4242\0CLAUDE_CODE_ENTRYPOINT=cli\0CLAUDE_PROJECT_DIR=/home/a/p\0CLAUDE_CODE_MESSAGING_SOCKET=/run/user/1000/cc-socks/4242.sock\0' +
      'CLAUDE_CODE_MESSAGING_TOKEN=0123456789abcdef0123456789abcdef\0MY_TMUX=no\0OPENAI_API_KEY=sk-proj-secret\0' +
      'CODEX_MANAGED_BY_NPM=1\0CODEX_MANAGED_BY_BUN=1\0CODEX_MANAGED_BY_PNPM=1\0CODEX_SANDBOX_NETWORK_DISABLED=1\0GEMINI_CLI_NO_RELAUNCH=true\0OPENCODE=1\0OPENCODE_PID=7\0' +
      'STY=300.agents\0WINDOW=1\0ZELLIJ=0\0ZELLIJ_SESSION_NAME=work\0ZELLIJ_PANE_ID=2\0'
    const expected = {
      TMUX: '/tmp/tmux-1000/default,99,0',
      TMUX_PANE: '%3',
      CLAUDECODE: '1',
      CLAUDE_CODE_SESSION_ID: 'abc',
      CLAUDE_PID: '4242',
      CLAUDE_CODE_ENTRYPOINT: 'cli',
      CLAUDE_CODE_MESSAGING_SOCKET: '/run/user/1000/cc-socks/4242.sock',
      CODEX_MANAGED_BY_NPM: '1',
      CODEX_MANAGED_BY_BUN: '1',
      CODEX_MANAGED_BY_PNPM: '1',
      CODEX_SANDBOX_NETWORK_DISABLED: '1',
      GEMINI_CLI_NO_RELAUNCH: 'true',
      OPENCODE: '1',
      STY: '300.agents',
      WINDOW: '1',
      ZELLIJ_SESSION_NAME: 'work',
      ZELLIJ_PANE_ID: '2',
    }
    expect(parseEnviron(environ)).toEqual(expected)
    expect(Object.keys(expected)).toEqual([...KEPT_ENV_KEYS])
    expect(JSON.stringify(parseEnviron(environ))).not.toContain('0123456789abcdef')
    expect(parseEnviron('TMUX=/s,1,0')).toEqual({TMUX: '/s,1,0'})
    expect(JSON.stringify(parseEnviron(environ))).not.toContain('sk-ant')
    expect(JSON.stringify(parseEnviron(environ))).not.toContain('sk-proj')
    expect(environValue(environ, 'HOME')).toBe('/home/a')
    expect(environValue(environ, 'TMUX_TMPDIR')).toBeUndefined()
  })

  it('reads boot time', () => {
    expect(parseBootTime('cpu 1 2 3\nbtime 1760000000\nprocesses 5\n')).toBe(1_760_000_000_000)
  })
})

describe('readProcText', () => {
  it('reads what readFileSync reads, however long, and undefined for what cannot be read', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gt-doctor-proc-'))
    const small = path.join(dir, 'small')
    const big = path.join(dir, 'big')
    writeFileSync(small, 'claude\0--resume\0é\0')
    writeFileSync(big, 'KEY=' + 'x'.repeat(300_000) + '\0TMUX=/tmp/tmux-0/default,1,0\0')
    expect(readProcText(small)).toBe(readFileSync(small, 'utf8'))
    expect(readProcText(big)).toBe(readFileSync(big, 'utf8'))
    expect(readProcText(small)).toBe(readFileSync(small, 'utf8'))
    expect(readProcText(path.join(dir, 'missing'))).toBeUndefined()
    expect(readProcText(dir)).toBeUndefined()
    expect(readProcText('/proc/self/stat')).toMatch(/^\d+ \(/)
  })
})

describe('readProcEnviron', () => {
  it('finds exactly what parseEnviron and environValue find, without decoding the rest', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gt-doctor-environ-'))
    const blobs = [
      'HOME=/home/a\0ANTHROPIC_API_KEY=sk-ant-secret\0TMUX=/tmp/tmux-1000/default,99,0\0TMUX_PANE=%3\0CLAUDECODE=1\0MY_TMUX=no\0',
      'TMUX=/s,1,0',
      'TMUX_TMPDIR=/run/é\0TMUX_PANE=\0LANG=fr_FR.UTF-8\0TMUX=/tmp/ü,1,2',
      'XTMUX=1\0NOT_CLAUDECODE=1\0',
      '',
      'CLAUDE_CODE_SESSION_ID=' + 'z'.repeat(100_000) + '\0CLAUDECODE=1\0',
    ]
    blobs.forEach((blob, i) => {
      const file = path.join(dir, `environ-${i}`)
      writeFileSync(file, blob)
      expect(readProcEnviron(file, 'TMUX_TMPDIR'), `blob ${i}`).toEqual({
        env: parseEnviron(blob),
        extra: environValue(blob, 'TMUX_TMPDIR'),
      })
      expect(readProcEnviron(file), `blob ${i}`).toEqual({env: parseEnviron(blob)})
    })
    expect(readProcEnviron(path.join(dir, 'missing'))).toBeUndefined()
  })

  it('reads status and smaps_rollup as latin1 to the same numbers', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gt-doctor-status-'))
    const file = path.join(dir, 'status')
    writeFileSync(file, 'Name:\tclaudé\nUid:\t1000\t1000\t1000\t1000\nVmRSS:\t  524288 kB\n')
    expect(parseStatus(readProcText(file, 'latin1')!)).toEqual({uid: 1000, rssBytes: 536870912})
  })
})
