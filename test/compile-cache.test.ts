import {chmodSync, mkdtempSync, statSync} from 'node:fs'
import module from 'node:module'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {enableCompileCache} from '../src/compile-cache.js'

type WithCache = {enableCompileCache?: (dir: string) => unknown}

describe('the compile cache', () => {
  const real = (module as WithCache).enableCompileCache
  const enable = vi.fn()
  beforeEach(() => {
    enable.mockClear()
    ;(module as WithCache).enableCompileCache = enable
  })
  afterEach(() => {
    ;(module as WithCache).enableCompileCache = real
  })

  it("lives in a directory of the user's own cache, made private", () => {
    const base = mkdtempSync(path.join(tmpdir(), 'gt-doctor-cache-'))
    const dir = enableCompileCache({XDG_CACHE_HOME: base})
    expect(dir).toBe(path.join(base, 'gt-doctor', 'compile-cache'))
    expect(enable).toHaveBeenCalledWith(dir)
    expect(statSync(dir!).mode & 0o777).toBe(0o700)
  })

  it('is not used where someone else may write (a shared /tmp, a group-writable directory)', () => {
    expect(enableCompileCache({XDG_CACHE_HOME: tmpdir()})).toBeUndefined()
    const base = mkdtempSync(path.join(tmpdir(), 'gt-doctor-cache-'))
    chmodSync(base, 0o775)
    expect(enableCompileCache({XDG_CACHE_HOME: base})).toBeUndefined()
    expect(enable).not.toHaveBeenCalled()
  })

  it("gives up at once on a directory that cannot hold one, without node's recursive mkdir (which loops under /proc)", () => {
    for (const base of ['/proc/self', '/proc/1', '/nonexistent/cache'])
      expect(enableCompileCache({XDG_CACHE_HOME: base})).toBeUndefined()
    expect(enable).not.toHaveBeenCalled()
  })

  it('stays off when NODE_DISABLE_COMPILE_CACHE says so, and where node has none', () => {
    expect(
      enableCompileCache({
        NODE_DISABLE_COMPILE_CACHE: '1',
        XDG_CACHE_HOME: mkdtempSync(path.join(tmpdir(), 'gt-doctor-cache-')),
      }),
    ).toBeUndefined()
    ;(module as WithCache).enableCompileCache = undefined
    expect(enableCompileCache({XDG_CACHE_HOME: mkdtempSync(path.join(tmpdir(), 'gt-doctor-cache-'))})).toBeUndefined()
  })
})
