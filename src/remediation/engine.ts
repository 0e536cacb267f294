/**
 * The remediation engine: the only code in gt-doctor that signals a process.
 *
 * Why this file is over 300 lines: it is one run's state machine. Verifying, freezing, signalling,
 * collecting the children started since detection and undoing a stop when the audit log fails all read
 * and write the same members' status, so they stay in one class; what does not share that state lives in
 * its own file (the verdicts in verify.ts, the signals in signals.ts, the waiting in waiting.ts, the side
 * actions in side-actions.ts, the audit lines in recorder.ts, the outcomes and their sentences in outcome.ts).
 */
import type {ProcessTarget} from '../checks/api.js'
import type {Rules} from '../rules/rules.js'
import type {AuditSink} from './audit.js'
import {escapedResult, findEscapes} from './escapes.js'
import {ancestorsOf, liveIdentity} from './identity.js'
import {deferInterrupts} from './interrupts.js'
import {fate, treeSignalled, treesOf, watch, type Member, type Tree} from './members.js'
import {outcomesOf, resultOf, type AuditFailure, type EngineResult, type ProcessResult} from './outcome.js'
import type {RemediationPlan} from './plan.js'
import {systemClock, type Clock, type LiveProcess, type ProcessProbe, type Signal} from './probe.js'
import {Recorder} from './recorder.js'
import {liveSocketOps, liveTmux, type SocketOps, type TmuxRunner} from './server-ownership.js'
import {runSideActions, type ContainerRunner} from './side-actions.js'
import {sendAll, stopAll, type SignalContext} from './signals.js'
import {terminationRequest, type TerminationRequest} from './termination.js'
import {newcomerRefusal, verify, type Identity, type Lineage} from './verify.js'
import {pollUntil, settled} from './waiting.js'

export {describeAuditFailure, type AuditFailure, type EngineResult, type ProcessResult} from './outcome.js'

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
  /** How container actions ask docker / podman (default: the binary on PATH). */
  containers?: ContainerRunner
  /** To turn start ticks into a start time in the audit log. */
  bootTimeMs?: number
  clockTicksPerSecond?: number
  /**
   * The own processes of the live tmux panes at detection: never signalled, however they turn up (`session
   * stop`, which ends panes on purpose, leaves it out).
   */
  livePanes?: ReadonlySet<number>
}

/** Rounds of "stop the new children, look for theirs" per tree, and newcomers per tree: a fork bomb ends the search. */
const MAX_ROUNDS = 64
const MAX_NEWCOMERS = 4096

/**
 * For each tree, in one synchronous pass: re-read each member and spare it unless it is provably the same
 * orphan that was detected; SIGSTOP the others, so that nothing in the tree can fork any more; stop (after
 * verifying them) the children they started since detection; then SIGTERM and SIGCONT them all. Then one
 * grace for every tree; then, tree by tree, stop the survivors again, stop what they started during the
 * grace, and SIGKILL them all. Every signal's audit line is on disk before the signal goes out; when the log
 * cannot be written, nothing more is signalled.
 */
export class RemediationEngine {
  private readonly clock: Clock
  /** Every pid a tree holds (planned or newcomer): the member that decides its fate. */
  private readonly claimed = new Map<number, Member>()
  private trees: Tree[] = []
  private readonly recorder: Recorder
  /** Read when the run starts, not before: the doctor's chain as it is then. */
  private identity!: Identity
  private readonly signalling: SignalContext

  constructor(private readonly opts: EngineOptions) {
    this.clock = opts.clock ?? systemClock
    this.recorder = new Recorder({...opts, onFail: () => this.failAudit()})
    this.signalling = {probe: opts.probe, recorder: this.recorder, reverify: (m, live) => this.judge(m, live)}
  }

  async execute(plan: TerminationRequest): Promise<EngineResult> {
    this.identity = liveIdentity(this.opts)
    this.trees = treesOf(plan, this.claimed)
    const restore = this.opts.dryRun ? () => {} : deferInterrupts()
    try {
      // Every tree verified first and every intent on disk in one flush: a tree is then stopped only for
      // the time its own signals take, not for a disk flush (milliseconds each, on a busy disk tens).
      const ready = this.trees.map((tree) => this.verifyTree(tree))
      if (!this.opts.dryRun && this.recorder.intend(ready.flat(), ['SIGSTOP', 'SIGTERM', 'SIGCONT'])) {
        this.trees.forEach((tree, i) => this.freezeAndTerminate(tree, ready[i], plan.detectedAtTicks))
      }
      if (!this.opts.dryRun && this.watched().length > 0) await this.waitAndKill(plan.detectedAtTicks)
      if (!this.opts.dryRun) {
        const {probe, doctorPid} = this.opts
        findEscapes({
          trees: this.trees,
          claimed: this.claimed,
          probe,
          isReaper: this.identity.isReaper,
          doctorPid,
          detectedAtTicks: plan.detectedAtTicks,
          recorder: this.recorder,
        })
      }
    } finally {
      restore()
    }
    if (this.recorder.failure)
      for (const m of this.own()) if (m.status === 'pending' || m.status === 'ready') this.unrecorded(m)
    const side = await runSideActions(plan, {
      recorder: this.recorder,
      dryRun: this.opts.dryRun,
      tmux: this.opts.tmux ?? liveTmux,
      sockets: this.opts.sockets ?? liveSocketOps,
      containers: this.opts.containers,
      clientDone: (client) => {
        const m = this.claimed.get(client.pid)
        if (!m || (client.startTicks !== undefined && m.target.startTicks !== client.startTicks)) return false
        const {outcome} = this.resultOf(m)
        return outcome === 'ended' || outcome === 'already-gone'
      },
      probe: this.opts.probe,
      isTmuxServer: this.identity.isTmuxServer,
      invokingUid: this.opts.invokingUid,
      allUsers: this.opts.allUsers,
    })
    const processes: ProcessResult[] = []
    for (const tree of this.trees) {
      for (const m of tree.members) {
        const r = this.resultOf(m)
        processes.push(r)
        if (!m.alias && (r.signals.length > 0 || r.outcome === 'zombie'))
          this.recorder.member('result', m, {outcome: r.outcome, detail: r.detail})
      }
      for (const live of tree.escaped) processes.push(escapedResult(tree, live, this.opts.probe))
    }
    return {
      outcomes: outcomesOf(plan, processes, side, this.opts.graceMs),
      processes,
      sideResults: side,
      auditFailure: this.recorder.failure && this.failureSummary(),
    }
  }

  /** What became of one member, as this run's reapers and audit log see it. */
  private resultOf(m: Member): ProcessResult {
    return resultOf(m, (x) => settled(x, this.identity.isReaper), this.recorder.failure?.code)
  }

  private own(): Member[] {
    return this.trees.flatMap((t) => t.members).filter((m) => !m.alias)
  }

  private watched(): Member[] {
    return this.own().filter((m) => m.status === 'watched')
  }

  /** What a member's tree knows of where it may have been adopted. */
  private lineage(m: Member): Lineage {
    return {
      adopter: (ppid) => {
        const adopter = m.tree.members.find((x) => x !== m && x.target.pid === ppid)
        return adopter && (fate(adopter).status === 'skipped' ? 'spared' : 'kept')
      },
      rootAncestors: m.tree.rootAncestors,
      describe: (ppid) => {
        const parent = this.opts.probe.read(ppid)
        return parent ? `${parent.comm} (PID ${ppid}), a live process` : `PID ${ppid}`
      },
    }
  }

  // ---- trees ---------------------------------------------------------------------------------------------

  /**
   * One tree, synchronously (a signal to the doctor waits for the pass to end, see deferInterrupts): stop
   * every verified member (verified again right before); stop the children they started since detection;
   * SIGTERM and SIGCONT them all. A tree is stopped for milliseconds only, and never left stopped.
   */
  private freezeAndTerminate(tree: Tree, ready: Member[], detectedAtTicks: number | undefined): void {
    if (ready.length === 0) return
    const stopped = stopAll(this.signalling, ready)
    const frozen = [...stopped, ...this.collect(tree, stopped, ['SIGSTOP', 'SIGTERM', 'SIGCONT'], detectedAtTicks)]
    sendAll(this.signalling, frozen, 'SIGTERM')
    sendAll(this.signalling, frozen, 'SIGCONT')
  }

  /** Re-reads each member of one tree, root first: the ones still provably the orphan detected are `ready`. */
  private verifyTree(tree: Tree): Member[] {
    const ready: Member[] = []
    for (const m of tree.members) {
      if (this.recorder.failure) break
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
    if (tree.rootSpared) {
      this.spare(m, `spared with its tree: the root PID ${tree.members[0].target.pid} is spared (${tree.rootSpared})`)
      return false
    }
    const verdict = verify(m.target, live, this.identity, this.lineage(m))
    if (m === tree.members[0] && live && (verdict.kind === 'ok' || verdict.kind === 'dead'))
      tree.rootAncestors = ancestorsOf(live.ppid, this.opts.probe)
    if (verdict.kind === 'gone') {
      watch(m, 'gone')
      m.endedWithTree = treeSignalled(m)
      this.recorder.member('gone', m, {
        outcome: 'already-gone',
        detail: m.endedWithTree ? 'ended with its tree before its own signal' : 'exited before the fix reached it',
      })
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
      watch(m, 'zombie', verdict.live)
      m.endedWithTree = treeSignalled(m)
      this.recorder.member('gone', m, {
        outcome: 'already-gone',
        detail: m.endedWithTree
          ? 'ended with its tree before its own signal'
          : 'already dead (a zombie), not signalled',
      })
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
    for (let round = 0; frontier.length > 0 && round < MAX_ROUNDS && !this.recorder.failure; round++) {
      const fresh: Member[] = []
      for (const parent of frontier) {
        for (const pid of this.opts.probe.children(parent.target.pid)) {
          if (this.claimed.has(pid) || count >= MAX_NEWCOMERS) continue
          const m = this.newcomer(tree, parent, pid, detectedAtTicks)
          if (m) count++
          if (m?.status === 'ready') fresh.push(m)
        }
      }
      if (fresh.length === 0 || !this.recorder.intend(fresh, signals)) break
      frontier = stopAll(this.signalling, fresh)
      found.push(...frontier)
    }
    return found
  }

  private newcomer(tree: Tree, parent: Member, pid: number, detectedAtTicks: number | undefined): Member | undefined {
    const live = this.opts.probe.read(pid)
    // Gone, dead (its stopped parent reaps it later), or no longer this member's child (its pid reused meanwhile).
    if (!live || live.ppid !== parent.target.pid || live.state === 'Z' || live.state === 'X') return undefined
    const argv = this.opts.probe.argv(pid)
    const target: ProcessTarget = {
      pid,
      startTicks: live.startTicks,
      ppid: live.ppid,
      uid: live.uid,
      command: argv && argv.length > 0 ? argv.join(' ') : live.comm,
    }
    const m: Member = {
      target,
      tree,
      memoryBytes: 0,
      parentInTree: parent,
      status: 'pending',
      signals: [],
      newcomer: true,
      sid: live.sid,
      pgid: live.pgid,
    }
    tree.members.push(m)
    this.claimed.set(pid, m)
    this.recorder.member('newcomer', m, {
      outcome: 'found',
      detail: `not in the plan: a child of PID ${parent.target.pid} of this tree`,
      uid: live.uid,
    })
    const refused = newcomerRefusal(live, this.identity, detectedAtTicks)
    if (refused) this.spare(m, refused, live)
    else if (!this.recorder.failure) m.status = 'ready'
    return m
  }

  private spare(m: Member, detail: string, live?: LiveProcess): void {
    m.status = 'skipped'
    m.detail = detail
    this.recorder.member('skip', m, {outcome: 'skipped', detail, uid: live?.uid})
  }

  private unrecorded(m: Member): void {
    m.status = 'skipped'
    m.unrecorded = true
    m.detail = `not signalled: the audit log could not be written (${this.recorder.failure?.code})`
  }

  /**
   * The audit log cannot be written: nothing that could not be recorded is sent. One exception, the undo of
   * this run's own action: what it stopped is continued (a SIGTERM already sent then acts); a tree left
   * stopped would be a half-done fix nobody knows of.
   */
  private failAudit(): void {
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
      code: this.recorder.failure!.code,
      signalled: own.filter((m) => m.signals.length > 0).length,
      notSignalled: own.filter((m) => m.unrecorded).length,
    }
  }

  private async waitAndKill(detectedAtTicks: number | undefined): Promise<void> {
    const start = this.clock.now()
    await pollUntil(this.watched(), start + this.opts.graceMs, (m) => m.life !== 'alive', this.waitOpts())
    const survivors = this.trees.map((tree) =>
      tree.members.filter((m) => !m.alias && m.status === 'watched' && m.life === 'alive'),
    )
    if (!this.recorder.failure && this.recorder.intend(survivors.flat(), ['SIGSTOP', 'SIGKILL'])) {
      this.trees.forEach((tree, i) => this.freezeAndKill(tree, survivors[i], detectedAtTicks))
    }
    // With the audit log gone before any SIGKILL, there is nothing to wait for: the report says who is left.
    if (this.recorder.failure && !this.own().some((m) => m.signals.includes('SIGKILL'))) return
    await pollUntil(
      this.watched(),
      this.clock.now() + (this.opts.killWaitMs ?? 1000),
      (m) => settled(m, this.identity.isReaper),
      this.waitOpts(),
    )
  }

  private waitOpts() {
    return {probe: this.opts.probe, clock: this.clock, pollMs: this.opts.pollMs}
  }

  /**
   * After the grace, one tree's survivors: stopped again, with what they started meanwhile, then SIGKILLed,
   * the deepest first. The kernel continues the stopped members of a process group whose last link outside
   * dies (SIGHUP, SIGCONT): killed root first, a survivor could run, and fork, before its own SIGKILL; killed
   * last, the root leaves only processes whose SIGKILL is already pending.
   */
  private freezeAndKill(tree: Tree, survivors: Member[], detectedAtTicks: number | undefined): void {
    if (this.recorder.failure || survivors.length === 0) return
    const stopped = stopAll(this.signalling, survivors)
    sendAll(
      this.signalling,
      [...stopped, ...this.collect(tree, stopped, ['SIGSTOP', 'SIGKILL'], detectedAtTicks)].reverse(),
      'SIGKILL',
    )
  }
}

/** Ends what a termination request names: the one way anything in gt-doctor acts. */
export function executeRequest(request: TerminationRequest, opts: EngineOptions): Promise<EngineResult> {
  return new RemediationEngine(opts).execute(request)
}

/** Runs `--fix`'s plan, through the adapter from findings to a termination request. */
export function executePlan(plan: RemediationPlan, opts: EngineOptions): Promise<EngineResult> {
  return executeRequest(terminationRequest(plan), opts)
}
