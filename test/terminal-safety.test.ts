/**
 * Everything that reaches a terminal passes through one function (report/display.ts): in every report
 * format, the verbose table, the --fix plan and the fix results no raw control character survives (OSC 52
 * clipboard writes, window titles, ESC[2J in argv or in a path), no secret either, and a command line of
 * 4 × 128 KiB arguments is cut (saying how much) and redacted in linear time.
 */
import {describe, expect, it} from 'vitest'
import orphanClaude from '../checks/orphan-claude.js'
import orphanMcp from '../checks/orphan-mcp.js'
import orphanMemory from '../checks/orphan-memory.js'
import sessionMismatch from '../checks/session-mismatch.js'
import type {RegisteredCheck} from '../src/checks/api.js'
import {runChecks} from '../src/checks/runner.js'
import {defaultConfig} from '../src/config/config.js'
import type {Diagnosis} from '../src/doctor.js'
import {planRemediation} from '../src/remediation/plan.js'
import {renderFixed, renderPlan} from '../src/render/fix.js'
import {FORMATS, renderReport} from '../src/render/output.js'
import {cutText, escapeControls, forDisplay} from '../src/report/display.js'
import {buildReport} from '../src/report/model.js'
import {redactText} from '../src/report/redact.js'
import {createRules} from '../src/rules/rules.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {runCli} from './support/cli.js'
import {Machine} from './support/machine.js'
import {allSecrets, fake, secretCorpus} from './support/secrets.js'

const builtins: RegisteredCheck[] = [orphanClaude, orphanMcp, orphanMemory, sessionMismatch].map((check) => ({
  check,
  source: {kind: 'built-in'},
}))
/** What a terminal acts on: C0 but line feed (tab too: the renderers lay it out), DEL, C1. */
const RAW_CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202E]/
const HOME = '/home/morsov'
const token = `ghp_${fake('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 36, 77)}`
const HOSTILE = [
  '\u001b]52;c;cm0gLXJmIH4K\u0007', // OSC 52: writes the clipboard
  '\u001b]0;you have been pwned\u0007', // window title
  '\u001b[2J\u001b[H', // clear screen
  '\u009b2J', // 8-bit CSI
  'evil\u202Egnp.exe', // right-to-left override
]

function hostile(): Snapshot {
  const m = new Machine()
  m.proc({pid: 300, ppid: 1, comm: 'claude', argv: ['claude', '--api-key', token, ...HOSTILE], mib: 350})
  m.proc({
    pid: 301,
    ppid: 300,
    comm: 'node',
    argv: ['node', `${HOME}/.npm/_npx/1/node_modules/\u001b[2J@evil/mcp/\u001b]0;t\u0007index.js`],
    mib: 40,
    env: {CLAUDECODE: '1'},
  })
  m.proc({
    pid: 400,
    ppid: 1,
    comm: 'npm',
    argv: ['npm', 'exec', '@modelcontextprotocol/server-filesystem', '\u001b[31mred'],
    mib: 30,
    env: {CLAUDECODE: '1'},
  })
  m.proc({
    pid: 401,
    ppid: 400,
    comm: 'node',
    argv: ['node', `/x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js`, '\u001b]52;c;eA==\u0007'],
    mib: 60,
    env: {CLAUDECODE: '1'},
  })
  return m.snapshot()
}

async function diagnosisOf(snapshot: Snapshot): Promise<Diagnosis> {
  const config = defaultConfig()
  const results = await runChecks(builtins, snapshot, {config})
  const report = buildReport({
    snapshot,
    results,
    rules: createRules(config.rules),
    tool: {name: 'gt-doctor', version: '0.0.0'},
  })
  return {config, checks: builtins, snapshot, results, report}
}

describe('terminal safety: one function between the data and every terminal', () => {
  it('escapes control characters as \\xNN and keeps line feeds', () => {
    expect(escapeControls('a\u001b[2Jb\u0007\u009b\n\tc\u202E')).toBe('a\\x1b[2Jb\\x07\\x9b\n\tc\\u{202e}')
  })

  for (const format of FORMATS) {
    it(`${format} (the table with --verbose): no raw control character, no secret`, async () => {
      const snapshot = hostile()
      const {report} = await diagnosisOf(snapshot)
      const text = renderReport({
        format,
        report,
        snapshot,
        redact: true,
        redactOptions: {home: HOME},
        failOn: 'error',
        table: {color: false, verbose: true, width: 200},
      }).text
      expect(text).not.toMatch(RAW_CONTROL)
      expect(text).not.toContain(token)
      // --no-redact lets secrets through, never control characters.
      expect(
        renderReport({
          format,
          report,
          snapshot,
          redact: false,
          failOn: 'error',
          table: {color: false, verbose: true, width: 200},
        }).text,
      ).not.toMatch(RAW_CONTROL)
    })
  }

  it('control: the hostile argv does reach the plan', async () => {
    const plan = planRemediation(await diagnosisOf(hostile()))
    expect(renderPlan(plan, {color: false, graceMs: 5000})).toMatch(RAW_CONTROL)
  })

  it('the --fix plan and the fix results as check shows them: escaped and redacted', async () => {
    const diagnosis = await diagnosisOf(hostile())
    const plan = forDisplay(planRemediation(diagnosis), {redact: true, home: HOME})
    const text = renderPlan(plan, {color: false, graceMs: 5000})
    expect(text).toContain('Plan: end ')
    expect(text).toContain('\\x1b]52;c;')
    expect(text).not.toMatch(RAW_CONTROL)
    expect(text).not.toContain(token)
    const fixed = {
      ...diagnosis.report,
      fixed: diagnosis.report.checks
        .flatMap((c) => c.findings)
        .map((f) => ({
          ...f,
          fix: {outcome: 'fixed' as const, detail: `ended ${HOSTILE[0]} ${token}`, signalled: [], freedBytes: 0},
        })),
    }
    const after = renderFixed(forDisplay(fixed, {redact: true, home: HOME}), {color: false})
    expect(after).not.toMatch(RAW_CONTROL)
    expect(after).not.toContain(token)
  })
})

describe('error lines', () => {
  it('a path with ESC[2J in it is escaped in the one error line', () => {
    const r = runCli(['check', '--from', '/nonexistent/\u001b[2J\u001b]0;t\u0007/snap.json'])
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('\\x1b[2J')
    expect(r.stderr).not.toMatch(RAW_CONTROL)
  })
})

describe('the secret corpus in the --fix plan', () => {
  it('every corpus command line, planned for ending, is masked in the plan table; unmasked, most show', async () => {
    const m = new Machine()
    m.proc({pid: 300, ppid: 1, comm: 'claude', argv: ['claude'], mib: 350})
    secretCorpus().forEach((c, i) =>
      m.proc({pid: 400 + i, ppid: 300, comm: 'node', argv: c.argv, mib: 10, env: {CLAUDECODE: '1'}}),
    )
    const plan = planRemediation(await diagnosisOf(m.snapshot()))
    // Wide enough that no secret is wrapped across cells in the control run.
    const render = (p: typeof plan) => renderPlan(p, {color: false, graceMs: 5000, width: 1000}).replace(/\s*│\s*/g, '')
    const secrets = allSecrets()
    const shown = render(forDisplay(plan, {redact: true, home: HOME}))
    expect(shown).toContain(`Plan: end ${secretCorpus().length + 1} processes`)
    expect(secrets.filter((x) => shown.includes(x))).toEqual([])
    // shortCommand cuts a command at 120 characters: the control counts those it shows whole.
    expect(secrets.filter((x) => render(plan).includes(x)).length).toBeGreaterThan(30)
  })
})

describe('very long command lines', () => {
  const N = 128 * 1024
  const shapes: Record<string, string> = {
    'a.a.a…': 'a.'.repeat(N / 2),
    '-a-a-a…key': `${'-a'.repeat(N / 2)}key`,
    'eyJ a.a.a…': `eyJ${'a.'.repeat(N / 2)}`,
    'a://a://…': 'a://'.repeat(N / 4),
    '"a_a_a…': `"${'a_'.repeat(N / 2)}`,
    'x=x=x…': 'x='.repeat(N / 2),
    'token token …': '--token '.repeat(N / 8),
  }
  for (const [name, text] of Object.entries(shapes)) {
    // Milliseconds when linear; the backtracking rules took 10-34 s per such argument.
    it(`redacts a 128 KiB argument (${name}) in linear time (under 4 s)`, () => {
      const started = performance.now()
      redactText(`${text}Z`)
      expect(performance.now() - started).toBeLessThan(4000)
    })
  }

  it('4 × 128 KiB arguments: every format and --verbose in linear time, each argument cut with how much', async () => {
    const m = new Machine()
    const args = Object.values(shapes)
      .slice(0, 4)
      .map((s) => s.slice(0, N))
    m.proc({pid: 300, ppid: 1, comm: 'claude', argv: ['claude', ...args], mib: 350})
    const snapshot = m.snapshot()
    const {report} = await diagnosisOf(snapshot)
    const started = performance.now()
    for (const format of FORMATS) {
      const text = renderReport({
        format,
        report,
        snapshot,
        redact: true,
        failOn: 'error',
        table: {color: false, verbose: true, width: 200},
      }).text
      expect(text.length, format).toBeLessThan(64 * 1024)
      // The tree shows 240 characters of the command line and how many of its 6 + 4 × (128 KiB + 1) it did not.
      if (format === 'table') expect(text.replace(/\s*│\s*/g, ''), format).toMatch(/…\[[\d,]+ characters cut\]/)
      if (format === 'markdown' || format === 'junit')
        expect(text, format).toContain(`…[${(6 + 4 * (N + 1) - 240).toLocaleString('en-US')} characters cut]`)
    }
    // About a second when linear; 43 s, and over 300 s with --verbose, before.
    expect(performance.now() - started).toBeLessThan(20_000)
  })

  it('cutText says how much it cut', () => {
    expect(cutText('x'.repeat(5000))).toBe(`${'x'.repeat(4096)}…[904 characters cut]`)
    expect(cutText('short')).toBe('short')
  })
})
