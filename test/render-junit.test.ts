import {XMLParser, XMLValidator} from 'fast-xml-parser'
import {beforeAll, describe, expect, it} from 'vitest'
import type {Report, ReportCheck} from '../src/report/model.js'
import {renderJunit} from '../src/render/junit.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {reportFor} from './support/doctor.js'
import {incidentFixture} from './support/incident.js'
import {BUILT_IN_CHECK_IDS} from './support/cli.js'

const parser = new XMLParser({
  ignoreAttributes: false,
  htmlEntities: true,
  attributeNamePrefix: '',
  isArray: (name) => ['testcase', 'failure', 'property'].includes(name),
})

type Case = {
  name: string
  classname: string
  failure?: Array<{message: string; type: string; '#text': string}>
  skipped?: {message: string}
  error?: {message: string}
  'system-out'?: string
}

function parseJunit(xml: string): {suites: Record<string, string>; suite: Record<string, string>; cases: Case[]} {
  expect(XMLValidator.validate(xml)).toBe(true)
  const doc = parser.parse(xml)
  const suite = doc.testsuites.testsuite
  return {suites: doc.testsuites, suite, cases: suite.testcase}
}

function reportWith(checks: ReportCheck[]): Report {
  return {
    schemaVersion: 1,
    tool: {name: 'gt-doctor', version: '0'},
    generatedAt: '2026-01-11T12:00:00.000Z',
    host: {platform: 'linux', release: '6.1', wsl: false, totalMemoryBytes: 1, tmuxVersion: '3.4'},
    summary: {
      status: 'error',
      claudeProcesses: 0,
      tmuxSessions: 0,
      orphanClaude: 0,
      orphanMcp: 0,
      orphanMemoryBytes: 0,
      checks: {passed: 0, warnings: 0, errors: 0, crashed: 0, skipped: 0},
    },
    checks,
    limitations: [],
  }
}

describe('JUnit report of the incident', () => {
  let snapshot: Snapshot
  let report: Report

  beforeAll(async () => {
    snapshot = incidentFixture()
    report = await reportFor(snapshot)
  })

  it('is valid XML with one testcase per check and one failure per finding at the fail level', () => {
    const {suites, suite, cases} = parseJunit(renderJunit(report, snapshot, {failOn: 'error'}))
    expect(cases.map((c) => c.name)).toEqual(report.checks.map((c) => `${c.id}: ${c.title}`))
    const byId = (id: string) => cases[report.checks.findIndex((c) => c.id === id)]
    expect(report.checks.map((c) => c.id)).toEqual([...BUILT_IN_CHECK_IDS])
    expect(cases.map((c) => c.failure?.length ?? 0)).toEqual([0, 0, 12, 6, 1, 0])
    // session-mismatch and agent-leftover have warnings only: below --fail-on error they are reported, not failed.
    expect(byId('session-mismatch')['system-out']).toContain('Agent session gt-polecat-slit has no Claude process')
    expect(byId('agent-leftover')['system-out']).toContain('Left behind by Claude Code')
    for (const s of [suites, suite]) expect([s.tests, s.failures, s.errors, s.skipped]).toEqual(['6', '3', '0', '0'])
  })

  it('puts the finding, its reason and its process tree in the failure', () => {
    const {cases} = parseJunit(renderJunit(report, snapshot, {failOn: 'error'}))
    const f = cases[report.checks.findIndex((c) => c.id === 'orphan-claude')].failure![0]
    expect(f.type).toBe('error')
    expect(f.message).toBe('Orphan claude, 8h 39m old, 5 MCP servers (9 processes)')
    expect(f['#text']).toContain('why: reparented to init (PPID 1) and not in any live tmux pane')
    expect(f['#text']).toContain('elapsed: 8h 39m')
    expect(f['#text']).toContain(
      '1199837 ~/.local/share/claude/versions/2.0.76 --dangerously-skip-permissions (1012 MiB)',
    )
  })

  it('follows --fail-on: warnings fail under warning, nothing fails under never', () => {
    expect(
      parseJunit(renderJunit(report, snapshot, {failOn: 'warning'})).cases.map((c) => c.failure?.length ?? 0),
    ).toEqual([1, 0, 12, 6, 1, 3])
    const never = parseJunit(renderJunit(report, snapshot, {failOn: 'never'}))
    expect(never.cases.every((c) => c.failure === undefined)).toBe(true)
    expect(never.suite.failures).toBe('0')
  })
})

describe('JUnit statuses and escaping', () => {
  const hostile = 'a < b && c > "d" \'e\' ]]> \u001b[31mred\u001b[0m \u0000 nul \ud800 lone <![CDATA[x]]> </failure>'

  it('marks skipped checks skipped and crashed checks as errors', () => {
    const xml = renderJunit(
      reportWith([
        {
          id: 'a',
          title: 'A',
          status: 'skipped',
          durationMs: 0,
          source: 'built-in',
          error: 'skipped: tmux not found',
          findings: [],
        },
        {
          id: 'b',
          title: 'B',
          status: 'crashed',
          durationMs: 1.5,
          source: 'plugin:x',
          error: 'TypeError: boom',
          findings: [],
        },
        {id: 'c', title: 'C', status: 'ok', durationMs: 2, source: 'built-in', findings: []},
      ]),
      undefined,
      {failOn: 'error'},
    )
    const {suite, cases} = parseJunit(xml)
    expect(cases[0].skipped?.message).toBe('skipped: tmux not found')
    expect(cases[1].error?.message).toBe('TypeError: boom')
    expect(cases[2].failure).toBeUndefined()
    expect([suite.tests, suite.failures, suite.errors, suite.skipped]).toEqual(['3', '0', '1', '1'])
  })

  it('stays well-formed whatever a message holds', () => {
    const xml = renderJunit(
      reportWith([
        {
          id: 'x',
          title: hostile,
          status: 'error',
          durationMs: 0,
          source: 'built-in',
          findings: [
            {
              id: 'f',
              check: 'x',
              severity: 'error',
              message: `${hostile}\nsecond line`,
              reason: hostile,
              pids: [],
              fixable: false,
            },
          ],
        },
      ]),
      undefined,
      {failOn: 'error'},
    )
    const {cases} = parseJunit(xml)
    const failure = cases[0].failure![0]
    expect(failure.message).toContain('a < b && c > "d" \'e\' ]]>')
    expect(failure.message).toContain('\\x1b[31mred')
    expect(failure.message).toContain('\nsecond line')
    expect(failure['#text']).toContain('</failure>')
    expect(cases[0].name).toContain('<![CDATA[x]]>')
  })
})
