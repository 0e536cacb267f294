import {CLAUDE, MCP_SERVER, type Rules} from '../rules/types.js'
import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import {PairCache} from './memo.js'

/** What the rules match in one snapshot: pid sets to ask, and process lists (snapshot order) to walk. */
export interface Classified {
  /** Claude Code processes (`rules.isClaude`), gone ones included. */
  readonly claude: ReadonlySet<number>
  /** MCP servers and their launchers (`rules.isMcpServer`). */
  readonly mcp: ReadonlySet<number>
  /** Processes whose environment says Claude Code started them (`rules.hasClaudeCodeEnv`). */
  readonly claudeCodeEnv: ReadonlySet<number>
  /** The Claude Code processes, in snapshot order. */
  readonly claudes: readonly ProcessInfo[]
  /** Processes that are MCP servers or have CLAUDECODE=1 (or both), in snapshot order. */
  readonly mcpOrEnv: readonly ProcessInfo[]
}

const cache = new PairCache<Snapshot, Rules, Classified>()

/**
 * Every process of the snapshot matched against the rules once. The orphan analysis and the report's
 * counts ask the same questions about the same 50,000 processes; asking each once keeps detection linear
 * with a small constant. Memoised per snapshot and rules.
 */
export function classify(snapshot: Snapshot, rules: Rules): Classified {
  return cache.get(snapshot, rules, () => classifyOnce(snapshot, rules))
}

function classifyOnce(snapshot: Snapshot, rules: Rules): Classified {
  const claude = new Set<number>()
  const mcp = new Set<number>()
  const claudeCodeEnv = new Set<number>()
  const claudes: ProcessInfo[] = []
  const mcpOrEnv: ProcessInfo[] = []
  for (const p of snapshot.processes) {
    const matched = rules.claudeOrMcp(p)
    if (matched & CLAUDE) {
      claude.add(p.pid)
      claudes.push(p)
    }
    const isMcp = (matched & MCP_SERVER) !== 0
    const env = rules.hasClaudeCodeEnv(p)
    if (isMcp) mcp.add(p.pid)
    if (env) claudeCodeEnv.add(p.pid)
    if (isMcp || env) mcpOrEnv.push(p)
  }
  return {claude, mcp, claudeCodeEnv, claudes, mcpOrEnv}
}
