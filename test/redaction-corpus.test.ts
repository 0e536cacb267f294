/**
 * No secret of the corpus survives in any output that leaves the machine: every report format, from the
 * renderers and from the CLI, and the snapshot file. The control runs (--no-redact) show that the secrets
 * do reach those outputs when nothing masks them, so these tests can fail.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/report/model.js'
import {redactSnapshot} from '../src/report/redact.js'
import {FORMATS, renderReport} from '../src/render/output.js'
import {serializeSnapshot} from '../src/snapshot/load.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {runCli} from './support/cli.js'
import {reportFor} from './support/doctor.js'
import {INCIDENT_HOME, incidentSnapshot} from './support/incident.js'
import {allSecrets, secretCorpus} from './support/secrets.js'

const secrets = allSecrets()
const leaked = (text: string) => secrets.filter((s) => text.includes(s))

describe('the secret corpus in every format', () => {
  let snapshot: Snapshot
  let report: Report
  let dir: string

  beforeAll(async () => {
    snapshot = incidentSnapshot({corpus: secretCorpus()})
    report = await reportFor(snapshot)
    dir = mkdtempSync(join(tmpdir(), 'gt-doctor-corpus-'))
    // What `gt-doctor snapshot --no-redact` would have written on the incident's machine.
    writeFileSync(join(dir, 'unredacted.json'), serializeSnapshot(snapshot))
  })
  afterAll(() => rmSync(dir, {recursive: true, force: true}))

  const render = (format: (typeof FORMATS)[number], redact: boolean) =>
    renderReport({
      format,
      report,
      snapshot,
      redact,
      redactOptions: {home: INCIDENT_HOME},
      failOn: 'error',
      table: {color: false, verbose: true, width: 200},
    }).text

  for (const format of FORMATS) {
    it(`${format}: no secret and no home directory survives`, () => {
      const text = render(format, true)
      expect(leaked(text)).toEqual([])
      expect(text).not.toContain(`${INCIDENT_HOME}/`)
    })
  }

  it('control: unredacted, every secret reaches the markdown, JUnit and verbose table output', () => {
    for (const format of ['markdown', 'junit', 'table'] as const)
      expect(leaked(render(format, false)), format).toEqual(secrets)
    // The JSON report holds command lines only in messages (cut at 80 characters): some secrets reach it.
    expect(leaked(render('json', false)).length).toBeGreaterThan(5)
  })

  it('snapshot file: no secret survives redaction; unredacted, all are there', () => {
    expect(leaked(serializeSnapshot(redactSnapshot(snapshot, {home: INCIDENT_HOME})))).toEqual([])
    expect(leaked(serializeSnapshot(snapshot))).toEqual(secrets)
  })

  for (const format of FORMATS) {
    it(`CLI check --from --format ${format}: no secret survives, and --no-redact lets them through`, () => {
      const run = (...extra: string[]) =>
        runCli(['check', '--from', join(dir, 'unredacted.json'), '--format', format, '--verbose', ...extra], {
          env: {COLUMNS: '200'},
        })
      const redacted = run()
      expect(redacted.status).toBe(1)
      expect(leaked(redacted.stdout)).toEqual([])
      expect(redacted.stdout).not.toContain(`${INCIDENT_HOME}/`)
      if (format !== 'prometheus') expect(leaked(run('--no-redact').stdout).length).toBeGreaterThan(0)
    })
  }

  it('CLI snapshot: writes no environment beyond the kept keys and no home directory of its own', () => {
    const out = runCli(['snapshot'])
    expect(out.status).toBe(0)
    const taken = JSON.parse(out.stdout) as Snapshot
    for (const p of taken.processes)
      for (const k of Object.keys(p.env))
        expect([
          'TMUX',
          'TMUX_PANE',
          'CLAUDECODE',
          'CLAUDE_CODE_SESSION_ID',
          'CLAUDE_PID',
          'CLAUDE_CODE_ENTRYPOINT',
          'CLAUDE_CODE_MESSAGING_SOCKET',
        ]).toContain(k)
    const home = homedir()
    if (home !== '/')
      expect(out.stdout).not.toMatch(new RegExp(`(^|[\\s"=:])${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/`))
  })
})
