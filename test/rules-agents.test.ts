import {describe, expect, it} from 'vitest'

import {configFromValue} from '../src/config/load.js'
import {createRules, DEFAULT_RULES} from '../src/rules/rules.js'
import type {RulesConfig} from '../src/rules/rules.js'
import type {ProcessInfo} from '../src/snapshot/types.js'

/**
 * The agent table and the MCP shapes of issue 13, as the processes really look (argv as /proc shows it;
 * the shapes come from the packages' launchers, see src/rules/agents.ts).
 */

let nextPid = 5000
function proc(argv: string[], env: ProcessInfo['env'] = {}, comm?: string): ProcessInfo {
  return {pid: nextPid++, ppid: 1, comm: comm ?? (argv[0] ?? '').split('/').pop()!.slice(0, 15), argv, env}
}
const cmd = (line: string): string[] => [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2])
const c = (line: string, comm?: string): [string, ProcessInfo] => [line, proc(cmd(line), {}, comm)]

const rules = createRules(DEFAULT_RULES)
const G = '/home/alice/.npm-global/lib/node_modules'
const CODEX_BIN = `${G}/@openai/codex/node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex`
const GEMINI = `${G}/@google/gemini-cli/bundle/gemini.js`
const CURSOR = '/home/alice/.local/share/cursor-agent/versions/2026.11.20-4f1c2e9'
const PIPX = '/home/alice/.local/pipx/venvs/aider-chat/bin/python'

describe('agents: which agent a process is', () => {
  const positives: Array<[string, ProcessInfo, string]> = [
    // Claude Code stays Claude Code (its own corpus is test/rules.test.ts)
    ['claude', proc(['claude']), 'claude'],
    // Codex: the launcher on Node < 22.15 (it spawns the binary), the vendored binary, a release asset, brew's
    [...c(`node ${G}/@openai/codex/bin/codex.js`), 'codex'],
    // what the live tier sees on Node 20: the shebang runs node on the .bin symlink's path, not codex.js
    [...c('node /home/alice/project/node_modules/.bin/codex exec --skip-git-repo-check hi'), 'codex'],
    [...c('node /usr/local/bin/gemini'), 'gemini'],
    [...c('node /usr/local/bin/copilot'), 'copilot'],
    [...c(`/usr/bin/node /home/alice/project/node_modules/@openai/codex/bin/codex.js exec 'fix it'`), 'codex'],
    [...c(`${CODEX_BIN} --full-auto`), 'codex'],
    [...c('/home/alice/bin/codex-x86_64-unknown-linux-musl'), 'codex'],
    [...c('/opt/homebrew/bin/codex resume --last'), 'codex'],
    ['codex, argv unreadable', proc([], {}, 'codex'), 'codex'],
    // Gemini CLI: the waiting parent and its relaunched child (--max-old-space-size)
    [...c(`node ${GEMINI}`), 'gemini'],
    [...c(`/usr/bin/node --max-old-space-size=4096 ${GEMINI} -p hi`), 'gemini'],
    [...c(`node /home/alice/.npm/_npx/1a2b/node_modules/@google/gemini-cli/bundle/gemini.js`), 'gemini'],
    [...c('/usr/local/bin/gemini'), 'gemini'],
    // opencode: the native binary copied over bin/opencode.exe, the curl installer's
    [...c(`${G}/opencode-ai/bin/opencode.exe`), 'opencode'],
    [...c('opencode run fix the tests'), 'opencode'],
    [...c('/home/alice/.opencode/bin/opencode /home/alice/project'), 'opencode'],
    // cursor-agent: its bundled node running the version's index.js, or the launcher's name
    [...c(`${CURSOR}/node --use-system-ca ${CURSOR}/index.js -p 'review'`), 'cursor-agent'],
    [...c('/home/alice/.local/bin/cursor-agent'), 'cursor-agent'],
    // Copilot CLI: npm-loader.js above the platform package's binary
    [...c(`node ${G}/@github/copilot/npm-loader.js`), 'copilot'],
    [...c(`${G}/@github/copilot/node_modules/@github/copilot-linux-x64/copilot -p hi`), 'copilot'],
    // aider: a console script under its venv's python, or -m aider
    [...c(`${PIPX} /home/alice/.local/bin/aider --model sonnet`, 'aider'), 'aider'],
    [...c('/home/alice/.venv/bin/python3 -m aider --message hi'), 'aider'],
    [...c('python3 -m aider.main'), 'aider'],
  ]
  it.each(positives)('%s', (_l, p, id) => {
    expect(rules.agentOf(p)).toBe(id)
    expect(rules.isClaude(p)).toBe(true)
  })

  const negatives: Array<[string, ProcessInfo]> = [
    c('agent'), // Datadog's agent, and many others: never matched by a bare name
    c('/opt/datadog-agent/bin/agent/agent run -p /opt/datadog-agent/run/agent.pid'),
    c(`node ${G}/@github/copilot-language-server/dist/language-server.js --stdio`),
    c('/usr/lib/copilot-language-server --stdio'),
    c('npx -y @openai/codex'), // a launcher fetching it: judged by what it then runs
    c('sh -c codex exec hi'),
    c('vim codex-notes.md'),
    c('grep -r gemini .'),
    c('node /home/alice/gemini/server.js'),
    c('node /home/alice/project/node_modules/@google/gemini-cli-core/dist/index.js'),
    c('python3 aider.py'),
    c('python3 /home/alice/src/aider/tests/run.py'),
    c('python3 -c import aider'),
    c('opencode-proxy --port 1'),
    c('less /home/alice/.local/share/cursor-agent/versions/2026.11.20/index.js'),
    c('node /home/alice/.local/share/cursor-agent/versions/2026.11.20/other.js'),
    c('tail -f /var/log/codex.log'),
    c('/usr/bin/codex-linux-sandbox --sandbox-policy x -- bash -c ls'),
  ]
  it.each(negatives)('not an agent: %s', (_l, p) => {
    expect(rules.agentOf(p)).toBeUndefined()
    expect(rules.isClaude(p)).toBe(false)
  })

  it('names every agent for a person', () => {
    expect(rules.agentName('claude')).toBe('Claude Code')
    expect(rules.agentName('codex')).toBe('OpenAI Codex CLI')
    expect(rules.agentName('nope')).toBe('nope')
  })
})

describe('agents: headless runs', () => {
  const positives: Array<[string, ProcessInfo, string]> = [
    [...c(`${CODEX_BIN} exec 'fix the build'`), 'exec'],
    [...c(`node ${G}/@openai/codex/bin/codex.js --model o5 exec 'x'`), 'exec'],
    [...c('codex e hi'), 'e'],
    [...c(`node --max-old-space-size=4096 ${GEMINI} -p 'summarise'`), '-p'],
    [...c('gemini --prompt=hi'), '--prompt'],
    [...c('opencode run fix the tests'), 'run'],
    [...c('opencode -m anthropic/x run go'), 'run'],
    [...c(`${CURSOR}/node --use-system-ca ${CURSOR}/index.js -p 'review'`), '-p'],
    [...c('copilot -p hi --allow-all-tools'), '-p'],
    [...c(`${PIPX} /home/alice/.local/bin/aider --message 'add tests'`, 'aider'), '--message'],
    [...c('python3 -m aider --message-file todo.md'), '--message-file'],
    [...c('aider --message=hi'), '--message'],
  ]
  it.each(positives)('%s', (_l, p, flag) => expect(rules.headlessFlag(p)).toBe(flag))

  const negatives: Array<[string, ProcessInfo]> = [
    c('codex'),
    c("codex 'explain exec in bash'"),
    c('codex -- exec'),
    c(`node ${GEMINI}`),
    c('gemini -i hi'),
    c('opencode /home/alice/project'),
    c('copilot --resume'),
    c(`${PIPX} /home/alice/.local/bin/aider --model sonnet`, 'aider'),
    c('node -p 1'), // node's own -p, not an agent's
    c('python3 -m aider_helper --message hi'),
  ]
  it.each(negatives)('interactive or no agent: %s', (_l, p) => expect(rules.headlessFlag(p)).toBeUndefined())

  it("leaves Claude Code's spellings exactly as they were: no subcommands, no --flag=value for bare flags", () => {
    expect(rules.headlessFlag(proc(['claude', 'exec']))).toBeUndefined()
    expect(rules.headlessFlag(proc(['claude', '--print=x']))).toBeUndefined()
  })
})

describe('agents: the environment markers their children carry', () => {
  const cases: Array<[string, ProcessInfo['env'], string | undefined]> = [
    ['CLAUDECODE=1', {CLAUDECODE: '1'}, 'claude'],
    ['codex via npm', {CODEX_MANAGED_BY_NPM: '1'}, 'codex'],
    ["codex's sandboxed shell", {CODEX_SANDBOX_NETWORK_DISABLED: '1'}, 'codex'],
    ["gemini's relaunched child's children", {GEMINI_CLI_NO_RELAUNCH: 'true'}, 'gemini'],
    ['opencode', {OPENCODE: '1'}, 'opencode'],
    ['GEMINI_CLI_NO_RELAUNCH set by hand to something else', {GEMINI_CLI_NO_RELAUNCH: '1'}, undefined],
    ['OPENCODE=0', {OPENCODE: '0'}, undefined],
    ['CLAUDECODE=0', {CLAUDECODE: '0'}, undefined],
    ['nothing', {}, undefined],
  ]
  it.each(cases)('%s', (_l, env, id) => {
    const p = proc(['node', 'dev-server.js'], env)
    expect(rules.agentEnvOf(p)).toBe(id)
    expect(rules.hasClaudeCodeEnv(p)).toBe(id !== undefined)
  })
})

describe('agents: configuration', () => {
  const broken = (edit: (cfg: RulesConfig) => void): RulesConfig => {
    const cfg = structuredClone(DEFAULT_RULES) as RulesConfig
    edit(cfg)
    return cfg
  }
  it('refuses a malformed table, naming the place', () => {
    expect(() => createRules(broken((c) => (c.agents[0].id = 'Codex X')))).toThrow(/^rules\.agents\[0\]\.id: /)
    expect(() => createRules(broken((c) => (c.agents[1].id = 'codex')))).toThrow(
      /^rules\.agents\[1\]\.id: "codex" is already/,
    )
    expect(() => createRules(broken((c) => (c.agents[0].id = 'claude')))).toThrow(/already an agent/)
    expect(() => createRules(broken((c) => (c.agents[0].scripts = ['.*'])))).toThrow(
      /^rules\.agents\[0\]\.scripts\[0\]: .*every process/,
    )
    expect(() => createRules(broken((c) => (c.agents[0].env = ['OPENAI_API_KEY'])))).toThrow(
      /^rules\.agents\[0\]\.env\[0\]: the snapshot does not keep OPENAI_API_KEY/,
    )
    expect(() => createRules(broken((c) => (c.agents[0].headlessCommands = ['--exec'])))).toThrow(
      /headlessCommands\[0\]/,
    )
    expect(() => createRules(broken((c) => (c.agents[0].names = ['bin/codex'])))).toThrow(/names\[0\]/)
  })
  it('a configuration file adds an agent, replaces a built-in row by id, or replaces the table', () => {
    const file = '/home/alice/gt-doctor.config.json'
    const added = createRules(
      configFromValue(
        {
          rules: {
            agents: [{id: 'goose', name: 'Goose', names: ['goose'], headlessCommands: ['run'], env: ['OPENCODE=1']}],
          },
        },
        file,
      ).rules,
    )
    expect(added.agentOf(proc(['goose', 'run', 'x']))).toBe('goose')
    expect(added.headlessFlag(proc(['goose', 'run', 'x']))).toBe('run')
    expect(added.agentOf(proc(['codex']))).toBe('codex')
    const narrowed = createRules(
      configFromValue({rules: {agents: [{id: 'codex', name: 'Codex', names: ['codex-cli']}]}}, file).rules,
    )
    expect(narrowed.agentOf(proc(['codex']))).toBeUndefined()
    expect(narrowed.agentOf(proc(['codex-cli']))).toBe('codex')
    const only = createRules(configFromValue({rules: {agents: {replace: []}}}, file).rules)
    expect(only.agentOf(proc(['gemini']))).toBeUndefined()
    expect(only.agentOf(proc(['claude']))).toBe('claude')
    const more = createRules(
      configFromValue({rules: {mcp: {commands: ['mytool serve-mcp'], pluginDirs: ['^/opt/plugins/']}}}, file).rules,
    )
    expect(more.isMcpServer(proc(cmd('mytool serve-mcp --stdio')))).toBe(true)
    expect(more.isMcpServer(proc(cmd('bun run --cwd /opt/plugins/x start')))).toBe(true)
    expect(more.isMcpServer(proc(cmd('uvx --from git+https://github.com/oraios/serena serena start-mcp-server')))).toBe(
      true,
    )
  })

  it('a bad agent or MCP entry in a file is one line naming it', () => {
    const file = '/home/alice/gt-doctor.config.json'
    expect(() =>
      configFromValue({rules: {agents: [{id: 'x', name: 'X', names: ['x'], env: ['AWS_SECRET_ACCESS_KEY']}]}}, file),
    ).toThrow(/^.*rules\.agents\[\d+\]\.env\[0\]: the snapshot does not keep AWS_SECRET_ACCESS_KEY/)
    expect(() => configFromValue({rules: {agents: [{id: 'Bad Id', name: 'X', names: ['x']}]}}, file)).toThrow(
      /rules\/agents|agents/,
    )
    expect(() => configFromValue({rules: {mcp: {commands: ['just-one-word']}}}, file)).toThrow(
      /rules\.mcp\.commands\[1\]/,
    )
    expect(() => configFromValue({rules: {mcp: {pluginDirs: ['.*']}}}, file)).toThrow(/rules\.mcp\.pluginDirs\[0\]/)
  })

  it('an empty table leaves Claude Code alone', () => {
    const only = createRules(broken((c) => (c.agents = [])))
    expect(only.agentOf(proc(['claude']))).toBe('claude')
    expect(only.agentOf(proc(['codex']))).toBeUndefined()
    expect(only.hasClaudeCodeEnv(proc(['x'], {OPENCODE: '1'}))).toBe(false)
  })
})

describe('MCP shapes the default rules used to miss (issue 13)', () => {
  const NPX = '/home/alice/.npm/_npx/7c1d'
  const PLUGIN = '/home/alice/.claude/plugins/cache/claude-plugins-official/telegram/0.0.6'
  const UV = '/home/alice/.cache/uv/archive-v0/Q1w2E3/bin'
  const positives: Array<[string, ProcessInfo]> = [
    // mcp-remote: npx, npm's retitled launcher, the .bin script and the package's script
    c('npx -y mcp-remote https://mcp.example.com/sse'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell variable is the argv text, as users write it
    c('npx mcp-remote@0.15.1 https://mcp.example.com/mcp --header Authorization:${TOKEN}'),
    ['npm exec title', proc(['npm exec mcp-remote https://mcp.example.com/sse', '', ''], {}, 'npm exec mcp-re')],
    c(`node ${NPX}/node_modules/.bin/mcp-remote https://mcp.example.com/sse`),
    c(`node ${NPX}/node_modules/mcp-remote/dist/proxy.js https://mcp.example.com/sse`),
    c('/home/alice/.local/bin/mcp-remote https://x'),
    // serena: uvx from git, and the console script its venv's python runs
    c('uvx --from git+https://github.com/oraios/serena serena start-mcp-server'),
    c(
      'uvx --from git+https://github.com/oraios/serena serena start-mcp-server --context ide-assistant --project /home/alice/p',
    ),
    c('uv tool run --from git+https://github.com/oraios/serena serena start-mcp-server'),
    c(`${UV}/python ${UV}/serena start-mcp-server --context ide-assistant`, 'serena'),
    c('/home/alice/.local/bin/serena start-mcp-server'),
    // a Claude Code plugin's server: bun runs the plugin's start script in its directory
    c(`bun run --cwd ${PLUGIN} --shell=bun --silent start`),
    c(`/home/alice/.bun/bin/bun run --cwd=${PLUGIN} start`),
    c('bun run --cwd /home/alice/.claude/plugins/marketplaces/acme/plugins/notes --silent start'),
    // docker: Docker Hub's mcp/ namespace
    c('docker run -i --rm mcp/fetch'),
    c('docker run -i --rm -e GITHUB_PERSONAL_ACCESS_TOKEN mcp/github'),
    c('docker run --interactive --rm --init --pull=always docker.io/mcp/playwright:latest'),
    c('podman run -i --rm mcp/time'),
  ]
  it.each(positives)('%s', (_l, p) => expect(rules.isMcpServer(p)).toBe(true))

  const negatives: Array<[string, ProcessInfo]> = [
    // mcp-remote look-alikes
    c('npx mcp-remote-client https://mcp.example.com/sse'),
    c('npm install mcp-remote'),
    c('grep mcp-remote /home/alice/.claude.json'),
    c('curl https://registry.npmjs.org/mcp-remote'),
    c('node server.js --proxy mcp-remote'),
    // serena look-alikes: another subcommand, the subcommand elsewhere, another program
    c('uvx --from git+https://github.com/oraios/serena serena project index'),
    c('uvx --from git+https://github.com/oraios/serena serena-dashboard'),
    c(`${UV}/python ${UV}/serena config edit`, 'serena'),
    c('echo serena start-mcp-server'),
    c('python3 notes.py serena start-mcp-server'),
    c('uvx ruff check start-mcp-server'),
    // bun look-alikes: another script, a directory outside the plugins, no --cwd
    c(`bun run --cwd ${PLUGIN} test`),
    c('bun run --cwd /home/alice/project start'),
    c('bun run start'),
    c('bun run --cwd /home/alice/notes/.claude/plugins-backup/x start'),
    c(`bun install --cwd ${PLUGIN}`),
    // docker look-alikes: other images, mcp/ in a free argument, other subcommands
    c('docker run --rm -it ubuntu bash'),
    c('docker run --rm -e IMAGE=mcp/fetch alpine env'),
    c('docker pull mcp/fetch'),
    c('docker logs -f mcp-fetch'),
    c('docker run --rm ghcr.io/acme/mcpserver'),
  ]
  it.each(negatives)('not an MCP server: %s', (_l, p) => expect(rules.isMcpServer(p)).toBe(false))
})
