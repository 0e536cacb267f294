import {analyzeOrphans, defineCheck, formatBytes, type OrphanTree} from '../src/index.js'

interface Options {
  /** Error at or above this many bytes held by orphans; null: the smaller of `limitPercentOfRam` and `limitCapBytes`. */
  limitBytes: number | null
  limitPercentOfRam: number
  limitCapBytes: number
  /** How many of the largest orphan trees the finding names. */
  top: number
}

const GiB = 1024 ** 3

/** What the orphans cost: memory held by every orphan tree, each process counted once. */
export default defineCheck<Options>({
  id: 'orphan-memory',
  title: 'Memory held by orphans',
  description:
    'Sums the memory of every orphan Claude tree, orphan MCP tree and agent leftover (PSS from smaps_rollup where readable, RSS otherwise); detached runs are jobs, not counted. Warning above zero, error at or above the limit (default: 1 GiB or 5% of RAM, whichever is smaller). Fixed by fixing orphan-claude, orphan-mcp and agent-leftover.',
  requires: ['linux-proc'],
  defaultOptions: {limitBytes: null, limitPercentOfRam: 5, limitCapBytes: GiB, top: 5},
  detect({tree, rules, options, snapshot}) {
    const {claudeTrees, mcpTrees, leftovers} = analyzeOrphans(tree, rules)
    const trees: OrphanTree[] = [...claudeTrees.values(), ...mcpTrees, ...leftovers]
    if (trees.length === 0) return []
    const sized = trees
      .map((t) => ({t, mem: tree.memoryOf(t.members.map((m) => m.pid))}))
      .sort((a, b) => b.mem.bytes - a.mem.bytes)
    const all = tree.memoryOf(trees.flatMap((t) => t.members.map((m) => m.pid)))
    if (all.bytes === 0) return []
    const limit =
      options.limitBytes ??
      Math.min(options.limitCapBytes, (snapshot.host.totalMemoryBytes * options.limitPercentOfRam) / 100)
    const top = sized.slice(0, options.top)
    return [
      {
        key: 'total',
        severity: all.bytes >= limit ? 'error' : 'warning',
        message: `${formatBytes(all.bytes)} held by ${trees.length} orphan tree${trees.length === 1 ? '' : 's'} (limit ${formatBytes(limit)}); largest: ${top.map(({t, mem}) => `${t.root.pid} (${formatBytes(mem.bytes)})`).join(', ')}`,
        reason: `${all.source === 'pss' ? 'PSS from smaps_rollup' : all.source === 'rss' ? 'RSS (PSS unreadable)' : 'PSS where readable, RSS otherwise'}, each process counted once`,
        pids: sized.flatMap(({t}) => t.members.map((m) => m.pid)),
        memory: true,
        data: {
          limitBytes: Math.round(limit),
          top: top.map(({t, mem}) => ({pid: t.root.pid, memoryBytes: mem.bytes, processes: t.members.length})),
        },
      },
    ]
  },
})
