/**
 * Third-party checks in-process: how they are loaded, how a broken one is contained, and how ignore rules
 * and age limits act on every check's findings and fixes alike. The same paths through the real CLI and
 * real oclif plugins are in plugins-cli.live.test.ts.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import * as api from '../src/index.js'
import type {Check, Finding, FixAction, RegisteredCheck, Snapshot} from '../src/index.js'
import {FixPlanError, actionProblem, guardCheck} from '../src/checks/guard.js'
import {runInterruptible} from '../src/checks/isolate.js'
import {fixActions} from '../src/checks/runner.js'
import {defaultConfig, type ResolvedConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {
  checksFrom,
  combineChecks,
  loadChecks,
  isLoadFailure,
  loadLocalChecks,
  loadPluginChecks,
  type HookRunner,
} from '../src/plugins/load.js'
import {exitCodeFor} from '../src/report/model.js'
import {createRules} from '../src/rules/rules.js'
import {treeOf} from '../src/tree/process-tree.js'
import {Machine} from './support/machine.js'

const tool = {name: 'gt-doctor', version: 'test'}
const meta = (id: string) => ({id, title: id, description: `test ${id}`})
const local = (check: Check<any>, name = '/x/check.mjs'): RegisteredCheck => ({check, source: {kind: 'local', name}})
const plugin = (check: Check<any>, name = 'p@1.0.0'): RegisteredCheck => ({check, source: {kind: 'plugin', name}})
const config = (patch: Partial<ResolvedConfig> = {}): ResolvedConfig => ({...defaultConfig(), ...patch})
/** The context a fix receives, as the engine will build it. */
const ctxOf = (snapshot: Snapshot) => ({
  snapshot,
  tree: treeOf(snapshot),
  rules: createRules(defaultConfig().rules),
  options: {},
})

let dir: string
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-plugins-'))
})
afterAll(() => fs.rmSync(dir, {recursive: true, force: true}))

function module(name: string, source: string): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, source)
  return file
}

/** Two agent sessions, one orphan claude with an MCP server, one orphan claude of another user. */
function machine(): Machine {
  const m = new Machine()
  const s = m.server({pid: 100})
  m.pane(s, 'gt-alpha', {pid: 101, cmd: 'claude', mib: 200})
  m.pane(s, 'gt-idle', {pid: 102, cmd: 'bash'})
  m.proc({pid: 300, ppid: 1, cmd: 'claude', mib: 400})
  m.proc({pid: 301, ppid: 300, cmd: 'npx -y @modelcontextprotocol/server-github', mib: 50})
  m.proc({pid: 302, ppid: 300, cmd: 'node /opt/keep-me/server.js --mcp', mib: 30})
  m.proc({pid: 400, ppid: 1, cmd: 'claude', uid: 1001, mib: 100})
  return m
}

function findingsOf(report: api.Report, id: string): Finding[] {
  return report.checks.find((c) => c.id === id)?.findings ?? []
}

describe('checksFrom: what a hook or module may hand over', () => {
  const check = api.defineCheck({...meta('a-check'), detect: () => []})

  it('accepts a check, a module, a factory of the API, and arrays of these', async () => {
    expect((await checksFrom(check, api)).map((c) => c.id)).toEqual(['a-check'])
    expect((await checksFrom({default: check}, api)).map((c) => c.id)).toEqual(['a-check'])
    let received: unknown
    const factory = (a: unknown) => {
      received = a
      return [check, {...meta('plain-object'), detect: () => []}]
    }
    expect((await checksFrom({default: factory}, api)).map((c) => c.id)).toEqual(['a-check', 'plain-object'])
    expect(received).toBe(api)
    expect((await checksFrom(async () => ({default: check}), api)).map((c) => c.id)).toEqual(['a-check'])
  })

  it('refuses anything else in one line', async () => {
    await expect(checksFrom('hello', api)).rejects.toThrow(
      /^a string is not a check \(expected an object with id, title/,
    )
    await expect(checksFrom(undefined, api)).rejects.toThrow(/^undefined is not a check/)
    await expect(checksFrom({named: check}, api)).rejects.toThrow(/^an object with keys named is not a check/)
    await expect(checksFrom({id: 'Bad Id', title: 't', description: 'd', detect: () => []}, api)).rejects.toThrow(
      /must be kebab-case/,
    )
    await expect(checksFrom({id: 'no-title', detect: () => []}, api)).rejects.toThrow(
      'check no-title needs a title and a description',
    )
    await expect(checksFrom({...meta('bad-fix'), detect: () => [], fix: 3}, api)).rejects.toThrow(
      'has a fix that is not a function',
    )
  })
})

describe('loading local modules and plugin hooks', () => {
  it('a module that fails to load becomes a crashed stand-in; the others load', async () => {
    const good = module(
      'good.mjs',
      `export default ({defineCheck}) => defineCheck({id: 'good-one', title: 'G', description: 'd', detect: () => []})`,
    )
    const syntax = module('syntax.mjs', 'export default {')
    const notCheck = module('Not A Check.mjs', 'export const x = 1')
    const missing = path.join(dir, 'missing.mjs')
    const loaded = await loadLocalChecks([good, syntax, notCheck, missing], api, new Set())
    expect(loaded.map((c) => c.check.id)).toEqual(['good-one', 'local/syntax', 'local/not-a-check', 'local/missing'])
    expect(loaded.map(isLoadFailure)).toEqual([false, true, true, true])
    expect(loaded[0].source).toEqual({kind: 'local', name: good})
    expect(loaded[2].check.description).toBe(
      'an object with keys x is not a check (expected an object with id, title, description and detect, as defineCheck makes)',
    )
    expect(() => loaded[1].check.detect({} as never)).toThrow(/^could not load local check .*syntax\.mjs: /)
  })

  it('collects each plugin hook result with the plugin as source, failures as stand-ins, sorted by plugin', async () => {
    const check = api.defineCheck({...meta('from-b'), detect: () => []})
    const fake: HookRunner = {
      async runHook(event: string, opts: unknown, timeout?: number, captureErrors?: boolean) {
        expect(event).toBe('gt-doctor:checks')
        expect(opts).toEqual({api, apiVersion: 2})
        expect(timeout).toBe(5000)
        expect(captureErrors).toBe(true)
        return {
          successes: [
            {plugin: {name: 'plugin-b', version: '2.0.0'}, result: [check]},
            {plugin: {name: '@scope/plugin-c', version: '1.0.0'}, result: 42},
          ],
          failures: [{plugin: {name: 'plugin-a', version: '0.1.0'}, error: new Error('boom\n    at stack')}],
        }
      },
    } as unknown as HookRunner
    const loaded = await loadPluginChecks(fake, api, 5000, new Set())
    expect(loaded.map((c) => [c.check.id, c.source.name])).toEqual([
      ['plugin/scope-plugin-c', '@scope/plugin-c@1.0.0'],
      ['plugin/plugin-a', 'plugin-a@0.1.0'],
      ['from-b', 'plugin-b@2.0.0'],
    ])
    expect(loaded[1].check.description).toBe('gt-doctor:checks hook threw: boom')
    expect(loaded[0].check.description).toBe(
      'gt-doctor:checks hook: a number is not a check (expected an object with id, title, description and detect, as defineCheck makes)',
    )
  })

  it('a check reusing a taken id becomes a stand-in, never an override', async () => {
    const builtins = await loadChecks({config: defaultConfig()})
    const impostor = plugin(api.defineCheck({...meta('orphan-claude'), detect: () => []}), 'evil@6.6.6')
    const all = combineChecks(builtins, [impostor], new Set(builtins.map((c) => c.check.id)))
    expect(all.find((c) => c.check.id === 'orphan-claude')?.source).toEqual({kind: 'built-in'})
    const stand = all.find((c) => c.check.id === 'plugin/evil')!
    expect(isLoadFailure(stand)).toBe(true)
    expect(stand.check.description).toBe(
      'check id "orphan-claude" is already registered (built-in); give it another id',
    )
  })
})

describe('isolation: a broken check is reported as crashed, the rest still run', () => {
  const good = api.defineCheck({
    ...meta('still-runs'),
    detect: () => [
      {
        id: 'still-runs:1',
        check: 'still-runs',
        severity: 'warning',
        message: 'm',
        reason: 'r',
        pids: [],
        fixable: false,
      },
    ],
  })
  const broken: Array<[string, Check<any>, RegExp]> = [
    [
      'throws',
      {
        ...meta('throws'),
        detect: () => {
          throw new Error('bad\n  at x')
        },
      },
      /^bad$/,
    ],
    [
      'malformed',
      {
        ...meta('malformed'),
        detect: () => [
          {id: 'x', check: 'malformed', severity: 'info', message: 'm', reason: 'r', pids: [0], fixable: false},
        ],
      },
      /^malformed finding: finding x has invalid pids$/,
    ],
    [
      'not an array',
      {...meta('not-array'), detect: () => 'nope' as never},
      /^detect did not return an array of findings$/,
    ],
    [
      'sync loop',
      {
        ...meta('sync-loop'),
        detect: () => {
          for (;;) {}
        },
      },
      /^timed out after 300 ms \(still running synchronously; interrupted\)$/,
    ],
    ['async hang', {...meta('async-hang'), detect: () => new Promise<Finding[]>(() => {})}, /^timed out after 300 ms$/],
  ]

  it.each(broken)('%s', async (_name, check, message) => {
    const {results, report} = await diagnose({
      tool,
      snapshot: machine().snapshot(),
      // The short limit only where the limit is the point: under load a foreign check's first run alone can take 300 ms.
      config: config({checkTimeoutSeconds: message.source.includes('timed out') ? 0.3 : 10}),
      extraChecks: [plugin(check), local(good)],
    })
    const r = results.find((x) => x.id === check.id)!
    expect(r.status).toBe('crashed')
    expect(r.error).toMatch(message)
    expect(results.find((x) => x.id === 'still-runs')?.status).toBe('warning')
    expect(results.filter((x) => x.source.kind === 'built-in').map((x) => x.status)).not.toContain('crashed')
    expect(exitCodeFor(report)).toBe(2)
  })

  it('the report stays valid against the JSON schema, stand-ins included', async () => {
    const stand = (await loadLocalChecks([path.join(dir, 'nope.mjs')], api, new Set()))[0]
    const {report} = await diagnose({tool, snapshot: machine().snapshot(), extraChecks: [stand, local(good)]})
    const ajv = new Ajv({allErrors: true, strict: false})
    addFormats.default(ajv)
    const schema = JSON.parse(fs.readFileSync('src/report/report-v1.schema.json', 'utf8'))
    expect(ajv.validate(schema, JSON.parse(JSON.stringify(report))), ajv.errorsText()).toBe(true)
    expect(report.checks.find((c) => c.id === 'local/nope')).toMatchObject({
      status: 'crashed',
      source: `local:${path.join(dir, 'nope.mjs')}`,
    })
  })

  it('runInterruptible stops a synchronous loop and passes values and errors through', () => {
    expect(() =>
      runInterruptible(() => {
        while (true) {}
      }, 50),
    ).toThrow('timed out after 50 ms')
    // Generous limits where the function returns at once: a loaded CI machine must not turn them into timeouts.
    expect(runInterruptible(() => 42, 2000)).toBe(42)
    expect(() =>
      runInterruptible(() => {
        throw new RangeError('r')
      }, 2000),
    ).toThrow(RangeError)
  })

  it('a fix that throws or plans malformed actions fails on its own, as a FixPlanError naming the check', async () => {
    const snapshot = machine().snapshot()
    const ctx = ctxOf(snapshot)
    const throwing = guardCheck(
      plugin({
        ...meta('fix-throws'),
        detect: () => [],
        fix: () => {
          throw new Error('nope\nstack')
        },
      }),
      config(),
    )
    expect(() => throwing.check.fix!({} as Finding, ctx)).toThrow(new FixPlanError('fix-throws', new Error('nope')))
    expect(() => throwing.check.fix!({} as Finding, ctx)).toThrow(/^fix of fix-throws failed: nope$/)
    const looping = guardCheck(
      plugin({
        ...meta('fix-loops'),
        detect: () => [],
        fix: () => {
          for (;;) {}
        },
      }),
      config({checkTimeoutSeconds: 0.1}),
    )
    expect(() => looping.check.fix!({} as Finding, ctx)).toThrow(/^fix of fix-loops failed: timed out after 100 ms/)
    const bad = guardCheck(
      plugin({...meta('fix-bad'), detect: () => [], fix: () => [{kind: 'rm-rf', reason: 'r'}] as never}),
      config(),
    )
    expect(() => bad.check.fix!({} as Finding, ctx)).toThrow('fix of fix-bad failed: unknown action kind "rm-rf"')
  })

  it('actionProblem accepts the three action kinds and refuses what the engine could misread', () => {
    expect(actionProblem({kind: 'remove-socket', path: '/tmp/tmux-1000/x', reason: 'r'})).toBeUndefined()
    expect(actionProblem({kind: 'remove-socket', path: 'relative', reason: 'r'})).toMatch(/absolute path/)
    expect(actionProblem({kind: 'tmux', socket: '/s', args: ['kill-pane', '-t', '%1'], reason: 'r'})).toBeUndefined()
    expect(actionProblem({kind: 'tmux', socket: '/s', args: [1], reason: 'r'})).toMatch(/string args/)
    expect(
      actionProblem({kind: 'terminate-tree', targets: [{pid: 5, ppid: 1, command: 'x'}], reason: 'r'}),
    ).toBeUndefined()
    expect(actionProblem({kind: 'terminate-tree', targets: [{pid: 0, ppid: 1, command: 'x'}], reason: 'r'})).toMatch(
      /malformed/,
    )
    expect(actionProblem({kind: 'terminate-tree', targets: [], reason: 'r'})).toMatch(/no targets/)
    expect(actionProblem({kind: 'remove-socket', path: '/x'})).toMatch(/no reason/)
    expect(actionProblem(null)).toMatch(/not an object/)
  })
})

describe('ignore rules and age limits act on every finding and every fix', () => {
  async function run(
    patch: Partial<ResolvedConfig>,
    snapshot: Snapshot = machine().snapshot(),
    extra: RegisteredCheck[] = [],
  ) {
    return diagnose({tool, snapshot, config: config(patch), extraChecks: extra})
  }

  it('baseline: both orphan claudes are reported with their whole trees', async () => {
    const {report} = await run({})
    expect(findingsOf(report, 'orphan-claude').map((f) => [f.pid, f.pids])).toEqual([
      [300, [300, 301, 302]],
      [400, [400]],
    ])
  })

  it('an ignored command leaves the tree but is never a target', async () => {
    const {
      report,
      checks,
      snapshot,
      results,
      config: resolved,
    } = await run({ignore: {commands: ['/opt/keep-me/'], sessions: [], uids: []}})
    const [f] = findingsOf(report, 'orphan-claude')
    expect(f.pids).toEqual([300, 301])
    expect(f.memoryBytes).toBe(450 * 1024 * 1024)
    const orphanClaude = checks.find((c) => c.check.id === 'orphan-claude')!
    const result = results.find((r) => r.id === 'orphan-claude')!
    const actions = fixActions(
      orphanClaude,
      result,
      result.findings.find((x) => x.id === f.id)!,
      ctxOf(snapshot),
      resolved,
    )
    expect(actions).toHaveLength(1)
    expect((actions[0] as Extract<FixAction, {kind: 'terminate-tree'}>).targets.map((t) => t.pid)).toEqual([300, 301])
  })

  it('an ignored root drops the finding; so do an ignored uid and an ignored session', async () => {
    expect(
      findingsOf((await run({ignore: {commands: ['^claude$'], sessions: [], uids: []}})).report, 'orphan-claude'),
    ).toEqual([])
    expect(
      findingsOf((await run({ignore: {commands: [], sessions: [], uids: [1001]}})).report, 'orphan-claude').map(
        (f) => f.pid,
      ),
    ).toEqual([300])
    const sessions = (await run({})).report
    expect(findingsOf(sessions, 'session-mismatch').map((f) => f.session)).toEqual(['gt-idle'])
    expect(
      findingsOf((await run({ignore: {commands: [], sessions: ['gt-idle'], uids: []}})).report, 'session-mismatch'),
    ).toEqual([])
  })

  it("a plugin's fix cannot target an ignored process, whatever it plans", async () => {
    const sneaky = plugin({
      ...meta('sneaky'),
      fixable: true,
      detect: () => [
        {id: 'sneaky:1', check: 'sneaky', severity: 'error', message: 'm', reason: 'r', pids: [], fixable: true},
      ],
      fix: (_f, {tree}) => [
        {kind: 'terminate-tree', targets: [api.targetOf(tree, 300)!, api.targetOf(tree, 302)!], reason: 'r'},
        {kind: 'terminate-tree', targets: [api.targetOf(tree, 302)!, api.targetOf(tree, 301)!], reason: 'r'},
        // Not in the snapshot: judged by the command and uid it names.
        {
          kind: 'terminate-tree',
          targets: [{pid: 999, ppid: 1, command: 'node /opt/keep-me/other.js', uid: 1000}],
          reason: 'r',
        },
      ],
    })
    const {checks, snapshot} = await run(
      {ignore: {commands: ['/opt/keep-me/'], sessions: [], uids: []}},
      machine().snapshot(),
      [sneaky],
    )
    const guarded = checks.find((c) => c.check.id === 'sneaky')!
    const [finding] = (await run({}, snapshot, [sneaky])).results.find((r) => r.id === 'sneaky')!.findings
    const actions = guarded.check.fix!(finding, ctxOf(snapshot))
    expect(actions.map((a) => (a as Extract<FixAction, {kind: 'terminate-tree'}>).targets.map((t) => t.pid))).toEqual([
      [300],
    ])
  })

  it('minAgeSeconds drops findings about processes younger than the limit', async () => {
    const m = machine()
    m.proc({pid: 500, ppid: 1, cmd: 'claude', startTimeMs: Date.parse('2026-01-11T11:59:30.000Z')})
    const snapshot = m.snapshot()
    expect(findingsOf((await run({}, snapshot)).report, 'orphan-claude').map((f) => f.pid)).toEqual([300, 400, 500])
    const aged = await run({checks: {'orphan-claude': {minAgeSeconds: 60}}}, snapshot)
    expect(findingsOf(aged.report, 'orphan-claude').map((f) => f.pid)).toEqual([300, 400])
  })

  it('severity overrides and enabled:false apply; --only still runs a disabled check', async () => {
    const {report} = await run({checks: {'orphan-claude': {severity: 'info'}, 'orphan-mcp': {enabled: false}}})
    expect(findingsOf(report, 'orphan-claude').map((f) => f.severity)).toEqual(['info', 'info'])
    expect(report.checks.map((c) => c.id)).not.toContain('orphan-mcp')
    const only = await diagnose({
      tool,
      snapshot: machine().snapshot(),
      config: config({checks: {'orphan-mcp': {enabled: false}}}),
      only: ['orphan-mcp'],
    })
    expect(only.report.checks.map((c) => c.id)).toEqual(['orphan-mcp'])
  })
})

describe('the examples, in-process', () => {
  it('stale-tmux-socket reports a stale socket and plans its removal', async () => {
    const [check] = await checksFrom(await import('../examples/plugin-stale-sockets/checks/stale-tmux-socket.js'), api)
    const m = new Machine()
    m.servers.push(
      {
        socket: '/tmp/tmux-1000/dead',
        status: 'stale',
        error: 'no server running on /tmp/tmux-1000/dead',
        foundBy: ['socket-dir'],
        panes: [],
      },
      {
        socket: '/tmp/tmux-1000/missing',
        status: 'stale',
        error: 'error connecting to /tmp/tmux-1000/missing (No such file or directory)',
        foundBy: ['flag'],
        panes: [],
      },
    )
    const source = {kind: 'plugin' as const, name: 'gt-doctor-plugin-stale-sockets@0.1.0'}
    const {results, checks, snapshot} = await diagnose({
      tool,
      snapshot: m.snapshot(),
      extraChecks: [{check, source}],
      only: ['stale-tmux-socket'],
    })
    expect(results[0]).toMatchObject({id: 'stale-tmux-socket', status: 'warning', source})
    expect(results[0].findings.map((f) => f.socket)).toEqual(['/tmp/tmux-1000/dead'])
    const actions = checks[0].check.fix!(results[0].findings[0], ctxOf(snapshot))
    expect(actions).toEqual([
      {
        kind: 'remove-socket',
        path: '/tmp/tmux-1000/dead',
        reason: 'Stale tmux socket /tmp/tmux-1000/dead: no server answers on it',
      },
    ])
  })

  it('too-many-claudes counts claudes against its limit option', async () => {
    const [loaded] = await loadLocalChecks([path.resolve('examples/local-check/too-many-claudes.mjs')], api, new Set())
    const run = (limit?: number) =>
      diagnose({
        tool,
        snapshot: machine().snapshot(),
        extraChecks: [loaded],
        only: ['too-many-claudes'],
        config: config({checks: limit === undefined ? {} : {'too-many-claudes': {options: {limit}}}}),
      })
    expect((await run()).results[0].status).toBe('ok')
    const {results} = await run(2)
    expect(results[0].findings).toEqual([
      expect.objectContaining({
        message: '3 Claude processes are running (limit 2)',
        pids: [101, 300, 400],
        severity: 'warning',
      }),
    ])
  })
})

describe('a check that calls process.exit() is a crashed check, not a silent exit (issue 18 item 17)', () => {
  const exits = (id: string, detect: Check<any>['detect']) => local({...meta(id), detect})
  const reason = (code: number | string) =>
    `called process.exit(${code}): a check returns findings and may not end the doctor`

  it('in detect, synchronously or after an await, even when the check catches the throw; process.exit is restored', async () => {
    const before = process.exit
    const checks = [
      exits('exit-sync', () => process.exit(0)),
      exits('exit-async', async () => {
        await new Promise((resolve) => setTimeout(resolve, 5))
        process.exit(3)
      }),
      exits('exit-caught', () => {
        try {
          process.exit(0)
        } catch {}
        return []
      }),
    ]
    const {results} = await diagnose({
      tool,
      snapshot: machine().snapshot(),
      extraChecks: checks,
      only: checks.map((c) => c.check.id),
    })
    expect(results.map((r) => [r.id, r.status, r.error])).toEqual([
      ['exit-sync', 'crashed', reason(0)],
      ['exit-async', 'crashed', reason(3)],
      ['exit-caught', 'crashed', reason(0)],
    ])
    expect(process.exit).toBe(before)
  })

  it('in fix: the fix fails alone', () => {
    const ctx = ctxOf(machine().snapshot())
    const guarded = guardCheck(plugin({...meta('fix-exits'), detect: () => [], fix: () => process.exit(0)}), config())
    expect(() => guarded.check.fix!({} as Finding, ctx)).toThrow(`fix of fix-exits failed: ${reason(0)}`)
  })

  it("in a plugin's hook: that plugin's stand-in says so, the others load", async () => {
    const good = {...meta('from-good-plugin'), detect: () => []}
    const oclif: HookRunner = {
      // What oclif's runHook does: each plugin's hook runs, and what it throws is recorded as that plugin's failure.
      runHook: (async () => {
        const failures: Array<{plugin: {name: string; version: string}; error: unknown}> = []
        try {
          process.exit(0)
        } catch (error) {
          failures.push({plugin: {name: 'exits', version: '1.0.0'}, error})
        }
        return {successes: [{plugin: {name: 'good', version: '1.0.0'}, result: good}], failures}
      }) as unknown as HookRunner['runHook'],
    }
    const loaded = await loadPluginChecks(oclif, api, 1000, new Set())
    expect(loaded.map((c) => [c.check.id, isLoadFailure(c) ? c.check.description : 'ok'])).toEqual([
      ['plugin/exits', `gt-doctor:checks hook threw: ${reason(0)}`],
      ['from-good-plugin', 'ok'],
    ])
  })

  it("in a local module's top level: a stand-in that says so", async () => {
    const file = module('exits-on-import.mjs', 'process.exit(0)\nexport default {}\n')
    const [loaded] = await loadLocalChecks([file], api, new Set())
    expect(isLoadFailure(loaded)).toBe(true)
    expect(loaded.check.description).toBe(reason(0))
  })
})
