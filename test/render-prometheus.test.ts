import {spawnSync} from 'node:child_process'
import {beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/report/model.js'
import {CHECK_STATUS_VALUE, promLabel, renderPrometheus} from '../src/render/prometheus.js'
import {reportFor} from './support/doctor.js'
import {incidentFixture} from './support/incident.js'

const promtool = spawnSync('promtool', ['--version'], {encoding: 'utf8'})
const havePromtool = promtool.status === 0
if (!havePromtool && process.env.CI !== 'true') {
  process.stderr.write(
    'render-prometheus: promtool not found (Debian package `prometheus`): skipping the promtool validation\n',
  )
}

/** `promtool check metrics` on the text: its exit status and what it said. */
function promtoolCheck(text: string): {status: number | null; output: string} {
  const r = spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'})
  return {status: r.status, output: `${r.stdout}${r.stderr}`}
}

/** The samples of the exposition, `name{labels}` -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const i = line.lastIndexOf(' ')
    out.set(line.slice(0, i), Number(line.slice(i + 1)))
  }
  return out
}

describe('Prometheus exposition of the incident', () => {
  let report: Report
  let text: string

  beforeAll(async () => {
    report = await reportFor(incidentFixture())
    text = renderPrometheus(report)
  })

  // Under CI the validation must run: a missing promtool fails instead of skipping.
  it.skipIf(!havePromtool && process.env.CI !== 'true')('is accepted by promtool check metrics', () => {
    expect(havePromtool, 'promtool is required under CI=true (apt-get install prometheus)').toBe(true)
    const {status, output} = promtoolCheck(text)
    expect(output).toBe('')
    expect(status).toBe(0)
  })

  it('exposes the investigation numbers', () => {
    const s = samples(text)
    expect(s.get('gt_doctor_claude_processes')).toBe(19)
    expect(s.get('gt_doctor_tmux_sessions')).toBe(15)
    expect(s.get('gt_doctor_orphan_claude')).toBe(12)
    expect(s.get('gt_doctor_orphan_mcp')).toBe(66)
    expect(s.get('gt_doctor_mcp_servers')).toBe(115)
    expect(s.get('gt_doctor_orphan_memory_bytes')).toBe(report.summary.orphanMemoryBytes)
    expect(s.get('gt_doctor_last_run_timestamp_seconds')).toBe(Date.parse('2026-01-11T12:00:05.000Z') / 1000)
  })

  it('has every severity for every check, zeros included, and each check status', () => {
    const s = samples(text)
    for (const c of report.checks) {
      for (const severity of ['error', 'warning', 'info']) {
        expect(s.get(`gt_doctor_findings{check="${c.id}",severity="${severity}"}`)).toBe(
          c.findings.filter((f) => f.severity === severity).length,
        )
      }
      expect(s.get(`gt_doctor_check_status{check="${c.id}"}`)).toBe(CHECK_STATUS_VALUE[c.status])
    }
    expect(s.get('gt_doctor_findings{check="session-mismatch",severity="error"}')).toBe(0)
    expect(s.get('gt_doctor_check_status{check="session-mismatch"}')).toBe(1)
  })

  it('says whose processes they are, per agent, with sums equal to the totals', () => {
    const s = samples(text)
    expect(s.get('gt_doctor_agent_processes{agent="claude"}')).toBe(19)
    expect(s.get('gt_doctor_agent_orphans{agent="claude"}')).toBe(12)
    expect(s.get('gt_doctor_agent_detached_runs{agent="claude"}')).toBe(0)
    expect(s.get('gt_doctor_agent_leftover_trees{agent="claude"}')).toBe(1)
    const mixed = renderPrometheus({
      ...report,
      summary: {
        ...report.summary,
        agents: {
          codex: {processes: 2, orphans: 1, detachedRuns: 1, leftovers: 0},
          claude: {processes: 19, orphans: 12, detachedRuns: 0, leftovers: 1},
        },
      },
    })
    const m = samples(mixed)
    expect([...m.keys()].filter((k) => k.startsWith('gt_doctor_agent_orphans'))).toEqual([
      'gt_doctor_agent_orphans{agent="claude"}',
      'gt_doctor_agent_orphans{agent="codex"}',
    ])
    expect(m.get('gt_doctor_agent_detached_runs{agent="codex"}')).toBe(1)
    if (havePromtool) expect(promtoolCheck(mixed)).toEqual({status: 0, output: ''})
    // No agent seen: no per-agent series at all, rather than series with no label.
    const none = renderPrometheus({...report, summary: {...report.summary, agents: {}}})
    expect(none).not.toMatch(/gt_doctor_agent_processes/)
  })

  it('gives every metric one HELP and one TYPE line', () => {
    const names = [...new Set([...samples(text).keys()].map((k) => k.replace(/\{.*$/, '')))]
    for (const name of names) {
      expect(text.split('\n').filter((l) => l.startsWith(`# HELP ${name} `))).toHaveLength(1)
      expect(text.split('\n').filter((l) => l === `# TYPE ${name} gauge`)).toHaveLength(1)
    }
  })
})

describe('Prometheus label values', () => {
  it('escapes backslash, quote and line feed', () => {
    expect(promLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd')
  })

  it.skipIf(!havePromtool && process.env.CI !== 'true')(
    'stay valid for promtool with hostile check ids and every status',
    async () => {
      const base = await reportFor(incidentFixture())
      const statuses = ['ok', 'warning', 'error', 'crashed', 'skipped'] as const
      const report: Report = {
        ...base,
        checks: statuses.map((status, i) => ({
          id: `plugin/x-${i}"\\\n}`,
          title: 't',
          status,
          durationMs: 0,
          source: 'plugin:x',
          findings: [],
        })),
      }
      const {status, output} = promtoolCheck(renderPrometheus(report))
      expect(output).toBe('')
      expect(status).toBe(0)
    },
  )
})
