/**
 * Golden files: the incident's report in every format, as committed under test/golden/. A change in any
 * renderer shows up as a diff to review; `UPDATE_GOLDEN=1 npm test` rewrites them (and the fixture).
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Ajv} from 'ajv'
import addFormats from 'ajv-formats'
import {beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/report/model.js'
import {renderReport, type Format} from '../src/render/output.js'
import {serializeSnapshot} from '../src/snapshot/load.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {reportFor} from './support/doctor.js'
import {INCIDENT_FIXTURE, incidentFixture} from './support/incident.js'

const GOLDEN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'golden')
const update = process.env.UPDATE_GOLDEN === '1'

function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN_DIR, name)
  if (update) {
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, actual)
    return
  }
  expect(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 npm test`).toBe(true)
  expect(actual, `${name} differs from its golden file (UPDATE_GOLDEN=1 npm test rewrites it)`).toBe(
    readFileSync(file, 'utf8'),
  )
}

describe('the incident fixture', () => {
  it('is what test/support/make-incident.ts generates', () => {
    const generated = serializeSnapshot(incidentFixture())
    if (update) writeFileSync(INCIDENT_FIXTURE, generated)
    expect(readFileSync(INCIDENT_FIXTURE, 'utf8'), 'run: npx tsx test/support/make-incident.ts').toBe(generated)
  })
})

describe('golden reports of the incident', () => {
  let snapshot: Snapshot
  let report: Report

  beforeAll(async () => {
    snapshot = JSON.parse(readFileSync(INCIDENT_FIXTURE, 'utf8'))
    report = await reportFor(snapshot)
  })

  const render = (format: Format, table?: {verbose?: boolean; width?: number}) =>
    renderReport({
      format,
      report,
      snapshot,
      redact: true,
      redactOptions: {home: '/home/nobody'},
      failOn: 'error',
      table: {color: false, width: 80, ...table},
    }).text

  const goldens: Array<[string, () => string]> = [
    ['incident.table.txt', () => render('table')],
    ['incident.table-verbose.txt', () => render('table', {verbose: true})],
    ['incident.table-120.txt', () => render('table', {width: 120})],
    ['incident.table-verbose-120.txt', () => render('table', {verbose: true, width: 120})],
    ['incident.json', () => render('json')],
    ['incident.md', () => render('markdown')],
    ['incident.junit.xml', () => render('junit')],
    ['incident.prom', () => render('prometheus')],
  ]
  for (const [name, produce] of goldens) it(`matches ${name}`, () => expectGolden(name, produce()))

  for (const width of [40, 80, 120]) {
    it(`draws no line wider than ${width} columns, plain and verbose`, () => {
      for (const verbose of [false, true]) {
        const text = render('table', {verbose, width})
        const wide = text.split('\n').filter((l) => [...l].length > width)
        expect(wide, `lines wider than ${width}`).toEqual([])
      }
    })
  }

  it('keeps the JSON report within its schema (report-v1.schema.json)', () => {
    const schema = JSON.parse(readFileSync(new URL('../src/report/report-v1.schema.json', import.meta.url), 'utf8'))
    const ajv = new Ajv({strict: false})
    ;(addFormats as unknown as (a: Ajv) => void)(ajv)
    const validate = ajv.compile(schema)
    expect(validate(JSON.parse(render('json'))), JSON.stringify(validate.errors)).toBe(true)
  })
})
