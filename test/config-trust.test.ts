/**
 * Which configuration files the doctor trusts (issue 18 items 5, 13, 17). A config decides what root may
 * kill (JSON can name `localChecks` and change the rules), so like ssh's StrictModes the doctor loads only a
 * file, and a module, that the invoking user or root owns and nobody else can change, from a directory of
 * the same kind; the upward search stops at the home directory, a repository root, or before a directory
 * of someone else. A refused file is never read. A JavaScript config runs in a worker with a time limit.
 *
 * Files of "someone else" are chowned to 65534 (nobody): those tests need root, as CI runs them.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ConfigError, loadConfig, type LoadConfigOptions} from '../src/config/load.js'
import {defaultConfig} from '../src/config/config.js'
import {loadLocalChecks} from '../src/plugins/load.js'
import * as api from '../src/index.js'
import {BIN} from './support/cli.js'

const root = process.getuid?.() === 0
const NOBODY = 65534

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-trust-')))
})
afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

function write(rel: string, content: unknown, mode = 0o644): string {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content), {mode})
  fs.chmodSync(file, mode)
  return file
}

function mkdir(rel: string, mode = 0o755): string {
  const d = path.join(dir, rel)
  fs.mkdirSync(d, {recursive: true})
  fs.chmodSync(d, mode)
  return d
}

/** No user config of the machine's own (~/.config/gt-doctor, $XDG_CONFIG_HOME) may leak into a test. */
const isolated = (opts: LoadConfigOptions): LoadConfigOptions => ({home: path.join(dir, 'no-home'), env: {}, ...opts})

/** A module that leaves a marker file when it is run: proves a refused module was never imported. */
function markerModule(rel: string, marker: string, exported = '{}'): string {
  return write(
    rel,
    `import fs from 'node:fs'\nfs.writeFileSync(${JSON.stringify(marker)}, 'ran')\nexport default ${exported}\n`,
  )
}

describe.skipIf(!root)('files of someone else are refused, never read, and said so in one line', () => {
  it('a config owned by another user: the defaults, one notice naming file, owner and mode', async () => {
    const marker = path.join(dir, 'ran')
    const file = markerModule('ws/gt-doctor.config.mjs', marker, '{sockets: ["/evil"]}')
    fs.chownSync(file, NOBODY, NOBODY)
    const config = await loadConfig(isolated({cwd: path.join(dir, 'ws'), stopDir: dir}))
    expect(config.sockets).toEqual([])
    expect(config.source).toBeUndefined()
    expect(fs.existsSync(marker)).toBe(false)
    expect(config.notices).toEqual([
      `config ${file} ignored: owned by uid ${NOBODY} (mode 0644), not by root; using the defaults`,
    ])
  })

  it('a JSON config naming localChecks in a directory someone else owns is refused before it is parsed', async () => {
    const ws = mkdir('ci-workspace')
    const marker = path.join(dir, 'ran')
    markerModule('ci-workspace/evil.mjs', marker)
    const rc = write('ci-workspace/.gt-doctorrc', {localChecks: ['./evil.mjs']})
    fs.chownSync(ws, NOBODY, NOBODY)
    const config = await loadConfig(isolated({cwd: ws, stopDir: dir}))
    expect(config.localChecks).toEqual([])
    expect(config.notices).toEqual([
      `config ${rc} ignored: its directory ${ws} is owned by uid ${NOBODY} (mode 0755), not by root; using the defaults`,
    ])
  })

  it('a group- or world-writable file, or one in a world-writable directory (even sticky, like /tmp), is refused', async () => {
    const file = write('a/gt-doctor.config.json', {sockets: ['/x']}, 0o664)
    let config = await loadConfig(isolated({cwd: path.join(dir, 'a'), stopDir: dir}))
    expect(config.sockets).toEqual([])
    expect(config.notices).toEqual([`config ${file} ignored: writable by its group (mode 0664); using the defaults`])

    fs.chmodSync(file, 0o644)
    fs.chmodSync(path.join(dir, 'a'), 0o1777)
    config = await loadConfig(isolated({cwd: path.join(dir, 'a'), stopDir: dir}))
    expect(config.sockets).toEqual([])
    expect(config.notices).toEqual([
      `config ${file} ignored: its directory ${path.join(dir, 'a')} is writable by others (mode 1777); using the defaults`,
    ])
  })

  it('after a refused file the search goes on: the next safe place wins and the notice says so', async () => {
    const outer = write('gt-doctor.config.json', {sockets: ['/outer']})
    const inner = write('in/.gt-doctorrc', {sockets: ['/inner']}, 0o666)
    const config = await loadConfig(isolated({cwd: path.join(dir, 'in'), stopDir: dir}))
    expect(config.sockets).toEqual(['/outer'])
    expect(config.source).toBe(outer)
    expect(config.notices).toEqual([`config ${inner} ignored: writable by others (mode 0666); using ${outer}`])
  })

  it('--config FILE that is not safe is an error: one line, exit 2', async () => {
    const file = write('theirs.json', {})
    fs.chownSync(file, NOBODY, NOBODY)
    const error = await loadConfig(isolated({cwd: dir, explicit: file})).catch((e) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.exitCode).toBe(2)
    expect(error.message).toBe(`config ${file}: refused: owned by uid ${NOBODY} (mode 0644), not by root`)
  })

  it('a local check module someone else owns is a crashed stand-in, never imported', async () => {
    const marker = path.join(dir, 'ran')
    const mod = markerModule('checks/theirs.mjs', marker, '{id: "x", title: "x", description: "x", detect: () => []}')
    fs.chownSync(mod, NOBODY, NOBODY)
    const [check] = await loadLocalChecks([mod], api, new Set())
    expect(fs.existsSync(marker)).toBe(false)
    expect(check.check.description).toBe(`refused: owned by uid ${NOBODY} (mode 0644), not by root`)
    const writable = markerModule('checks/open.mjs', marker)
    fs.chmodSync(writable, 0o646)
    const [other] = await loadLocalChecks([writable], api, new Set())
    expect(other.check.description).toBe('refused: writable by others (mode 0646)')
    expect(fs.existsSync(marker)).toBe(false)
  })

  it('the search does not enter a directory owned by someone else', async () => {
    write('gt-doctor.config.json', {sockets: ['/above']})
    const theirs = mkdir('home-of-nobody')
    mkdir('home-of-nobody/project')
    fs.chownSync(theirs, NOBODY, NOBODY)
    const config = await loadConfig(isolated({cwd: path.join(theirs, 'project')}))
    expect(config.sockets).toEqual([])
    expect(config.notices).toEqual([])
  })

  it('as another user: a file of root is trusted, a file of a third user is not', () => {
    fs.chmodSync(dir, 0o755)
    const mine = write('as-nobody/gt-doctor.config.json', {checks: {'orphan-memory': {severity: 'info'}}})
    const r = runAs(['checks', '--json'], path.join(dir, 'as-nobody'))
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    fs.chownSync(mine, 1234, 1234)
    const refused = runAs(['checks', '--json'], path.join(dir, 'as-nobody'))
    expect(refused.status).toBe(0)
    expect(refused.stderr).toBe(
      `gt-doctor: config ${mine} ignored: owned by uid 1234 (mode 0644), not by you (uid ${NOBODY}) or root; using the defaults\n`,
    )
  })
})

/**
 * The CLI run as nobody. The checkout may sit where nobody cannot go (a clone under `mktemp -d`, 0700), so it
 * is bind-mounted, in a mount namespace of this one command only, on a directory anyone may enter.
 */
function runAs(args: string[], cwd: string) {
  const checkout = path.resolve(path.dirname(BIN), '..')
  const view = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-checkout-'))
  fs.chmodSync(view, 0o755)
  try {
    return spawnSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount --bind "$1" "$2" && shift 2 && exec setpriv "$@"',
        'sh',
        checkout,
        view,
        `--reuid=${NOBODY}`,
        `--regid=${NOBODY}`,
        '--clear-groups',
        process.execPath,
        path.join(view, path.relative(checkout, BIN)),
        ...args,
      ],
      {
        cwd,
        encoding: 'utf8',
        timeout: 30_000,
        env: {PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', NO_COLOR: '1', HOME: '/nonexistent'},
      },
    )
  } finally {
    fs.rmdirSync(view)
  }
}

describe('where the upward search stops', () => {
  it('at a repository root (a directory holding .git)', async () => {
    write('gt-doctor.config.json', {sockets: ['/above-the-repo']})
    mkdir('repo/.git')
    mkdir('repo/src')
    expect((await loadConfig(isolated({cwd: path.join(dir, 'repo', 'src')}))).sockets).toEqual([])
    write('repo/.gt-doctorrc', {sockets: ['/repo']})
    expect((await loadConfig(isolated({cwd: path.join(dir, 'repo', 'src')}))).sockets).toEqual(['/repo'])
  })

  it('at the home directory of the passwd entry', async () => {
    write('gt-doctor.config.json', {sockets: ['/above-home']})
    const home = mkdir('home/me', 0o700)
    mkdir('home/me/work')
    expect((await loadConfig({cwd: path.join(home, 'work'), home, env: {}})).sockets).toEqual([])
  })

  it('then $XDG_CONFIG_HOME/gt-doctor/config.*, then ~/.config/gt-doctor/config.*', async () => {
    const home = mkdir('home/me', 0o700)
    const work = mkdir('work')
    mkdir('work/.git')
    const user = write('home/me/.config/gt-doctor/config.mjs', 'export default {sockets: ["home/sock"]}')
    let config = await loadConfig({cwd: work, home, env: {}})
    expect(config.source).toBe(user)
    expect(config.sockets).toEqual([path.join(home, '.config', 'gt-doctor', 'home', 'sock')])
    const xdg = write('xdg/gt-doctor/config.json', {sockets: ['/xdg']})
    config = await loadConfig({cwd: work, home, env: {XDG_CONFIG_HOME: path.join(dir, 'xdg')}})
    expect(config.source).toBe(xdg)
    // A file in the directories searched first still wins.
    write('work/gt-doctor.config.json', {sockets: ['/work']})
    expect((await loadConfig({cwd: work, home, env: {XDG_CONFIG_HOME: path.join(dir, 'xdg')}})).sockets).toEqual([
      '/work',
    ])
  })
})

describe('the user configuration through the CLI, as the XDG base directory spec says', () => {
  const checks = (env: Record<string, string | undefined>) => {
    const full: NodeJS.ProcessEnv = {...process.env, NODE_ENV: 'production', HOME: path.join(dir, 'home'), ...env}
    delete full.GT_DOCTOR_CONFIG
    mkdir('ws/.git')
    const r = spawnSync(process.execPath, [BIN, 'checks', '--json'], {
      cwd: path.join(dir, 'ws'),
      encoding: 'utf8',
      timeout: 30_000,
      env: full,
    })
    expect(r.status, r.stderr).toBe(0)
    return (JSON.parse(r.stdout) as Array<{id: string; enabled: boolean}>).filter((c) => !c.enabled).map((c) => c.id)
  }

  it('$XDG_CONFIG_HOME/gt-doctor/config.js is read from any directory; a relative $XDG_CONFIG_HOME is ignored', () => {
    write('xdg/gt-doctor/config.js', 'export default {checks: {"detached-run": {enabled: false}}}')
    expect(checks({XDG_CONFIG_HOME: path.join(dir, 'xdg')})).toEqual(['detached-run'])
    // The spec: a relative path in $XDG_CONFIG_HOME is invalid and is ignored (then ~/.config is looked at),
    // so ws/xdg/gt-doctor/config.js, relative to the working directory, is not read.
    write('ws/xdg/gt-doctor/config.js', 'export default {checks: {"detached-run": {enabled: false}}}')
    expect(checks({XDG_CONFIG_HOME: 'xdg'})).not.toContain('detached-run')
  })
})

describe('a JavaScript config runs in a worker, bounded in time, and may only export data', () => {
  const problem = async (source: string, opts: Partial<LoadConfigOptions> = {}) => {
    write('gt-doctor.config.mjs', source)
    const started = Date.now()
    const error = await loadConfig(isolated({cwd: dir, stopDir: dir, ...opts})).then(
      () => undefined,
      (e) => e,
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect(error.exitCode).toBe(2)
    expect(error.message).not.toContain('\n')
    return {message: (error.message as string).replace(`${dir}/`, ''), ms: Date.now() - started}
  }

  it('a top-level endless loop is stopped at the time limit', async () => {
    const {message, ms} = await problem('for (;;) {}\nexport default {}', {jsTimeoutMs: 300})
    expect(message).toBe(
      'config gt-doctor.config.mjs: did not finish loading within 0.3 s (an endless loop?); it was stopped',
    )
    expect(ms).toBeLessThan(5000)
  })

  it('process.exit() in a config is an error, not the end of the doctor', async () => {
    expect((await problem('process.exit(0)\nexport default {}')).message).toBe(
      'config gt-doctor.config.mjs: called process.exit(0) while loading; a configuration file only exports its settings',
    )
  })

  it('a function (or anything that is not JSON data) in the exported value is named by its path', async () => {
    expect((await problem('export default {rules: {mcp: {programs: [() => true]}}}')).message).toBe(
      'config gt-doctor.config.mjs: exports a function at rules.mcp.programs[0]: a configuration is JSON data',
    )
    expect((await problem('export default () => ({})')).message).toBe(
      'config gt-doctor.config.mjs: exports a function as its default export: a configuration is JSON data',
    )
    expect((await problem('export default {ignore: {commands: [/x/]}}')).message).toBe(
      'config gt-doctor.config.mjs: exports a RegExp at ignore.commands[0]: a configuration is JSON data',
    )
  })

  it('a module that throws or does not parse is one line', async () => {
    expect((await problem('throw new Error("nope\\n  at x")')).message).toBe(
      'config gt-doctor.config.mjs: could not be loaded: nope',
    )
    expect((await problem('export default {')).message).toMatch(/^config gt-doctor\.config\.mjs: could not be loaded: /)
  })

  it('the exported data comes back whole, awaited when it is a promise', async () => {
    write(
      'gt-doctor.config.mjs',
      'export default Promise.resolve({sockets: ["/a"], checks: {"orphan-memory": {severity: "info"}}})',
    )
    const config = await loadConfig(isolated({cwd: dir, stopDir: dir}))
    expect(config.sockets).toEqual(['/a'])
    expect(config.checks['orphan-memory']).toEqual({severity: 'info'})
  })
})

describe('a config that is not a regular file, or too large, is refused in one line without being read', () => {
  it('/dev/zero, a FIFO and a directory', async () => {
    const fifo = path.join(dir, 'fifo.json')
    spawnSync('mkfifo', [fifo])
    for (const [file, kind] of [
      ['/dev/zero', 'a character device'],
      [fifo, 'a FIFO'],
    ]) {
      const error = await loadConfig(isolated({cwd: dir, explicit: file})).catch((e) => e)
      expect(error).toBeInstanceOf(ConfigError)
      expect(error.message).toBe(`config ${file}: not a regular file (${kind})`)
    }
    const sub = mkdir('sub')
    expect((await loadConfig(isolated({cwd: dir, explicit: sub})).catch((e) => e)).message).toBe(
      `config ${sub}: it is a directory`,
    )
  })

  it('larger than 1 MiB', async () => {
    const file = write('big.json', `{"sockets": [], "$schema": "${'x'.repeat(1024 * 1024)}"}`)
    const error = await loadConfig(isolated({cwd: dir, explicit: file})).catch((e) => e)
    expect(error.message).toBe(`config ${file}: larger than 1 MiB: not a gt-doctor configuration`)
  })

  it('through the CLI: exit 2 in bounded time, one line, for --config /dev/zero and a FIFO', () => {
    const fifo = path.join(dir, 'fifo.json')
    spawnSync('mkfifo', [fifo])
    for (const file of ['/dev/zero', fifo]) {
      const r = spawnSync(process.execPath, [BIN, 'checks', '--config', file], {
        encoding: 'utf8',
        timeout: 20_000,
        env: {...process.env, NODE_ENV: 'production'},
      })
      expect(r.signal).toBeNull()
      expect(r.status).toBe(2)
      expect(r.stderr).toMatch(
        new RegExp(`^gt-doctor: config ${file}: not a regular file \\(a (character device|FIFO)\\)\\n$`),
      )
    }
  })

  it('through the CLI: a config with for(;;) ends after 5 s with exit 2', () => {
    write('loop/gt-doctor.config.mjs', 'for (;;) {}\nexport default {}')
    const r = spawnSync(process.execPath, [BIN, 'checks'], {
      cwd: path.join(dir, 'loop'),
      encoding: 'utf8',
      timeout: 20_000,
      env: {...process.env, NODE_ENV: 'production'},
    })
    expect(r.signal).toBeNull()
    expect(r.status).toBe(2)
    expect(r.stderr).toBe(
      `gt-doctor: config gt-doctor.config.mjs: did not finish loading within 5 s (an endless loop?); it was stopped\n`,
    )
  })
})

describe('a refused config shows in the report', () => {
  it.skipIf(!root)('the notice is on stderr once and in the report limitations', () => {
    const file = write('ws/.gt-doctorrc', {ignore: {uids: [0]}})
    fs.chownSync(file, NOBODY, NOBODY)
    mkdir('ws/.git')
    const env = {...process.env, NODE_ENV: 'production', NO_COLOR: '1', XDG_CONFIG_HOME: path.join(dir, 'xdg')}
    delete env.GT_DOCTOR_CONFIG
    const r = spawnSync(
      process.execPath,
      [BIN, 'check', '--from', path.resolve('fixtures/reports/incident.snapshot.json'), '--json'],
      {
        cwd: path.join(dir, 'ws'),
        encoding: 'utf8',
        timeout: 30_000,
        env,
      },
    )
    const line = `config ${file} ignored: owned by uid ${NOBODY} (mode 0644), not by root; using the defaults`
    expect(r.stderr).toBe(`gt-doctor: ${line}\n`)
    expect(JSON.parse(r.stdout).limitations).toContain(line)
  })

  it('the defaults carry no notice', () => {
    expect(defaultConfig().notices).toEqual([])
  })
})
