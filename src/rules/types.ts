import type {ProcessInfo} from '../snapshot/types.js'

/**
 * The matching rules, as data (configurable from gt-doctor.config.*). Patterns are JavaScript regular
 * expression sources, matched as documented per field.
 */
export interface RulesConfig {
  /** What is a Claude Code process. */
  claude: {
    /** Exact basenames of comm or argv[0] that are Claude Code: claude, claude.exe, claude-code. */
    names: string[]
    /** Regex sources tested against the script path a node/bun/deno runtime runs (argv[1]). */
    scripts: string[]
    /** Regex source tested against argv[0] for the native installer's version-named binary. */
    nativeBinary: string
    /**
     * The flags that make a Claude process headless (a job, not a session): `-p`, `--print`, and the SDK's
     * `--output-format=stream-json`. `--name=value` also matches `--name value`.
     */
    headless: string[]
  }
  /**
   * The other agents, as data: each one's programs, its headless spellings and the environment markers its
   * children carry. Claude Code is `claude` above (its section predates the table and keeps its name); the
   * table's first row, in every report, is Claude Code under the id `claude`.
   */
  agents: AgentConfig[]
  /** What is an MCP server (or its launcher). */
  mcp: {
    /** Regex sources tested against the basename of the program (argv[0] / comm). */
    programs: string[]
    /** Regex sources tested against the script an interpreter runs (node script path, python -m module). */
    scripts: string[]
    /** Regex sources tested against the package a launcher (npx, npm exec, uvx, uv tool run, pnpm dlx, bunx) starts. */
    packages: string[]
    /** Regex sources tested against the image of `docker run` / `podman run`. */
    images: string[]
    /**
     * A program (basename) and the subcommand right after it that runs an MCP server: `serena
     * start-mcp-server` (uvx's, or the console script's python, `…/bin/serena start-mcp-server`).
     */
    commands: string[]
    /**
     * Regex sources tested against the `--cwd` of `bun run --cwd DIR start` (a plugin's MCP server, started
     * by its package.json `start` script): Claude Code's plugin directories.
     */
    pluginDirs: string[]
    /** A process whose environ has CLAUDECODE=1 counts as spawned by Claude Code. */
    claudeCodeEnv: boolean
  }
  /** Regex source for agent session names (default Gas Town naming). */
  agentSessionPattern: string
  /** comm/argv patterns of child subreapers (systemd --user, ...), where orphans land instead of PID 1. */
  subreapers: string[]
  /**
   * comm/argv patterns of process supervisors (PM2, supervisord, runit's runsv, s6-supervise, daemontools'
   * supervise): what they run is a service someone configured, reported at most, never ended.
   */
  supervisors: string[]
}

/** One agent CLI in the rules' table (`rules.agents`). */
export interface AgentConfig {
  /** Short id used in reports and counts (`codex`): lower-case letters, digits and dashes. */
  id: string
  /** What a person calls it (`OpenAI Codex CLI`). */
  name: string
  /** Exact basenames of argv[0], or of the script a JS runtime or Python runs (`codex`, `aider`). */
  names: string[]
  /** Regex sources tested against the script a JS runtime (node, bun, deno) or Python runs. */
  scripts: string[]
  /** Regex sources tested against argv[0] itself: native installs by path (`cursor-agent/versions/…`). */
  binaries: string[]
  /** Flags that make a run headless (`-p`, `--prompt`, `--message=…` spelled as for `claude.headless`). */
  headless: string[]
  /** Subcommands that make a run headless (`exec`, `run`): any argument equal to one counts (the safe side). */
  headlessCommands: string[]
  /**
   * Environment markers its children carry: `NAME=value` (exact) or `NAME` (any value). Only variables the
   * snapshot keeps (KEPT_ENV_KEYS) can be asked about.
   */
  env: string[]
}

/** The compiled matching rules every check shares (`ctx.rules`). */
export interface Rules {
  /** The configuration these rules were compiled from (frozen). */
  readonly config: RulesConfig
  /**
   * An agent process (Claude Code or any agent in `agents`): matched on its program (name, script, native
   * binary), never on free arguments. The name predates the agent table and is kept for API compatibility.
   */
  isClaude(p: ProcessInfo): boolean
  /** An MCP server process (or its launcher wrapper), matched on program and script, never on free arguments. */
  isMcpServer(p: ProcessInfo): boolean
  /**
   * The `claude.headless` spelling a Claude process was started with (`-p`, `--output-format=stream-json`), or
   * undefined when it runs interactively or is not a Claude process.
   */
  headlessFlag(p: ProcessInfo): string | undefined
  /**
   * Spawned by an agent according to its environment: CLAUDECODE=1 (Claude Code, when `mcp.claudeCodeEnv`),
   * or one of the markers in `agents[].env`.
   */
  hasClaudeCodeEnv(p: ProcessInfo): boolean
  /**
   * Which agent a process is, by the table (`claude` for Claude Code, else an `agents[].id`), or undefined.
   * `isClaude` is true exactly when this is defined: every agent is judged as a claude is.
   */
  agentOf(p: ProcessInfo): string | undefined
  /** Which agent's environment marker a process carries (`claude` for CLAUDECODE=1), or undefined. */
  agentEnvOf(p: ProcessInfo): string | undefined
  /** The agent's name for a person (`Claude Code`, `OpenAI Codex CLI`); the id itself when unknown. */
  agentName(id: string): string
  /** A tmux server process (`tmux: server`). */
  isTmuxServer(p: ProcessInfo): boolean
  /** A process that adopts orphans: PID 1 or a child subreaper such as `systemd --user`. */
  isReaper(p: ProcessInfo | undefined): boolean
  /** A process supervisor (`supervisors`): its children are services, not orphans. */
  isSupervisor(p: ProcessInfo | undefined): boolean
  /** A tmux session name that `agentSessionPattern` says is an agent's. */
  isAgentSession(name: string): boolean
  /**
   * `isClaude` and `isMcpServer` of one process at once (bits CLAUDE and MCP_SERVER), its argv parsed once:
   * the one pass over every process of a snapshot (`analysis/classify`) asks both.
   */
  claudeOrMcp(p: ProcessInfo): number
}

/** `Rules.claudeOrMcp` bit: a Claude Code process. */
export const CLAUDE = 1
/** `Rules.claudeOrMcp` bit: an MCP server or its launcher. */
export const MCP_SERVER = 2
