/**
 * Plugins and local checks through the real CLI (`node bin/run.js`): the example plugin linked and
 * installed with @oclif/plugin-plugins, the example local check named in a config, broken plugins that
 * must not take the doctor down, and configuration errors as one line and exit 2.
 *
 * Every oclif data/config/cache dir (and npm's cache) is private to the test, so the user's installed
 * plugins are never read nor touched. Runs that look at processes do so inside a private PID namespace.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/index.js'
import type {CheckListing} from '../src/commands/checks.js'
import {CLAUDE_STANDIN, REPO_ROOT, describeLive, useNamespace} from './live/namespace.js'
import {BUILT_IN_CHECK_IDS} from './support/cli.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')
const STALE_PLUGIN = path.join(REPO_ROOT, 'examples', 'plugin-stale-sockets')
const LOCAL_EXAMPLE = path.join(REPO_ROOT, 'examples', 'local-check')
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'plugins')

/** A private home for oclif (and npm) and a cwd with no configuration above it. */
function sandbox() {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-cli-')))
  const env = {
    XDG_DATA_HOME: path.join(root, 'data'),
    XDG_CONFIG_HOME: path.join(root, 'config'),
    XDG_CACHE_HOME: path.join(root, 'cache'),
    npm_config_cache: path.join(root, 'npm-cache'),
    NO_COLOR: '1',
  }
  const cli = (args: string[], opts: {cwd?: string; env?: Record<string, string>} = {}) => {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? root,
      env: {...withoutConfigEnv(), ...env, ...opts.env},
      encoding: 'utf8',
      timeout: 60_000,
    })
    return {code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr}
  }
  const write = (name: string, value: unknown) => {
    const file = path.join(root, name)
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value))
    return file
  }
  return {root, env, cli, write, remove: () => fs.rmSync(root, {recursive: true, force: true})}
}

function withoutConfigEnv(): NodeJS.ProcessEnv {
  const {GT_DOCTOR_CONFIG: _ignored, ...rest} = process.env
  return rest
}

const json = <T>(stdout: string): T => JSON.parse(stdout) as T
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m)

describe('the example plugin, linked with `gt-doctor plugins link`', () => {
  const box = sandbox()
  afterAll(box.remove)

  beforeAll(() => {
    const linked = box.cli(['plugins', 'link', STALE_PLUGIN, '--no-install'])
    expect(linked.code, linked.stderr).toBe(0)
  })

  it('is installed in the private oclif data dir only', () => {
    const listed = box.cli(['plugins'])
    expect(listed.stdout).toContain(`gt-doctor-plugin-stale-sockets 0.1.0 (link) ${STALE_PLUGIN}`)
    const pjson = JSON.parse(fs.readFileSync(path.join(box.env.XDG_DATA_HOME, 'gt-doctor', 'package.json'), 'utf8'))
    expect(pjson.oclif.plugins).toEqual([
      expect.objectContaining({name: 'gt-doctor-plugin-stale-sockets', type: 'link'}),
    ])
  })

  it('`gt-doctor checks` shows its check with the plugin as source', () => {
    const r = box.cli(['checks', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const listing = json<CheckListing[]>(r.stdout)
    expect(listing.map((c) => c.id)).toEqual([...BUILT_IN_CHECK_IDS, 'stale-tmux-socket'])
    expect(listing.at(-1)).toMatchObject({
      fixable: true,
      source: 'plugin gt-doctor-plugin-stale-sockets@0.1.0',
      enabled: true,
    })
    const table = box.cli(['checks'])
    expect(table.stdout).toMatch(
      /stale-tmux-socket .*Stale tmux sockets .*yes .*plugin gt-doctor-plugin-stale-sockets@0\.1\.0/,
    )
    expect(table.stderr).toBe('')
  })

  it('a config may set its options and severity like a built-in', () => {
    const cfg = box.write('sev.json', {checks: {'stale-tmux-socket': {severity: 'error', enabled: false}}})
    const r = box.cli(['checks', '--json', '--config', cfg])
    expect(r.code, r.stderr).toBe(0)
    expect(json<CheckListing[]>(r.stdout).find((c) => c.id === 'stale-tmux-socket')?.enabled).toBe(false)
  })

  describeLive('in a private PID namespace', () => {
    const ns = useNamespace()

    it('its check finds a socket whose tmux server was killed, through `gt-doctor check`', async () => {
      expect((await ns.tmux(['new-session', '-d', '-s', 'doomed', 'sleep 600'], 'dead')).code).toBe(0)
      const serverPid = Number((await ns.tmux(['display-message', '-p', '#{pid}'], 'dead')).stdout.trim())
      expect(await ns.kill(serverPid, 'SIGKILL')).toBe(true)
      await ns.waitUntil(async () => !(await ns.alive(serverPid)), 5000, 50, 'tmux server gone')
      const socket = ns.socket('dead')
      expect(fs.statSync(socket).isSocket()).toBe(true)
      const cfg = box.write('sockets.json', {sockets: [socket]})
      const env = {...box.env, GT_DOCTOR_CONFIG: cfg}

      const r = await ns.exec(['node', BIN, 'check', '--only', 'stale-tmux-socket', '--json'], {
        env,
        cwd: box.root,
        timeoutMs: 30_000,
      })
      expect(r.code, r.stderr).toBe(0)
      const report = json<Report>(r.stdout)
      expect(report.checks).toHaveLength(1)
      expect(report.checks[0]).toMatchObject({
        id: 'stale-tmux-socket',
        status: 'warning',
        source: 'plugin:gt-doctor-plugin-stale-sockets@0.1.0',
      })
      const finding = report.checks[0].findings.find((f) => f.socket === socket)
      expect(finding).toMatchObject({
        severity: 'warning',
        fixable: true,
        message: `Stale tmux socket ${socket}: no server answers on it`,
      })

      const table = await ns.exec(['node', BIN, 'check', '--only', 'stale-tmux-socket'], {
        env,
        cwd: box.root,
        timeoutMs: 30_000,
      })
      expect(table.stdout).toContain('stale-tmux-socket')
      expect(table.stdout.replace(/[\s│]+/g, ' ')).toContain(`Stale tmux socket ${socket}`)
    })
  })
})

describe('the example plugin, installed with `gt-doctor plugins install file:...`', () => {
  const box = sandbox()
  afterAll(box.remove)

  it('installs from its folder without the network and contributes its check', () => {
    const installed = box.cli(['plugins', 'install', `file:${STALE_PLUGIN}`])
    expect(installed.code, installed.stderr).toBe(0)
    expect(box.cli(['plugins']).stdout).toMatch(/^gt-doctor-plugin-stale-sockets 0\.1\.0$/m)
    const listing = json<CheckListing[]>(box.cli(['checks', '--json']).stdout)
    expect(listing.find((c) => c.id === 'stale-tmux-socket')?.source).toBe(
      'plugin gt-doctor-plugin-stale-sockets@0.1.0',
    )
    expect(box.cli(['plugins', 'uninstall', 'gt-doctor-plugin-stale-sockets']).code).toBe(0)
    expect(json<CheckListing[]>(box.cli(['checks', '--json']).stdout).map((c) => c.id)).not.toContain(
      'stale-tmux-socket',
    )
  }, 90_000)
})

describe('a failed `gt-doctor plugins install`', () => {
  const box = sandbox()
  let registry: ChildProcess
  let url: string
  afterAll(() => {
    registry?.kill()
    box.remove()
  })

  beforeAll(async () => {
    // A registry on loopback that knows no package: the test needs no network, and npm gets a fast 404.
    registry = spawn(
      process.execPath,
      [
        '-e',
        `
      const s = require('http').createServer((q, r) => { r.writeHead(404, {'content-type': 'application/json'}); r.end('{"error":"Not found"}') })
      s.listen(0, '127.0.0.1', () => console.log(s.address().port))`,
      ],
      {stdio: ['ignore', 'pipe', 'inherit']},
    )
    const port = await new Promise<string>((resolve) => registry.stdout!.once('data', (d) => resolve(String(d).trim())))
    url = `http://127.0.0.1:${port}/`
    expect(box.cli(['plugins', 'install', `file:${STALE_PLUGIN}`]).code).toBe(0)
  }, 90_000)

  /** `cli` blocks this process's event loop, which would stall the loopback registry if it lived here. */
  const installFromRegistry = (name: string) =>
    box.cli(['plugins', 'install', name], {env: {npm_config_registry: url, npm_config_fetch_retries: '0'}})

  it('leaves an installed plugin of the same name installed, and its check running', () => {
    const r = installFromRegistry('gt-doctor-plugin-stale-sockets')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('gt-doctor-plugin-stale-sockets does not exist in the registry')
    noStack(r.stderr)
    expect(box.cli(['plugins']).stdout).toMatch(/^gt-doctor-plugin-stale-sockets 0\.1\.0$/m)
    const listing = json<CheckListing[]>(box.cli(['checks', '--json']).stdout)
    expect(listing.find((c) => c.id === 'stale-tmux-socket')?.source).toBe(
      'plugin gt-doctor-plugin-stale-sockets@0.1.0',
    )
    expect(
      fs.readdirSync(path.join(box.env.XDG_DATA_HOME, 'gt-doctor')).filter((f) => f.startsWith('.install-backup')),
    ).toEqual([])
  }, 90_000)

  it('leaves a linked plugin of the same name linked', () => {
    expect(box.cli(['plugins', 'uninstall', 'gt-doctor-plugin-stale-sockets']).code).toBe(0)
    expect(box.cli(['plugins', 'link', STALE_PLUGIN, '--no-install']).code).toBe(0)
    expect(installFromRegistry('gt-doctor-plugin-stale-sockets').code).toBe(2)
    expect(box.cli(['plugins']).stdout).toContain(`gt-doctor-plugin-stale-sockets 0.1.0 (link) ${STALE_PLUGIN}`)
  }, 90_000)
})

describe('the example local check, named in a config', () => {
  const box = sandbox()
  afterAll(box.remove)

  it('`gt-doctor checks` lists it with its file as source, found by searching from the cwd', () => {
    const r = box.cli(['checks', '--json'], {cwd: LOCAL_EXAMPLE})
    expect(r.code, r.stderr).toBe(0)
    expect(json<CheckListing[]>(r.stdout).at(-1)).toEqual({
      id: 'too-many-claudes',
      title: 'Too many Claude processes',
      description: expect.stringContaining('more Claude Code processes'),
      fixable: false,
      source: `local ${path.join(LOCAL_EXAMPLE, 'too-many-claudes.mjs')}`,
      enabled: true,
    })
  })

  describeLive('in a private PID namespace', () => {
    const ns = useNamespace()

    it('runs in `gt-doctor check` and reports with the options the config gives it', async () => {
      const pids: number[] = []
      for (let i = 0; i < 3; i++) pids.push((await ns.spawn([CLAUDE_STANDIN], {env: {STANDIN_MCP: '0'}})).pid)
      for (const pid of pids) await ns.waitReady(pid)
      const cfg = box.write('limit.json', {
        localChecks: [path.join(LOCAL_EXAMPLE, 'too-many-claudes.mjs')],
        checks: {'too-many-claudes': {options: {limit: 2}}},
      })
      const r = await ns.exec(['node', BIN, 'check', '--json', '--config', cfg], {
        env: box.env,
        cwd: box.root,
        timeoutMs: 30_000,
      })
      expect(r.code, r.stderr).toBe(0)
      const report = json<Report>(r.stdout)
      expect(report.checks.map((c) => c.id)).toEqual([...BUILT_IN_CHECK_IDS, 'too-many-claudes'])
      const check = report.checks.at(-1)!
      expect(check).toMatchObject({
        status: 'warning',
        source: `local:${path.join(LOCAL_EXAMPLE, 'too-many-claudes.mjs')}`,
      })
      expect(check.findings).toEqual([
        expect.objectContaining({
          message: '3 Claude processes are running (limit 2)',
          pids: [...pids].sort((a, b) => a - b),
        }),
      ])

      const table = await ns.exec(['node', BIN, 'check', '--config', cfg], {
        env: box.env,
        cwd: box.root,
        timeoutMs: 30_000,
      })
      expect(table.stdout).toMatch(/too-many-claudes .*warning/)
      expect(table.stdout).toContain('3 Claude processes are running (limit 2)')
    })
  })
})

describe('broken plugins cannot take the doctor down', () => {
  const box = sandbox()
  let cfg: string
  afterAll(box.remove)

  beforeAll(() => {
    for (const p of ['hook-throws', 'not-a-check', 'bad-checks']) {
      const linked = box.cli(['plugins', 'link', path.join(FIXTURES, p), '--no-install'])
      expect(linked.code, linked.stderr).toBe(0)
    }
    cfg = box.write('fast.json', {checkTimeoutSeconds: 0.5})
  })

  const crashed = {
    'plugin/fixture-gt-doctor-not-a-check':
      /^could not load plugin @fixture\/gt-doctor-not-a-check@2\.3\.4: gt-doctor:checks hook: a string is not a check/,
    'plugin/gt-doctor-fixture-hook-throws':
      /^could not load plugin gt-doctor-fixture-hook-throws@1\.0\.0: gt-doctor:checks hook threw: database on fire$/,
    'plugin/gt-doctor-fixture-bad-checks':
      /check id "orphan-claude" is already registered \(built-in\); give it another id$/,
    'bad-throws': /^cannot read properties of undefined$/,
    'bad-malformed': /^malformed finding: finding bad-malformed:1 has severity "fatal"$/,
    'bad-sync-loop': /^timed out after 500 ms \(still running synchronously; interrupted\)$/,
    'bad-async-hang': /^timed out after 500 ms$/,
    'bad-interval': /^timed out after 500 ms$/,
  }

  it('each failure is a crashed check with its message; the built-ins and the healthy plugin check still run; exit 2', () => {
    const r = box.cli(['check', '--json', '--config', cfg])
    expect(r.code).toBe(2)
    noStack(r.stderr)
    noStack(r.stdout)
    const report = json<Report>(r.stdout)
    expect(report.summary.status).toBe('crashed')
    const byId = new Map(report.checks.map((c) => [c.id, c]))
    for (const [id, message] of Object.entries(crashed)) {
      expect(byId.get(id)?.status, id).toBe('crashed')
      expect(byId.get(id)?.error, id).toMatch(message)
    }
    for (const id of ['orphan-claude', 'orphan-mcp', 'orphan-memory', 'session-mismatch']) {
      expect(byId.get(id)?.source).toBe('built-in')
      expect(byId.get(id)?.status).not.toBe('crashed')
    }
    expect(byId.get('good-after-bad')).toMatchObject({
      status: 'warning',
      source: 'plugin:gt-doctor-fixture-bad-checks@0.0.1',
    })
    expect(byId.get('bad-fix')?.status).toBe('warning')
    expect(report.summary.checks.crashed).toBe(Object.keys(crashed).length)
  })

  it('the table says the same, one line per failure', () => {
    const r = box.cli(['check', '--config', cfg])
    expect(r.code).toBe(2)
    noStack(r.stdout + r.stderr)
    const flat = r.stdout.replace(/[\s│]+/g, ' ')
    // A check's line: its symbol, its id, and why it crashed.
    expect(flat).toContain('✖ bad-sync-loop crashed: timed out after 500 ms')
    expect(flat).toMatch(/plugin\/gt-doctor-fixture-hook-throws crashed: .*database on fire/)
    expect(r.stdout).toMatch(/· 8 crashed/)
  })

  it('`gt-doctor checks` lists what failed to load with the reason, and exits 2', () => {
    const r = box.cli(['checks', '--json', '--config', cfg])
    expect(r.code).toBe(2)
    const listing = json<CheckListing[]>(r.stdout)
    expect(listing.find((c) => c.id === 'plugin/gt-doctor-fixture-hook-throws')).toMatchObject({
      source: 'plugin gt-doctor-fixture-hook-throws@1.0.0',
      error: 'gt-doctor:checks hook threw: database on fire',
    })
    expect(listing.find((c) => c.id === 'good-after-bad')).not.toHaveProperty('error')
  })

  it('--only and --skip take comma-separated ids, repeatable, stand-ins included', () => {
    const only = box.cli([
      'check',
      '--json',
      '--config',
      cfg,
      '--only',
      'good-after-bad,bad-fix',
      '--only',
      'bad-throws',
    ])
    expect(only.code).toBe(2)
    expect(json<Report>(only.stdout).checks.map((c) => c.id)).toEqual(['bad-throws', 'bad-fix', 'good-after-bad'])

    const ids = Object.keys(crashed)
    const skip = box.cli([
      'check',
      '--json',
      '--config',
      cfg,
      '--skip',
      ids.slice(0, 4).join(','),
      '--skip',
      ids.slice(4).join(','),
    ])
    const report = json<Report>(skip.stdout)
    expect(report.checks.map((c) => c.status)).not.toContain('crashed')
    expect(report.checks.map((c) => c.id)).toContain('good-after-bad')
    expect(skip.code).not.toBe(2)
  })

  it('an unknown id in --only is an error listing the known ones, plugin checks included', () => {
    const r = box.cli(['check', '--only', 'nope', '--config', cfg])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toMatch(
      /^gt-doctor: unknown check "nope"; known checks: agent-leftover, detached-run, orphan-claude, .*good-after-bad, plugin\/gt-doctor-fixture-hook-throws\n$/,
    )
  })
})

describe('configuration errors through the CLI', () => {
  const box = sandbox()
  afterAll(box.remove)

  it('an invalid config is one line naming the file and the problem, exit 2, nothing on stdout', () => {
    box.write('bad.json', {checks: {'orphan-memory': {severity: 'fatal'}}})
    const r = box.cli(['check', '--config', 'bad.json'])
    expect(r.stderr).toBe(
      'gt-doctor: config bad.json: checks.orphan-memory.severity must be one of info, warning, error\n',
    )
    expect(r.stdout).toBe('')
    expect(r.code).toBe(2)
  })

  it('under --json the error is JSON on stdout too', () => {
    const r = box.cli(['check', '--json', '--config', 'bad.json'])
    expect(r.code).toBe(2)
    expect(json(r.stdout)).toEqual({
      error: {
        message: 'config bad.json: checks.orphan-memory.severity must be one of info, warning, error',
        exitCode: 2,
      },
    })
  })

  it('a file found by searching upward is named the same way; GT_DOCTOR_CONFIG names one explicitly', () => {
    fs.mkdirSync(path.join(box.root, 'project', 'sub'), {recursive: true})
    box.write('project/.gt-doctorrc', {checks: {'orphan-clade': {enabled: false}}})
    const r = box.cli(['checks'], {cwd: path.join(box.root, 'project', 'sub')})
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(
      `gt-doctor: config ${path.join(box.root, 'project', '.gt-doctorrc')}: checks.orphan-clade is not a known check; known checks: agent-leftover, detached-run, orphan-claude, orphan-mcp, orphan-memory, session-mismatch\n`,
    )
    const viaEnv = box.cli(['checks'], {env: {GT_DOCTOR_CONFIG: 'missing.json'}})
    expect(viaEnv.stderr).toBe('gt-doctor: config missing.json: no such file\n')
    expect(viaEnv.code).toBe(2)
  })
})

describe('a local check that calls process.exit(0)', () => {
  const box = sandbox()
  afterAll(box.remove)

  it('is reported as crashed (exit 2), with every other check, instead of a silent exit 0', () => {
    box.write(
      'exits.mjs',
      "export default {id: 'exits', title: 'Exits', description: 'd', detect() { process.exit(0) }}\n",
    )
    const cfg = box.write('exits.json', {localChecks: ['./exits.mjs']})
    const r = box.cli([
      'check',
      '--json',
      '--config',
      cfg,
      '--from',
      path.join(REPO_ROOT, 'fixtures', 'reports', 'incident.snapshot.json'),
    ])
    expect(r.code).toBe(2)
    const report = json<Report>(r.stdout)
    // Every built-in check ran after it too.
    expect(report.checks.filter((c) => c.source === 'built-in').map((c) => c.status)).not.toContain('crashed')
    expect(report.checks.filter((c) => c.source === 'built-in').length).toBeGreaterThanOrEqual(4)
    expect(report.checks.at(-1)).toMatchObject({
      id: 'exits',
      status: 'crashed',
      error: 'called process.exit(0): a check returns findings and may not end the doctor',
    })
  })
})
