/**
 * One-off measurement (not a test, no assertions on time): how long `gt-doctor --fix --yes --grace G --json`
 * takes to end N orphan claude trees, every K-th ignoring SIGTERM, in a private PID namespace.
 *
 *   npm run build && node --import tsx test/live/measure-fix.ts [trees=100] [grace=2] [ignoreTermEvery=10] [mcp=2]
 *
 * Needs what the live tests need (root, unshare, tmux). Issue 9's benchmark formalises this.
 */
import path from 'node:path'
import {startNamespace} from './namespace.js'
import {manyOrphanTrees, readAudit, runDoctor} from './scenarios.js'

const [trees = 100, grace = 2, every = 10, mcp = 2] = process.argv.slice(2).map(Number)
const ns = await startNamespace()
try {
  const built = Date.now()
  const orphans = await manyOrphanTrees(ns, trees, {mcp, ignoreTermEvery: every})
  const pids = orphans.flatMap((t) => t.pids)
  process.stderr.write(`built ${trees} trees (${pids.length} processes) in ${Date.now() - built} ms\n`)
  const started = Date.now()
  const r = await runDoctor(ns, ['--fix', '--yes', '--grace', String(grace), '--json'], {timeoutMs: 120_000})
  const wallMs = Date.now() - started
  const report = JSON.parse(r.stdout)
  const audit = readAudit(path.join(ns.tmpdir, 'state'))
  const signals = audit.filter((e) => e.event === 'signal')
  const t = (e: {time: string}) => Date.parse(e.time)
  const alive = (await Promise.all(pids.map((pid) => ns.alive(pid)))).filter(Boolean).length
  console.log(
    JSON.stringify({
      trees,
      processes: pids.length,
      graceSeconds: grace,
      ignoreTermEvery: every,
      exitCode: r.code,
      wallMs,
      firstToLastAuditLineMs: t(audit.at(-1)!) - t(audit[0]),
      sigterm: signals.filter((e) => e.signal === 'SIGTERM').length,
      sigkill: signals.filter((e) => e.signal === 'SIGKILL').length,
      fixed: report.summary.fixed,
      freedMiB: Math.round(report.summary.freedMemoryBytes / 2 ** 20),
      stillAlive: alive,
      orphansAfter: report.summary.orphanClaude + report.summary.orphanMcp,
    }),
  )
} finally {
  await ns.close()
}
