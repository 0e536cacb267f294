import {lstatSync, mkdirSync} from 'node:fs'
import module from 'node:module'
import os from 'node:os'

/**
 * The V8 compile cache of Node >= 22.1 (`module.enableCompileCache`), kept in the user's own cache directory
 * rather than node's default under the shared /tmp: cached code is code the doctor (often root) runs, so every
 * directory on the way must be a real directory of this uid that nobody else may write, or there is no cache.
 * The directories are made one level at a time: node's recursive mkdir loops forever under /proc.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const enable = (module as {enableCompileCache?: (dir: string) => unknown}).enableCompileCache
  if (!enable || env.NODE_DISABLE_COMPILE_CACHE) return undefined
  let base: string
  try {
    base = env.XDG_CACHE_HOME?.startsWith('/') ? env.XDG_CACHE_HOME : `${os.userInfo().homedir}/.cache`
  } catch {
    return undefined
  }
  let dir = base
  for (const part of ['', 'gt-doctor', 'compile-cache']) {
    if (part) {
      dir = `${dir}/${part}`
      try {
        mkdirSync(dir, {mode: 0o700})
      } catch {
        // Exists already (checked below) or cannot be made (checked below too).
      }
    }
    if (!ownDirectory(dir)) return undefined
  }
  enable(dir)
  return dir
}

function ownDirectory(path: string): boolean {
  try {
    const s = lstatSync(path)
    return s.isDirectory() && s.uid === (process.getuid?.() ?? s.uid) && (s.mode & 0o022) === 0
  } catch {
    return false
  }
}
