/**
 * One `--fix` (or `session stop`) at a time per user (issue 18 items 6 and 17): the lock lives in one place
 * per uid that no environment variable moves, in a directory only that user can write, and a lock whose
 * holder died (SIGKILL) or whose pid now belongs to another process is taken over at once.
 *
 * Holders are real processes: small node programs that take the lock with the built module (dist/, which
 * `npm test` builds first), as the CLI does.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {acquireFixLock, fixLockDir} from '../src/remediation/lock.js'
import {procProbe} from '../src/remediation/probe.js'

const root = process.getuid?.() === 0
const uid = process.geteuid?.() ?? 0
const LOCK_MODULE = pathToFileURL(path.resolve('dist/src/remediation/lock.js')).href

let dir: string
const children: ChildProcess[] = []
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-lock-')))
})
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  fs.rmSync(dir, {recursive: true, force: true})
})

/** A process that takes the lock in `lockDir` and holds it until killed; resolves once it holds it. */
function holder(lockDir: string): Promise<ChildProcess> {
  const code = `const {acquireFixLock} = await import(${JSON.stringify(LOCK_MODULE)}); await acquireFixLock(${JSON.stringify(lockDir)}, {waitMs: 0}); console.log('held'); setInterval(() => {}, 1 << 30)`
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {stdio: ['ignore', 'pipe', 'inherit']})
  children.push(child)
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('held') && resolve(child))
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)))
  })
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGKILL')
  })

describe('where the lock lives', () => {
  it('under the passwd home, whatever XDG_STATE_HOME says, created 0700', () => {
    const home = path.join(dir, 'home')
    fs.mkdirSync(home, {mode: 0o700})
    const saved = process.env.XDG_STATE_HOME
    process.env.XDG_STATE_HOME = path.join(dir, 'elsewhere')
    try {
      expect(fixLockDir({home})).toBe(path.join(home, '.local', 'state', 'gt-doctor'))
    } finally {
      if (saved === undefined) delete process.env.XDG_STATE_HOME
      else process.env.XDG_STATE_HOME = saved
    }
    expect(fs.statSync(path.join(home, '.local', 'state', 'gt-doctor')).mode & 0o777).toBe(0o700)
    expect(fs.existsSync(path.join(dir, 'elsewhere'))).toBe(false)
  })

  it('without a home: gt-doctor-UID in the temporary directory, 0700 and owned by the user', () => {
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp, {mode: 0o1777})
    fs.chmodSync(tmp, 0o1777)
    const lockDir = fixLockDir({home: path.join(dir, 'no-such-home'), tmp})
    expect(lockDir).toBe(path.join(tmp, `gt-doctor-${uid}`))
    expect(fs.statSync(lockDir).mode & 0o777).toBe(0o700)
    expect(fs.existsSync(path.join(dir, 'no-such-home'))).toBe(false)
  })

  it.skipIf(!root)('a fallback directory planted by another user, or a link there, is refused in one line', () => {
    const tmp = path.join(dir, 'tmp')
    fs.mkdirSync(tmp, {mode: 0o1777})
    const planted = path.join(tmp, `gt-doctor-${uid}`)
    fs.mkdirSync(planted, {mode: 0o700})
    fs.chownSync(planted, 65534, 65534)
    expect(() => fixLockDir({home: path.join(dir, 'none'), tmp})).toThrow(
      `unsafe lock directory ${planted}: owned by uid 65534 (mode 0700), not by you (uid 0); it must be yours`,
    )
    fs.rmdirSync(planted)
    fs.symlinkSync(dir, planted)
    expect(() => fixLockDir({home: path.join(dir, 'none'), tmp})).toThrow(
      `unsafe lock directory ${planted}: it is a symbolic link`,
    )
  })

  it.skipIf(!root)('a lock directory of another user is refused', async () => {
    fs.chownSync(dir, 65534, 65534)
    await expect(acquireFixLock(dir, {waitMs: 0})).rejects.toThrow(
      `unsafe lock directory ${dir}: owned by uid 65534 (mode 0700), not by you (uid 0); it must be yours`,
    )
  })
})

describe('holding and taking over', () => {
  it('a second taker waits, then refuses naming the holder; after release the lock is free', async () => {
    const first = await acquireFixLock(dir)
    const started = Date.now()
    const second = acquireFixLock(dir, {waitMs: 300})
    await expect(second).rejects.toThrow(
      new RegExp(
        `^another gt-doctor --fix is running \\(pid ${process.pid}, lock ${dir}/fix-${process.pid}-\\d+-[0-9a-f]+\\.lock held for more than 0\\.3 s\\); run again when it has finished$`,
      ),
    )
    await expect(second).rejects.toMatchObject({exitCode: 2})
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    await first.release()
    expect(fs.readdirSync(dir)).toEqual([])
    await (await acquireFixLock(dir, {waitMs: 0})).release()
  })

  it('a lock whose holder was SIGKILLed is taken at once', async () => {
    const child = await holder(dir)
    await expect(acquireFixLock(dir, {waitMs: 0})).rejects.toThrow(
      `another gt-doctor --fix is running (pid ${child.pid}`,
    )
    await killed(child)
    // At once, not after waiting: a dead holder's lock used to block the next --fix for 15 s.
    const started = Date.now()
    const lock = await acquireFixLock(dir, {waitMs: 10_000})
    expect(Date.now() - started).toBeLessThan(5000)
    expect(fs.readdirSync(dir)).toEqual([path.basename(lock.path)])
    await lock.release()
  })

  it('a lock naming a live pid with another start time (the pid was reused) is taken over', async () => {
    const me = procProbe().read(process.pid)!
    const stale = path.join(dir, `fix-${process.pid}-${me.startTicks + 1}-0.lock`)
    fs.writeFileSync(stale, '{}', {mode: 0o600})
    const lock = await acquireFixLock(dir, {waitMs: 0})
    expect(fs.existsSync(stale)).toBe(false)
    await lock.release()
  })

  it('many takers at once: never two holders', async () => {
    const log = path.join(dir, 'log')
    const lockDir = path.join(dir, 'lock')
    fs.mkdirSync(lockDir, {mode: 0o700})
    const code = `
      const fs = await import('node:fs')
      const {acquireFixLock} = await import(${JSON.stringify(LOCK_MODULE)})
      for (let i = 0; i < 3; i++) {
        const lock = await acquireFixLock(${JSON.stringify(lockDir)}, {waitMs: 60000})
        fs.appendFileSync(${JSON.stringify(log)}, 'in ' + process.pid + '\\n')
        await new Promise((r) => setTimeout(r, 20))
        fs.appendFileSync(${JSON.stringify(log)}, 'out ' + process.pid + '\\n')
        await lock.release()
      }`
    const runs = Array.from({length: 6}, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
        stdio: ['ignore', 'ignore', 'inherit'],
      })
      children.push(child)
      return new Promise<number | null>((resolve) => child.once('exit', resolve))
    })
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0, 0, 0])
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n')
    expect(lines).toHaveLength(36)
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i]).toMatch(/^in \d+$/)
      expect(lines[i + 1]).toBe(lines[i].replace('in', 'out'))
    }
  }, 60_000)
})
