/**
 * Reports at scale: a check that returns a million findings is cut to MAX_FINDINGS_PER_CHECK with a
 * limitation saying how many were dropped (it overflowed the stack at 3e5 and aborted V8 at 1e6), and
 * 10,000 orphan trees render in every format, --verbose included, in linear time (45 to 92 s before).
 */
import {describe, expect, it} from 'vitest'
import orphanClaude from '../checks/orphan-claude.js'
import orphanMcp from '../checks/orphan-mcp.js'
import {defineCheck, type RegisteredCheck} from '../src/checks/api.js'
import {MAX_FINDINGS_PER_CHECK, runChecks} from '../src/checks/runner.js'
import {defaultConfig} from '../src/config/config.js'
import {renderJunit} from '../src/render/junit.js'
import {renderMarkdown} from '../src/render/markdown.js'
import {renderReport, snapshotForReport} from '../src/render/output.js'
import {renderTable} from '../src/render/table.js'
import {forDisplay, snapshotForDisplay} from '../src/report/display.js'
import {buildReport} from '../src/report/model.js'
import {createRules} from '../src/rules/rules.js'
import {Machine} from './support/machine.js'

describe('findings at scale', () => {
  it('a check returning 1e6 findings is cut, with a limitation saying how many were dropped', async () => {
    const flood = defineCheck({
      id: 'flood',
      title: 'Flood',
      description: 'returns a million findings',
      defaultSeverity: 'warning',
      detect: () =>
        Array.from({length: 1_000_000}, (_, i) => ({key: `k${i}`, message: `finding ${i}`, reason: 'r', pids: []})),
    })
    const m = new Machine()
    m.proc({pid: 300, ppid: 1, cmd: 'bash'})
    const snapshot = m.snapshot()
    const config = defaultConfig()
    const results = await runChecks([{check: flood, source: {kind: 'built-in'}}], snapshot, {config})
    expect(results[0].status).toBe('warning')
    expect(results[0].findings).toHaveLength(MAX_FINDINGS_PER_CHECK)
    const report = buildReport({
      snapshot,
      results,
      rules: createRules(config.rules),
      tool: {name: 'gt-doctor', version: '0'},
    })
    expect(report.limitations).toContain(
      'check flood returned more findings than one check may report: the first 10,000 were kept, 990,000 dropped',
    )
    const text = renderReport({
      format: 'table',
      report,
      snapshot,
      redact: true,
      failOn: 'error',
      table: {color: false, width: 100},
    }).text
    // The table wraps its notes to the width: read them joined.
    expect(text.replace(/\n +/g, ' ')).toContain('990,000 dropped')
  }, 120_000)

  it('10,000 orphan trees: table, --verbose, json, markdown and junit each in linear time (under 20 s)', async () => {
    const m = new Machine()
    for (let i = 0; i < 10_000; i++) {
      const root = 100_000 + i * 10
      m.proc({pid: root, ppid: 1, cmd: 'claude', mib: 200})
      m.proc({
        pid: root + 1,
        ppid: root,
        cmd: 'node /x/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js',
        mib: 40,
        env: {CLAUDECODE: '1'},
      })
    }
    const snapshot = m.snapshot()
    const config = defaultConfig()
    const checks: RegisteredCheck[] = [orphanClaude, orphanMcp].map((check) => ({check, source: {kind: 'built-in'}}))
    const results = await runChecks(checks, snapshot, {config})
    const report = buildReport({
      snapshot,
      results,
      rules: createRules(config.rules),
      tool: {name: 'gt-doctor', version: '0'},
    })
    expect(report.summary.orphanClaude).toBe(10_000)
    // Made fit to show once (what renderReport does first), then each renderer on it. Each stage takes 1-4 s on
    // a busy 2-core machine; the quadratic code took 45 s (table), 81 s (junit) and 92 s (--verbose). The bound
    // sits between the two, far from both, so a slow CI machine does not fail it and a quadratic stage does.
    const BOUND_S = 20
    let started = performance.now()
    const shown = forDisplay(report, {redact: true})
    const view = snapshotForDisplay(snapshotForReport(snapshot, report), {redact: true})
    expect((performance.now() - started) / 1000, 'forDisplay').toBeLessThan(BOUND_S)
    const renderers: Record<string, () => string> = {
      table: () => renderTable(shown, {color: false, snapshot: view, width: 100}),
      'table --verbose': () => renderTable(shown, {color: false, snapshot: view, width: 100, verbose: true}),
      json: () => JSON.stringify(shown, null, 2),
      markdown: () => renderMarkdown(shown, view, {redacted: true}),
      junit: () => renderJunit(shown, view, {failOn: 'error'}),
    }
    for (const [name, render] of Object.entries(renderers)) {
      started = performance.now()
      expect(render().length, name).toBeGreaterThan(0)
      expect((performance.now() - started) / 1000, name).toBeLessThan(BOUND_S)
    }
    // The table shows 200 rows a check and counts the rest; the others list every finding.
    expect(renderers.table()).toContain('… and 9,800 more (--format json or markdown lists them all)')
    expect(renderers.markdown().match(/^\| \d+ \(\+1\) \|/gm)).toHaveLength(10_000)
  }, 300_000)
})
