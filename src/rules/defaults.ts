import {deepFreeze} from '../freeze.js'
import {DEFAULT_AGENTS} from './agents.js'
import type {RulesConfig} from './types.js'

/** The default matching rules (deeply frozen: `structuredClone` it to derive a configuration). */
export const DEFAULT_RULES: RulesConfig = deepFreeze({
  claude: {
    names: ['claude', 'claude.exe', 'claude-code'],
    scripts: ['(?:^|/)@anthropic-ai/claude-code/'],
    nativeBinary: '(?:^|/)claude/versions/\\d+\\.\\d+\\.\\d+(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$',
    headless: ['-p', '--print', '--output-format=stream-json', '--input-format=stream-json'],
  },
  agents: DEFAULT_AGENTS,
  mcp: {
    programs: ['^mcp-server-[\\w.-]+$', '^(?!create-)[\\w.-]+-mcp(?:-server)?$', '^mcp-remote$'],
    scripts: ['(?:^|/)@modelcontextprotocol/server-[^/]+/', '^mcp_server_\\w+(?:\\.\\w+)*$'],
    packages: [
      '^@modelcontextprotocol/server-[\\w.-]+$',
      '^mcp-server-[\\w.-]+$',
      '^(?:@[\\w.-]+/)?(?!create-)[\\w.-]+-mcp(?:-server)?$',
      '^@[\\w.-]+/mcp(?:-[\\w.-]+)?$',
      // The stdio proxy to a remote (HTTP/SSE) server: `npx -y mcp-remote https://…` (bin dist/proxy.js).
      '^mcp-remote$',
    ],
    images: [
      '^(?:(?:docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/)?mcp/[a-z0-9][a-z0-9._-]*$',
      '^(?:[^/]+/)*(?:mcp-server-[a-z0-9._-]+|[a-z0-9._-]+-mcp(?:-[a-z0-9._-]+)?)$',
    ],
    commands: ['serena start-mcp-server'],
    // ~/.claude/plugins/cache/<marketplace>/<plugin>/<version>, ~/.claude/plugins/marketplaces/<m>/…
    pluginDirs: ['(?:^|/)\\.claude/plugins/(?:cache|marketplaces)/[^/]+/[^/]+'],
    claudeCodeEnv: true,
  },
  agentSessionPattern: '^(gt|hq)-',
  subreapers: ['^(?:[^ ]*/)?systemd(?: [^ ]+)* --user(?: |$)'],
  supervisors: [
    // PM2's daemon titles itself `PM2 v5.3.0: God Daemon (/home/u/.pm2)`.
    '^PM2 v\\d+(?:\\.\\d+)*: God Daemon',
    // supervisord, directly or through its Python (comm is the script's name either way).
    '^(?:[^ ]*/)?(?:python[\\d.]* (?:-[^ ]+ )*(?:[^ ]*/)?)?supervisord(?: |$)',
    '^(?:[^ ]*/)?runsv(?: |$)',
    '^(?:[^ ]*/)?s6-supervise(?: |$)',
    '^(?:[^ ]*/)?supervise(?: |$)',
  ],
})
