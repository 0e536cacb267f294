/**
 * While the engine signals, a SIGINT, SIGTERM or SIGHUP to the doctor (which would kill it at once, between
 * a SIGSTOP and its SIGCONT) is handled once the synchronous pass over the tree has ended: then the doctor
 * dies of it as it would have, but never leaves a tree stopped. A command that handles the signal itself
 * (watch) keeps doing so.
 */
export function deferInterrupts(): () => void {
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
export function pauseSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}
