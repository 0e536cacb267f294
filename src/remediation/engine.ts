import type {FixAction, ProcessTarget} from '../checks/api.js'
import type {FixOutcome} from '../report/model.js'
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {AuditEntry, AuditSink} from './audit.js'
import type {PlanItem, RemediationPlan} from './plan.js'
import {systemClock, type Clock, type LiveProcess, type ProcessProbe, type Signal} from './probe.js'
import {liveSocketOps, liveTmux, tmuxServerRefusal, type SocketOps, type TmuxRunner} from './side-actions.js'
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
  /**
   * The own processes of the live tmux panes at detection: never signalled, however they turn up (`session
   * stop`, which ends panes on purpose, leaves it out).
   */
  livePanes?: ReadonlySet<number>
}

/** What became of one process the plan named. */
export interface ProcessResult {
  pid: number
  startTicks?: number
  command: string
  findingId: string
  /** `escaped`: started after detection, it left its tree before the tree was stopped; never signalled. */
  outcome: 'ended' | 'already-gone' | 'skipped' | 'survived' | 'zombie' | 'planned' | 'escaped'
  detail: string
  /** The signals that end a process (SIGSTOP and SIGCONT only hold a tree still while it is signalled). */
  signals: Array<'SIGTERM' | 'SIGKILL'>
  freedBytes: number
  /** Not in the plan: a child of a member, started after detection, found while its tree was stopped. */
  newcomer?: boolean
  /** Left unsignalled because the audit log could not be written. */
  unrecorded?: boolean
}

/** The audit log failed mid-fix: from then on nothing more was signalled. */
export interface AuditFailure {
  /** ENOSPC, EIO, EBADF...: what the write or the fdatasync failed with. */
  code: string
  /** Processes that got SIGTERM or SIGKILL before that. */
  signalled: number
  /** Processes the fix would still have verified and signalled: left as they were. */
  notSignalled: number
}

export interface EngineResult {
  /** Per finding id: the `fix` object of the report. */
  outcomes: Map<string, FixOutcome>
  processes: ProcessResult[]
  auditFailure?: AuditFailure
}

/** The one line a person reads when the audit log failed (the report says the rest, finding by finding). */
export function describeAuditFailure(file: string, f: AuditFailure): string {
  return `the audit log ${file} could not be written (${f.code}): stopped after signalling ${plural(f.signalled, 'process', 'processes')}; ${f.notSignalled} ${f.notSignalled === 1 ? 'was' : 'were'} not signalled`
}

type Life = 'alive' | 'gone' | 'zombie'

interface Member {
  target: ProcessTarget
  tree: Tree
  memoryBytes: number
  parentInTree?: Member
  /** The same process in an earlier finding's tree: it is verified and signalled once, there. */
  alias?: Member
  /** pending -> skipped | planned | ready (verified) -> refused | watched (signalled, or dead before it could be). */
  status: 'pending' | 'skipped' | 'planned' | 'ready' | 'refused' | 'watched'
  detail?: string
  signals: Array<'SIGTERM' | 'SIGKILL'>
  /** SIGSTOPped by this run and not yet continued or killed: never to be left so. */
  stopped?: boolean
  /** Found as a child of a stopped member: not in the plan. */
  newcomer?: boolean
  unrecorded?: boolean
  /** Its session and process group when verified: what a child that escaped the tree still shares. */
  sid?: number
  pgid?: number
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
  /** Children started after detection that left the tree before it was stopped (init adopted them). */
  escaped: LiveProcess[]
}

interface SideResult {
  findingId: string
  outcome: FixOutcome['outcome']
  detail: string
}

type Verdict = {kind: 'ok'} | {kind: 'gone'} | {kind: 'dead'; live: LiveProcess} | {kind: 'spare'; detail: string}

const RANK: Record<FixOutcome['outcome'], number> = {failed: 5, skipped: 4, planned: 3, fixed: 2, 'already-gone': 1}

/** Rounds of "stop the new children, look for theirs" per tree, and newcomers per tree: a fork bomb ends the search. */
const MAX_ROUNDS = 64
const MAX_NEWCOMERS = 4096
/** How long a pass waits for its SIGSTOPs to take effect (a process in state D stops only when it leaves it). */
const STOP_WAIT_MS = 100

/**
 * The only code in gt-doctor that signals a process. For each tree, in one synchronous pass: re-read each
 * member and spare it unless it is provably the same orphan that was detected; SIGSTOP the others, so that
 * nothing in the tree can fork any more; stop (after verifying them) the children they started since
 * detection; then SIGTERM and SIGCONT them all. Then one grace for every tree; then, tree by tree, stop the
 * survivors again, stop what they started during the grace, and SIGKILL them all. Every signal's audit line
 * is on disk before the signal goes out; when the log cannot be written, nothing more is signalled.
 */
export class RemediationEngine {
  private readonly clock: Clock
  private readonly protectedPids = new Map<number, string>()
  private readonly reaperMemo = new Map<number, boolean>()
  /** Every pid a tree holds (planned or newcomer): the member that decides its fate. */
  private readonly claimed = new Map<number, Member>()
  private trees: Tree[] = []
  private failure?: {code: string}

  constructor(private readonly opts: EngineOptions) {
    this.clock = opts.clock ?? systemClock
  }

  async execute(plan: RemediationPlan): Promise<EngineResult> {
    this.protectDoctorChain()
    this.trees = this.treesOf(plan)
    const restore = this.opts.dryRun ? () => {} : deferInterrupts()
    try {
      // Every tree verified first and every intent on disk in one flush: a tree is then stopped only for
      // the time its own signals take, not for a disk flush (milliseconds each, on a busy disk tens).
      const ready = this.trees.map((tree) => this.verifyTree(tree))
      if (!this.opts.dryRun && this.intend(ready.flat(), ['SIGSTOP', 'SIGTERM', 'SIGCONT'])) {
        this.trees.forEach((tree, i) => this.freezeAndTerminate(tree, ready[i], plan.detectedAtTicks))
      }
      if (!this.opts.dryRun && this.watched().length > 0) await this.waitAndKill(plan.detectedAtTicks)
      if (!this.opts.dryRun) this.findEscapes(plan.detectedAtTicks)
    } finally {
      restore()
    }
    if (this.failure) for (const m of this.own()) if (m.status === 'pending' || m.status === 'ready') this.unrecorded(m)
    const side = await this.runSideActions(plan)
    const processes: ProcessResult[] = []
    for (const tree of this.trees) {
      for (const m of tree.members) {
        const r = this.resultOf(m)
        processes.push(r)
        if (!m.alias && (r.signals.length > 0 || r.outcome === 'zombie')) this.audit('result', m, {outcome: r.outcome, detail: r.detail})
      }
      for (const live of tree.escaped) processes.push(this.escapedResult(tree, live))
    }
    return {outcomes: this.outcomesOf(plan, processes, side), processes, auditFailure: this.failure && this.failureSummary()}
  }

  private own(): Member[] {
    return this.trees.flatMap((t) => t.members).filter((m) => !m.alias)
  }

  private watched(): Member[] {
    return this.own().filter((m) => m.status === 'watched')
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

  /** What no target may be, planned or found later: PID 1, the doctor's chain, a tmux server or pane, not yours. */
  private refusal(live: LiveProcess, detectedUid?: number): string | undefined {
    if (live.pid === 1) return 'PID 1 is never signalled'
    const mine = this.protectedPids.get(live.pid)
    if (mine) return `${mine} is never signalled`
    if (this.isTmuxServer(live)) return 'a tmux server is never signalled'
    if (this.opts.livePanes?.has(live.pid)) return 'the process of a live tmux pane is never signalled'
    const {invokingUid, allUsers} = this.opts
    if (live.uid === undefined) return 'its owner could not be read'
    if (detectedUid !== undefined && detectedUid !== live.uid) return `its owner changed from uid ${detectedUid} to uid ${live.uid}`
    if (live.uid !== invokingUid && !(allUsers && invokingUid === 0)) {
      const hint = invokingUid === 0 ? '; pass --all-users to include other users' : ''
      return `owned by uid ${live.uid}, not by you (uid ${invokingUid})${hint}`
    }
    return undefined
  }

  private verify(m: Member, live: LiveProcess | undefined): Verdict {
    const t = m.target
    if (!live) return {kind: 'gone'}
    if (t.startTicks === undefined) return {kind: 'spare', detail: 'start time unknown at detection, so PID reuse cannot be ruled out'}
    if (live.startTicks !== t.startTicks) {
      return {kind: 'spare', detail: `PID reused: PID ${t.pid} is now another process (start ticks ${live.startTicks}, detected ${t.startTicks})`}
    }
    const refused = this.refusal(live, t.uid)
    if (refused) return {kind: 'spare', detail: refused}
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

  /** Why a child of a stopped member is left alone; it has no detected identity, so it must prove it is new. */
  private newcomerRefusal(live: LiveProcess, detectedAtTicks: number | undefined): string | undefined {
    const refused = this.refusal(live)
    if (refused) return refused
    if (this.isReaper(live.pid)) return 'a subreaper (it adopts orphans) is never signalled'
    if (detectedAtTicks === undefined || live.startTicks <= detectedAtTicks) return 'running since before detection, yet not in the plan: left alone'
    return undefined
  }

  // ---- trees ---------------------------------------------------------------------------------------------

  private treesOf(plan: RemediationPlan): Tree[] {
    const trees: Tree[] = []
    for (const item of plan.items) {
      if (item.error) continue
      for (const action of item.actions) {
        if (action.kind !== 'terminate-tree') continue
        const tree: Tree = {item, action, members: [], rootAncestors: new Set(), escaped: []}
        const byPid = new Map<number, Member>()
        for (const target of action.targets) {
          if (byPid.has(target.pid)) continue
          const m: Member = {target, tree, memoryBytes: plan.memory.get(target.pid) ?? 0, status: 'pending', signals: []}
          const first = this.claimed.get(target.pid)
          if (first) m.alias = first
          else this.claimed.set(target.pid, m)
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

  /**
   * One tree, synchronously (a signal to the doctor waits for the pass to end, see deferInterrupts): stop
   * every verified member (verified again right before); stop the children they started since detection;
   * SIGTERM and SIGCONT them all. A tree is stopped for milliseconds only, and never left stopped.
   */
  private freezeAndTerminate(tree: Tree, ready: Member[], detectedAtTicks: number | undefined): void {
    if (ready.length === 0) return
    const stopped = this.stopAll(ready)
    const frozen = [...stopped, ...this.collect(tree, stopped, ['SIGSTOP', 'SIGTERM', 'SIGCONT'], detectedAtTicks)]
    this.sendAll(frozen, 'SIGTERM')
    this.sendAll(frozen, 'SIGCONT')
  }

  /** Re-reads each member of one tree, root first: the ones still provably the orphan detected are `ready`. */
  private verifyTree(tree: Tree): Member[] {
    const ready: Member[] = []
    for (const m of tree.members) {
      if (this.failure) break
      if (m.alias) {
        // Decided in an earlier finding's tree; a spared root still spares this whole tree.
        if (m === tree.members[0] && m.alias.status === 'skipped') tree.rootSpared = m.alias.detail
        continue
      }
      if (!this.judge(m, this.opts.probe.read(m.target.pid))) continue
      m.status = this.opts.dryRun ? 'planned' : 'ready'
      if (!this.opts.dryRun) ready.push(m)
    }
    return ready
  }

  /**
   * One planned member as it is now: true when it is still provably the orphan detected. Otherwise it is
   * spared, gone or dead, and that is recorded. Asked when the tree is verified and again right before the
   * member's first signal.
   */
  private judge(m: Member, live: LiveProcess | undefined): boolean {
    const tree = m.tree
    const treeSignalled = () => tree.members.some((x) => fate(x).signals.length > 0)
    if (tree.rootSpared) {
      this.spare(m, `spared with its tree: the root PID ${tree.members[0].target.pid} is spared (${tree.rootSpared})`)
      return false
    }
    const verdict = this.verify(m, live)
    if (m === tree.members[0] && live && (verdict.kind === 'ok' || verdict.kind === 'dead')) tree.rootAncestors = this.ancestorsOf(live.ppid)
    if (verdict.kind === 'gone') {
      this.watch(m, 'gone')
      m.endedWithTree = treeSignalled()
      this.audit('gone', m, {outcome: 'already-gone', detail: m.endedWithTree ? 'ended with its tree before its own signal' : 'exited before the fix reached it'})
      return false
    }
    if (m.parentInTree && fate(m.parentInTree).status === 'skipped' && verdict.kind !== 'spare') {
      this.spare(m, `its parent PID ${m.parentInTree.target.pid} in this tree is spared`)
      return false
    }
    if (verdict.kind === 'spare') {
      this.spare(m, verdict.detail, live)
      if (m === tree.members[0]) tree.rootSpared = verdict.detail
      return false
    }
    if (verdict.kind === 'dead') {
      // Already dead, waiting for its parent to reap it: a signal would do nothing.
      this.watch(m, 'zombie', verdict.live)
      m.endedWithTree = treeSignalled()
      this.audit('gone', m, {outcome: 'already-gone', detail: m.endedWithTree ? 'ended with its tree before its own signal' : 'already dead (a zombie), not signalled'})
      return false
    }
    m.sid = live!.sid
    m.pgid = live!.pgid
    return true
  }

  /**
   * The children of stopped members that the plan does not hold, round after round until a round finds
   * none: each verified like a target (it must also have started after detection), recorded, and stopped
   * in turn, so that it cannot fork either. Returns the ones now stopped.
   */
  private collect(tree: Tree, frontier: Member[], signals: Signal[], detectedAtTicks: number | undefined): Member[] {
    const found: Member[] = []
    let count = 0
    for (let round = 0; frontier.length > 0 && round < MAX_ROUNDS && !this.failure; round++) {
      const fresh: Member[] = []
      for (const parent of frontier) {
        for (const pid of this.opts.probe.children(parent.target.pid)) {
          if (this.claimed.has(pid) || count >= MAX_NEWCOMERS) continue
          const m = this.newcomer(tree, parent, pid, detectedAtTicks)
          if (m) count++
          if (m?.status === 'ready') fresh.push(m)
        }
      }
      if (fresh.length === 0 || !this.intend(fresh, signals)) break
      frontier = this.stopAll(fresh)
      found.push(...frontier)
    }
    return found
  }

  private newcomer(tree: Tree, parent: Member, pid: number, detectedAtTicks: number | undefined): Member | undefined {
    const live = this.opts.probe.read(pid)
    // Gone, dead (its stopped parent reaps it later), or no longer this member's child (its pid reused meanwhile).
    if (!live || live.ppid !== parent.target.pid || live.state === 'Z' || live.state === 'X') return undefined
    const argv = this.opts.probe.argv(pid)
    const target: ProcessTarget = {pid, startTicks: live.startTicks, ppid: live.ppid, uid: live.uid, command: argv && argv.length > 0 ? argv.join(' ') : live.comm}
    const m: Member = {target, tree, memoryBytes: 0, parentInTree: parent, status: 'pending', signals: [], newcomer: true, sid: live.sid, pgid: live.pgid}
    tree.members.push(m)
    this.claimed.set(pid, m)
    this.audit('newcomer', m, {outcome: 'found', detail: `not in the plan: a child of PID ${parent.target.pid} of this tree`, uid: live.uid})
    const refused = this.newcomerRefusal(live, detectedAtTicks)
    if (refused) this.spare(m, refused, live)
    else if (!this.failure) m.status = 'ready'
    return m
  }

  private spare(m: Member, detail: string, live?: LiveProcess): void {
    m.status = 'skipped'
    m.detail = detail
    this.audit('skip', m, {outcome: 'skipped', detail, uid: live?.uid})
  }

  private unrecorded(m: Member): void {
    m.status = 'skipped'
    m.unrecorded = true
    m.detail = `not signalled: the audit log could not be written (${this.failure?.code})`
  }

  private watch(m: Member, life: Life, live?: LiveProcess): void {
    m.status = 'watched'
    m.life = life
    if (live) {
      m.lastState = live.state
      if (life === 'zombie') m.zombieParent = live.ppid
    }
  }

  // ---- signals -------------------------------------------------------------------------------------------

  /** The intent lines for `signals` to each of `members`, on disk (fdatasync) before any of them is sent. */
  private intend(members: Member[], signals: Signal[]): boolean {
    if (members.length === 0) return true
    for (const m of members) for (const signal of signals) if (!this.audit('intent', m, {signal, outcome: 'intended'})) return false
    return this.flush()
  }

  /** Sends `signal` to each, in order, while the audit log works; returns the ones it reached (for SIGSTOP: now stopped). */
  private sendAll(members: Member[], signal: Signal): Member[] {
    const reached: Member[] = []
    for (const m of members) {
      if (this.failure) break
      if (this.send(m, signal)) reached.push(m)
    }
    return reached
  }

  /**
   * SIGSTOP to each, and then, since a stop takes effect only when the process next runs (a fork it is in
   * the middle of completes first), a short synchronous wait until each shows state T: only then is the list
   * of its children complete. One that does not stop in time (state D) cannot fork either; it goes on as is.
   */
  private stopAll(members: Member[]): Member[] {
    const stopped = this.sendAll(members, 'SIGSTOP')
    const deadline = performance.now() + STOP_WAIT_MS
    let running = stopped
    for (;;) {
      running = running.filter((m) => {
        const live = this.opts.probe.read(m.target.pid)
        return live !== undefined && live.startTicks === m.target.startTicks && !'TtZX'.includes(live.state)
      })
      if (running.length === 0 || performance.now() >= deadline) return stopped
      pauseSync(1)
    }
  }

  /** Reads the process again right before the signal: only the very process verified is signalled. */
  private send(m: Member, signal: Signal): boolean {
    const pid = m.target.pid
    const live = this.opts.probe.read(pid)
    // Its first signal: everything verified of a planned member holds right now, not only its identity.
    if (m.status === 'ready' && !m.newcomer && !this.judge(m, live)) return false
    if (!live || live.startTicks !== m.target.startTicks || live.state === 'X' || live.state === 'Z') {
      const ended = m.signals.length > 0
      m.stopped = false
      if (live?.state === 'Z' && live.startTicks === m.target.startTicks) this.watch(m, 'zombie', live)
      else this.watch(m, 'gone')
      if (!ended) {
        m.endedWithTree = m.tree.members.some((x) => x !== m && fate(x).signals.length > 0)
        this.audit('gone', m, {outcome: 'already-gone', detail: `gone before its ${signal}${m.endedWithTree ? ': it ended with its tree' : ''}`})
      }
      return false
    }
    const result = this.opts.probe.kill(pid, signal)
    if (result === 'sent') {
      if (signal === 'SIGSTOP') m.stopped = true
      if (signal === 'SIGCONT' || signal === 'SIGKILL') m.stopped = false
      if (signal === 'SIGTERM' || signal === 'SIGKILL') m.signals.push(signal)
      this.watch(m, 'alive', live)
      this.audit('signal', m, {signal, outcome: 'sent', uid: live.uid})
      return true
    }
    m.stopped = false
    if (result === 'ESRCH') {
      this.watch(m, 'gone')
      m.endedWithTree = m.tree.members.some((x) => x !== m && fate(x).signals.length > 0)
      this.audit('signal', m, {signal, outcome: 'already-gone', detail: 'ESRCH: it exited just before the signal'})
    } else {
      m.status = 'refused'
      m.detail = `${signal} refused (EPERM)`
      this.audit('signal', m, {signal, outcome: 'refused', detail: 'EPERM'})
    }
    return false
  }

  /**
   * The audit log cannot be written: nothing that could not be recorded is sent. One exception, the undo of
   * this run's own action: what it stopped is continued (a SIGTERM already sent then acts); a tree left
   * stopped would be a half-done fix nobody knows of.
   */
  private failAudit(error: unknown): void {
    if (this.failure) return
    this.failure = {code: (error as NodeJS.ErrnoException)?.code ?? 'unknown error'}
    for (const m of this.own()) {
      if (m.stopped) {
        const live = this.opts.probe.read(m.target.pid)
        if (live && live.startTicks === m.target.startTicks) this.opts.probe.kill(m.target.pid, 'SIGCONT')
        m.stopped = false
        if (m.signals.length === 0) this.unrecorded(m)
      } else if (m.status === 'ready') {
        this.unrecorded(m)
      }
    }
  }

  private failureSummary(): AuditFailure {
    const own = this.own()
    return {
      code: this.failure!.code,
      signalled: own.filter((m) => m.signals.length > 0).length,
      notSignalled: own.filter((m) => m.unrecorded).length,
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

  private async waitAndKill(detectedAtTicks: number | undefined): Promise<void> {
    const start = this.clock.now()
    await this.pollUntil(this.watched(), start + this.opts.graceMs, (m) => m.life !== 'alive')
    const survivors = this.trees.map((tree) => tree.members.filter((m) => !m.alias && m.status === 'watched' && m.life === 'alive'))
    if (!this.failure && this.intend(survivors.flat(), ['SIGSTOP', 'SIGKILL'])) {
      this.trees.forEach((tree, i) => this.freezeAndKill(tree, survivors[i], detectedAtTicks))
    }
    // With the audit log gone before any SIGKILL, there is nothing to wait for: the report says who is left.
    if (this.failure && !this.own().some((m) => m.signals.includes('SIGKILL'))) return
    await this.pollUntil(this.watched(), this.clock.now() + (this.opts.killWaitMs ?? 1000), (m) => this.settled(m))
  }

  /**
   * After the grace, one tree's survivors: stopped again, with what they started meanwhile, then SIGKILLed,
   * the deepest first. The kernel continues the stopped members of a process group whose last link outside
   * dies (SIGHUP, SIGCONT): killed root first, a survivor could run, and fork, before its own SIGKILL; killed
   * last, the root leaves only processes whose SIGKILL is already pending.
   */
  private freezeAndKill(tree: Tree, survivors: Member[], detectedAtTicks: number | undefined): void {
    if (this.failure || survivors.length === 0) return
    const stopped = this.stopAll(survivors)
    this.sendAll([...stopped, ...this.collect(tree, stopped, ['SIGSTOP', 'SIGKILL'], detectedAtTicks)].reverse(), 'SIGKILL')
  }

  /**
   * Children started after detection that left their tree before it was stopped (their parent died, a reaper
   * adopted them) still share a member's session or process group. Reported, never signalled: nothing
   * proves them part of the orphan tree the user was shown.
   */
  private findEscapes(detectedAtTicks: number | undefined): void {
    if (detectedAtTicks === undefined) return
    const doctor = this.opts.probe.read(this.opts.doctorPid)
    // The doctor's own session and group (its terminal's) hold far more than any tree.
    const shared = new Set([0, 1, doctor?.sid, doctor?.pgid])
    const byId = new Map<number, Tree>()
    const adopters = new Set([1])
    for (const tree of this.trees) {
      for (const m of tree.members) {
        if (m.alias || m.newcomer || (m.signals.length === 0 && m.status !== 'refused')) continue
        for (const id of [m.sid, m.pgid]) if (id !== undefined && !shared.has(id) && !byId.has(id)) byId.set(id, tree)
      }
      for (const pid of tree.rootAncestors) if (this.isReaper(pid)) adopters.add(pid)
    }
    if (byId.size === 0) return
    for (const adopter of adopters) {
      for (const pid of this.opts.probe.children(adopter)) {
        if (this.claimed.has(pid)) continue
        const live = this.opts.probe.read(pid)
        if (!live || live.state === 'Z' || live.startTicks <= detectedAtTicks) continue
        const tree = byId.get(live.sid ?? -1) ?? byId.get(live.pgid ?? -1)
        if (!tree) continue
        tree.escaped.push(live)
        this.record({
          event: 'escaped',
          findingId: tree.item.finding.id,
          pid,
          startTicks: live.startTicks,
          uid: live.uid,
          command: this.commandOf(live),
          outcome: 'not-signalled',
          detail: this.escapedDetail(live),
        })
      }
    }
  }

  private commandOf(live: LiveProcess): string {
    const argv = this.opts.probe.argv(live.pid)
    return argv && argv.length > 0 ? argv.join(' ') : live.comm
  }

  private escapedDetail(live: LiveProcess): string {
    return `started after detection, it left its tree before the tree was stopped (now a child of PID ${live.ppid}): not signalled`
  }

  private escapedResult(tree: Tree, live: LiveProcess): ProcessResult {
    const {pid, startTicks} = live
    return {pid, startTicks, command: this.commandOf(live), findingId: tree.item.finding.id, outcome: 'escaped', detail: this.escapedDetail(live), signals: [], freedBytes: 0}
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

  /** Not run: nothing could record it. */
  private notRun(findingId: string): SideResult {
    return {findingId, outcome: 'failed', detail: `not run: the audit log could not be written (${this.failure?.code})`}
  }

  /**
   * Only kill-pane / respawn-pane of a pane tmux still reports dead, on a server that is the user's (socket
   * file and server process, read now; any user's for root with --all-users): nothing that could end a live
   * pane, nothing on another user's server.
   */
  private async runTmux(item: PlanItem, action: Extract<FixAction, {kind: 'tmux'}>): Promise<SideResult> {
    const findingId = item.finding.id
    const entry = {event: 'tmux', findingId, socket: action.socket, args: action.args} as const
    const record = (outcome: FixOutcome['outcome'], detail: string) => {
      this.record({...entry, outcome, detail})
      return {findingId, outcome, detail}
    }
    if (this.failure) return this.notRun(findingId)
    const [command] = action.args
    const t = action.args.indexOf('-t')
    const pane = t >= 0 ? action.args[t + 1] : undefined
    if ((command !== 'kill-pane' && command !== 'respawn-pane') || !pane) {
      return record('skipped', `the engine runs only kill-pane / respawn-pane -t PANE, not: tmux ${action.args.join(' ')}`)
    }
    const tmux = this.opts.tmux ?? liveTmux
    const refused = await tmuxServerRefusal(action.socket, {
      tmux,
      sockets: this.opts.sockets ?? liveSocketOps,
      probe: this.opts.probe,
      isTmuxServer: (live) => this.isTmuxServer(live),
      invokingUid: this.opts.invokingUid,
      allUsers: this.opts.allUsers,
    })
    if (refused) return record(refused.gone ? 'already-gone' : 'skipped', refused.detail)
    const probe = await tmux(action.socket, ['display-message', '-p', '-t', pane, '#{pane_dead}'])
    if (probe.code !== 0) return record('already-gone', `pane ${pane} no longer exists`)
    if (probe.stdout.trim() !== '1') return record('skipped', `pane ${pane} is alive again: left as it is`)
    if (this.opts.dryRun) return record('planned', `would run tmux ${action.args.join(' ')}`)
    if (!this.recordIntent({...entry, event: 'intent', outcome: 'intended'})) return this.notRun(findingId)
    const r = await tmux(action.socket, action.args)
    return r.code === 0 ? record('fixed', `tmux ${action.args.join(' ')}`) : record('failed', `tmux ${command} failed: ${r.stderr.trim().split('\n')[0]}`)
  }

  /** A socket file no server listens on any more, owned by the user. */
  private async removeSocket(item: PlanItem, action: Extract<FixAction, {kind: 'remove-socket'}>): Promise<SideResult> {
    const findingId = item.finding.id
    const entry = {event: 'remove-socket', findingId, path: action.path} as const
    const record = (outcome: FixOutcome['outcome'], detail: string) => {
      this.record({...entry, outcome, detail})
      return {findingId, outcome, detail}
    }
    if (this.failure) return this.notRun(findingId)
    const ops = this.opts.sockets ?? liveSocketOps
    const info = ops.inspect(action.path)
    if (!info) return record('already-gone', `${action.path} no longer exists`)
    if (!info.isSocket) return record('skipped', `${action.path} is not a socket`)
    if (info.uid !== this.opts.invokingUid) return record('skipped', `${action.path} belongs to uid ${info.uid}`)
    if (await ops.listening(action.path)) return record('skipped', `a server answers on ${action.path}: left as it is`)
    if (this.opts.dryRun) return record('planned', `would remove ${action.path}`)
    if (!this.recordIntent({...entry, event: 'intent', outcome: 'intended'})) return this.notRun(findingId)
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
    const base = {
      pid: m.target.pid,
      startTicks: m.target.startTicks,
      command: m.target.command,
      findingId: m.tree.item.finding.id,
      signals: m.signals,
      ...(m.newcomer ? {newcomer: true} : {}),
      ...(m.unrecorded ? {unrecorded: true} : {}),
    }
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
      case 'ready':
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
    if (this.failure && !m.signals.includes('SIGKILL')) {
      return {...none, outcome: 'survived', detail: `still running after SIGTERM: no SIGKILL followed, as the audit log could not be written (${this.failure.code})`}
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
    const by = (o: ProcessResult['outcome'], list = mine) => list.filter((p) => p.outcome === o)
    const notes = (list: ProcessResult[]) => {
      // One tree spared at its root: say why once, not once per member.
      const own = list.filter((p) => !p.detail.startsWith('spared with its tree'))
      const shown = own.slice(0, 3).map((p) => `PID ${p.pid}: ${p.detail}`)
      return own.length > 3 ? [...shown, `${own.length - 3} more`] : shown
    }
    const planned = mine.filter((p) => !p.newcomer)
    const ended = by('ended', planned)
    const killed = ended.filter((p) => p.signals.includes('SIGKILL')).length
    const gone = by('already-gone', planned).length
    const newcomers = by('ended', mine.filter((p) => p.newcomer)).length
    const facts: string[] = []
    if (ended.length > 0) facts.push(`ended ${plural(ended.length, 'process', 'processes')}${killed > 0 ? ` (${killed} by SIGKILL after the grace period)` : ''}`)
    if (gone > 0) facts.push(`${plural(gone, 'process', 'processes')} had already exited`)
    if (newcomers > 0) facts.push(`${plural(newcomers, 'process', 'processes')} started after detection ended with ${newcomers === 1 ? 'its' : 'their'} tree`)

    const unrecorded = mine.filter((p) => p.unrecorded)
    if (unrecorded.length > 0) {
      return {outcome: 'failed', detail: [`${plural(unrecorded.length, 'process', 'processes')} not signalled: the audit log could not be written`, ...notes(by('survived')), ...facts].join('; ')}
    }
    const survived = by('survived')
    if (survived.length > 0) return {outcome: 'failed', detail: [...notes(survived), ...facts].join('; ')}
    const escaped = by('escaped')
    if (escaped.length > 0) {
      const pids = escaped.slice(0, 5).map((p) => p.pid).join(', ') + (escaped.length > 5 ? ` and ${escaped.length - 5} more` : '')
      const sentence = `${plural(escaped.length, 'process', 'processes')} started after detection escaped the tree before it was stopped (PID ${pids}; now children of init or a subreaper): not signalled`
      return {outcome: 'failed', detail: [sentence, ...facts].join('; ')}
    }
    const plannedNow = by('planned')
    const skipped = by('skipped')
    if (plannedNow.length > 0) {
      const spared = skipped.length > 0 ? [`would spare ${notes(skipped).join('; ')}`] : []
      return {outcome: 'planned', detail: [`would end ${plural(plannedNow.length, 'process', 'processes')} (SIGTERM, then SIGKILL after ${this.opts.graceMs / 1000} s)`, ...spared].join('; ')}
    }
    const zombies = by('zombie')
    if (skipped.length > 0 || zombies.length > 0) return {outcome: 'skipped', detail: [...notes(skipped).map((n) => `spared ${n}`), ...notes(zombies), ...facts].join('; ')}
    if (ended.length > 0 || newcomers > 0) return {outcome: 'fixed', detail: facts.join('; ')}
    return {outcome: 'already-gone', detail: 'every process had already exited'}
  }

  // ---- audit ---------------------------------------------------------------------------------------------

  /** Writes one audit line; false when it cannot be written (and from then on nothing more is signalled). */
  private record(entry: Omit<AuditEntry, 'time' | 'run'>): boolean {
    if (this.opts.dryRun) return true
    if (this.failure) return false
    try {
      this.opts.audit.write(entry)
      return true
    } catch (error) {
      this.failAudit(error)
      return false
    }
  }

  /** An intent line for an action that is not a signal, on disk before the action. */
  private recordIntent(entry: Omit<AuditEntry, 'time' | 'run'>): boolean {
    return this.record(entry) && this.flush()
  }

  private flush(): boolean {
    try {
      this.opts.audit.flush?.()
      return true
    } catch (error) {
      this.failAudit(error)
      return false
    }
  }

  private audit(
    event: 'intent' | 'signal' | 'skip' | 'gone' | 'newcomer' | 'result',
    m: Member,
    extra: {outcome: string; detail?: string; signal?: Signal; uid?: number},
  ): boolean {
    const t = m.target
    const {bootTimeMs, clockTicksPerSecond = 100} = this.opts
    return this.record({
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

/**
 * While the engine signals, a SIGINT, SIGTERM or SIGHUP to the doctor (which would kill it at once, between
 * a SIGSTOP and its SIGCONT) is handled once the synchronous pass over the tree has ended: then the doctor
 * dies of it as it would have, but never leaves a tree stopped. A command that handles the signal itself
 * (watch) keeps doing so.
 */
function deferInterrupts(): () => void {
  const handlers = new Map<NodeJS.Signals, () => void>()
  const restore = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler)
    handlers.clear()
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    if (process.listenerCount(signal) > 0) continue
    const handler = () => {
      restore()
      process.kill(process.pid, signal)
    }
    handlers.set(signal, handler)
    process.on(signal, handler)
  }
  return restore
}

/** Sleeps without yielding to the event loop: a tree's pass must not be interleaved with anything else. */
function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/** Runs a plan: the one entry point the CLI uses. */
export function executePlan(plan: RemediationPlan, opts: EngineOptions): Promise<EngineResult> {
  return new RemediationEngine(opts).execute(plan)
}
