import type {FixAction, ProcessTarget} from '../checks/api.js'
import type {FixOutcome} from '../report/model.js'
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {AuditSink} from './audit.js'
import type {PlanItem, RemediationPlan} from './plan.js'
import {systemClock, type Clock, type LiveProcess, type ProcessProbe} from './probe.js'
import {liveSocketOps, liveTmux, type SocketOps, type TmuxRunner} from './side-actions.js'
import {plural} from '../render/format.js'

export interface EngineOptions {
  probe: ProcessProbe
  audit: AuditSink
  rules: Rules
  /** Time between SIGTERM and SIGKILL, for all trees together. */
  graceMs: number
  /** How long to wait for SIGKILLed processes (and zombies) to be gone (default 1000 ms). */
  killWaitMs?: number
  /** Poll interval while waiting (default 25 ms). */
  pollMs?: number
  clock?: Clock
  /** The user the doctor acts for: only this uid's processes are signalled... */
  invokingUid: number
  /** ...unless the doctor runs as root and was given --all-users. */
  allUsers?: boolean
  doctorPid: number
  /** The doctor's ancestors known from the snapshot; the engine adds the chain it reads live. */
  doctorAncestors?: readonly number[]
  /** Verify and report, signal nothing: every action that would run is `planned`. */
  dryRun?: boolean
  tmux?: TmuxRunner
  sockets?: SocketOps
  /** To turn start ticks into a start time in the audit log. */
  bootTimeMs?: number
  clockTicksPerSecond?: number
}

/** What became of one process the plan named. */
export interface ProcessResult {
  pid: number
  startTicks?: number
  command: string
  findingId: string
  outcome: 'ended' | 'already-gone' | 'skipped' | 'survived' | 'zombie' | 'planned'
  detail: string
  signals: Array<'SIGTERM' | 'SIGKILL'>
  freedBytes: number
}

export interface EngineResult {
  /** Per finding id: the `fix` object of the report. */
  outcomes: Map<string, FixOutcome>
  processes: ProcessResult[]
}

type Life = 'alive' | 'gone' | 'zombie'

interface Member {
  target: ProcessTarget
  tree: Tree
  memoryBytes: number
  parentInTree?: Member
  /** The same process in an earlier finding's tree: it is verified and signalled once, there. */
  alias?: Member
  /** pending -> skipped | planned | refused | watched (signalled, or dead before it could be). */
  status: 'pending' | 'skipped' | 'planned' | 'refused' | 'watched'
  detail?: string
  signals: Array<'SIGTERM' | 'SIGKILL'>
  life?: Life
  /** Gone before its own signal but after one to its tree: it ended with the tree (a wrapper passed SIGTERM on). */
  endedWithTree?: boolean
  lastState?: string
  zombieParent?: number
}

interface Tree {
  item: PlanItem
  action: Extract<FixAction, {kind: 'terminate-tree'}>
  members: Member[]
  /** Why the root was spared: then so is every member. */
  rootSpared?: string
  /** The root's live parent chain when it was verified: where a member whose parent died may be adopted. */
  rootAncestors: Set<number>
}

interface SideResult {
  findingId: string
  outcome: FixOutcome['outcome']
  detail: string
}

type Verdict = {kind: 'ok'} | {kind: 'gone'} | {kind: 'dead'; live: LiveProcess} | {kind: 'spare'; detail: string}

const RANK: Record<FixOutcome['outcome'], number> = {failed: 5, skipped: 4, planned: 3, fixed: 2, 'already-gone': 1}

/**
 * The only code in gt-doctor that signals a process. For every tree: re-read each member right before
 * signalling it and spare it unless it is provably the same orphan that was detected; SIGTERM every member
 * of every tree at once; wait once (the grace) for all of them; SIGKILL the survivors; wait briefly again.
 */
export class RemediationEngine {
  private readonly clock: Clock
  private readonly protectedPids = new Map<number, string>()
  private readonly reaperMemo = new Map<number, boolean>()

  constructor(private readonly opts: EngineOptions) {
    this.clock = opts.clock ?? systemClock
  }

  async execute(plan: RemediationPlan): Promise<EngineResult> {
    this.protectDoctorChain()
    const trees = this.treesOf(plan)
    for (const tree of trees) this.verifyAndTerminate(tree)
    const watched = trees.flatMap((t) => t.members).filter((m) => m.status === 'watched' && !m.alias)
    if (!this.opts.dryRun && watched.length > 0) await this.waitAndKill(watched)
    const side = await this.runSideActions(plan)
    const processes: ProcessResult[] = []
    for (const m of trees.flatMap((t) => t.members)) {
      const r = this.resultOf(m)
      processes.push(r)
      if (!m.alias && (r.signals.length > 0 || r.outcome === 'zombie')) this.audit('result', m, {outcome: r.outcome, detail: r.detail})
    }
    return {outcomes: this.outcomesOf(plan, processes, side), processes}
  }

  // ---- identity ------------------------------------------------------------------------------------------

  /** The doctor and every ancestor, from the snapshot and read live now: never a target. */
  private protectDoctorChain(): void {
    this.protectedPids.set(this.opts.doctorPid, 'the doctor itself')
    for (const pid of this.opts.doctorAncestors ?? []) this.protectedPids.set(pid, `an ancestor of the doctor (PID ${this.opts.doctorPid})`)
    let cur = this.opts.probe.read(this.opts.doctorPid)?.ppid
    const seen = new Set<number>()
    while (cur !== undefined && cur > 0 && !seen.has(cur)) {
      seen.add(cur)
      this.protectedPids.set(cur, `an ancestor of the doctor (PID ${this.opts.doctorPid})`)
      cur = this.opts.probe.read(cur)?.ppid
    }
  }

  private ancestorsOf(pid: number): Set<number> {
    const out = new Set<number>()
    for (let cur: number | undefined = pid; cur !== undefined && cur > 0 && !out.has(cur) && out.size < 256; cur = this.opts.probe.read(cur)?.ppid) out.add(cur)
    return out
  }

  /** PID 1, or a live child subreaper (systemd --user ...): where orphans land. */
  private isReaper(pid: number): boolean {
    if (pid === 1) return true
    const memo = this.reaperMemo.get(pid)
    if (memo !== undefined) return memo
    const live = this.opts.probe.read(pid)
    const verdict =
      live !== undefined &&
      this.opts.rules.isReaper({pid, ppid: live.ppid, comm: live.comm, argv: this.opts.probe.argv(pid) ?? [], env: {}} as ProcessInfo)
    this.reaperMemo.set(pid, verdict)
    return verdict
  }

  private isTmuxServer(live: LiveProcess): boolean {
    return this.opts.rules.isTmuxServer({pid: live.pid, ppid: live.ppid, comm: live.comm, argv: [], env: {}} as ProcessInfo)
  }

  private verify(m: Member, live: LiveProcess | undefined): Verdict {
    const t = m.target
    if (!live) return {kind: 'gone'}
    if (t.startTicks === undefined) return {kind: 'spare', detail: 'start time unknown at detection, so PID reuse cannot be ruled out'}
    if (live.startTicks !== t.startTicks) {
      return {kind: 'spare', detail: `PID reused: PID ${t.pid} is now another process (start ticks ${live.startTicks}, detected ${t.startTicks})`}
    }
    if (t.pid === 1) return {kind: 'spare', detail: 'PID 1 is never signalled'}
    const mine = this.protectedPids.get(t.pid)
    if (mine) return {kind: 'spare', detail: `${mine} is never signalled`}
    if (this.isTmuxServer(live)) return {kind: 'spare', detail: 'a tmux server is never signalled'}
    const {invokingUid, allUsers} = this.opts
    if (live.uid === undefined) return {kind: 'spare', detail: 'its owner could not be read'}
    if (t.uid !== undefined && t.uid !== live.uid) return {kind: 'spare', detail: `its owner changed from uid ${t.uid} to uid ${live.uid}`}
    if (live.uid !== invokingUid && !(allUsers && invokingUid === 0)) {
      const hint = invokingUid === 0 ? '; pass --all-users to include other users' : ''
      return {kind: 'spare', detail: `owned by uid ${live.uid}, not by you (uid ${invokingUid})${hint}`}
    }
    if (live.state === 'Z' || live.state === 'X') return {kind: 'dead', live}
    if (live.ppid !== t.ppid) {
      const adopter = m.tree.members.find((x) => x !== m && x.target.pid === live.ppid)
      if (adopter) {
        if (fate(adopter).status === 'skipped') return {kind: 'spare', detail: `its new parent PID ${live.ppid} in this tree is spared`}
      } else if (!m.tree.rootAncestors.has(live.ppid) && !this.isReaper(live.ppid)) {
        // Only a subreaper can adopt: one above the root is still this orphan's own lineage.
        const parent = this.opts.probe.read(live.ppid)
        const who = parent ? `${parent.comm} (PID ${live.ppid}), a live process` : `PID ${live.ppid}`
        return {kind: 'spare', detail: `no longer an orphan: its parent changed from PID ${t.ppid} to ${who}`}
      }
    }
    return {kind: 'ok'}
  }

  // ---- trees ---------------------------------------------------------------------------------------------

  private treesOf(plan: RemediationPlan): Tree[] {
    const trees: Tree[] = []
    const claimed = new Map<number, Member>()
    for (const item of plan.items) {
      if (item.error) continue
      for (const action of item.actions) {
        if (action.kind !== 'terminate-tree') continue
        const tree: Tree = {item, action, members: [], rootAncestors: new Set()}
        const byPid = new Map<number, Member>()
        for (const target of action.targets) {
          if (byPid.has(target.pid)) continue
          const m: Member = {target, tree, memoryBytes: plan.memory.get(target.pid) ?? 0, status: 'pending', signals: []}
          const first = claimed.get(target.pid)
          if (first) m.alias = first
          else claimed.set(target.pid, m)
          byPid.set(target.pid, m)
        }
        for (const m of byPid.values()) {
          const parent = byPid.get(m.target.ppid)
          if (parent && parent !== m) m.parentInTree = parent
        }
        tree.members = topological([...byPid.values()], action.targets[0].pid)
        trees.push(tree)
      }
    }
    return trees
  }

  /** Re-reads each member of one tree, root first, and signals it at once when it is still the orphan detected. */
  private verifyAndTerminate(tree: Tree): void {
    const treeSignalled = () => tree.members.some((x) => fate(x).signals.length > 0)
    for (const m of tree.members) {
      const pid = m.target.pid
      if (m.alias) {
        // Decided in an earlier finding's tree; a spared root still spares this whole tree.
        if (m === tree.members[0] && m.alias.status === 'skipped') tree.rootSpared = m.alias.detail
        continue
      }
      if (tree.rootSpared) {
        this.spare(m, `spared with its tree: the root PID ${tree.members[0].target.pid} is spared (${tree.rootSpared})`)
        continue
      }
      const live = this.opts.probe.read(pid)
      const verdict = this.verify(m, live)
      if (m === tree.members[0] && live && (verdict.kind === 'ok' || verdict.kind === 'dead')) tree.rootAncestors = this.ancestorsOf(live.ppid)
      if (verdict.kind === 'gone') {
        this.watch(m, 'gone')
        m.endedWithTree = treeSignalled()
        this.audit('gone', m, {outcome: 'already-gone', detail: m.endedWithTree ? 'ended with its tree before its own signal' : 'exited before the fix reached it'})
        continue
      }
      if (m.parentInTree && fate(m.parentInTree).status === 'skipped' && verdict.kind !== 'spare') {
        this.spare(m, `its parent PID ${m.parentInTree.target.pid} in this tree is spared`)
        continue
      }
      if (verdict.kind === 'spare') {
        this.spare(m, verdict.detail, live)
        if (m === tree.members[0]) tree.rootSpared = verdict.detail
        continue
      }
      if (verdict.kind === 'dead') {
        // Already dead, waiting for its parent to reap it: a signal would do nothing.
        this.watch(m, 'zombie', verdict.live)
        m.endedWithTree = treeSignalled()
        this.audit('gone', m, {outcome: 'already-gone', detail: m.endedWithTree ? 'ended with its tree before its own signal' : 'already dead (a zombie), not signalled'})
        continue
      }
      if (this.opts.dryRun) {
        m.status = 'planned'
        continue
      }
      this.signal(m, 'SIGTERM', live)
    }
  }

  private spare(m: Member, detail: string, live?: LiveProcess): void {
    m.status = 'skipped'
    m.detail = detail
    this.audit('skip', m, {outcome: 'skipped', detail, uid: live?.uid})
  }

  private watch(m: Member, life: Life, live?: LiveProcess): void {
    m.status = 'watched'
    m.life = life
    if (live) {
      m.lastState = live.state
      if (life === 'zombie') m.zombieParent = live.ppid
    }
  }

  private signal(m: Member, signal: 'SIGTERM' | 'SIGKILL', live?: LiveProcess): void {
    const result = this.opts.probe.kill(m.target.pid, signal)
    if (result === 'sent') {
      m.signals.push(signal)
      this.watch(m, 'alive', live)
      this.audit('signal', m, {signal, outcome: 'sent', uid: live?.uid})
    } else if (result === 'ESRCH') {
      this.watch(m, 'gone')
      m.endedWithTree = m.tree.members.some((x) => x !== m && fate(x).signals.length > 0)
      this.audit('signal', m, {signal, outcome: 'already-gone', detail: 'ESRCH: it exited just before the signal'})
    } else {
      m.status = 'refused'
      m.detail = `${signal} refused (EPERM)`
      this.audit('signal', m, {signal, outcome: 'refused', detail: 'EPERM'})
    }
  }

  // ---- waiting -------------------------------------------------------------------------------------------

  private observe(m: Member): void {
    if (m.life === 'gone') return
    const live = this.opts.probe.read(m.target.pid)
    if (!live || live.startTicks !== m.target.startTicks || live.state === 'X') {
      m.life = 'gone'
      return
    }
    m.lastState = live.state
    if (live.state === 'Z') {
      m.life = 'zombie'
      m.zombieParent = live.ppid
    } else {
      m.life = 'alive'
    }
  }

  /** A zombie whose parent is a reaper is about to be reaped: as good as gone. */
  private settled(m: Member): boolean {
    if (m.life === 'gone') return true
    if (m.life === 'zombie') return m.zombieParent !== undefined && this.isReaper(m.zombieParent)
    return false
  }

  private async pollUntil(members: Member[], deadline: number, done: (m: Member) => boolean): Promise<void> {
    const poll = this.opts.pollMs ?? 25
    for (;;) {
      for (const m of members) this.observe(m)
      if (members.every(done)) return
      const left = deadline - this.clock.now()
      if (left <= 0) return
      await this.clock.sleep(Math.min(poll, left))
    }
  }

  private async waitAndKill(watched: Member[]): Promise<void> {
    const start = this.clock.now()
    await this.pollUntil(watched, start + this.opts.graceMs, (m) => m.life !== 'alive')
    for (const m of watched.filter((x) => x.life === 'alive')) {
      // Read again right before SIGKILL: it may have ended (and its pid been reused) since the last poll.
      this.observe(m)
      if (m.life === 'alive') this.signal(m, 'SIGKILL')
    }
    await this.pollUntil(watched, this.clock.now() + (this.opts.killWaitMs ?? 1000), (m) => this.settled(m))
  }

  // ---- tmux and sockets ----------------------------------------------------------------------------------

  private async runSideActions(plan: RemediationPlan): Promise<SideResult[]> {
    const out: SideResult[] = []
    for (const item of plan.items) {
      if (item.error) continue
      for (const action of item.actions) {
        if (action.kind === 'tmux') out.push(await this.runTmux(item, action))
        if (action.kind === 'remove-socket') out.push(await this.removeSocket(item, action))
      }
    }
    return out
  }

  /** Only kill-pane / respawn-pane of a pane tmux still reports dead: nothing that could end a live pane. */
  private async runTmux(item: PlanItem, action: Extract<FixAction, {kind: 'tmux'}>): Promise<SideResult> {
    const findingId = item.finding.id
    const record = (outcome: FixOutcome['outcome'], detail: string) => {
      if (!this.opts.dryRun) this.opts.audit.write({event: 'tmux', findingId, socket: action.socket, args: action.args, outcome, detail})
      return {findingId, outcome, detail}
    }
    const [command] = action.args
    const t = action.args.indexOf('-t')
    const pane = t >= 0 ? action.args[t + 1] : undefined
    if ((command !== 'kill-pane' && command !== 'respawn-pane') || !pane) {
      return record('skipped', `the engine runs only kill-pane / respawn-pane -t PANE, not: tmux ${action.args.join(' ')}`)
    }
    const tmux = this.opts.tmux ?? liveTmux
    const probe = await tmux(action.socket, ['display-message', '-p', '-t', pane, '#{pane_dead}'])
    if (probe.code !== 0) return record('already-gone', `pane ${pane} no longer exists`)
    if (probe.stdout.trim() !== '1') return record('skipped', `pane ${pane} is alive again: left as it is`)
    if (this.opts.dryRun) return record('planned', `would run tmux ${action.args.join(' ')}`)
    const r = await tmux(action.socket, action.args)
    return r.code === 0 ? record('fixed', `tmux ${action.args.join(' ')}`) : record('failed', `tmux ${command} failed: ${r.stderr.trim().split('\n')[0]}`)
  }

  /** A socket file no server listens on any more, owned by the user. */
  private async removeSocket(item: PlanItem, action: Extract<FixAction, {kind: 'remove-socket'}>): Promise<SideResult> {
    const findingId = item.finding.id
    const record = (outcome: FixOutcome['outcome'], detail: string) => {
      if (!this.opts.dryRun) this.opts.audit.write({event: 'remove-socket', findingId, path: action.path, outcome, detail})
      return {findingId, outcome, detail}
    }
    const ops = this.opts.sockets ?? liveSocketOps
    const info = ops.inspect(action.path)
    if (!info) return record('already-gone', `${action.path} no longer exists`)
    if (!info.isSocket) return record('skipped', `${action.path} is not a socket`)
    if (info.uid !== this.opts.invokingUid) return record('skipped', `${action.path} belongs to uid ${info.uid}`)
    if (await ops.listening(action.path)) return record('skipped', `a server answers on ${action.path}: left as it is`)
    if (this.opts.dryRun) return record('planned', `would remove ${action.path}`)
    try {
      ops.unlink(action.path)
      return record('fixed', `removed stale socket ${action.path}`)
    } catch (error) {
      return record('failed', `could not remove ${action.path}: ${(error as Error).message}`)
    }
  }

  // ---- outcomes ------------------------------------------------------------------------------------------

  private resultOf(m: Member): ProcessResult {
    if (m.alias) {
      // Its memory is counted once, with the finding that signalled it.
      const first = this.resultOf(m.alias)
      return {...first, findingId: m.tree.item.finding.id, freedBytes: 0}
    }
    const base = {pid: m.target.pid, startTicks: m.target.startTicks, command: m.target.command, findingId: m.tree.item.finding.id, signals: m.signals}
    const signalled = m.signals.length > 0
    const none = {...base, freedBytes: 0}
    switch (m.status) {
      case 'skipped':
        return {...none, outcome: 'skipped', detail: m.detail ?? 'spared'}
      case 'planned':
        return {...none, outcome: 'planned', detail: 'would be signalled'}
      case 'refused':
        return {...none, outcome: 'survived', detail: m.detail ?? 'the signal was refused'}
      case 'pending':
        return {...none, outcome: 'skipped', detail: 'not reached'}
    }
    const freed = {...base, freedBytes: signalled || m.endedWithTree ? m.memoryBytes : 0}
    if (this.settled(m)) {
      if (signalled) return {...freed, outcome: 'ended', detail: m.signals.includes('SIGKILL') ? 'ended by SIGKILL after the grace period' : 'ended by SIGTERM'}
      if (m.endedWithTree) return {...freed, outcome: 'ended', detail: 'ended with its tree before its own signal'}
      return {...none, outcome: 'already-gone', detail: 'exited before the fix reached it'}
    }
    if (m.life === 'zombie') return {...freed, outcome: 'zombie', detail: `zombie: parent PID ${m.zombieParent} must reap it`}
    if (m.lastState === 'D') {
      return {...none, outcome: 'survived', detail: 'survived SIGKILL in state D (uninterruptible sleep, stuck in the kernel); it ends when its I/O completes'}
    }
    return {...none, outcome: 'survived', detail: `still running after SIGKILL (state ${m.lastState ?? '?'})`}
  }

  private outcomesOf(plan: RemediationPlan, processes: ProcessResult[], side: SideResult[]): Map<string, FixOutcome> {
    const out = new Map<string, FixOutcome>()
    for (const item of plan.items) {
      const id = item.finding.id
      if (item.error) {
        out.set(id, {outcome: 'failed', detail: item.error, signalled: [], freedBytes: 0})
        continue
      }
      const mine = processes.filter((p) => p.findingId === id)
      const parts = [this.treeOutcome(mine), ...side.filter((s) => s.findingId === id)].filter((x): x is {outcome: FixOutcome['outcome']; detail: string} => x !== undefined)
      if (parts.length === 0) {
        out.set(id, {outcome: 'skipped', detail: 'its check proposed no action', signalled: [], freedBytes: 0})
        continue
      }
      const outcome = parts.reduce((a, b) => (RANK[b.outcome] > RANK[a.outcome] ? b : a)).outcome
      out.set(id, {
        outcome,
        detail: parts.map((p) => p.detail).join('; '),
        signalled: [...new Set(mine.filter((p) => p.signals.length > 0).map((p) => p.pid))],
        freedBytes: mine.reduce((n, p) => n + p.freedBytes, 0),
      })
    }
    return out
  }

  /** One finding's processes, summed up in one outcome and one sentence. */
  private treeOutcome(mine: ProcessResult[]): {outcome: FixOutcome['outcome']; detail: string} | undefined {
    if (mine.length === 0) return undefined
    const by = (o: ProcessResult['outcome']) => mine.filter((p) => p.outcome === o)
    const notes = (list: ProcessResult[]) => {
      // One tree spared at its root: say why once, not once per member.
      const own = list.filter((p) => !p.detail.startsWith('spared with its tree'))
      const shown = own.slice(0, 3).map((p) => `PID ${p.pid}: ${p.detail}`)
      return own.length > 3 ? [...shown, `${own.length - 3} more`] : shown
    }
    const ended = by('ended')
    const killed = ended.filter((p) => p.signals.includes('SIGKILL')).length
    const gone = by('already-gone').length
    const facts: string[] = []
    if (ended.length > 0) facts.push(`ended ${plural(ended.length, 'process', 'processes')}${killed > 0 ? ` (${killed} by SIGKILL after the grace period)` : ''}`)
    if (gone > 0) facts.push(`${plural(gone, 'process', 'processes')} had already exited`)

    const survived = by('survived')
    if (survived.length > 0) return {outcome: 'failed', detail: [...notes(survived), ...facts].join('; ')}
    const planned = by('planned')
    const skipped = by('skipped')
    if (planned.length > 0) {
      const spared = skipped.length > 0 ? [`would spare ${notes(skipped).join('; ')}`] : []
      return {outcome: 'planned', detail: [`would end ${plural(planned.length, 'process', 'processes')} (SIGTERM, then SIGKILL after ${this.opts.graceMs / 1000} s)`, ...spared].join('; ')}
    }
    const zombies = by('zombie')
    if (skipped.length > 0 || zombies.length > 0) return {outcome: 'skipped', detail: [...notes(skipped).map((n) => `spared ${n}`), ...notes(zombies), ...facts].join('; ')}
    if (ended.length > 0) return {outcome: 'fixed', detail: facts.join('; ')}
    return {outcome: 'already-gone', detail: 'every process had already exited'}
  }

  // ---- audit ---------------------------------------------------------------------------------------------

  private audit(event: 'signal' | 'skip' | 'gone' | 'result', m: Member, extra: {outcome: string; detail?: string; signal?: 'SIGTERM' | 'SIGKILL'; uid?: number}): void {
    if (this.opts.dryRun) return
    const t = m.target
    const {bootTimeMs, clockTicksPerSecond = 100} = this.opts
    this.opts.audit.write({
      event,
      findingId: m.tree.item.finding.id,
      pid: t.pid,
      startTicks: t.startTicks,
      startTime: bootTimeMs !== undefined && t.startTicks !== undefined ? new Date(bootTimeMs + (t.startTicks * 1000) / clockTicksPerSecond).toISOString() : undefined,
      uid: extra.uid ?? t.uid,
      command: t.command,
      session: m.tree.action.session ?? m.tree.item.finding.session,
      signal: extra.signal,
      outcome: extra.outcome,
      detail: extra.detail,
    })
  }
}

/** The member that decides a process's fate: itself, or the earlier tree's member for the same pid. */
function fate(m: Member): Member {
  return m.alias ?? m
}

/** Root first, every parent before its children (pids may wrap, so pid order is not enough). */
function topological(members: Member[], rootPid: number): Member[] {
  const children = new Map<Member | undefined, Member[]>()
  for (const m of members) {
    const list = children.get(m.parentInTree) ?? []
    list.push(m)
    children.set(m.parentInTree, list)
  }
  const out: Member[] = []
  const seen = new Set<Member>()
  const visit = (m: Member) => {
    if (seen.has(m)) return
    seen.add(m)
    out.push(m)
    for (const c of children.get(m) ?? []) visit(c)
  }
  const root = members.find((m) => m.target.pid === rootPid)
  if (root) visit(root)
  // Members whose parent is not in the tree (or a cycle): after the root's own descendants, in plan order.
  for (const m of members) visit(m)
  return out
}


/** Runs a plan: the one entry point the CLI uses. */
export function executePlan(plan: RemediationPlan, opts: EngineOptions): Promise<EngineResult> {
  return new RemediationEngine(opts).execute(plan)
}
