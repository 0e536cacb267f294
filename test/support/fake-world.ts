import type {Clock, KillResult, LiveProcess, ProcessProbe, Signal} from '../../src/remediation/probe.js'

/** How a simulated process reacts to signals. */
export interface FakeProc extends LiveProcess {
  argv?: string[]
  /** SIGTERM: exit (after `termDelayMs`), or ignore it. */
  onTerm?: 'exit' | 'ignore'
  termDelayMs?: number
  /** SIGKILL: exit, or stay (a process in `D` state that SIGKILL cannot end). */
  onKill?: 'exit' | 'stuck'
  /** Processes that end at once when this one gets SIGTERM (a wrapper passing the signal on). */
  forwardsTermTo?: number[]
  /** A child subreaper (PR_SET_CHILD_SUBREAPER): orphans below it are adopted by it, not by PID 1. */
  subreaper?: boolean
  /** A parent that never reaps its dead children (they stay `Z`). */
  neverReaps?: boolean
  /** Every signal is refused (EPERM): a process the doctor may not signal after all. */
  refuses?: boolean
  /** While running (not stopped), forks a child every so many ms of fake time (a shell loop starting jobs). */
  forkEveryMs?: number
  /** What those children are like. */
  forkAs?: Partial<FakeProc>
  /** Stopped by SIGSTOP: it runs nothing (forks nothing, acts on no signal but SIGKILL) until SIGCONT. */
  stopped?: boolean
  /**
   * SIGSTOP takes effect only after this many reads of the process (it was running elsewhere, in the middle
   * of a fork); `whileStopping` runs at each of them.
   */
  stopsAfterReads?: number
  whileStopping?: () => void
  /** Forks a child the moment it is continued (a SIGCONT handler, a loop that wakes up). */
  forksOnCont?: boolean
  /** A SIGTERM that arrived while stopped: it acts on SIGCONT. */
  pendingTerm?: boolean
  lastForkAt?: number
  stopping?: boolean
  pendingKill?: boolean
}

/**
 * A process table and a clock for engine tests: signals change it the way the kernel would (children of
 * a dead process are reparented to PID 1 or the nearest subreaper, a dead child stays a zombie until its
 * parent reaps it, a stopped process acts on nothing but SIGKILL until SIGCONT), and every kill and sleep
 * is recorded in order.
 */
export class FakeWorld implements ProcessProbe {
  readonly procs = new Map<number, FakeProc>()
  /** `kill PID SIG` and `sleep MS`, in the order the engine did them (an audit sink may add its own). */
  readonly calls: string[] = []
  now = 0
  private pendingDeaths: Array<{pid: number; at: number}> = []
  private nextPid = 5000
  /** Start ticks of processes started "now": later than anything a plan was built from. */
  private nextTicks = 1_000_000
  /**
   * A hangup when a session leader exits (a tmux pane's process: tmux closes the pane's terminal) sends
   * SIGHUP (ignored here) and SIGCONT to every process of its session, stopped ones included. The kernel's
   * orphaned process group rule does the same to a group whose last link outside dies.
   */
  hangupOnLeaderExit = false
  /** Runs right before the engine reads `pid` (to simulate PID reuse or a process vanishing). */
  beforeRead = new Map<number, () => void>()
  /** Runs right before the engine signals `pid` (to simulate a process exiting between read and kill). */
  beforeKill = new Map<number, () => void>()
  readonly clock: Clock = {
    now: () => this.now,
    sleep: async (ms) => {
      this.calls.push(`sleep ${ms}`)
      this.forkUntil(this.now + ms)
      this.now += ms
      this.settle()
    },
  }

  constructor() {
    this.add({
      pid: 1,
      ppid: 0,
      startTicks: 1,
      uid: 0,
      state: 'S',
      comm: 'systemd',
      argv: ['/sbin/init'],
      sid: 1,
      pgid: 1,
    })
  }

  /** A process; it joins its parent's session and group unless told otherwise (a session leader: sid = pid). */
  add(p: Partial<FakeProc> & {pid: number}): FakeProc {
    const parent = this.procs.get(p.ppid ?? 1)
    const inherit = parent && parent.pid !== 1 ? {sid: parent.sid, pgid: parent.pgid} : {sid: p.pid, pgid: p.pid}
    const proc: FakeProc = {
      ppid: 1,
      startTicks: p.pid * 10,
      uid: 1000,
      state: 'S',
      comm: 'node',
      onTerm: 'exit',
      onKill: 'exit',
      ...inherit,
      ...p,
    }
    this.procs.set(proc.pid, proc)
    return proc
  }

  /** A child that `parent` starts now (after any plan was made), unless `parent` is stopped. */
  fork(parent: number, p: Partial<FakeProc> = {}): FakeProc | undefined {
    const mother = this.procs.get(parent)
    if (!mother || mother.stopped || mother.state === 'Z') return undefined
    const pid = p.pid ?? this.nextPid++
    return this.add({
      comm: 'sleep',
      argv: ['sleep', '60'],
      uid: mother.uid,
      ...p,
      pid,
      ppid: parent,
      startTicks: p.startTicks ?? this.nextTicks++,
    })
  }

  read(pid: number): LiveProcess | undefined {
    const hook = this.beforeRead.get(pid)
    if (hook) {
      this.beforeRead.delete(pid)
      hook()
    }
    const p = this.procs.get(pid)
    if (p?.stopsAfterReads !== undefined && p.stopping) {
      p.whileStopping?.()
      if (--p.stopsAfterReads <= 0) {
        p.stopping = false
        p.stopped = true
        p.state = 'T'
      }
    }
    return (
      p && {
        pid: p.pid,
        startTicks: p.startTicks,
        ppid: p.ppid,
        uid: p.uid,
        state: p.state,
        comm: p.comm,
        sid: p.sid,
        pgid: p.pgid,
      }
    )
  }

  argv(pid: number): string[] | undefined {
    return this.procs.get(pid)?.argv
  }

  children(pid: number): number[] {
    return [...this.procs.values()].filter((p) => p.ppid === pid && p.pid !== pid).map((p) => p.pid)
  }

  kill(pid: number, signal: Signal): KillResult {
    const hook = this.beforeKill.get(pid)
    if (hook) {
      this.beforeKill.delete(pid)
      hook()
    }
    this.calls.push(`kill ${pid} ${signal}`)
    const p = this.procs.get(pid)
    if (!p) return 'ESRCH'
    if (p.refuses) return 'EPERM'
    if (p.state === 'Z') return 'sent'
    switch (signal) {
      case 'SIGSTOP':
        if (p.stopsAfterReads) {
          p.stopping = true
          break
        }
        p.stopped = true
        if (p.state !== 'D') p.state = 'T'
        break
      case 'SIGCONT':
        this.cont(p)
        break
      case 'SIGTERM':
        if (p.stopped) p.pendingTerm = true
        else this.term(p)
        break
      case 'SIGKILL':
        if (p.onKill === 'stuck') p.state = 'D'
        else this.exit(pid)
        break
    }
    return 'sent'
  }

  private cont(p: FakeProc): void {
    if (!p.stopped) return
    p.stopped = false
    if (p.state === 'T') p.state = 'S'
    p.lastForkAt = this.now
    this.reapZombiesOf(p)
    if (p.pendingKill) return this.exit(p.pid)
    if (p.forksOnCont) this.fork(p.pid)
    if (p.pendingTerm) {
      p.pendingTerm = false
      this.term(p)
    }
  }

  private term(p: FakeProc): void {
    for (const child of p.forwardsTermTo ?? []) this.exit(child)
    if (p.onTerm !== 'exit') return
    this.pendingDeaths.push({pid: p.pid, at: this.now + (p.termDelayMs ?? 0)})
    if (!p.termDelayMs) this.settle()
  }

  /** The process ends now: a zombie while a live parent that does not reap (now) holds it, gone otherwise. */
  exit(pid: number): void {
    const p = this.procs.get(pid)
    if (!p || p.state === 'Z') return
    const adopter = this.adopterOf(pid)
    for (const child of [...this.procs.values()]) {
      if (child.ppid !== pid) continue
      // An orphaned zombie is reaped by its new parent at once.
      if (child.state === 'Z') this.procs.delete(child.pid)
      else child.ppid = adopter
    }
    const parent = this.procs.get(p.ppid)
    if (parent && (parent.neverReaps || parent.stopped)) {
      p.state = 'Z'
      p.stopped = false
    } else {
      this.procs.delete(pid)
    }
    if (this.hangupOnLeaderExit && p.pid === p.sid)
      for (const q of [...this.procs.values()]) if (q.sid === p.sid && q.stopped) this.cont(q)
  }

  /** Replaces the process at `pid` by a new one (PID reuse): same pid, another start time. */
  reuse(pid: number, p: Partial<FakeProc> = {}): void {
    this.procs.delete(pid)
    this.add({pid, startTicks: 999_999, comm: 'bash', ppid: 1, ...p})
  }

  private reapZombiesOf(parent: FakeProc): void {
    if (parent.neverReaps) return
    for (const child of [...this.procs.values()])
      if (child.ppid === parent.pid && child.state === 'Z') this.procs.delete(child.pid)
  }

  private adopterOf(pid: number): number {
    let cur = this.procs.get(pid)?.ppid
    while (cur !== undefined && cur > 1) {
      const p = this.procs.get(cur)
      if (!p) break
      if (p.subreaper || p.argv?.join(' ') === 'systemd --user') return cur
      cur = p.ppid
    }
    return 1
  }

  /** Running forkers start their children as fake time passes up to `until`. */
  private forkUntil(until: number): void {
    for (const p of [...this.procs.values()]) {
      if (!p.forkEveryMs || p.stopped || p.state === 'Z') continue
      let at = (p.lastForkAt ?? this.now) + p.forkEveryMs
      for (; at <= until; at += p.forkEveryMs) this.fork(p.pid, p.forkAs)
      p.lastForkAt = at - p.forkEveryMs
    }
  }

  private settle(): void {
    const due = this.pendingDeaths.filter((d) => d.at <= this.now)
    this.pendingDeaths = this.pendingDeaths.filter((d) => d.at > this.now)
    for (const d of due) {
      const p = this.procs.get(d.pid)
      // A SIGTERM handler does not run while its process is stopped.
      if (p?.stopped) this.pendingDeaths.push({pid: d.pid, at: this.now + 1})
      else this.exit(d.pid)
    }
  }

  kills(signal?: Signal): number[] {
    return this.calls
      .filter((c) => c.startsWith('kill ') && (!signal || c.endsWith(` ${signal}`)))
      .map((c) => Number(c.split(' ')[1]))
  }

  /** The kills that end a process (SIGTERM, SIGKILL), as `kill PID SIG`: what the tests before freezing counted. */
  ending(): string[] {
    return this.calls.filter((c) => / SIG(TERM|KILL)$/.test(c))
  }
}
