// The pure detection core on a recorded-style snapshot (bench/make-snapshot.js): diagnose({snapshot}) with
// the default config, collection excluded, no I/O. Each run gets a freshly parsed snapshot (the tree and the
// orphan analysis are memoised per snapshot object). The first run, which also compiles, is reported apart;
// garbage collection inside each timed run is measured and reported too. No collection is forced between
// runs: a forced full GC makes V8 drop compiled code and the next run 30-40% slower, which no real run sees.
// Prints one JSON line.
//
//   node bench/core.js SIZE [RUNS=7]
import {PerformanceObserver, performance} from 'node:perf_hooks'
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
  return parseSnapshot(text, `bench-${size}.json`)
}

// Garbage collection inside each timed diagnose(): part of its cost, reported apart so that it can be read.
const gcs = []
new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => [e.startTime, e.duration]))).observe({
  entryTypes: ['gc'],
})
const gcWithin = (from, to) => gcs.filter(([start]) => start >= from && start < to).reduce((ms, [, d]) => ms + d, 0)

const samples = []
const windows = []
const renderSamples = []
let coldMs
// Run 0 compiles (reported as coldMs); run 1 still finishes the JIT's work (a warm-up, not reported).
for (let i = 0; i <= runs + 1; i++) {
  const recorded = once()
  const t0 = performance.now()
  const {report, snapshot: s} = await diagnose({tool, snapshot: recorded, config: defaultConfig()})
  const t1 = performance.now()
  const ms = t1 - t0
  const t2 = performance.now()
  renderReport({format: 'json', report, snapshot: s, redact: true, failOn: 'error'})
  const renderMs = performance.now() - t2
  await new Promise((resolve) => setTimeout(resolve, 20)) // the observer delivers gc entries asynchronously
  const found = {
    orphanClaude: report.summary.orphanClaude,
    orphanMcp: report.checks.find((c) => c.id === 'orphan-mcp').findings.length,
    claudes: report.summary.claudeProcesses,
  }
  const want = {orphanClaude: expected.orphanClaude, orphanMcp: expected.orphanMcp, claudes: expected.claudes}
  if (JSON.stringify(found) !== JSON.stringify(want))
    problems.push(`found ${JSON.stringify(found)}, expected ${JSON.stringify(want)}`)
  if (i === 0) coldMs = ms
  else if (i > 1) {
    samples.push(ms)
    windows.push([t0, t1])
    renderSamples.push(renderMs)
  }
}

const gcSamples = windows.map(([from, to]) => gcWithin(from, to))
process.stdout.write(
  JSON.stringify({
    size: snapshot.processes.length,
    expected,
    coldMs,
    samples,
    gcSamples,
    renderJsonSamples: renderSamples,
    heapUsedMiB: Math.round(process.memoryUsage().heapUsed / 2 ** 20),
    problems: [...new Set(problems)],
  }) + '\n',
)
