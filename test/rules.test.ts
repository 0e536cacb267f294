import {describe, expect, it} from 'vitest'

import {CLAUDE, createRules, DEFAULT_RULES, MCP_SERVER} from '../src/rules/rules.js'
import type {RulesConfig} from '../src/rules/rules.js'
import type {ProcessInfo} from '../src/snapshot/types.js'

let nextPid = 1000

/** A ProcessInfo as the collector builds it; comm defaults to argv[0]'s basename truncated like the kernel does. */
function proc(p: {comm?: string; argv: string[]; pid?: number; ppid?: number; env?: ProcessInfo['env']}): ProcessInfo {
  const comm = p.comm ?? (p.argv[0] ?? '').split('/').pop()!.slice(0, 15)
  return {pid: p.pid ?? nextPid++, ppid: p.ppid ?? 1, comm, argv: p.argv, env: p.env ?? {}}
}

/** Splits a command line on spaces, keeping '...' quoted arguments together (enough for the corpus). */
function cmd(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2])
}

type Case = [label: string, p: ProcessInfo]
const c = (line: string, comm?: string): Case => [line, proc({argv: cmd(line), comm})]
const raw = (label: string, argv: string[], comm?: string): Case => [label, proc({argv, comm})]

const rules = createRules(DEFAULT_RULES)

const NVM = '/home/alice/.nvm/versions/node/v20.11.1'
const CC = 'node_modules/@anthropic-ai/claude-code/cli.js'

describe('isClaude', () => {
  const positives: Case[] = [
    c('claude'),
    c('claude --dangerously-skip-permissions'),
    c('/home/alice/.local/bin/claude --resume 5f0c'),
    c('claude.exe'),
    c('/usr/local/bin/claude-code -p hello'),
    c(`${NVM}/bin/node ${NVM}/lib/${CC} --dangerously-skip-permissions`),
    c(`/usr/bin/node /usr/lib/${CC}`),
    c(`node --max-old-space-size=4096 /opt/x/${CC}`),
    c(`node --max-old-space-size 4096 /opt/x/${CC}`),
    c(`node --inspect /opt/x/${CC}`),
    c(`node -r ts-node/register /opt/x/${CC}`),
    c(`node --require /opt/otel/register.js --enable-source-maps /opt/x/${CC} --continue`),
    c(`node --env-file .env --no-warnings /opt/x/${CC}`),
    c(`node -- /opt/x/${CC}`),
    c(`/usr/bin/nodejs /usr/lib/${CC}`),
    c(`/opt/node20/bin/node20 /opt/node20/lib/${CC}`),
    c(`bun run /home/bob/.bun/install/global/${CC}`),
    c(`/home/bob/.bun/bin/bun /home/bob/.bun/install/global/${CC} --continue`),
    c(`deno run -A /home/bob/project/${CC}`),
    c(`node /home/alice/.npm/_npx/3a1b2c/${CC}`),
    c(`node /home/alice/.local/share/pnpm/global/5/.pnpm/@anthropic-ai+claude-code@1.0.98/${CC}`),
    c('/home/alice/.local/share/claude/versions/2.1.233'),
    c('/home/alice/.local/share/claude/versions/2.1.233 --resume abc'),
    c('/home/alice/.local/share/claude/versions/1.0.98-beta.1 --print hi'),
    // the npm bin symlink, as the kernel shows it through `#!/usr/bin/env node` and a direct shebang
    c('node /usr/local/bin/claude --model opus'),
    c('/usr/bin/node /home/alice/.npm-global/bin/claude', 'claude'),
    c('/home/alice/.claude/local/node_modules/.bin/claude'),
    // process.title = 'claude' leaves argv[0] followed by NUL padding; zombies and unreadable cmdlines only comm
    raw('title claude + NUL padding', ['claude', '', '', '']),
    raw('title with spaces', ['claude --dangerously-skip-permissions', '', '']),
    raw('argv unavailable, comm claude', [], 'claude'),
  ]

  const negatives: Case[] = [
    c('vim claude-notes.md'),
    c('grep claude'),
    c('grep -x claude'),
    c('less /tmp/claude.log'),
    c('tail -f /home/alice/.claude/x'),
    c('/opt/claudeXYZ/bin/foo'),
    c('python claude.py'),
    c('python3 /home/alice/bin/claude', 'claude'), // a python script named claude: comm lies, argv does not
    c('/bin/bash /home/alice/bin/claude --foo', 'claude'), // a shell wrapper script named claude
    c('node /home/u/claude/server.js'),
    c("sh -c 'claude --foo'"),
    c('bash -c claude'),
    c('claude-monitor'),
    c('/home/alice/.local/bin/claude-monitor --plan max5'),
    c('npm exec @anthropic-ai/claude-code'),
    raw('npm title', ['npm exec @anthropic-ai/claude-code', '', ''], 'npm exec @anthr'),
    c('npx @anthropic-ai/claude-code'),
    c('node /usr/bin/npx -y @anthropic-ai/claude-code'),
    c('bunx @anthropic-ai/claude-code'),
    c('bun x @anthropic-ai/claude-code'),
    c(`node -e require('/opt/x/${CC}')`),
    c(`node --check /opt/x/${CC}`),
    c(`node --require /opt/x/${CC} app.js`),
    c('npm install -g @anthropic-ai/claude-code'),
    c('node /usr/lib/node_modules/npm/bin/npm-cli.js install -g @anthropic-ai/claude-code'),
    c('node /home/alice/src/claude-code-clone/cli.js'),
    c('node /home/alice/.npm-global/lib/node_modules/@musistudio/claude-code-router/dist/cli.js start'),
    c('/home/alice/.local/share/notclaude/versions/1.0.0'),
    c('/opt/app/versions/1.2.3'),
    c('/home/alice/.local/share/claude/versions/2.1.233.download'),
    c('pgrep -x claude'),
    c('tmux new-session -d -s test-session claude'),
    c('timeout 10 claude'),
    c('strace -f claude'),
    c('code /home/alice/.claude/settings.json'),
    c('rg claude src/'),
    c('python3 -m claude'),
    raw('argv unavailable, comm claude-monitor', [], 'claude-monitor'),
    raw('argv unavailable, comm is a version', [], '2.1.233'),
    raw('kernel thread', [], 'kworker/0:1'),
  ]

  it('has a corpus of at least 25 positives and 25 negatives', () => {
    expect(positives.length).toBeGreaterThanOrEqual(25)
    expect(negatives.length).toBeGreaterThanOrEqual(25)
  })
  it.each(positives)('yes: %s', (_label, p) => expect(rules.isClaude(p)).toBe(true))
  it.each(negatives)('no: %s', (_label, p) => expect(rules.isClaude(p)).toBe(false))
})

describe('isMcpServer', () => {
  const NPX = '/home/alice/.npm/_npx/9f2c1e0a7b3d4c5e'
  const positives: Case[] = [
    // node running a server's script
    c(`node ${NPX}/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js /home/alice/projects`),
    c(`node ${NPX}/node_modules/.bin/mcp-server-filesystem /tmp`),
    c(`${NVM}/bin/node ${NVM}/lib/node_modules/mcp-server-kubernetes/dist/index.js`),
    c(`node ${NPX}/node_modules/@upstash/context7-mcp/dist/index.js --transport stdio`),
    c(`node --max-old-space-size=512 /opt/mcp/node_modules/@modelcontextprotocol/server-github/dist/index.js`),
    c('node /home/alice/.npm-global/lib/node_modules/@notionhq/notion-mcp-server/bin/cli.mjs'),
    c(`node ${NPX}/node_modules/.pnpm/@playwright+mcp@0.0.40/node_modules/@playwright/mcp/cli.js`),
    c('bun run /home/bob/servers/node_modules/mcp-server-foo/index.ts'),
    // programs
    c('mcp-server-git --repository .'),
    c('/home/alice/.local/bin/mcp-server-filesystem /srv', 'mcp-server-file'),
    raw('argv unavailable, comm truncated mcp-server-file', [], 'mcp-server-file'),
    c('/usr/local/bin/github-mcp-server stdio'),
    c('context7-mcp'),
    c('/home/alice/.cargo/bin/rust-docs-mcp-server'),
    // uv tool / pip console scripts: python running the entry point (comm is the script name)
    c(
      '/home/alice/.local/share/uv/tools/mcp-server-git/bin/python /home/alice/.local/bin/mcp-server-git --repository .',
      'mcp-server-git',
    ),
    // launchers
    c('npx -y @modelcontextprotocol/server-filesystem /home/alice'),
    raw('npm title', ['npm exec @modelcontextprotocol/server-filesystem /home/alice', '', ''], 'npm exec @model'),
    c('npm exec --yes -- @modelcontextprotocol/server-memory@2025.4.25'),
    c('node /usr/bin/npx -y @upstash/context7-mcp@latest'),
    c('/usr/bin/node /usr/lib/node_modules/npm/bin/npx-cli.js -y mcp-server-kubernetes'),
    c('node /usr/lib/node_modules/npm/bin/npm-cli.js exec --yes @playwright/mcp@latest'),
    c('npx -p @modelcontextprotocol/server-filesystem mcp-server-filesystem /srv'),
    c('npx --registry https://npm.example.com -y firecrawl-mcp'),
    c('pnpm dlx @modelcontextprotocol/server-sequential-thinking'),
    c('node /home/alice/.local/share/pnpm/.tools/pnpm/9.12.0/bin/pnpm.cjs dlx mcp-server-foo'),
    c('bunx @modelcontextprotocol/server-everything'),
    c('bun x --bun firecrawl-mcp'),
    c('yarn dlx @modelcontextprotocol/server-memory'),
    c('uvx mcp-server-fetch'),
    c('/home/alice/.local/bin/uvx --from git+https://github.com/x/y mcp-server-time --local-timezone=Europe/Paris'),
    c('uvx --python 3.12 awslabs.aws-documentation-mcp-server@latest'),
    c('uvx mcp-server-git==2025.1.14 --repository .'),
    c('uv tool run mcp-server-git --repository .'),
    c('uv run --with mcp[cli] mcp-server-sqlite --db-path test.db'),
    c('uv --directory /home/alice/servers/weather run python -m mcp_server_weather'),
    c('uv run -m mcp_server_fetch'),
    // python
    c('/usr/bin/python3 -m mcp_server_fetch'),
    c('python3 -u -m mcp_server_fetch'),
    c('python3 -um mcp_server_time --local-timezone UTC'),
    c('python3.12 -X utf8 -m awslabs.aws_documentation_mcp_server.server'),
    c('python -m weather_mcp'),
    c('python3 /usr/lib/python3/dist-packages/mcp_server_foo/__main__.py'),
    c('/home/alice/venv/bin/python /home/alice/venv/lib/python3.11/site-packages/mcp_server_git/server.py'),
    // containers
    c('docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server'),
    c('docker run -i --rm --name fetch -v /a:/b -e X=1 mcp/fetch'),
    c('docker run -i --rm mcp/github:latest'),
    c('docker run -it --rm -p 8080:80 --network host docker.io/mcp/puppeteer'),
    c('docker --context desktop-linux container run -i --rm mcp/time'),
    c('podman run -i --rm -e X=1 docker.io/mcp/time@sha256:0123abcd'),
    c('docker run -i --rm --pull always ghcr.io/acme/tools/postgres-mcp:1.2'),
    c('docker mcp gateway run'),
    c('docker --debug run -ie GITHUB_PERSONAL_ACCESS_TOKEN ghcr.io/github/github-mcp-server'),
  ]

  const negatives: Case[] = [
    c('tail -f mcp-server.log'),
    c('grep mcp-server'),
    c('vim mcp-server-notes.md'),
    c('cat /home/alice/.claude/mcp.json'),
    c('node /srv/app/server.js --name mcp-server-foo'),
    c('less /var/log/foo-mcp'),
    c('docker logs -f github-mcp-server'),
    c('docker exec -it foo-mcp sh'),
    c('docker pull mcp/fetch'),
    c('docker run -v /x/mcp-server-data:/data alpine'),
    c('docker run --name foo-mcp alpine sleep 1'),
    c('docker run -e MCP_IMAGE=mcp/fetch --rm alpine env'),
    c('docker run --rm alpine echo mcp/fetch'),
    c('docker run --rm -v mcp-data:/data mcp-tools/linter'),
    c('npm install mcp-server-foo'),
    c("npm exec -c 'mcp-server-foo --stdio'"),
    raw(
      'npm exec title of another tool',
      ['npm exec vitest run --config test/vitest.config.ts', '', ''],
      'npm exec vitest',
    ),
    c('docker run --rm -it -e MODE=mcp/fetch -w /mcp-server-foo node:20 npm test'),
    raw('npm install title', ['npm install @modelcontextprotocol/server-memory', '', ''], 'npm install @mo'),
    c('npx tsc --project mcp-server-foo'),
    c('npx -y prettier --write mcp-server-foo.ts'),
    c('npx @modelcontextprotocol/inspector node build/index.js'),
    c('npx create-mcp-server'),
    c('npx @modelcontextprotocol/create-server my-server'),
    c('pnpm add @modelcontextprotocol/server-memory'),
    c('uv pip install mcp-server-fetch'),
    c('uvx ruff check mcp_server_foo/'),
    c('uv run pytest tests/test_mcp_server_fetch.py'),
    c('python3 -m pytest tests/test_mcp_server_fetch.py'),
    c('python3 -c import mcp_server_fetch'),
    c('python3 -m http.server'),
    c("node -e require('mcp-server-foo')"),
    c('node --require /x/node_modules/mcp-server-foo/register.js app.js'),
    c('node /x/node_modules/mcp-server-foo/node_modules/.bin/tsc -p .'),
    c('node /x/node_modules/@modelcontextprotocol/sdk/dist/cli.js'),
    c("sh -c 'npx -y mcp-server-foo'"),
    c('bash /home/alice/bin/start-mcp-server-foo.sh'),
    c('git clone https://github.com/x/foo-mcp'),
    c('code /home/alice/src/github-mcp-server'),
    c('ssh build-host mcp-server-git'),
    c('journalctl -u foo-mcp'),
    c('tmux new -s mcp-server-foo'),
    raw('argv unavailable, truncated comm that cannot be confirmed', [], 'github-mcp-serv'),
    raw('kernel thread', [], 'kworker/u8:2'),
  ]

  it('has a corpus of at least 25 positives and 25 negatives', () => {
    expect(positives.length).toBeGreaterThanOrEqual(25)
    expect(negatives.length).toBeGreaterThanOrEqual(25)
  })
  it.each(positives)('yes: %s', (_label, p) => expect(rules.isMcpServer(p)).toBe(true))
  it.each(negatives)('no: %s', (_label, p) => expect(rules.isMcpServer(p)).toBe(false))

  it('never calls a Claude process an MCP server, nor an MCP server Claude', () => {
    expect(rules.isMcpServer(proc({argv: cmd(`node /usr/lib/${CC}`)}))).toBe(false)
    expect(rules.isClaude(proc({argv: cmd('npx -y @modelcontextprotocol/server-memory')}))).toBe(false)
  })
})

describe('hasClaudeCodeEnv', () => {
  it('reports CLAUDECODE=1 only', () => {
    expect(rules.hasClaudeCodeEnv(proc({argv: ['node', 'x.js'], env: {CLAUDECODE: '1'}}))).toBe(true)
    expect(rules.hasClaudeCodeEnv(proc({argv: ['node', 'x.js'], env: {CLAUDECODE: '0'}}))).toBe(false)
    expect(rules.hasClaudeCodeEnv(proc({argv: ['node', 'x.js']}))).toBe(false)
  })
  it('is not folded into isMcpServer', () => {
    expect(rules.isMcpServer(proc({argv: ['node', '/srv/app/server.js'], env: {CLAUDECODE: '1'}}))).toBe(false)
  })
  it('can be switched off', () => {
    const cfg = structuredClone(DEFAULT_RULES)
    cfg.mcp.claudeCodeEnv = false
    expect(createRules(cfg).hasClaudeCodeEnv(proc({argv: ['node'], env: {CLAUDECODE: '1'}}))).toBe(false)
  })
})

describe('isTmuxServer', () => {
  it.each<Case>([
    raw(
      'tmux 3.x server: comm rewritten, argv original',
      ['tmux', '-L', 'gt', 'new', '-d', '-s', 'gt-alpha'],
      'tmux: server',
    ),
    raw('argv[0] rewritten', ['tmux: server (/tmp/tmux-1000/default)'], 'tmux'),
  ])('yes: %s', (_l, p) => expect(rules.isTmuxServer(p)).toBe(true))
  it.each<Case>([
    raw('tmux client', ['tmux', 'attach', '-t', 'gt-alpha'], 'tmux: client'),
    raw('plain tmux', ['tmux', 'ls'], 'tmux'),
    raw('grep', ['grep', 'tmux: server'], 'grep'),
  ])('no: %s', (_l, p) => expect(rules.isTmuxServer(p)).toBe(false))
})

describe('isReaper', () => {
  it.each<Case>([
    ['pid 1', proc({pid: 1, argv: ['/sbin/init', 'splash'], comm: 'systemd'})],
    ['WSL init', proc({pid: 1, argv: ['/init'], comm: 'init'})],
    ['systemd --user', proc({pid: 1234, argv: ['/lib/systemd/systemd', '--user'], comm: 'systemd'})],
    [
      '/usr/lib/systemd/systemd --user',
      proc({pid: 1235, argv: ['/usr/lib/systemd/systemd', '--user'], comm: 'systemd'}),
    ],
    ['systemd with more args', proc({pid: 1236, argv: ['systemd', '--log-level=debug', '--user'], comm: 'systemd'})],
  ])('yes: %s', (_l, p) => expect(rules.isReaper(p)).toBe(true))
  it.each<Case>([
    ['(sd-pam)', proc({pid: 1237, argv: ['(sd-pam)'], comm: '(sd-pam)'})],
    ['system systemd not pid 1', proc({pid: 1238, argv: ['/lib/systemd/systemd', '--system'], comm: 'systemd'})],
    ['systemd-logind', proc({pid: 1239, argv: ['/lib/systemd/systemd-logind'], comm: 'systemd-logind'})],
    ['WSL relay /init', proc({pid: 473, argv: ['/init'], comm: 'init'})],
    ['tmux server', proc({pid: 900, argv: ['tmux', 'new', '-d'], comm: 'tmux: server'})],
    ['grep for it', proc({pid: 901, argv: ['grep', 'systemd --user'], comm: 'grep'})],
    ['a user-mode thing', proc({pid: 902, argv: ['/usr/bin/foo', '--user'], comm: 'foo'})],
  ])('no: %s', (_l, p) => expect(rules.isReaper(p)).toBe(false))
  it('undefined is not a reaper', () => expect(rules.isReaper(undefined)).toBe(false))
})

describe('isMcpServer: a shell that changes into an MCP package and runs it (real `sh -c "cd … && node …"` configs)', () => {
  const EV = '/m/node_modules/@modelcontextprotocol/server-everything'
  it.each([
    ['sh', '-c', `cd ${EV} && node dist/index.js`],
    ['/bin/bash', '-c', `cd ${EV} && exec node dist/index.js`],
    ['sh', '-c', `cd ${EV}/dist && node ./index.js --port 3001`],
    ['sh', '-c', 'cd /home/a/tools && npx -y @modelcontextprotocol/server-github'],
    ['sh', '-c', "cd '/home/a/My Tools/node_modules/@modelcontextprotocol/server-everything' && node dist/index.js"],
    ['sh', '-c', 'cd "/home/a/My Tools/node_modules/@modelcontextprotocol/server-everything" && node dist/index.js'],
  ])('yes: %s %s %s', (...argv) => expect(rules.isMcpServer(proc({argv}))).toBe(true))
  it.each([
    ['sh', '-c', 'cd /srv/app && node dist/index.js'],
    ['sh', '-c', `cd ${EV} && node dist/index.js; rm -rf /tmp/x`],
    ['sh', '-c', `cd ${EV} && node "$SCRIPT"`],
    ['sh', '-c', `cd "${EV}$X" && node dist/index.js`],
    ['sh', '-c', `cd '${EV}' && node 'dist/index.js'`],
    ['sh', '-c', `cd '${EV} && node dist/index.js`],
    ['sh', '-c', `cd ${EV}`],
    ['sh', '-c', `cd ${EV} && cat dist/index.js`],
    ['sh', '-c', `cd ${EV} && node -e 'x'`],
    ['sh', `cd ${EV} && node dist/index.js`],
    ['-bash', '-c', `cd ${EV} && node dist/index.js`],
  ])('no: %s %s %s', (...argv) => expect(rules.isMcpServer(proc({argv}))).toBe(false))
})

describe('headlessFlag', () => {
  const positives: Array<[string, ProcessInfo, string]> = [
    ['claude -p', proc({argv: ['claude', '-p', 'summarise']}), '-p'],
    ['claude --print', proc({argv: ['claude', '--print', 'x']}), '--print'],
    [
      'the SDK: --output-format stream-json',
      proc({argv: ['claude', '--output-format', 'stream-json', '--verbose']}),
      '--output-format=stream-json',
    ],
    [
      '--input-format=stream-json',
      proc({argv: ['claude', '--input-format=stream-json']}),
      '--input-format=stream-json',
    ],
    ['node cli.js -p', proc({argv: ['node', `/usr/lib/${CC}`, '-p', 'x']}), '-p'],
    ['a title rewritten into one string', proc({argv: ['claude -p hello', '', '']}), '-p'],
    ['the native installer', proc({argv: ['/home/a/.local/share/claude/versions/2.1.3', '--print']}), '--print'],
  ]
  it.each(positives)('headless: %s', (_label, p, flag) => expect(rules.headlessFlag(p)).toBe(flag))

  const negatives: Array<[string, ProcessInfo]> = [
    ['interactive claude', proc({argv: ['claude']})],
    ['claude --resume', proc({argv: ['claude', '--resume', 'abc']})],
    ['a prompt that mentions -p', proc({argv: ['claude', 'explain -p and --print']})],
    ['after --', proc({argv: ['claude', '--', '-p']})],
    ['--output-format text', proc({argv: ['claude', '--output-format', 'text']})],
    ["node's own --print before the script", proc({argv: ['node', '--print', '1']})],
    ['not a claude', proc({argv: ['grep', '-p', 'claude']})],
    ['no argv', proc({argv: [], comm: 'claude'})],
  ]
  it.each(negatives)('interactive or not claude: %s', (_label, p) => expect(rules.headlessFlag(p)).toBeUndefined())

  it('is configurable: a spelling added, or the list replaced; a malformed spelling is refused', () => {
    const cfg = structuredClone(DEFAULT_RULES) as RulesConfig
    cfg.claude.headless.push('--batch')
    expect(createRules(cfg).headlessFlag(proc({argv: ['claude', '--batch']}))).toBe('--batch')
    for (const bad of ['', 'p', '-p x', '--=x', '--x=']) {
      const broken = structuredClone(DEFAULT_RULES) as RulesConfig
      broken.claude.headless = [bad]
      expect(() => createRules(broken), JSON.stringify(bad)).toThrow(/^rules\.claude\.headless\[0\]: /)
    }
  })
})

describe('isAgentSession', () => {
  it.each(['gt-alpha', 'hq-mayor', 'gt-'])('yes: %s', (n) => expect(rules.isAgentSession(n)).toBe(true))
  it.each(['main', 'my-gt-session', 'GT-alpha', 'gtx-1', 'hqx'])('no: %s', (n) =>
    expect(rules.isAgentSession(n)).toBe(false),
  )
})

describe('configuration', () => {
  const withChange = (change: (cfg: RulesConfig) => void): RulesConfig => {
    const cfg = structuredClone(DEFAULT_RULES)
    change(cfg)
    return cfg
  }

  it('adding a name to claude.names makes it match (argv[0] and comm)', () => {
    const custom = createRules(withChange((cfg) => cfg.claude.names.push('my-agent')))
    expect(custom.isClaude(proc({argv: ['/opt/bin/my-agent', '--x']}))).toBe(true)
    expect(custom.isClaude(proc({argv: [], comm: 'my-agent'}))).toBe(true)
    expect(rules.isClaude(proc({argv: ['/opt/bin/my-agent', '--x']}))).toBe(false)
  })

  it('a long name is recognised by its 15-character comm', () => {
    const custom = createRules(withChange((cfg) => cfg.claude.names.push('my-very-long-agent-name')))
    expect(custom.isClaude(proc({argv: [], comm: 'my-very-long-ag'}))).toBe(true)
  })

  it('custom MCP rules: programs, packages, images, scripts, agent sessions, subreapers', () => {
    const custom = createRules(
      withChange((cfg) => {
        cfg.mcp.programs.push('^my-tool-server$')
        cfg.mcp.packages.push('^supergateway$')
        cfg.mcp.images.push('^registry\\.corp/ai/')
        cfg.mcp.scripts.push('^/opt/servers/')
        cfg.agentSessionPattern = '^agent/'
        cfg.subreapers.push('^/usr/bin/tini(?: |$)')
      }),
    )
    expect(custom.isMcpServer(proc({argv: ['/usr/bin/my-tool-server']}))).toBe(true)
    expect(custom.isMcpServer(proc({argv: cmd('npx -y supergateway --sse https://mcp.example.com/sse')}))).toBe(true)
    expect(rules.isMcpServer(proc({argv: cmd('npx -y supergateway --sse https://mcp.example.com/sse')}))).toBe(false)
    expect(custom.isMcpServer(proc({argv: cmd('docker run -i --rm registry.corp/ai/search:2')}))).toBe(true)
    expect(custom.isMcpServer(proc({argv: cmd('node /opt/servers/search/index.js')}))).toBe(true)
    expect(custom.isAgentSession('agent/1')).toBe(true)
    expect(custom.isAgentSession('gt-alpha')).toBe(false)
    expect(custom.isReaper(proc({pid: 50, argv: ['/usr/bin/tini', '--', 'x']}))).toBe(true)
  })

  it('an invalid regex throws naming the config path', () => {
    const cfg = withChange((c) => c.mcp.scripts.push('a', '(unclosed'))
    expect(() => createRules(cfg)).toThrow(/^rules\.mcp\.scripts\[3\]: Invalid regular expression/)
    expect(() => createRules(withChange((c) => (c.claude.nativeBinary = '[')))).toThrow(
      /^rules\.claude\.nativeBinary: Invalid regular expression/,
    )
    expect(() => createRules(withChange((c) => (c.agentSessionPattern = '(')))).toThrow(/^rules\.agentSessionPattern: /)
  })

  it('rejects patterns that match every process and malformed values', () => {
    expect(() => createRules(withChange((c) => c.mcp.programs.push('.*')))).toThrow(
      /^rules\.mcp\.programs\[3\]: .*empty string/,
    )
    expect(() => createRules(withChange((c) => c.subreapers.push('')))).toThrow(/^rules\.subreapers\[1\]: /)
    expect(() => createRules(withChange((c) => c.claude.names.push('')))).toThrow(/^rules\.claude\.names\[3\]: /)
    expect(() => createRules(withChange((c) => ((c.mcp as {images: unknown}).images = 'mcp/')))).toThrow(
      /^rules\.mcp\.images: /,
    )
    expect(() => createRules(withChange((c) => (c.mcp.packages as unknown[]).push(42)))).toThrow(
      /^rules\.mcp\.packages\[5\]: /,
    )
  })

  it('DEFAULT_RULES is frozen; createRules keeps a frozen copy of its config', () => {
    expect(() => (DEFAULT_RULES.claude.names as string[]).push('x')).toThrow(TypeError)
    const cfg = structuredClone(DEFAULT_RULES)
    const r = createRules(cfg)
    cfg.claude.names.push('later')
    expect(r.config.claude.names).not.toContain('later')
    expect(r.isClaude(proc({argv: ['later']}))).toBe(false)
  })

  it('methods work detached from the rules object', () => {
    const {isClaude, isMcpServer} = rules
    const ps = [proc({argv: ['claude']}), proc({argv: ['uvx', 'mcp-server-fetch']}), proc({argv: ['bash']})]
    expect(ps.filter(isClaude)).toHaveLength(1)
    expect(ps.filter(isMcpServer)).toHaveLength(1)
  })
})

describe('claudeOrMcp (both questions in one pass, as analysis/classify asks them)', () => {
  const samples = [
    'claude --dangerously-skip-permissions',
    `node /usr/lib/${CC}`,
    'npx -y @modelcontextprotocol/server-memory',
    'bun x --bun firecrawl-mcp',
    'bun x @anthropic-ai/claude-code',
    // a file named x run by bun, not its x subcommand
    'bun run x firecrawl-mcp',
    'bun run x',
    'vim claude-notes.md',
  ]
  it.each(samples)('agrees with isClaude and isMcpServer: %s', (line) => {
    const p = proc({argv: cmd(line)})
    expect(rules.claudeOrMcp(p)).toBe((rules.isClaude(p) ? CLAUDE : 0) | (rules.isMcpServer(p) ? MCP_SERVER : 0))
  })
  it('tells bun x (bunx) from a script named x', () => {
    expect(rules.claudeOrMcp(proc({argv: cmd('bun x --bun firecrawl-mcp')}))).toBe(MCP_SERVER)
    expect(rules.claudeOrMcp(proc({argv: cmd('bun run x firecrawl-mcp')}))).toBe(0)
    expect(rules.claudeOrMcp(proc({argv: cmd('claude -p hi')}))).toBe(CLAUDE)
  })
})

describe('throughput sanity (no timing assertions)', () => {
  it('runs every matcher over 50,000 processes', () => {
    const shapes = [
      ['/bin/bash'],
      ['-bash'],
      ['/usr/sbin/sshd', '-D'],
      ['claude', '', ''],
      [`${NVM}/bin/node`, `${NVM}/lib/${CC}`, '--dangerously-skip-permissions'],
      ['npm exec @modelcontextprotocol/server-filesystem /tmp', '', ''],
      ['node', '/home/a/.npm/_npx/1/node_modules/.bin/mcp-server-filesystem', '/tmp'],
      ['/usr/bin/python3', '-m', 'mcp_server_fetch'],
      ['docker', 'run', '-i', '--rm', '-e', 'X', 'ghcr.io/github/github-mcp-server'],
      ['node', '/srv/app/server.js', '--name', 'mcp-server-foo'],
      [],
      ['/usr/lib/firefox/firefox', '-contentproc', '-childID', '12'],
    ]
    const ps = Array.from({length: 50_000}, (_, i) =>
      proc({pid: i + 2, argv: shapes[i % shapes.length], comm: i % 12 === 10 ? 'kworker/0:1' : undefined}),
    )
    const t0 = performance.now()
    let claude = 0
    let mcp = 0
    let other = 0
    for (const p of ps) {
      if (rules.isClaude(p)) claude++
      if (rules.isMcpServer(p)) mcp++
      if (rules.isTmuxServer(p) || rules.isReaper(p) || rules.hasClaudeCodeEnv(p)) other++
    }
    const ms = performance.now() - t0
    const perShape = 50_000 / shapes.length
    expect(claude).toBeCloseTo(2 * perShape, -1)
    expect(mcp).toBeCloseTo(4 * perShape, -1)
    expect(other).toBe(0)
    console.log(`rules: 50,000 processes x 5 matchers in ${ms.toFixed(1)} ms`)
  })
})
