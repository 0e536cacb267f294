import {runCommand} from '@oclif/test'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import {describe, expect, it} from 'vitest'
import {defaultConfig} from '../src/config/config.js'
import {diagnose} from '../src/doctor.js'
import {fastVersion} from '../src/fast-version.js'
import {renderTable} from '../src/render/table.js'
import {incident} from './support/incident.js'
import {BUILT_IN_CHECK_IDS} from './support/cli.js'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const schema = JSON.parse(readFileSync(new URL('../src/report/report-v1.schema.json', import.meta.url), 'utf8'))
const ajv = new Ajv({allErrors: true})
addFormats(ajv)
const validate = ajv.compile(schema)

/** The real binary, as a user runs it (read-only on the host: check never signals anything). */
function cli(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: {...process.env, NO_COLOR: '1', ...env},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

describe('the report contract (schemaVersion 1)', () => {
  it('the incident report validates against the JSON schema', async () => {
    const {report} = await diagnose({
      tool: {name: 'gt-doctor', version: '0.0.0'},
      snapshot: incident().snapshot,
      config: defaultConfig(),
    })
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true)
    expect(report.checks.map((c) => c.id)).toEqual([...BUILT_IN_CHECK_IDS])
  })

  it('the schema rejects what it should', () => {
    expect(validate({schemaVersion: 2})).toBe(false)
    expect(validate({schemaVersion: 1, tool: {}, generatedAt: 'x', host: {}, summary: {}, checks: []})).toBe(false)
  })

  it('`gt-doctor --json` on this host prints one valid report and nothing else on stdout', () => {
    const r = cli(['--json'])
    const report = JSON.parse(r.stdout)
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true)
    expect(report.schemaVersion).toBe(1)
    expect([0, 1]).toContain(r.code)
  })
})

describe('the CLI', () => {
  it('bare gt-doctor runs check and prints the table and a summary line', () => {
    const r = cli([])
    expect(r.stdout).toContain('orphan-claude')
    expect(r.stdout).toMatch(/\d+ passed · \d+ warnings? · \d+ errors?/)
    // Plain under NO_COLOR: no escape codes at all.
    expect(r.stdout).not.toMatch(/\u001b\[/)
  })

  it('an unknown flag is one line on stderr and exit 2', () => {
    const r = cli(['--frobnicate'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual(['gt-doctor: Nonexistent flag: --frobnicate'])
    expect(r.stdout).toBe('')
  })

  it('-h and --help everywhere, -V and `version` for the version, -v still --verbose', () => {
    for (const args of [['-h'], ['--help'], ['check', '-h'], ['history', '-h'], ['session', 'stop', '-h']]) {
      const r = cli(args)
      expect(r.code, args.join(' ')).toBe(0)
      expect(r.stdout, args.join(' ')).toContain('USAGE')
    }
    const version = cli(['--version']).stdout
    expect(cli(['-V']).stdout).toBe(version)
    expect(cli(['version']).stdout).toBe(version)
    expect(JSON.parse(cli(['version', '--json']).stdout)).toMatchObject({
      name: 'gt-doctor',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    })
    expect(cli(['check', '-h']).stdout).toMatch(/-v, --verbose/)
    expect(cli(['-h']).stdout).toMatch(/autocomplete/)
  })

  it('every help fits 80 columns when piped, summaries and the root description included', () => {
    const commands = [[], ['check'], ['checks'], ['snapshot'], ['watch'], ['history'], ['session'], ['session', 'stop']]
    for (const args of [...commands, ['plugins'], ['version'], ['autocomplete']]) {
      const r = cli([...args, '--help'])
      expect(r.code, args.join(' ')).toBe(0)
      expect(
        r.stdout.split('\n').filter((l) => l.length > 80),
        `gt-doctor ${args.join(' ')} --help`,
      ).toEqual([])
    }
  })

  it('an unknown command and a missing flag value are one line and exit 2', () => {
    expect(cli(['frobnicate'])).toMatchObject({
      code: 2,
      stderr: 'gt-doctor: command frobnicate not found (gt-doctor help lists the commands)\n',
    })
    // A typo names what it probably meant (@oclif/plugin-not-found prompts instead on a terminal).
    expect(cli(['chek'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'gt-doctor: command chek not found; did you mean "check"? (gt-doctor help lists the commands)\n',
    })
    const r = cli(['check', '--socket'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('under --json a usage error is still JSON on stdout', () => {
    const r = cli(['--json', '--frobnicate'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({error: {message: 'Nonexistent flag: --frobnicate', exitCode: 2}})
  })

  it('--version and --help', () => {
    expect(cli(['--version']).stdout).toMatch(/^gt-doctor\/\d+\.\d+\.\d+ /)
    const help = cli(['check', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('EXAMPLES')
  })

  it('--version prints what oclif prints, without oclif when no plugin could change it', () => {
    const fast = cli(['--version'])
    // A plugin list in the data dir (even an empty one) hands --version back to oclif.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gt-doctor-data-'))
    writeFileSync(path.join(dataDir, 'package.json'), '{}')
    const oclif = cli(['--version'], {GT_DOCTOR_DATA_DIR: dataDir})
    expect(oclif.code).toBe(0)
    expect(fast).toMatchObject({code: 0, stdout: oclif.stdout, stderr: oclif.stderr})
    expect(fastVersion(root, {GT_DOCTOR_DATA_DIR: dataDir})).toBeUndefined()
    expect(fastVersion(root, {DEBUG: '*', GT_DOCTOR_DATA_DIR: '/nonexistent'})).toBeUndefined()
    expect(fastVersion(root, {GT_DOCTOR_DATA_DIR: '/nonexistent'})).toBe(fast.stdout)
  })

  it('`checks` lists every check with where it came from (through @oclif/test)', async () => {
    const {stdout, error} = await runCommand(['checks', '--json'], {root})
    expect(error).toBeUndefined()
    const listing = JSON.parse(stdout)
    expect(listing.map((c: {id: string}) => c.id)).toEqual([...BUILT_IN_CHECK_IDS])
    expect(listing.every((c: {source: string}) => c.source === 'built-in')).toBe(true)
    expect(listing.find((c: {id: string}) => c.id === 'orphan-claude').fixable).toBe(true)
    // The two checks whose fix is opt-in say so, with the option to set.
    expect(
      listing
        .filter((c: {fixOptIn?: string}) => c.fixOptIn)
        .map((c: {id: string; fixOptIn: string}) => [c.id, c.fixOptIn]),
    ).toEqual([
      ['agent-leftover', 'fixLeftovers'],
      ['detached-run', 'stuckAfterSeconds'],
    ])
    const table = await runCommand(['checks'], {root})
    expect(table.stdout).toMatch(/detached-run .*│ opt-in +│/)
  })
})

describe('the table', () => {
  it('groups findings by check, shows passed checks, and uses no colour when asked', async () => {
    const {report} = await diagnose({
      tool: {name: 'gt-doctor', version: '0.0.0'},
      snapshot: incident().snapshot,
      config: defaultConfig(),
    })
    const plain = renderTable(report, {color: false})
    expect(plain).not.toMatch(/\u001b\[/)
    expect(plain).toContain('2 passed · 1 warning · 3 errors')
    expect(plain).toContain('19 claude processes, 15 tmux sessions, 12 orphan claude, 80 orphan MCP')
    expect(plain.match(/orphan-claude/g)).toHaveLength(1)
    const colour = renderTable(report, {color: true})
    expect(colour).toContain('✖')
    const quiet = renderTable(report, {color: false, quiet: true, width: 80})
    expect(quiet).not.toContain('┌')
    expect(quiet.split('\n')[0]).toBe('2 passed · 1 warning · 3 errors')
    expect(quiet.split('\n').every((l) => l.length <= 80)).toBe(true)
  })
})

describe('honest coverage', () => {
  const tool = {name: 'gt-doctor', version: '0.0.0'}

  it('counts in the summary only what the checks that ran measure', async () => {
    const {report} = await diagnose({
      tool,
      snapshot: incident().snapshot,
      config: defaultConfig(),
      only: ['session-mismatch'],
    })
    expect(report.summary.notChecked).toEqual([
      'orphanClaude',
      'orphanMcp',
      'orphanMemoryBytes',
      'detachedRuns',
      'leftovers',
    ])
    const quiet = renderTable(report, {color: false, quiet: true, width: 80})
    expect(quiet).not.toMatch(/orphan claude|orphan MCP|held by orphans/)
    const all = await diagnose({tool, snapshot: incident().snapshot, config: defaultConfig()})
    expect(all.report.summary.notChecked).toBeUndefined()
    // The orphan-MCP count explains itself: most of them are inside the orphan claude trees.
    expect(renderTable(all.report, {color: false, width: 200})).toMatch(
      /\d+ orphan MCP \(\d+ of them inside orphan claude trees\)/,
    )
  })

  it('names a --socket with no server and a server that did not answer, in the table and the JSON', async () => {
    const base = incident().snapshot
    const snapshot = {
      ...base,
      tmux: {
        ...base.tmux,
        servers: [
          ...base.tmux.servers,
          {
            socket: '/typo.sock',
            status: 'stale' as const,
            error: 'no server running on /typo.sock',
            foundBy: ['flag' as const],
            panes: [],
          },
          {
            socket: '/tmp/tmux-0/frozen',
            pid: 77,
            status: 'unresponsive' as const,
            error: 'no answer within 1000 ms',
            foundBy: ['socket-dir' as const],
            panes: [],
          },
        ],
      },
    }
    const {report} = await diagnose({tool, snapshot, config: defaultConfig()})
    expect(report.limitations).toContain(
      '--socket /typo.sock is not a live tmux server (no server running on /typo.sock): nothing was checked there',
    )
    expect(report.limitations).toContain(
      'tmux server /tmp/tmux-0/frozen (pid 77) did not answer (no answer within 1000 ms; --tmux-timeout sets the bound): its sessions and panes are not checked',
    )
    const text = renderTable(report, {color: false, width: 80})
    expect(text).toContain('Not checked or not fully measured:')
    expect(text.replace(/\s+/g, ' ')).toContain('! --socket /typo.sock is not a live tmux server')
    const ajv = new Ajv({strict: false})
    ;(addFormats as unknown as (a: Ajv) => void)(ajv)
    expect(ajv.validate(schema, report), JSON.stringify(ajv.errors)).toBe(true)
  })
})
