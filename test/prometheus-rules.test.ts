/**
 * examples/prometheus: the fleet's recording and alerting rules are valid (`promtool check rules`), behave as
 * their unit tests say (`promtool test rules`), and name only metrics the doctor writes.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {renderPrometheus} from '../src/render/prometheus.js'
import {reportFor} from './support/doctor.js'
import {incidentFixture} from './support/incident.js'

const DIR = path.resolve('examples/prometheus')
const RULES = path.join(DIR, 'gt-doctor.rules.yml')
const havePromtool = spawnSync('promtool', ['--version']).status === 0
const promtool = (args: string[], cwd = DIR) => {
  const r = spawnSync('promtool', args, {cwd, encoding: 'utf8'})
  return {code: r.status, output: `${r.stdout}${r.stderr}`}
}

// Under CI the rules must be checked: a missing promtool fails instead of skipping.
describe.skipIf(!havePromtool && process.env.CI !== 'true')('the example Prometheus rules', () => {
  it('pass promtool check rules', () => {
    expect(havePromtool, 'promtool is required under CI=true (apt-get install prometheus)').toBe(true)
    const r = promtool(['check', 'rules', RULES])
    expect(r.code, r.output).toBe(0)
    expect(r.output).toContain('SUCCESS: 8 rules found')
  })

  it('pass their unit tests (promtool test rules)', () => {
    const r = promtool(['test', 'rules', 'gt-doctor.rules.test.yml'])
    expect(r.code, r.output).toBe(0)
  })

  it('the unit tests can fail: an orphan alert without its 10 minutes fails them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gt-rules-'))
    try {
      fs.writeFileSync(
        path.join(dir, 'gt-doctor.rules.yml'),
        fs.readFileSync(RULES, 'utf8').replace('for: 10m', 'for: 1m'),
      )
      fs.copyFileSync(path.join(DIR, 'gt-doctor.rules.test.yml'), path.join(dir, 'gt-doctor.rules.test.yml'))
      const r = promtool(['test', 'rules', 'gt-doctor.rules.test.yml'], dir)
      expect(r.code).toBe(1)
      expect(r.output).toContain('GtDoctorOrphansPresent')
    } finally {
      fs.rmSync(dir, {recursive: true, force: true})
    }
  })
})

describe('the example Prometheus rules and the doctor agree on metric names', () => {
  it('every gt_doctor_ metric a rule reads is in the exposition', async () => {
    const text = renderPrometheus(await reportFor(incidentFixture()))
    const written = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]))
    const read = new Set([...fs.readFileSync(RULES, 'utf8').matchAll(/(?<![:\w])gt_doctor_\w+/g)].map((m) => m[0]))
    expect(read.size).toBeGreaterThan(3)
    for (const name of read) expect(written, name).toContain(name)
  })
})
