import type {AgentConfig} from './types.js'

/**
 * The agent CLIs besides Claude Code, as their packages ship them (read from the npm tarballs on 2026-12-02:
 * @openai/codex 0.171.0, @google/gemini-cli 0.61.0, opencode-ai 1.18.33, @github/copilot 1.0.102; aider and
 * cursor-agent from their install layouts). Each shape is in the rules corpus (test/rules-agents.test.ts).
 *
 * A bare `agent` (Gas Town's name for cursor-agent's newer binary) is not here: Datadog's and others'
 * daemons are called `agent` too, and whatever these rules accept may be ended by `--fix`.
 */
export const DEFAULT_AGENTS: AgentConfig[] = [
  {
    // bin/codex.js finds the native binary in @openai/codex-linux-x64 (vendor/<triple>/bin/codex) and, on
    // Node >= 22.15, execve()s it (one process, argv[0] the binary's path); on older Node it spawns it as a
    // child, so `node …/bin/codex.js` sits above the native `codex`. The launcher sets CODEX_MANAGED_BY_NPM=1
    // (BUN, PNPM) for the binary, and the shell tool's sandbox CODEX_SANDBOX_NETWORK_DISABLED=1.
    id: 'codex',
    name: 'OpenAI Codex CLI',
    names: ['codex'],
    scripts: ['(?:^|/)@openai/codex/bin/codex\\.js$'],
    // The GitHub release assets, run under their download names.
    binaries: ['(?:^|/)codex-(?:x86_64|aarch64)-unknown-linux-(?:musl|gnu)$'],
    headless: [],
    headlessCommands: ['exec', 'e'],
    env: ['CODEX_MANAGED_BY_NPM', 'CODEX_MANAGED_BY_BUN', 'CODEX_MANAGED_BY_PNPM', 'CODEX_SANDBOX_NETWORK_DISABLED'],
  },
  {
    // bundle/gemini.js relaunches itself once: `node …/gemini.js` (which ignores SIGINT/TERM/HUP and waits)
    // above `node --max-old-space-size=N …/gemini.js` with GEMINI_CLI_NO_RELAUNCH=true, which its tools and
    // MCP servers inherit.
    id: 'gemini',
    name: 'Gemini CLI',
    names: ['gemini'],
    scripts: ['(?:^|/)@google/gemini-cli/'],
    binaries: [],
    headless: ['-p', '--prompt'],
    headlessCommands: [],
    env: ['GEMINI_CLI_NO_RELAUNCH=true'],
  },
  {
    // postinstall.mjs copies the platform package's native binary over bin/opencode.exe (the npm bin); the
    // curl installer puts it at ~/.opencode/bin/opencode. It sets OPENCODE=1 and OPENCODE_PID for what it starts.
    id: 'opencode',
    name: 'opencode',
    names: ['opencode', 'opencode.exe'],
    scripts: [],
    binaries: [],
    headless: [],
    headlessCommands: ['run'],
    env: ['OPENCODE=1'],
  },
  {
    // The curl installer's layout: ~/.local/share/cursor-agent/versions/<version>/ holds a bundled node
    // and index.js; ~/.local/bin/cursor-agent links to the version's launcher script.
    id: 'cursor-agent',
    name: "Cursor's cursor-agent",
    names: ['cursor-agent'],
    scripts: ['(?:^|/)cursor-agent/versions/[^/]+/index\\.js$'],
    binaries: [],
    headless: ['-p', '--print'],
    headlessCommands: [],
    env: [],
  },
  {
    // npm-loader.js spawnSync()s the native binary of @github/copilot-<platform>-<arch>, so `node
    // …/@github/copilot/npm-loader.js` sits above it. Not @github/copilot-language-server (editors' LSP).
    id: 'copilot',
    name: 'GitHub Copilot CLI',
    names: ['copilot'],
    scripts: ['(?:^|/)@github/copilot/npm-loader\\.js$'],
    binaries: [],
    headless: ['-p', '--prompt'],
    headlessCommands: [],
    env: [],
  },
  {
    // pip/pipx/uv tool: a console script `…/bin/aider` whose shebang names the venv's python, so the kernel
    // shows `python3 …/bin/aider …`; or `python -m aider`.
    id: 'aider',
    name: 'aider',
    names: ['aider'],
    scripts: [],
    binaries: [],
    headless: ['--message', '-m', '--message-file', '-f'],
    headlessCommands: [],
    env: [],
  },
]
