import {readdirSync} from 'node:fs'
import {fileURLToPath, pathToFileURL} from 'node:url'
import type {Check, CheckSource, RegisteredCheck} from './api.js'

/** Compiled built-in checks: dist/checks/ beside dist/src/. */
const BUILTIN_DIR = new URL('../../checks/', import.meta.url)

/** A module's check: its default export, validated to look like one. */
export function checkFromModule(mod: unknown, where: string): Check<any> {
  const check = (mod as {default?: unknown})?.default ?? mod
  const c = check as Partial<Check>
  if (!c || typeof c !== 'object' || typeof c.id !== 'string' || typeof c.detect !== 'function') {
    throw new Error(`${where} does not export a check (default export of defineCheck({...}))`)
  }
  return check as Check<any>
}

/**
 * Every file in checks/, loaded the same way a third-party check is. Sorted by file name for a stable order.
 * Compiled .js in dist/; the .ts sources when run from source (tests).
 */
export async function loadBuiltinChecks(dir: URL = BUILTIN_DIR): Promise<RegisteredCheck[]> {
  const files = readdirSync(fileURLToPath(dir))
    .filter((f) => /\.(?:js|mjs|ts)$/.test(f) && !f.endsWith('.d.ts'))
    .sort()
  // No built-in check means a broken install or a source run without compiled checks: a clean report would lie.
  if (files.length === 0) throw new Error(`no built-in checks found in ${fileURLToPath(dir)}; reinstall gt-doctor (npm ci runs the build)`)
  const source: CheckSource = {kind: 'built-in'}
  return Promise.all(
    files.map(async (f) => ({check: checkFromModule(await import(new URL(f, dir).href), `checks/${f}`), source})),
  )
}

/** Loads a local check module (a path from the config). */
export async function loadLocalCheck(path: string): Promise<RegisteredCheck> {
  const mod = await import(pathToFileURL(path).href)
  return {check: checkFromModule(mod, path), source: {kind: 'local', name: path}}
}

/** Joins check lists, refusing two checks with one id: a silent override would hide a check. */
export function mergeRegistries(...lists: RegisteredCheck[][]): RegisteredCheck[] {
  const seen = new Map<string, RegisteredCheck>()
  for (const item of lists.flat()) {
    const prior = seen.get(item.check.id)
    if (prior) {
      throw new Error(
        `check id "${item.check.id}" is registered twice (${describeSource(prior.source)} and ${describeSource(item.source)})`,
      )
    }
    seen.set(item.check.id, item)
  }
  return [...seen.values()]
}

export function describeSource(source: CheckSource): string {
  return source.kind === 'built-in' ? 'built-in' : `${source.kind} ${source.name ?? ''}`.trim()
}
