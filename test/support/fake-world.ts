import type {Clock, KillResult, LiveProcess, ProcessProbe} from '../../src/remediation/probe.js'

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
}

/**
 * A process table and a clock for engine tests: signals change it the way the kernel would (children of
 * a dead process are reparented to PID 1 or the nearest subreaper, a dead child stays a zombie until its
 * parent reaps it), and every kill and sleep is recorded in order.
 */
export class FakeWorld implements ProcessProbe {
  readonly procs = new Map<number, FakeProc>()
  /** `kill PID SIG` and `sleep MS`, in the order the engine did them. */
  readonly calls: string[] = []
  now = 0
  private pendingDeaths: Array<{pid: number; at: number}> = []
  /** Runs right before the engine reads `pid` (to simulate PID reuse or a process vanishing). */
  beforeRead = new Map<number, () => void>()
  /** Runs right before the engine signals `pid` (to simulate a process exiting between read and kill). */
  beforeKill = new Map<number, () => void>()
  readonly clock: Clock = {
    now: () => this.now,
    sleep: async (ms) => {
      this.calls.push(`sleep ${ms}`)
      this.now += ms
      this.settle()
    },
  }

  constructor() {
    this.add({pid: 1, ppid: 0, startTicks: 1, uid: 0, state: 'S', comm: 'systemd', argv: ['/sbin/init']})
  }

  add(p: Partial<FakeProc> & {pid: number}): FakeProc {
    const proc: FakeProc = {ppid: 1, startTicks: p.pid * 10, uid: 1000, state: 'S', comm: 'node', onTerm: 'exit', onKill: 'exit', ...p}
    this.procs.set(proc.pid, proc)
    return proc
  }

  read(pid: number): LiveProcess | undefined {
    const hook = this.beforeRead.get(pid)
    if (hook) {
      this.beforeRead.delete(pid)
      hook()
    }
    const p = this.procs.get(pid)
    return p && {pid: p.pid, startTicks: p.startTicks, ppid: p.ppid, uid: p.uid, state: p.state, comm: p.comm}
  }

  argv(pid: number): string[] | undefined {
    return this.procs.get(pid)?.argv
  }

  kill(pid: number, signal: 'SIGTERM' | 'SIGKILL'): KillResult {
    const hook = this.beforeKill.get(pid)
    if (hook) {
      this.beforeKill.delete(pid)
      hook()
    }
    this.calls.push(`kill ${pid} ${signal}`)
    const p = this.procs.get(pid)
    if (!p) return 'ESRCH'
    if (p.state === 'Z') return 'sent'
    if (signal === 'SIGTERM') for (const child of p.forwardsTermTo ?? []) this.exit(child)
    if (signal === 'SIGTERM' && p.onTerm === 'exit') this.pendingDeaths.push({pid, at: this.now + (p.termDelayMs ?? 0)})
    if (signal === 'SIGKILL') {
      if (p.onKill === 'stuck') p.state = 'D'
      else this.exit(pid)
    }
    if (signal === 'SIGTERM' && p.onTerm === 'exit' && !p.termDelayMs) this.settle()
    return 'sent'
  }

  /** The process ends now: a zombie while a live non-reaping parent holds it, gone otherwise. */
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
    if (parent && parent.neverReaps) p.state = 'Z'
    else this.procs.delete(pid)
  }

  /** Replaces the process at `pid` by a new one (PID reuse): same pid, another start time. */
  reuse(pid: number, p: Partial<FakeProc> = {}): void {
    this.procs.delete(pid)
    this.add({pid, startTicks: 999_999, comm: 'bash', ppid: 1, ...p})
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

  private settle(): void {
    const due = this.pendingDeaths.filter((d) => d.at <= this.now)
    this.pendingDeaths = this.pendingDeaths.filter((d) => d.at > this.now)
    for (const d of due) this.exit(d.pid)
  }

  kills(signal?: 'SIGTERM' | 'SIGKILL'): number[] {
    return this.calls.filter((c) => c.startsWith('kill ') && (!signal || c.endsWith(signal))).map((c) => Number(c.split(' ')[1]))
  }
}
