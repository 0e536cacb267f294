import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/report/model.js'
import {redactSnapshot} from '../src/report/redact.js'
import {parseSnapshot, serializeSnapshot} from '../src/snapshot/load.js'
import {runCli} from './support/cli.js'
import {reportFor} from './support/doctor.js'
import {Machine} from './support/machine.js'
import {INCIDENT_FIXTURE, INCIDENT_HOME, incidentSnapshot} from './support/incident.js'
import {secretCorpus} from './support/secrets.js'

let dir: string
const file = (name: string) => join(dir, name)

/** A machine whose only finding is a warning: an agent session with no claude in it. */
function warningsOnly(): string {
  const m = new Machine()
  const s = m.server({pid: 100})
  m.pane(s, 'gt-idle', {pid: 101, cmd: 'bash'})
  return serializeSnapshot(m.snapshot())
}

function clean(): string {
  const m = new Machine()
  const s = m.server({pid: 100})
  m.pane(s, 'gt-busy', {pid: 101, cmd: 'claude'})
  return serializeSnapshot(m.snapshot())
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gt-doctor-cli-'))
  writeFileSync(file('warnings.json'), warningsOnly())
  writeFileSync(file('clean.json'), clean())
})
afterAll(() => rmSync(dir, {recursive: true, force: true}))

describe('--fail-on decides the exit code', () => {
  const cases: Array<[string, string, number]> = [
    ['incident (errors)', INCIDENT_FIXTURE, 1],
    ['warnings only', 'warnings.json', 0],
    ['clean', 'clean.json', 0],
  ]
  const expected: Record<string, [number, number, number]> = {
    'incident (errors)': [1, 1, 0],
    'warnings only': [0, 1, 0],
    clean: [0, 0, 0],
  }
  for (const [what, snapshot] of cases) {
    it(`${what}: error / warning / never`, () => {
      const from = snapshot.startsWith('/') ? snapshot : file(snapshot)
      const codes = ['error', 'warning', 'never'].map(
        (level) => runCli(['check', '--from', from, '--fail-on', level, '-q']).status,
      )
      expect(codes).toEqual(expected[what])
      // The default is --fail-on error.
      expect(runCli(['check', '--from', from, '-q']).status).toBe(expected[what][0])
    })
  }

  it('refuses an unknown level with exit 2', () => {
    const r = runCli(['check', '--from', file('clean.json'), '--fail-on', 'sometimes'])
    expect(r.status).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})

describe('--format and --json', () => {
  it('--json and --format json print the same report', () => {
    const a = JSON.parse(runCli(['check', '--from', INCIDENT_FIXTURE, '--json']).stdout) as Report
    const b = JSON.parse(runCli(['check', '--from', INCIDENT_FIXTURE, '--format', 'json']).stdout) as Report
    const strip = (r: Report) => ({...r, generatedAt: '', checks: r.checks.map((c) => ({...c, durationMs: 0}))})
    expect(strip(b)).toEqual(strip(a))
    expect(a.summary.orphanClaude).toBe(12)
  })

  it('--json with another --format is one line and exit 2', () => {
    const r = runCli(['check', '--from', INCIDENT_FIXTURE, '--json', '--format', 'markdown'])
    expect(r.status).toBe(2)
    expect(r.stderr).toBe('gt-doctor: --json means --format json and cannot be combined with --format markdown\n')
    expect(JSON.parse(r.stdout)).toEqual({
      error: {message: '--json means --format json and cannot be combined with --format markdown', exitCode: 2},
    })
  })

  it('answers errors in JSON under --format json too', () => {
    const r = runCli(['check', '--from', file('missing.json'), '--format', 'json'])
    expect(r.status).toBe(2)
    expect(JSON.parse(r.stdout).error.message).toMatch(/^cannot read snapshot .*missing\.json: no such file$/)
  })

  it('prints the golden markdown and metrics for the incident fixture', () => {
    const md = runCli(['check', '--from', INCIDENT_FIXTURE, '--format', 'markdown']).stdout
    const golden = readFileSync(new URL('golden/incident.md', import.meta.url), 'utf8')
    expect(md.replace(/(report by gt-doctor )\S+\.$/m, (_m, head: string) => `${head}0.0.0-test.`)).toBe(golden)
    const prom = runCli(['check', '--from', INCIDENT_FIXTURE, '--format', 'prometheus']).stdout
    const goldenProm = readFileSync(new URL('golden/incident.prom', import.meta.url), 'utf8')
    const dropTime = (t: string) => t.replace(/^gt_doctor_last_run_timestamp_seconds .*$/m, '')
    expect(dropTime(prom)).toBe(dropTime(goldenProm))
  })
})

describe('--output', () => {
  it('writes the report to the file, not stdout, replacing the file by rename', () => {
    const target = file('report.md')
    writeFileSync(target, 'old content that is longer than nothing')
    const before = statSync(target).ino
    const r = runCli(['check', '--from', INCIDENT_FIXTURE, '--format', 'markdown', '--output', target])
    expect(r.status).toBe(1)
    expect(r.stdout).toBe('')
    expect(readFileSync(target, 'utf8')).toMatch(/^## gt-doctor report: 12 orphan Claude processes/)
    expect(statSync(target).ino).not.toBe(before)
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f.startsWith('report.md'))).toEqual(['report.md'])
  })

  it('writes --json to the file too', () => {
    const r = runCli(['check', '--from', INCIDENT_FIXTURE, '--json', '-o', file('r.json')])
    expect(r.stdout).toBe('')
    expect((JSON.parse(readFileSync(file('r.json'), 'utf8')) as Report).schemaVersion).toBe(1)
  })

  it('fails in one line with exit 2 when the file cannot be written, leaving nothing behind', () => {
    const r = runCli([
      'check',
      '--from',
      INCIDENT_FIXTURE,
      '--format',
      'junit',
      '--output',
      join(dir, 'no-such-dir', 'r.xml'),
    ])
    expect(r.status).toBe(2)
    expect(r.stderr).toMatch(/^gt-doctor: cannot write .*r\.xml: its directory does not exist\n$/)
    const d = runCli(['check', '--from', INCIDENT_FIXTURE, '--format', 'junit', '--output', dir])
    expect(d.status).toBe(2)
    expect(d.stderr).toMatch(/it is a directory\n$/)
  })
})

describe('snapshot and check --from', () => {
  it('refuses malformed, truncated, misshapen and future snapshots in one line, exit 2', () => {
    const good = readFileSync(INCIDENT_FIXTURE, 'utf8')
    const bad: Record<string, string> = {
      'malformed.json': '{"snapshotVersion": 1, nope}',
      'truncated.json': good.slice(0, 5000),
      'shape.json': good.replace('"processes": [', '"processes": {"x": [').replace(/\]\s*,\s*"tmux"/, ']}, "tmux"'),
      'future.json': good.replace('"snapshotVersion": 1', '"snapshotVersion": 2'),
    }
    for (const [name, text] of Object.entries(bad)) {
      writeFileSync(file(name), text)
      const r = runCli(['check', '--from', file(name)])
      expect(r.status, name).toBe(2)
      expect(r.stdout, name).toBe('')
      expect(r.stderr.split('\n').filter(Boolean), name).toHaveLength(1)
      expect(r.stderr, name).toContain(name)
    }
  })

  it('reads a snapshot from standard input with --from -', () => {
    const r = runCli(['check', '--from', '-', '--json'], {input: readFileSync(INCIDENT_FIXTURE, 'utf8')})
    expect(r.status).toBe(1)
    expect((JSON.parse(r.stdout) as Report).summary.orphanClaude).toBe(12)
  })

  it('refuses --from with --socket, and --fix (exit 2)', () => {
    const s = runCli(['check', '--from', INCIDENT_FIXTURE, '--socket', '/tmp/x.sock'])
    expect(s.status).toBe(2)
    expect(s.stderr).toBe('gt-doctor: --socket=/tmp/x.sock cannot also be provided when using --from\n')
    // A recorded snapshot is not this machine: neither --fix nor its dry run may act on it.
    for (const flag of ['--fix', '--dry-run']) {
      const f = runCli(['check', '--from', INCIDENT_FIXTURE, flag, '--yes'])
      expect(f.status).toBe(2)
      expect(f.stderr).toBe(
        'gt-doctor: --fix cannot be used with --from: a recorded snapshot is not this machine now; run --fix on the live machine\n',
      )
      expect(f.stdout).toBe('')
    }
  })

  it('snapshot writes a valid, versioned, redacted file that check --from reads', () => {
    const r = runCli(['snapshot', '--output', file('here.json')])
    expect(r.status).toBe(0)
    expect(r.stdout).toBe('')
    const taken = parseSnapshot(readFileSync(file('here.json'), 'utf8'), 'here.json')
    expect(taken.snapshotVersion).toBe(1)
    const c = runCli(['check', '--from', file('here.json'), '--json'])
    expect([0, 1]).toContain(c.status)
    expect(taken.processes.length).toBeGreaterThan(1)
    expect((JSON.parse(c.stdout) as Report).schemaVersion).toBe(1)
  })

  it('on another machine reproduces the same findings from a redacted snapshot', async () => {
    const live = incidentSnapshot({corpus: secretCorpus()})
    const shipped = parseSnapshot(serializeSnapshot(redactSnapshot(live, {home: INCIDENT_HOME})), 'shipped.json')
    const key = (r: Report) =>
      r.checks.map((c) => ({
        id: c.id,
        status: c.status,
        findings: c.findings.map((f) => [f.id, f.severity, f.pid, f.pids, f.memoryBytes, f.fixable]),
      }))
    const [here, there] = [await reportFor(live), await reportFor(shipped)]
    expect(key(there)).toEqual(key(here))
    expect(there.summary).toEqual(here.summary)
  })
})
