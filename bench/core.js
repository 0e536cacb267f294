// The pure detection core on a recorded-style snapshot (bench/make-snapshot.js): diagnose({snapshot}) with
// the default config, collection excluded, no I/O. Each run gets a freshly parsed snapshot (the tree and the
// orphan analysis are memoised per snapshot object), and the heap is collected before it, so a run times
// detection and not the previous run's garbage. Prints one JSON line.
//
//   node --expose-gc bench/core.js SIZE [RUNS=7]
import {performance} from 'node:perf_hooks'
import {makeSnapshot} from './make-snapshot.js'

const size = Number(process.argv[2] ?? 10_000)
const runs = Number(process.argv[3] ?? 7)
const dist = new URL('../dist/src/', import.meta.url)
const {diagnose} = await import(new URL('doctor.js', dist).href)
const {defaultConfig} = await import(new URL('config/config.js', dist).href)
const {parseSnapshot} = await import(new URL('snapshot/load.js', dist).href)
const {renderReport} = await import(new URL('render/output.js', dist).href)

const {snapshot, expected} = makeSnapshot(size)
const text = JSON.stringify(snapshot)
const tool = {name: 'gt-doctor', version: 'bench'}
const problems = []

function once() {
  // Validated against the snapshot schema and frozen, as `check --from` loads a recorded file.
  const recorded = parseSnapshot(text, `bench-${size}.json`)
  globalThis.gc?.()
  return recorded
}

const samples = []
const renderSamples = []
let coldMs
for (let i = 0; i <= runs; i++) {
  const recorded = once()
  const t0 = performance.now()
  const {report, snapshot: s} = await diagnose({tool, snapshot: recorded, config: defaultConfig()})
  const ms = performance.now() - t0
  const t1 = performance.now()
  renderReport({format: 'json', report, snapshot: s, redact: true, failOn: 'error'})
  const renderMs = performance.now() - t1
  const found = {
    orphanClaude: report.summary.orphanClaude,
    orphanMcp: report.checks.find((c) => c.id === 'orphan-mcp').findings.length,
    claudes: report.summary.claudeProcesses,
  }
  const want = {orphanClaude: expected.orphanClaude, orphanMcp: expected.orphanMcp, claudes: expected.claudes}
  if (JSON.stringify(found) !== JSON.stringify(want)) problems.push(`found ${JSON.stringify(found)}, expected ${JSON.stringify(want)}`)
  if (i === 0) coldMs = ms // the first run also compiles: reported apart
  else {
    samples.push(ms)
    renderSamples.push(renderMs)
  }
}

process.stdout.write(
  JSON.stringify({
    size: snapshot.processes.length,
    expected,
    coldMs,
    samples,
    renderJsonSamples: renderSamples,
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    problems: [...new Set(problems)],
  }) + '\n',
)
