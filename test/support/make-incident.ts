/**
 * Rewrites fixtures/reports/incident.snapshot.json: the report layout of the investigation's machine
 * (test/support/incident.ts), redacted as `gt-doctor snapshot` would write it.
 *
 *   npx tsx test/support/make-incident.ts
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import {serializeSnapshot} from '../../src/snapshot/load.js'
import {INCIDENT_FIXTURE, incidentFixture} from './incident.js'

mkdirSync(dirname(INCIDENT_FIXTURE), {recursive: true})
writeFileSync(INCIDENT_FIXTURE, serializeSnapshot(incidentFixture()))
process.stdout.write(`wrote ${INCIDENT_FIXTURE}\n`)
