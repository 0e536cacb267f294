#!/usr/bin/env node
// The gt-doctor entry point. Bare `gt-doctor` and any leading flag mean `gt-doctor check ...`.
import {fileURLToPath} from 'node:url'
if (process.env.GT_DOCTOR_TIMING === '1') (await import('../dist/src/timing.js')).phase('node')
// Node >= 22.1 keeps compiled code between runs, in the user's own cache (src/compile-cache.ts); absent on 20.
if ((await import('node:module')).enableCompileCache)
  (await import('../dist/src/compile-cache.js')).enableCompileCache()
const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === 'version')) {
  const text = (await import('../dist/src/fast-version.js')).fastVersion(fileURLToPath(new URL('..', import.meta.url)))
  if (text !== undefined) {
    await new Promise((resolve) => process.stdout.write(text, resolve))
    process.exit(0)
  }
}
// @oclif/core checks its own Node range (>=18) with semver, 48 modules, on every start; ours (package.json
// engines, >=20.19) is narrower and npm checks it at install. Skipped for the import only.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const {flush, run, settings} = await import('@oclif/core')
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning

// The published CLI and its plugins ship JavaScript: never let NODE_ENV=development/test send oclif
// after .ts sources (and no "cannot be auto-transpiled" warning on every run with a linked plugin).
settings.enableAutoTranspile = false

// `-v` is --verbose (of check), as it always was here; -V and `version` are the version, as in oclif CLIs.
const GLOBAL = new Set(['--version', '-V', '--help', '-h'])
if (argv.length === 0 || (argv[0].startsWith('-') && !GLOBAL.has(argv[0]))) argv.unshift('check')

try {
  await run(argv, import.meta.url)
  await flush()
} catch (error) {
  // oclif's own exit (help, --version) is not a failure.
  if (error?.oclif?.exit === 0 || (error?.code === 'EEXIT' && error?.oclif?.exit === 0)) process.exit(0)
  // One line, no stack trace, through the same printer as every command (loaded only when something failed).
  const {printFailure} = await import('../dist/src/errors.js')
  printFailure('gt-doctor', error)
}

// A plugin check abandoned at its time limit may still hold the event loop (an interval, a socket): once
// the doctor's own work is done, it does not wait for that.
setTimeout(() => process.exit(), 1000).unref()
