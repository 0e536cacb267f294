import {analyzeOrphans, defineCheck, formatElapsed, plural, treeFinding} from '../src/index.js'

interface Options {
  /**
   * A run at least this many seconds old counts as stuck: its finding becomes an error and --fix ends the
   * whole job. null (the default): detached runs are reported, never ended.
   */
  stuckAfterSeconds: number | null
}

/**
 * Headless Claude runs that nothing holds: `claude -p … & disown`, `setsid -f claude -p …`, a setsid'd shell
 * loop of `claude -p` steps. Jobs detached on purpose, not orphans: reported so that a person knows they
 * run, ended only past the configured age.
 */
export default defineCheck<Options>({
  id: 'detached-run',
  title: 'Detached headless agent runs',
  description:
    "A headless Claude process (-p/--print, or the SDK's stream-json), or another agent's headless run (codex exec, gemini -p, opencode run, ...), that no terminal and no live tmux pane holds: a job detached on purpose (& disown, setsid, a detached shell loop), with its MCP servers. Info: never ended unless options.stuckAfterSeconds is set and the run is at least that old.",
  severity: 'info',
  kind: 'detached-run',
  fixable: true,
  fixOptIn: 'stuckAfterSeconds',
  requires: ['linux-proc'],
  defaultOptions: {stuckAfterSeconds: null},
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {stuckAfterSeconds: {type: ['number', 'null'], minimum: 1}},
  },
  detect({tree, rules, snapshot, options}) {
    const now = Date.parse(snapshot.collectedAt)
    return analyzeOrphans(tree, rules).detachedRuns.map((run) => {
      const claude = run.claudes[0]
      const agent = rules.agentOf(claude) ?? 'claude'
      const ageMs = claude.startTimeMs === undefined ? undefined : now - claude.startTimeMs
      const limitMs = options.stuckAfterSeconds === null ? undefined : options.stuckAfterSeconds * 1000
      // A run whose age is unknown cannot be proved stuck.
      const stuck = limitMs !== undefined && ageMs !== undefined && ageMs >= limitMs
      const age =
        ageMs === undefined ? '' : `, ${formatElapsed(ageMs)} old${stuck ? ` (limit ${formatElapsed(limitMs)})` : ''}`
      const steps = run.claudes.length > 1 ? `, ${run.claudes.length} claudes` : ''
      const tail = `${run.detachment.how}${steps}, ${plural(run.mcpServers.length, 'MCP server')} (${plural(run.members.length, 'process', 'processes')})`
      return treeFinding(tree, {
        root: run.root,
        members: run.members,
        severity: stuck ? 'error' : undefined,
        message: stuck
          ? `Stuck detached run: ${agent} ${run.headless}${age}, ${tail}`
          : `Detached ${agent} ${run.headless}${age}, ${tail}`,
        reason: stuck ? `${run.why}; older than stuckAfterSeconds (${options.stuckAfterSeconds})` : run.why,
        session: tree.sessionFromTmuxEnv(claude.env.TMUX),
        endTree: stuck,
        data: {
          agent,
          detachedBy: run.detachment.by,
          headless: run.headless,
          claudePid: claude.pid,
          ...(run.claudes.length > 1 ? {claudePids: run.claudes.map((c) => c.pid)} : {}),
          parentPid: run.root.ppid,
          startTimeMs: run.root.startTimeMs,
          mcpServers: run.mcpServers.length,
          ...(claude.env.TMUX_PANE ? {lastPane: claude.env.TMUX_PANE} : {}),
          ...(stuck ? {stuckAfterSeconds: options.stuckAfterSeconds} : {}),
        },
      })
    })
  },
})
