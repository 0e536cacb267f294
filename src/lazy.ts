import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

/**
 * A CommonJS dependency loaded on first use instead of at start-up: most runs never validate a config
 * file, draw a table or take the fix lock, and `gt-doctor --json` on a crowded machine should not pay for
 * loading ajv or cli-table3. Synchronous, so callers keep their signatures.
 */
export function lazy<T>(id: string): () => T {
  let mod: T | undefined
  return () => (mod ??= require(id) as T)
}
