import {describe, expect, it} from 'vitest'
import {MASK, redactArgv, redactDeep, redactSnapshot, redactText} from '../src/report/redact.js'
import {createRules, DEFAULT_RULES} from '../src/rules/rules.js'
import {Machine} from './support/machine.js'
import {incidentSnapshot} from './support/incident.js'
import {allSecrets, fake, lookAlikes, secretCorpus} from './support/secrets.js'

const home = {home: '/home/morsov'}

describe('redactText: secrets', () => {
  it('has a corpus of at least 30 secrets', () => {
    expect(allSecrets().length).toBeGreaterThanOrEqual(30)
    expect(new Set(allSecrets()).size).toBe(allSecrets().length)
  })

  for (const c of secretCorpus()) {
    it(`masks ${c.label}, as argv and as one command line`, () => {
      const asArgv = redactArgv(c.argv, home).join(' ')
      const asLine = redactText(c.argv.join(' '), home)
      for (const secret of c.secrets) {
        expect(c.argv.join(' ')).toContain(secret)
        expect(asArgv).not.toContain(secret)
        expect(asLine).not.toContain(secret)
      }
      expect(asArgv).toContain(MASK)
      expect(asLine).toContain(MASK)
    })
  }

  it('has a corpus of at least 60 cases, look-alikes included', () => {
    expect(secretCorpus().length + lookAlikes().length).toBeGreaterThanOrEqual(60)
    expect(secretCorpus().length).toBeGreaterThanOrEqual(60)
  })

  for (const argv of lookAlikes()) {
    it(`leaves the look-alike ${argv.join(' ')} as it is, as argv and as one command line`, () => {
      expect(redactArgv(argv, home)).toEqual(argv)
      expect(redactText(argv.join(' '), home)).toBe(argv.join(' '))
    })
  }

  it('masks a random value of a secret-looking name no rule knows, and not a plain one', () => {
    const value = fake('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 32, 999)
    expect(redactText(`GITHUB_TOKEN_V2=${value}`)).toBe(`GITHUB_TOKEN_V2=${MASK}`)
    expect(redactText(`{"session_key_id": "${value}"}`)).toBe(`{"session_key_id": "${MASK}"}`)
    expect(redactText(`authHeaderValue=${value}`)).toBe(`authHeaderValue=${MASK}`)
    for (const plain of [
      'SESSION_TIMEOUT=30',
      'AUTH_MODE=interactive-browser',
      'KEY_FILE_PATH=/etc/ssl/private/gt.pem',
      'SIGNAL_NAME=aaaaaaaaaaaaaaaaaaaa',
    ])
      expect(redactText(plain)).toBe(plain)
  })

  it('keeps what says which kind of secret leaked', () => {
    const [ant, ghp] = [secretCorpus()[0].secrets[0], secretCorpus()[3].secrets[0]]
    expect(redactText(`claude --api-key ${ant}`)).toBe('claude --api-key ***')
    expect(redactText(`x ${ant}`)).toBe('x sk-ant-***')
    expect(redactText(`--token=${ghp}`)).toBe('--token=***')
    expect(redactText(`see ${ghp} here`)).toBe('see ghp_*** here')
    expect(redactText('https://bob:hunter2@example.com/x')).toBe('https://bob:***@example.com/x')
    expect(redactText('Authorization: Bearer abcdef123456')).toBe('Authorization: Bearer ***')
    expect(redactText('GITHUB_TOKEN=abc API_KEY=def plain=ok')).toBe('GITHUB_TOKEN=*** API_KEY=*** plain=ok')
  })

  it('masks the value after a secret flag in the next argv element only', () => {
    expect(redactArgv(['node', 's.js', '--password', 'hunter2', '--port', '80'])).toEqual([
      'node',
      's.js',
      '--password',
      MASK,
      '--port',
      '80',
    ])
    expect(redactArgv(['node', 's.js', '--no-auth', '--verbose'])).toEqual(['node', 's.js', '--no-auth', '--verbose'])
  })

  it('is idempotent', () => {
    for (const c of secretCorpus()) {
      const once = redactArgv(c.argv, home)
      expect(redactArgv(once, home)).toEqual(once)
    }
  })

  it('leaves ordinary agent-machine command lines alone', () => {
    const ordinary = [
      'claude --dangerously-skip-permissions --resume',
      'tmux -L agents new-session -d -s gt-mayor',
      'npm exec @modelcontextprotocol/server-filesystem /tmp/work',
      'node /opt/mcp/node_modules/@modelcontextprotocol/server-github/dist/index.js',
      'uvx mcp-server-fetch --max-tokens 4096 --model claude-sonnet-4-5',
      'docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server',
      'python3 -m mcp_server_time --local-timezone Europe/Berlin',
      'systemd --user',
      'Orphan claude, 8h 39m old, 5 MCP servers (9 processes)',
      'its parent is the tmux server (pid 1522098) but no pane holds it: its session was killed',
    ]
    for (const line of ordinary) expect(redactText(line)).toBe(line)
  })
})

describe('redactText: home directories', () => {
  it("shows the invoking user's home as ~ and everyone else's as ~NAME", () => {
    expect(redactText('/home/morsov/.npm/x.js', home)).toBe('~/.npm/x.js')
    expect(redactText('cd /home/morsov && ls /home/bob/src', home)).toBe('cd ~ && ls ~bob/src')
    expect(redactText('/root/.local/bin/claude', home)).toBe('~root/.local/bin/claude')
    expect(redactText('/root/.local/bin/claude', {home: '/root'})).toBe('~/.local/bin/claude')
    expect(redactText('--dir=/home/morsov/gt', home)).toBe('--dir=~/gt')
    expect(redactText('/Users/alice/Library', {})).toBe('~alice/Library')
  })

  it('handles a home outside /home and does not touch look-alikes', () => {
    expect(redactText('/data/users/al/x and /data/users/alice/y', {home: '/data/users/al'})).toBe(
      '~/x and /data/users/alice/y',
    )
    expect(redactText('/home/morsovich/x', home)).toBe('~morsovich/x')
    expect(redactText('/var/tmp/home/x /rooted', home)).toBe('/var/tmp/home/x /rooted')
    expect(redactText('https://example.com/home/page', home)).toBe('https://example.com/home/page')
  })
})

describe('redactDeep and redactSnapshot', () => {
  it('redacts every string of structured data and masks secret-named keys', () => {
    const out = redactDeep(
      {message: 'ran /home/morsov/x', data: {apiKey: 'plain-looking', argv: ['--token', 'abc'], n: 3}},
      home,
    )
    expect(out).toEqual({message: 'ran ~/x', data: {apiKey: MASK, argv: ['--token', MASK], n: 3}})
  })

  it('keeps only the four environment keys, whatever a snapshot holds', () => {
    const m = new Machine()
    const p = m.proc({pid: 10, cmd: 'claude', env: {TMUX: '/tmp/tmux-1000/default,1,0', CLAUDECODE: '1'}})
    ;(p.env as Record<string, string>).GITHUB_TOKEN = 'leaked'
    const out = redactSnapshot(m.snapshot(), home)
    expect(out.processes.find((x) => x.pid === 10)!.env).toEqual({TMUX: '/tmp/tmux-1000/default,1,0', CLAUDECODE: '1'})
  })

  it('does not change what the rules see: every process is classified as before', () => {
    const rules = createRules(structuredClone(DEFAULT_RULES))
    const raw = incidentSnapshot({corpus: secretCorpus()})
    const red = redactSnapshot(raw, home)
    const classify = (s: typeof raw) =>
      s.processes.map((p) => [
        p.pid,
        rules.isClaude(p),
        rules.isMcpServer(p),
        rules.hasClaudeCodeEnv(p),
        rules.isTmuxServer(p),
      ])
    expect(classify(red)).toEqual(classify(raw))
    expect(JSON.stringify(red)).not.toContain('/home/morsov')
  })
})
