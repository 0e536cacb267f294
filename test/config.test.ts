/**
 * The configuration file: where it is found, how it is validated (one line naming file and key), and how
 * it merges over the defaults.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {defaultConfig, mergePatterns} from '../src/config/config.js'
import {ConfigError, loadConfig} from '../src/config/load.js'
import {validateCheckSettings} from '../src/config/check-settings.js'
import {loadChecks} from '../src/plugins/load.js'
import {diagnose} from '../src/doctor.js'
import {planRemediation} from '../src/remediation/plan.js'
import {Machine} from './support/machine.js'
import {DEFAULT_RULES, createRules} from '../src/rules/rules.js'

let dir: string
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-config-')))
})
afterEach(() => fs.rmSync(dir, {recursive: true, force: true}))

function write(rel: string, content: unknown): string {
  const file = path.join(dir, rel)
  fs.mkdirSync(path.dirname(file), {recursive: true})
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}

/** The one-line message loadConfig throws, or undefined when it loads. */
async function problem(content: unknown, file = 'gt-doctor.config.json'): Promise<string | undefined> {
  write(file, content)
  try {
    await loadConfig({cwd: dir, stopDir: dir})
    return undefined
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).exitCode).toBe(2)
    const message = (error as Error).message
    expect(message).not.toContain('\n')
    return message.replace(`${dir}/`, '')
  }
}

describe('finding the configuration file', () => {
  it.each([
    ['gt-doctor.config.json', JSON.stringify({sockets: ['/s']})],
    ['.gt-doctorrc', JSON.stringify({sockets: ['/s']})],
    ['.gt-doctorrc.json', JSON.stringify({sockets: ['/s']})],
    ['gt-doctor.config.mjs', 'export default {sockets: ["/s"]}'],
    ['gt-doctor.config.js', 'export default {sockets: ["/s"]}'],
    ['gt-doctor.config.cjs', 'module.exports = {sockets: ["/s"]}'],
    ['package.json', JSON.stringify({name: 'x', type: 'module', 'gt-doctor': {sockets: ['/s']}})],
  ])('loads %s', async (file, content) => {
    if (file === 'gt-doctor.config.js') write('package.json', {name: 'x', type: 'module'})
    write(file, content)
    const config = await loadConfig({cwd: dir, stopDir: dir})
    expect(config.source).toBe(path.join(dir, file))
    expect(config.sockets).toEqual(['/s'])
  })

  it('searches from the cwd upward and resolves paths relative to the file that holds them', async () => {
    write('gt-doctor.config.json', {localChecks: ['./checks/a.mjs', '/abs/b.mjs'], sockets: ['tmux/sock']})
    fs.mkdirSync(path.join(dir, 'deep', 'er'), {recursive: true})
    const config = await loadConfig({cwd: path.join(dir, 'deep', 'er'), stopDir: dir})
    expect(config.source).toBe(path.join(dir, 'gt-doctor.config.json'))
    expect(config.localChecks).toEqual([path.join(dir, 'checks', 'a.mjs'), '/abs/b.mjs'])
    expect(config.sockets).toEqual([path.join(dir, 'tmux', 'sock')])
  })

  it('skips a package.json without a "gt-doctor" key, and the nearest file wins', async () => {
    write('gt-doctor.config.json', {sockets: ['/outer']})
    write('inner/package.json', {name: 'inner'})
    write('inner/.gt-doctorrc', {sockets: ['/inner']})
    expect((await loadConfig({cwd: path.join(dir, 'inner'), stopDir: dir})).sockets).toEqual(['/inner'])
    fs.rmSync(path.join(dir, 'inner/.gt-doctorrc'))
    expect((await loadConfig({cwd: path.join(dir, 'inner'), stopDir: dir})).sockets).toEqual(['/outer'])
  })

  it('uses the defaults when there is no file', async () => {
    const config = await loadConfig({cwd: dir, stopDir: dir})
    expect(config).toEqual(defaultConfig())
    expect(config.checkTimeoutSeconds).toBe(10)
  })

  it('--config loads exactly that file, relative to the cwd', async () => {
    write('gt-doctor.config.json', {sockets: ['/searched']})
    write('elsewhere/mine.json', {sockets: ['rel']})
    const config = await loadConfig({cwd: dir, explicit: 'elsewhere/mine.json'})
    expect(config.sockets).toEqual([path.join(dir, 'elsewhere', 'rel')])
    await expect(loadConfig({cwd: dir, explicit: 'missing.json'})).rejects.toThrow(
      /^config .*missing\.json: no such file$/,
    )
    write('pkg/package.json', {name: 'p'})
    await expect(loadConfig({cwd: dir, explicit: 'pkg/package.json'})).rejects.toThrow(/has no "gt-doctor" key$/)
  })

  it('an empty file is an empty configuration', async () => {
    write('x.json', '')
    expect((await loadConfig({cwd: dir, explicit: 'x.json'})).rules).toEqual(defaultConfig().rules)
  })
})

describe('an invalid configuration is one line naming the file and the key', () => {
  it.each([
    [
      {checks: {'orphan-memory': {severity: 'fatal'}}},
      'checks.orphan-memory.severity must be one of info, warning, error',
    ],
    [{checks: {'orphan-memory': {enabled: 'no'}}}, 'checks.orphan-memory.enabled must be true or false'],
    [{checks: {'orphan-memory': {minAgeSeconds: -1}}}, 'checks.orphan-memory.minAgeSeconds must be >= 0'],
    [
      {checks: {'orphan-memory': {sevrity: 'info'}}},
      'checks.orphan-memory.sevrity is not a known key (known: enabled, severity, minAgeSeconds, options)',
    ],
    [{checkTimeoutSeconds: 0}, 'checkTimeoutSeconds must be > 0'],
    [{checkTimeoutSeconds: '5'}, 'checkTimeoutSeconds must be a number'],
    [{sockets: ['/a', 3]}, 'sockets[1] must be a string'],
    [{localChecks: ['']}, 'localChecks[0] must not be empty'],
    [{ignore: {uids: [-1]}}, 'ignore.uids[0] must be >= 0'],
    [{ignore: {pids: [3]}}, 'ignore.pids is not a known key (known: commands, sessions, uids)'],
    [
      {rules: {mcp: {scripts: 'x'}}},
      'rules.mcp.scripts must be a list of regular expressions (added to the defaults), or {"replace": [...]} (replacing them)',
    ],
    [
      {rules: {mcp: {scripts: ['ok', '(unclosed']}}},
      'rules.mcp.scripts[1]: Invalid regular expression: /(unclosed/: Unterminated group',
    ],
    [
      {rules: {mcp: {programs: {replace: ['.*']}}}},
      'rules.mcp.programs.replace[0]: /.*/ matches the empty string, so it would match every process',
    ],
    [{rules: {claude: {names: ['bin/claude']}}}, 'rules.claude.names[0]: must be a program basename (no "/")'],
    [{rules: {claude: {nativeBinary: ''}}}, 'rules.claude.nativeBinary must not be empty'],
    [
      {rules: {claude: {headless: ['-p', 'print']}}},
      'rules.claude.headless[1]: must be a flag (-x, --name or --name=value)',
    ],
    [
      {rules: {agentSessionPattern: '('}},
      'rules.agentSessionPattern: Invalid regular expression: /(/: Unterminated group',
    ],
    [{ignore: {commands: ['[']}}, 'ignore.commands[0]: Invalid regular expression: /[/: Unterminated character class'],
    [
      {rulez: {}},
      'rulez is not a known key (known: $schema, checkTimeoutSeconds, checks, localChecks, sockets, rules, ignore)',
    ],
    [[1, 2], 'the configuration must be an object'],
  ])('%j', async (content, message) => {
    expect(await problem(content)).toBe(`config gt-doctor.config.json: ${message}`)
  })

  it('refuses a pattern that backtracks catastrophically, in one line (exit 2), before any process is matched', async () => {
    for (const [at, content] of [
      ['rules.mcp.programs[0]', {rules: {mcp: {programs: ['^(a+)+-mcp$']}}}],
      ['rules.claude.scripts[0]', {rules: {claude: {scripts: ['(x|x)*y']}}}],
      ['ignore.commands[0]', {ignore: {commands: ['^(\\w+\\s?)*$']}}],
    ] as const) {
      const message = await problem(content)
      expect(message).toMatch(
        new RegExp(
          `^config gt-doctor\\.config\\.json: ${at.replace(/[.[\]]/g, '\\$&')}: /.*/ can backtrack catastrophically \\(exponential time`,
        ),
      )
      expect(message).not.toContain('\n')
    }
    // A linear pattern with repetitions is fine.
    expect(
      await problem({rules: {mcp: {programs: ['^mcp-server-[\\w.-]+$', '^[a-z]+-mcp(?:-server)?$']}}}),
    ).toBeUndefined()
  })

  it('warns (and loads) when a recognition pattern matches every program, as ^.+$ does', async () => {
    const file = write('gt-doctor.config.json', {rules: {mcp: {programs: ['^.+$', '^mcp-x$']}, supervisors: ['^.+$']}})
    const config = await loadConfig({cwd: dir, stopDir: dir})
    expect(config.notices).toEqual([
      `config ${file}: rules.mcp.programs[0]: /^.+$/ matches every program (sh, node, vim ...): every process would be taken for what it recognises`,
    ])
  })

  it('the built-in patterns run in linear time or close: none is exponential', async () => {
    const {checkSync} = await import('recheck')
    const r = defaultConfig().rules
    for (const source of [
      ...r.claude.scripts,
      r.claude.nativeBinary,
      ...r.mcp.programs,
      ...r.mcp.scripts,
      ...r.mcp.packages,
      ...r.mcp.images,
      ...r.subreapers,
      ...r.supervisors,
    ]) {
      const result = checkSync(source, '', {timeout: 10_000})
      expect(result.status === 'vulnerable' && result.complexity.type === 'exponential', source).toBe(false)
    }
  }, 120_000)

  it('names malformed JSON and a module that does not load', async () => {
    expect(await problem('{"checks": ')).toMatch(/^config gt-doctor\.config\.json: invalid JSON: /)
    fs.rmSync(path.join(dir, 'gt-doctor.config.json'))
    expect(await problem('export default {', 'gt-doctor.config.mjs')).toMatch(
      /^config gt-doctor\.config\.mjs: could not be loaded: /,
    )
  })

  it('an unknown check id or option is an error listing what is known', async () => {
    const all = await loadChecks({config: defaultConfig()})
    const config = (value: unknown) => {
      write('c.json', value)
      return loadConfig({cwd: dir, explicit: 'c.json'})
    }
    const check = async (value: unknown) => {
      try {
        validateCheckSettings(await config(value), all)
        return undefined
      } catch (error) {
        return (error as Error).message.replace(`${dir}/`, '')
      }
    }
    expect(await check({checks: {'orphan-clade': {enabled: false}}})).toBe(
      'config c.json: checks.orphan-clade is not a known check; known checks: agent-leftover, detached-run, orphan-claude, orphan-mcp, orphan-memory, session-mismatch',
    )
    expect(await check({checks: {'orphan-memory': {options: {limtBytes: 1}}}})).toBe(
      'config c.json: checks.orphan-memory.options.limtBytes is not an option of orphan-memory (known: limitBytes, limitPercentOfRam, limitCapBytes, top)',
    )
    expect(await check({checks: {'orphan-memory': {options: {top: 'five'}}}})).toBe(
      'config c.json: checks.orphan-memory.options.top must be a number',
    )
    expect(await check({checks: {'orphan-memory': {options: {limitBytes: 2 ** 31}}}})).toBeUndefined()
    expect(await check({checks: {'session-mismatch': {options: {x: 1}}}})).toBe(
      'config c.json: checks.session-mismatch.options: session-mismatch takes no options',
    )
    // While something failed to load, its ids cannot be known: no error for them (the failure is reported).
    validateCheckSettings(await config({checks: {'from-a-broken-plugin': {enabled: false}}}), all, true)
  })

  it('validates options against a check that declares an optionsSchema', () => {
    const check = {
      id: 'with-schema',
      title: 't',
      description: 'd',
      optionsSchema: {type: 'object', properties: {limit: {type: 'integer', minimum: 1}}, additionalProperties: false},
      detect: () => [],
    }
    const config = {
      ...defaultConfig(),
      source: path.join(dir, 'c.json'),
      checks: {'with-schema': {options: {limit: 0}}},
    }
    expect(() => validateCheckSettings(config, [{check, source: {kind: 'local', name: 'x'}}])).toThrow(
      `config ${dir}/c.json: checks.with-schema.options.limit must be >= 1`,
    )
    config.checks['with-schema'].options = {limit: 2}
    expect(() => validateCheckSettings(config, [{check, source: {kind: 'local', name: 'x'}}])).not.toThrow()
  })
})

describe('merging over the defaults', () => {
  it('pattern arrays extend the defaults; {"replace": [...]} replaces them; scalars replace', async () => {
    write('gt-doctor.config.json', {
      rules: {
        claude: {names: ['my-claude', 'claude'], headless: ['--batch']},
        mcp: {packages: {replace: ['^@corp/mcp-']}, claudeCodeEnv: false},
        agentSessionPattern: '^agent-',
      },
      checks: {'orphan-memory': {severity: 'warning', options: {limitBytes: 1}}},
      checkTimeoutSeconds: 2.5,
    })
    const config = await loadConfig({cwd: dir, stopDir: dir})
    expect(config.rules.claude.names).toEqual([...DEFAULT_RULES.claude.names, 'my-claude'])
    expect(config.rules.claude.scripts).toEqual(DEFAULT_RULES.claude.scripts)
    expect(config.rules.claude.headless).toEqual([...DEFAULT_RULES.claude.headless, '--batch'])
    expect(config.rules.mcp.packages).toEqual(['^@corp/mcp-'])
    expect(config.rules.mcp.programs).toEqual(DEFAULT_RULES.mcp.programs)
    expect(config.rules.mcp.claudeCodeEnv).toBe(false)
    expect(config.rules.agentSessionPattern).toBe('^agent-')
    expect(config.checks['orphan-memory']).toEqual({severity: 'warning', options: {limitBytes: 1}})
    expect(config.checkTimeoutSeconds).toBe(2.5)
    const rules = createRules(config.rules)
    expect(rules.isAgentSession('agent-1')).toBe(true)
    expect(rules.isAgentSession('gt-1')).toBe(false)
    // DEFAULT_RULES is untouched.
    expect(DEFAULT_RULES.claude.names).not.toContain('my-claude')
  })

  it('mergePatterns keeps order and drops duplicates', () => {
    expect(mergePatterns(['a', 'b'], ['b', 'c'])).toEqual(['a', 'b', 'c'])
    expect(mergePatterns(['a'], {replace: []})).toEqual([])
    expect(mergePatterns(['a'], undefined)).toEqual(['a'])
  })

  it('the example config in examples/local-check loads', async () => {
    const example = path.resolve('examples/local-check/gt-doctor.config.json')
    const config = await loadConfig({explicit: example})
    expect(config.localChecks).toEqual([path.resolve('examples/local-check/too-many-claudes.mjs')])
  })
})

describe('the README and docs stay true', () => {
  const blockAfter = (heading: string, lang: string, file = 'README.md') => {
    const readme = fs.readFileSync(file, 'utf8')
    const from = readme.indexOf(heading)
    expect(from, heading).toBeGreaterThan(-1)
    const start = readme.indexOf('```' + lang + '\n', from) + lang.length + 4
    return readme.slice(start, readme.indexOf('```', start))
  }

  it('"Write a check in 20 lines" is the tested example module, verbatim, and 20 lines', () => {
    const block = blockAfter('### Write a check in 20 lines', 'js')
    expect(block).toBe(fs.readFileSync('examples/local-check/orphan-watchers.mjs', 'utf8'))
    expect(block.trimEnd().split('\n').length).toBeLessThanOrEqual(20)
  })

  it('"Write a check in 20 lines" runs as its README says: loaded from the config, it flags an orphan tail -f and its fix ends it', async () => {
    write('checks/orphan-watchers.mjs', blockAfter('### Write a check in 20 lines', 'js'))
    write('gt-doctor.config.json', JSON.parse(blockAfter('Point the config at it:', 'json')))
    const config = await loadConfig({cwd: dir, stopDir: dir})
    const checks = await loadChecks({config})
    const m = new Machine()
    m.proc({pid: 700, ppid: 1, cmd: 'tail -f /var/log/build.log'})
    m.proc({pid: 710, ppid: 1, cmd: 'tail -f /tmp/x', ttyNr: 34_817})
    m.pane(m.server({pid: 100}), 'work', {pid: 101, cmd: 'bash'})
    m.proc({pid: 102, ppid: 101, cmd: 'tail -f /tmp/y'})
    const diagnosis = await diagnose({
      tool: {name: 'gt-doctor', version: 'test'},
      snapshot: m.snapshot(),
      config,
      checks,
      only: ['orphan-watchers'],
    })
    expect(diagnosis.results[0]).toMatchObject({id: 'orphan-watchers', status: 'warning', source: {kind: 'local'}})
    expect(diagnosis.results[0].findings).toEqual([
      expect.objectContaining({
        id: 'orphan-watchers:700:7000',
        check: 'orphan-watchers',
        severity: 'warning',
        pid: 700,
        pids: [700],
        fixable: true,
      }),
    ])
    const ends = planRemediation(diagnosis).items.flatMap((i) =>
      i.actions.flatMap((a) => (a.kind === 'terminate-tree' ? a.targets.map((t) => t.pid) : [])),
    )
    expect(ends).toEqual([700])
  })

  it('the example configuration is valid, with its local check loaded', async () => {
    write('checks/too-many-claudes.mjs', fs.readFileSync('examples/local-check/too-many-claudes.mjs', 'utf8'))
    write('gt-doctor.config.json', blockAfter('\n## Example\n', 'json', 'docs/configuration.md'))
    const config = await loadConfig({cwd: dir, stopDir: dir})
    expect(config.ignore).toEqual({commands: ['/opt/long-running-mcp/'], sessions: ['scratch'], uids: [0]})
    expect(config.sockets).toEqual([path.join(os.homedir(), '.local/state/agents/tmux.sock')])
    const {loadLocalChecks} = await import('../src/plugins/load.js')
    const api = await import('../src/index.js')
    const all = [
      ...(await loadChecks({config: defaultConfig()})),
      ...(await loadLocalChecks(config.localChecks, api, new Set())),
    ]
    expect(() => validateCheckSettings(config, all)).not.toThrow()
  })
})
