import {pauseSync} from './interrupts.js'
import {treeSignalled, watch, type Member} from './members.js'
import type {ProcessProbe, Signal} from './probe.js'
import type {Recorder} from './recorder.js'

/** How a pass waits for its SIGSTOPs to take effect (a process in state D stops only when it leaves it). */
const STOP_WAIT_MS = 100

export interface SignalContext {
  probe: Pick<ProcessProbe, 'read' | 'kill'>
  recorder: Recorder
  /**
   * A planned member right before its first signal: true when everything verified of it still holds now
   * (otherwise it has been spared, or recorded gone or dead).
   */
  reverify(m: Member, live: ReturnType<ProcessProbe['read']>): boolean
}

/** Sends `signal` to each, in order, while the audit log works; returns the ones it reached (for SIGSTOP: now stopped). */
export function sendAll(ctx: SignalContext, members: Member[], signal: Signal): Member[] {
  const reached: Member[] = []
  for (const m of members) {
    if (ctx.recorder.failure) break
    if (send(ctx, m, signal)) reached.push(m)
  }
  return reached
}

/**
 * SIGSTOP to each, and then, since a stop takes effect only when the process next runs (a fork it is in
 * the middle of completes first), a short synchronous wait until each shows state T: only then is the list
 * of its children complete. One that does not stop in time (state D) cannot fork either; it goes on as is.
 */
export function stopAll(ctx: SignalContext, members: Member[]): Member[] {
  const stopped = sendAll(ctx, members, 'SIGSTOP')
  const deadline = performance.now() + STOP_WAIT_MS
  let running = stopped
  for (;;) {
    running = running.filter((m) => {
      const live = ctx.probe.read(m.target.pid)
      return live !== undefined && live.startTicks === m.target.startTicks && !'TtZX'.includes(live.state)
    })
    if (running.length === 0 || performance.now() >= deadline) return stopped
    pauseSync(1)
  }
}

/** Reads the process again right before the signal: only the very process verified is signalled. */
function send(ctx: SignalContext, m: Member, signal: Signal): boolean {
  const pid = m.target.pid
  const live = ctx.probe.read(pid)
  // Its first signal: everything verified of a planned member holds right now, not only its identity.
  if (m.status === 'ready' && !m.newcomer && !ctx.reverify(m, live)) return false
  if (!live || live.startTicks !== m.target.startTicks || live.state === 'X' || live.state === 'Z') {
    const ended = m.signals.length > 0
    m.stopped = false
    if (live?.state === 'Z' && live.startTicks === m.target.startTicks) watch(m, 'zombie', live)
    else watch(m, 'gone')
    if (!ended) {
      m.endedWithTree = treeSignalled(m)
      ctx.recorder.member('gone', m, {
        outcome: 'already-gone',
        detail: `gone before its ${signal}${m.endedWithTree ? ': it ended with its tree' : ''}`,
      })
    }
    return false
  }
  const result = ctx.probe.kill(pid, signal)
  if (result === 'sent') {
    if (signal === 'SIGSTOP') m.stopped = true
    if (signal === 'SIGCONT' || signal === 'SIGKILL') m.stopped = false
    if (signal === 'SIGTERM' || signal === 'SIGKILL') m.signals.push(signal)
    watch(m, 'alive', live)
    ctx.recorder.member('signal', m, {signal, outcome: 'sent', uid: live.uid})
    return true
  }
  m.stopped = false
  if (result === 'ESRCH') {
    watch(m, 'gone')
    m.endedWithTree = treeSignalled(m)
    ctx.recorder.member('signal', m, {
      signal,
      outcome: 'already-gone',
      detail: 'ESRCH: it exited just before the signal',
    })
  } else {
    m.status = 'refused'
    m.detail = `${signal} refused (EPERM)`
    ctx.recorder.member('signal', m, {signal, outcome: 'refused', detail: 'EPERM'})
  }
  return false
}
