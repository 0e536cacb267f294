/**
 * What the orphan analysis concludes, as data: the verdict on each claude, the trees a fix would end, the
 * detached runs and the trees it will not end. Shapes only, so that the analysis files can share them
 * without importing one another.
 */
import type {ProcessInfo} from '../snapshot/types.js'
import type {ClaudeTie} from './ties.js'

/**
 * How a headless claude was detached: `own-session` (setsid), `disowned` (adopted by init or a subreaper
 * after the shell that started it went away), `shell-loop` / `shell` (run by a non-interactive shell that
 * itself hangs from a reaper: `setsid bash -c 'for …; do claude -p …; done'`), `session-killed` (its tmux
 * session was killed under it and it kept running).
 */
export type DetachedBy = 'own-session' | 'disowned' | 'shell-loop' | 'shell' | 'session-killed'

/** A headless claude that nothing holds, and the job it belongs to. */
export interface Detachment {
  /** How it was detached. */
  by: DetachedBy
  /** The top of the job: the outermost detached shell for a loop (ending one step only starts the next), else the claude. */
  root: ProcessInfo
  /** What the job hangs from: init, a subreaper or a tmux server (undefined when not in the snapshot). */
  holder?: ProcessInfo
  /** One sentence: how it is detached, for the report. */
  how: string
}

/** Why a Claude process is judged an orphan. */
export type OrphanEvidence =
  | 'parent-is-init'
  | 'parent-is-subreaper'
  | 'parent-is-tmux-server'
  | 'parent-is-multiplexer'
  | 'pane-gone'

/** The judgement of one Claude process. */
export interface ClaudeVerdict {
  /** The Claude process judged. */
  proc: ProcessInfo
  /**
   * `cannot-verify`: the tmux server that would own it did not answer (or what it is could not be read), so
   * the doctor will not call it an orphan. `supervised`: it looks orphaned, but a supervisor (a systemd unit,
   * PM2, ...) runs it. `detached`: a headless run nothing holds, detached on purpose (a job, never an orphan).
   */
  kind: 'orphan' | 'cannot-verify' | 'supervised' | 'healthy' | 'detached'
  /** For an orphan: which fact proves it. */
  evidence?: OrphanEvidence
  /** One sentence of evidence for the report. */
  why: string
  /** The tmux server and pane this claude last belonged to, from its own TMUX variables. */
  lastSocket?: string
  /** The pane id (`%7`) from its TMUX_PANE variable. */
  lastPane?: string
  /** For a detached run: how it is detached and the top of its job. */
  detached?: Detachment
  /** For `supervised`: who supervises it (`claude-agent.service`, `PM2 (pid 42)`). */
  supervisor?: string
}

/** One orphaned process tree, as a fix would end it. */
export interface OrphanTree {
  /** The orphan: an orphaned Claude process, or the top of an orphaned MCP launcher chain. */
  root: ProcessInfo
  /** Root first, every member once; never a tmux server, a live pane, a reaper or the doctor's chain. */
  members: ProcessInfo[]
  /** The MCP server processes in the tree, each server counted once (a launcher and its server are one). */
  mcpServers: ProcessInfo[]
  /** One sentence of evidence for the report. */
  why: string
  /** Matched only through CLAUDECODE=1, not as an MCP server by program/script: a leftover (see `leftovers`). */
  envOnly: boolean
}

/** A tree Claude Code started (CLAUDECODE=1) that outlived its claude: no MCP server in it, no claude above it. */
export interface LeftoverTree extends OrphanTree {
  /** The agent whose environment marker the tree carries (`claude` for CLAUDECODE=1, `codex`, …). */
  agent: string
  /** What CLAUDE_PID says: the claude that started it is gone, its pid now runs something else, or no CLAUDE_PID. */
  tie: Extract<ClaudeTie, {kind: 'claude-gone' | 'pid-reused' | 'none'}>
}

/** A detached headless run (`claude -p … & disown`, `setsid -f claude -p`, a setsid'd loop) and its whole job. */
export interface DetachedRun {
  /** The top of the job: the detached shell of a loop, else the claude. */
  root: ProcessInfo
  /** Root first, every member once, pruned as `killableSubtree` prunes. */
  members: ProcessInfo[]
  /** The MCP servers in the job, each launcher chain once. */
  mcpServers: ProcessInfo[]
  /** The headless claudes of the job, oldest first (a loop may run steps side by side). */
  claudes: ProcessInfo[]
  /** The `claude.headless` spelling of the oldest claude (`-p`, `--output-format=stream-json`). */
  headless: string
  /** How it is detached. */
  detachment: Detachment
  /** One sentence of evidence for the report. */
  why: string
}

/**
 * An MCP tree or leftover that looks orphaned but that the doctor will not end: reported as info, never
 * fixed (`envOnly` tells which check reports it: agent-leftover, else orphan-mcp).
 */
export interface UnprovenTree extends OrphanTree {
  /** `cannot-verify`: a tmux server that would own it did not answer; `supervised`: a supervisor runs it. */
  kind: 'cannot-verify' | 'supervised'
  /** For `supervised`: who supervises it. */
  supervisor?: string
  /** For a leftover (`envOnly`): the agent whose environment marker it carries. */
  agent?: string
}

/** The orphan picture of one snapshot, as `analyzeOrphans` returns it. */
export interface OrphanAnalysis {
  /** A verdict for every live Claude process. */
  claudes: ClaudeVerdict[]
  /** The orphans among `claudes`, without those inside another orphan's tree. */
  orphanClaudes: ClaudeVerdict[]
  /** Orphan claudes with their whole trees. */
  claudeTrees: Map<number, OrphanTree>
  /** MCP trees with no live Claude ancestor, not already inside an orphan claude's tree, no process of them tied to a live claude. */
  mcpTrees: OrphanTree[]
  /** Trees Claude Code started (CLAUDECODE=1, no MCP server) that outlived their claude. */
  leftovers: LeftoverTree[]
  /** MCP trees and leftovers that would be orphans but for an owner the doctor could not ask, or a supervisor. */
  unprovenTrees: UnprovenTree[]
  /** Detached headless runs, each job once (not orphans: not in `orphanClaudes`, `claudeTrees` or the orphan memory). */
  detachedRuns: DetachedRun[]
}
