/**
 * A JavaScript configuration (gt-doctor.config.{js,mjs,cjs}) is imported in a worker thread: a top-level
 * `for(;;)` is stopped at a time limit (worker.terminate()), `process.exit()` ends only the worker (and is
 * reported), an allocation spree hits the worker's heap limit, and the exported value comes back by
 * structured clone, so only data can cross: the configuration is JSON data, a function in it is an error.
 */
import {Worker} from 'node:worker_threads'
import {pathToFileURL} from 'node:url'

export const JS_CONFIG_TIMEOUT_MS = 5000

// CommonJS, run by the worker with eval: true (a file beside this one would not exist under the test runner).
const LOADER = String.raw`
const {parentPort, workerData} = require('node:worker_threads')
const exited = new Int32Array(workerData.exited)
const exit = process.exit
process.exit = function (code) {
  Atomics.store(exited, 0, 1)
  return exit.call(process, code)
}
// The first value in the export that JSON cannot hold, as "a function at rules.x[0]".
function notData(value, at, seen) {
  const where = at === '' ? 'as its default export' : 'at ' + at
  const t = typeof value
  if (value === null || value === undefined || t === 'string' || t === 'boolean' || t === 'number') return undefined
  if (t !== 'object') return 'a ' + t + ' ' + where
  if (seen.has(value)) return 'a circular reference ' + where
  const proto = Object.getPrototypeOf(value)
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return 'a ' + ((value.constructor && value.constructor.name) || 'non-plain object') + ' ' + where
  seen.add(value)
  for (const key of Object.keys(value)) {
    const path = Array.isArray(value) ? at + '[' + key + ']' : at === '' ? key : at + '.' + key
    const found = notData(value[key], path, seen)
    if (found) return found
  }
  seen.delete(value)
  return undefined
}
import(workerData.url).then(
  async (mod) => {
    const value = await mod.default
    const found = notData(value, '', new Set())
    parentPort.postMessage(found ? {problem: 'exports ' + found + ': a configuration is JSON data'} : {value})
  },
  (error) => parentPort.postMessage({problem: 'could not be loaded: ' + String((error && error.message) || error).split('\n')[0]}),
)
`

/** The default export of a JavaScript config file, or throws one line (without the file name) saying why not. */
export function loadJsConfig(file: string, timeoutMs = JS_CONFIG_TIMEOUT_MS): Promise<unknown> {
  const exited = new SharedArrayBuffer(4)
  const worker = new Worker(LOADER, {
    eval: true,
    workerData: {url: pathToFileURL(file).href, exited},
    resourceLimits: {maxOldGenerationSizeMb: 256},
  })
  return new Promise((resolve, reject) => {
    let settled = false
    const done = (problem: string | undefined, value?: unknown) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      void worker.terminate()
      if (problem === undefined) resolve(value)
      else reject(new Error(problem))
    }
    const timer = setTimeout(
      () => done(`did not finish loading within ${timeoutMs / 1000} s (an endless loop?); it was stopped`),
      timeoutMs,
    )
    worker.once('message', (m: {value?: unknown; problem?: string}) => done(m.problem, m.value))
    worker.once('error', (error: Error & {code?: string}) =>
      done(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'ran out of memory while loading (more than 256 MiB)'
          : `could not be loaded: ${error.message.split('\n')[0]}`,
      ),
    )
    worker.once('exit', (code) =>
      done(
        Atomics.load(new Int32Array(exited), 0) === 1
          ? `called process.exit(${code}) while loading; a configuration file only exports its settings`
          : `stopped while loading (exit code ${code}) without exporting anything`,
      ),
    )
  })
}
