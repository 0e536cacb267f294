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
