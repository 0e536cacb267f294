/**
 * The doctor against the real Claude Code 2.1.328 and the real MCP servers filesystem, memory (behind
 * `npx --no-install`) and everything (behind `sh -c 'cd … && node …'`), installed from the npm registry and
 * run in tmux sessions on two servers inside a private PID and network namespace.
 *
 * The scene: a healthy interactive claude on each server; three headless runs detached the ways people do it
 * (`& disown`, `setsid -f`, a setsid'd `bash -c` loop) from a shell whose session is then killed; a claude
 * that dies of SIGKILL after its Bash tool started a background command; a claude whose session is killed.
 * Every assertion is an exact set of pids, checked against the namespace's /proc.
 */
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {
  describeLive,
  liveUnavailableReason,
  networkUnavailableReason,
  startNamespace,
  type LiveNamespace,
  type NsProcess,
} from './namespace.js'
import {CLAUDE_VERSION, realProgramsOrReason, type RealPrograms} from './real-programs.js'
import {
  assertSettled,
  crashLeftover,
  detachedRuns,
  prepareHome,
  readyClaude,
  realNamespaceOptions,
  startInteractive,
  startModel,
  type ClaudeTree,
  type DetachedRuns,
  type Leftover,
} from './real-scene.js'
import {readAudit, runDoctor, serverPid, tmuxOk} from './scenarios.js'

// Installing takes ~40 s the first time (373 MB of native binary), then the cache answers at once.
const real: RealPrograms | string | undefined =
  liveUnavailableReason() === undefined ? await realProgramsOrReason() : undefined
const unavailable = networkUnavailableReason() ?? (typeof real === 'string' ? real : undefined)

const sorted = (pids: Iterable<number>) => [...pids].sort((a, b) => a - b)

describeLive(
  `the real Claude Code ${CLAUDE_VERSION} and real MCP servers (live)`,
  () => {
    let ns: LiveNamespace
    let state: string
    let healthy: {alive: ClaudeTree; hq: ClaudeTree}
    let detached: DetachedRuns
    let leftover: Leftover
    let doomed: {tree: ClaudeTree; left: number[]}
    let servers: number[]
    let before: NsProcess[]
    let report: Report
    let code: number | null
    let stderr: string
    let markdown: string
    let metrics: string

    beforeAll(async () => {
      const programs = real as RealPrograms
      ns = await startNamespace(realNamespaceOptions(programs))
      state = path.join(ns.tmpdir, 'state')
      prepareHome(ns, programs)
      const model = await startModel(ns)

      // Interactive claudes on two tmux servers, then the headless runs and the crash: two waves, since
      // start-up is CPU-bound and an MCP server that starts too slowly is dropped by its claude.
      const panes = {
        alive: await startInteractive(ns, 'a', 'gt-alive'),
        crash: await startInteractive(ns, 'a', 'gt-crash'),
        doomed: await startInteractive(ns, 'a', 'gt-doomed'),
        hq: await startInteractive(ns, 'b', 'hq-alive'),
      }
      const [alive, crashing, doomedTree, hq] = await Promise.all([
        readyClaude(ns, panes.alive),
        readyClaude(ns, panes.crash),
        readyClaude(ns, panes.doomed),
        readyClaude(ns, panes.hq),
      ])
      healthy = {alive, hq}
      ;[detached, leftover] = await Promise.all([
        detachedRuns(ns, model, 'b', 'work'),
        crashLeftover(ns, model, crashing, 'a', 'gt-crash'),
      ])

      // A session killed the way Gas Town kills one: the real claude of today exits, and its servers with it.
      await tmuxOk(ns, ['kill-session', '-t', 'gt-doomed'], 'a')
      const stillThere = async () => {
        const ps = await ns.ps()
        return doomedTree.pids.filter((pid) => ps.some((p) => p.pid === pid && p.state !== 'Z'))
      }
      await ns
        .waitUntil(async () => (await stillThere()).length === 0, 15_000, 100, "the killed session's claude gone")
        .catch(() => {})
      doomed = {tree: doomedTree, left: await stillThere()}

      servers = [await serverPid(ns, 'a'), await serverPid(ns, 'b')]
      await assertSettled(ns, {
        'healthy gt-alive': alive.pids,
        'healthy hq-alive': hq.pids,
        'detached & disown': detached.disowned.pids,
        'detached setsid': detached.setsid.pids,
        'detached loop': [detached.loop.shell, ...detached.loop.pids],
        leftover: [leftover.wrapper, leftover.command],
      })
      before = await ns.ps()
      const r = await runDoctor(ns, ['check', '--json'], {stateHome: state, timeoutMs: 60_000})
      code = r.code
      stderr = r.stderr
      report = JSON.parse(r.stdout)
      markdown = (await runDoctor(ns, ['check', '--format', 'markdown'], {stateHome: state, timeoutMs: 60_000})).stdout
      metrics = (await runDoctor(ns, ['check', '--format', 'prometheus'], {stateHome: state, timeoutMs: 60_000})).stdout
      // For working on detection without root: GT_LIVE_REAL_SNAPSHOT=file keeps this scene for `check --from file`.
      if (process.env.GT_LIVE_REAL_SNAPSHOT)
        await runDoctor(ns, ['snapshot', '-o', path.resolve(process.env.GT_LIVE_REAL_SNAPSHOT)], {stateHome: state})
      // Long enough that a wait which runs out says what it waited for, rather than vitest's bare hook timeout.
    }, 600_000)

    afterAll(async () => {
      await ns?.close()
    })

    const findings = (check: string) => report.checks.find((c) => c.id === check)?.findings ?? []
    const allFindings = () => report.checks.flatMap((c) => c.findings)
    const detachedTrees = () => [detached.disowned, detached.setsid, detached.loop]
    const proc = (pid: number) => before.find((p) => p.pid === pid)

    it('is the scene the real programs make (detached runs, leftover, killed session)', async () => {
      // Detached: all adopted by init; `& disown` keeps the dead shell's session, setsid makes its own.
      expect(proc(detached.disowned.claude)).toMatchObject({
        ppid: 1,
        comm: 'claude',
        argv: ['claude', '-p', '[[hold]] run:disowned'],
      })
      expect(proc(detached.disowned.claude)!.sid).not.toBe(detached.disowned.claude)
      expect(proc(detached.setsid.claude)).toMatchObject({
        ppid: 1,
        sid: detached.setsid.claude,
        argv: ['claude', '-p', '[[hold]] run:setsid'],
      })
      expect(proc(detached.loop.shell)).toMatchObject({ppid: 1, comm: 'bash', sid: detached.loop.shell})
      expect(proc(detached.loop.claude)).toMatchObject({
        ppid: detached.loop.shell,
        argv: ['claude', '-p', '[[hold]] run:loop-1'],
      })
      // Every claude of the scene runs three MCP servers, one launcher chain each.
      for (const tree of [healthy.alive, healthy.hq, ...detachedTrees()]) expect(tree.chains).toHaveLength(3)
      // The leftover: the Bash tool's wrapper in its own session, adopted by init, naming a claude that is gone.
      expect(proc(leftover.wrapper)).toMatchObject({ppid: 1, comm: 'bash', sid: leftover.wrapper})
      expect(proc(leftover.command)).toMatchObject({ppid: leftover.wrapper, args: 'node dev-server.js'})
      expect(proc(leftover.deadClaude)).toBeUndefined()
      expect(await ns.environ(leftover.command)).toMatchObject({
        CLAUDECODE: '1',
        CLAUDE_PID: String(leftover.deadClaude),
      })
      // kill-session: 2.1.328 ends on the terminal's EOF and takes its MCP servers along.
      expect(doomed.left).toEqual([])
    })

    it('reports each detached headless run once, as detached-run info, with its MCP servers', () => {
      // A loop is one job, its shell the root: ending only the step would start the next step.
      const jobs = [
        {root: detached.disowned.claude, tree: detached.disowned, by: 'disowned'},
        {root: detached.setsid.claude, tree: detached.setsid, by: 'own-session'},
        {root: detached.loop.shell, tree: detached.loop, by: 'shell-loop'},
      ]
      expect(
        findings('detached-run')
          .map((f) => [f.pid, f.severity, f.fixable])
          .sort(),
      ).toEqual(jobs.map((j) => [j.root, 'info', false]).sort())
      for (const job of jobs) {
        const finding = findings('detached-run').find((f) => f.pid === job.root)!
        expect(sorted(finding.pids)).toEqual(sorted(new Set([job.root, ...job.tree.pids])))
        expect(finding.data).toMatchObject({detachedBy: job.by, claudePid: job.tree.claude, mcpServers: 3})
      }
      expect(findings('orphan-claude')).toEqual([])
    })

    it('names the crash leftover as agent-leftover (warning), with the dead claude as its evidence', () => {
      const [finding, ...more] = findings('agent-leftover')
      expect(more).toEqual([])
      expect(finding).toMatchObject({pid: leftover.wrapper, severity: 'warning', fixable: false})
      expect(sorted(finding.pids)).toEqual(sorted([leftover.wrapper, leftover.command]))
      expect(finding.data).toMatchObject({evidence: 'claude-gone', claudePid: leftover.deadClaude})
      expect(finding.message).toContain('node dev-server.js')
      // Not an orphan MCP server, and no MCP server of a detached run is one either.
      expect(findings('orphan-mcp')).toEqual([])
    })

    it('gives no error finding, and leaves the healthy sessions on both servers out of every finding', () => {
      expect(allFindings().filter((f) => f.severity === 'error')).toEqual([])
      const flagged = new Set(allFindings().flatMap((f) => f.pids))
      const untouchable = [1, ns.controllerPid, ...servers, ...healthy.alive.pids, ...healthy.hq.pids]
      expect(untouchable.filter((pid) => flagged.has(pid))).toEqual([])
      // Only the detached runs and the leftover are named at all.
      const named = [...detachedTrees().flatMap((t) => t.pids), detached.loop.shell, leftover.wrapper, leftover.command]
      expect(sorted(flagged)).toEqual(sorted(named))
      expect(findings('session-mismatch')).toEqual([])
    })

    it('counts what /proc holds: one MCP server per launcher chain', () => {
      const claudes = before.filter((p) => p.comm === 'claude' && p.argv[0] === 'claude').map((p) => p.pid)
      const live = [healthy.alive, healthy.hq, ...detachedTrees()]
      expect(sorted(claudes)).toEqual(sorted(live.map((t) => t.claude)))
      const chains = live.flatMap((t) => t.chains).length
      expect(report.summary).toMatchObject({
        claudeProcesses: claudes.length,
        mcpServers: chains,
        orphanClaude: 0,
        orphanMcp: 0,
        tmuxSessions: 2,
        agentSessions: 2,
        detachedRuns: 3,
        leftovers: 1,
      })
      expect(markdown).toContain(`- **${chains}** MCP server processes running`)
      expect(markdown).toContain(`- **${claudes.length}** Claude processes running`)
      expect(metrics).toMatch(new RegExp(`^gt_doctor_mcp_servers ${chains}$`, 'm'))
      expect(metrics).toMatch(new RegExp(`^gt_doctor_claude_processes ${claudes.length}$`, 'm'))
      expect(metrics).toMatch(/^gt_doctor_orphan_claude 0$/m)
      expect(metrics).toMatch(/^gt_doctor_detached_runs 3$/m)
      expect(metrics).toMatch(/^gt_doctor_agent_leftovers 1$/m)
    })

    it('reads the version of the npm native package, without running it', () => {
      expect(report.host.claudeVersion).toBe(CLAUDE_VERSION)
      expect(markdown).toContain(`- **Claude Code**: ${CLAUDE_VERSION}`)
    })

    it('check exits 0 when only detached runs and leftovers remain', () => {
      expect(stderr).toBe('')
      expect(code).toBe(0)
    })

    it('the default --fix --yes signals nothing: detached runs, the leftover and the healthy sessions live on', async () => {
      const r = await runDoctor(ns, ['check', '--fix', '--yes', '--grace', '1', '--json'], {
        stateHome: state,
        timeoutMs: 60_000,
      })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const fixed = JSON.parse(r.stdout).fixed ?? []
      expect(fixed.filter((f: any) => f.fix?.outcome !== 'skipped')).toEqual([])
      expect(readAudit(state).filter((e) => e.event === 'signal')).toEqual([])

      const after = await ns.ps()
      const alive = new Set(after.filter((p) => p.state !== 'Z').map((p) => p.pid))
      const mustLive = [
        ...healthy.alive.pids,
        ...healthy.hq.pids,
        ...detachedTrees().flatMap((t) => t.pids),
        detached.loop.shell,
        leftover.wrapper,
        leftover.command,
        ...servers,
      ]
      expect(mustLive.filter((pid) => !alive.has(pid))).toEqual([])
      // The loop is still at its first step: nothing ended it and started the next.
      expect(after.filter((p) => p.comm === 'claude' && p.args.includes('run:loop-')).map((p) => p.pid)).toEqual([
        detached.loop.claude,
      ])
    })

    it('ends detached runs and leftovers only when configured to, each whole, and nothing else', async () => {
      const config = path.join(ns.tmpdir, 'opt-in.json')
      fs.writeFileSync(
        config,
        JSON.stringify({
          checks: {
            'detached-run': {options: {stuckAfterSeconds: 1}},
            'agent-leftover': {options: {fixLeftovers: true}},
          },
        }),
      )
      const mustDie = new Set([
        ...detachedTrees().flatMap((t) => t.pids),
        detached.loop.shell,
        leftover.wrapper,
        leftover.command,
      ])
      const r = await runDoctor(ns, ['check', '--fix', '--yes', '--grace', '3', '--config', config, '--json'], {
        stateHome: state,
        timeoutMs: 90_000,
      })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const fixed = JSON.parse(r.stdout)
        .fixed.map((f: any) => [f.check, f.pid, f.fix.outcome])
        .sort()
      expect(fixed).toEqual(
        [
          ['detached-run', detached.disowned.claude, 'fixed'],
          ['detached-run', detached.setsid.claude, 'fixed'],
          ['detached-run', detached.loop.shell, 'fixed'],
          ['agent-leftover', leftover.wrapper, 'fixed'],
        ].sort(),
      )
      // Give a loop the moment it would need to start its next step, then look.
      await new Promise((resolve) => setTimeout(resolve, 1000))
      const after = await ns.ps()
      const alive = new Set(after.filter((p) => p.state !== 'Z').map((p) => p.pid))
      expect([...mustDie].filter((pid) => alive.has(pid))).toEqual([])
      expect(after.filter((p) => p.comm === 'claude' && p.args.includes('run:loop-2'))).toEqual([])
      const keep = [...healthy.alive.pids, ...healthy.hq.pids, ...servers]
      expect(keep.filter((pid) => !alive.has(pid))).toEqual([])
      // Signals went to those trees only.
      expect(readAudit(state).filter((e) => e.event === 'signal' && !mustDie.has(e.pid))).toEqual([])
    })
  },
  unavailable,
)
