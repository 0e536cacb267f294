import vm from 'node:vm'

/**
 * Runs `fn` so that a synchronous infinite loop in it is interrupted after `timeoutMs`.
 *
 * V8 can only stop running JavaScript through a watchdog that terminates the script a vm call is
 * executing, and that watchdog covers everything called from it, including functions of the main realm.
 * So the call goes through a one-line script run with a timeout in one reusable context (about 0.07 ms a
 * call). What it cannot stop: a loop that starts after the function's first `await` (the runner's
 * timer then reports the check as timed out, but the loop keeps the process busy) or one inside native code.
 */
const script = new vm.Script('run()', {filename: 'gt-doctor-isolated-check'})
const sandbox = vm.createContext({run: (): unknown => undefined})

export class CheckTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms (still running synchronously; interrupted)`)
    this.name = 'CheckTimeoutError'
  }
}

export function runInterruptible<T>(fn: () => T, timeoutMs: number): T {
  const previous = sandbox.run
  sandbox.run = fn
  try {
    return script.runInContext(sandbox, {timeout: Math.max(1, Math.round(timeoutMs)), breakOnSigint: false}) as T
  } catch (error) {
    if ((error as {code?: string})?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new CheckTimeoutError(timeoutMs)
    throw error
  } finally {
    sandbox.run = previous
  }
}

/** What a check that called process.exit() is reported with. */
export class ExitCalledError extends Error {
  constructor(readonly code: unknown) {
    super(
      `called process.exit(${code === undefined ? '' : String(code)}): a check returns findings and may not end the doctor`,
    )
    this.name = 'ExitCalledError'
  }
}

interface Watch {
  error?: ExitCalledError
}

const watching = new Set<Watch>()
let saved: typeof process.exit | undefined

/** Stands in for process.exit while foreign code runs: throws instead, and remembers the call. */
function exitGuard(code?: unknown): never {
  if (watching.size === 0) return (saved ?? process.exit).call(process, code as number) as never
  const error = new ExitCalledError(code)
  for (const w of watching) w.error ??= error
  throw error
}

/**
 * Runs foreign code (a plugin's or local check's detect or fix, a local module's top level) with
 * process.exit() turned into a thrown ExitCalledError: a check calling process.exit(0) would otherwise end
 * the doctor with exit 0 and no report. The call is remembered, so a check that catches the throw is still
 * reported as crashed (`remember: false` leaves that to whoever catches the throw: oclif's runHook records a
 * hook's failure per plugin). process.exit is restored once `fn` has returned, or its promise settled (at
 * the latest after `maxMs`, when the runner has given up on it). What it cannot catch: a call from a timer
 * that fires after that.
 */
export function withoutProcessExit<T>(fn: () => T, maxMs: number, opts: {remember?: boolean} = {}): T {
  const watch: Watch = {}
  if (watching.size === 0) {
    saved = process.exit
    process.exit = exitGuard as typeof process.exit
  }
  watching.add(watch)
  let timer: NodeJS.Timeout | undefined
  const release = () => {
    clearTimeout(timer)
    if (!watching.delete(watch) || watching.size > 0) return
    if (process.exit === exitGuard) process.exit = saved!
    saved = undefined
  }
  const settle = <V>(value: V): V => {
    release()
    if (watch.error && opts.remember !== false) throw watch.error
    return value
  }
  let result: T
  try {
    result = fn()
  } catch (error) {
    release()
    throw watch.error ?? error
  }
  if (!(result instanceof Promise)) return settle(result)
  timer = setTimeout(release, maxMs)
  timer.unref()
  return result.then(settle, (error) => {
    release()
    throw watch.error ?? error
  }) as T
}

/** The doctor's own process.exit, even while foreign code runs with it guarded (watch's second Ctrl-C). */
export function exitNow(code: number): never {
  return (saved ?? process.exit).call(process, code) as never
}
