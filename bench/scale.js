// One size of the scale benchmark. Runs INSIDE a private PID namespace (bench/namespace.js): builds the
// machine (bench/machine.js), then times, interleaved round by round so that a noisy neighbour hurts all three
// alike:
//   doctor    node bin/run.js check --json
//   floor     one `ps -eo pid,ppid,stat,rss,args`, then one `tmux list-panes -a` per server
//   baseline  bench/baseline.sh (the reference cleanup script, detection only)
// and checks every doctor run found exactly the orphans the machine has. With "watch": N, also `watch --count N`
// interleaved with the floor (each later run's own duration from the history it writes); with "idle": true,
// no machine at all: `check --json` beside `node -e 0`. Prints one JSON line.
//
//   node bench/scale.js '{"target":2000,"sessions":200,"runs":5,"warmup":1}'   (only inside a namespace)
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {build, plan} from './machine.js'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const opts = JSON.parse(process.argv[2] ?? '{}')
const log = (m) => process.stderr.write(`  [${opts.target}] ${m}\n`)

if (process.pid > 10)
  throw new Error(`bench/scale.js must run inside a private PID namespace (pid ${process.pid}); use npm run bench`)

// The machine's directory (tmux sockets, the stand-ins): given by bench/run.js, which removes it even if this
// namespace is killed; a private temporary one otherwise.
const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gt-bench-'))
fs.mkdirSync(dir, {recursive: true})
try {
  main()
} finally {
  fs.rmSync(dir, {recursive: true, force: true})
}

function main() {
  if (opts.idle) return idle()
  const machine = plan(opts.target, opts.sessions)
  const t0 = Date.now()
  const built = build(dir, machine)
  const expectedOrphanPids = machine.sessions.filter((s) => s.orphan).reduce((n, s) => n + 1 + s.mcp, 0)
  log(
    `built ${built.processes} processes (${built.claudes} claudes, ${built.mcpServers} MCP servers, ${built.orphanClaudes} orphaned) in ${Date.now() - t0} ms`,
  )

  // A development aid: run a probe script on the built machine instead of the benchmark (bench/run.js --probe).
  if (opts.probe) {
    const r = spawnSync(process.execPath, [opts.probe, dir], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
    process.stdout.write(JSON.stringify({target: opts.target, probe: r.stdout}) + '\n')
    return
  }

  const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
  const env = doctorEnv()
  const listFormat =
    "'#{pid} #{session_name} #{session_id} #{window_index} #{pane_id} #{pane_pid} #{pane_dead} #{pane_current_command}'"
  const commands = {
    doctor: [process.execPath, path.join(REPO, 'bin', 'run.js'), 'check', '--json'],
    floor: [
      'sh',
      '-c',
      [
        'ps -eo pid,ppid,stat,rss,args',
        ...built.sockets.map((s) => `tmux -S ${s} list-panes -a -F ${listFormat}`),
      ].join('; '),
    ],
    baseline: ['bash', path.join(HERE, 'baseline.sh'), ...built.sockets],
  }

  const rssFile = path.join(dir, 'rss')
  const stride = opts.baselineStride ?? 1
  const commandEnv = {baseline: {BASELINE_STRIDE: String(stride)}, baselineFixed: {BASELINE_STRIDE: '0'}}
  commands.baselineFixed = commands.baseline
  const run = (name, extraEnv = {}, extraArgs = [], moreArgs = []) => {
    const argv = [...commands[name].slice(0, 1), ...extraArgs, ...commands[name].slice(1), ...moreArgs]
    extraEnv = {...commandEnv[name], ...extraEnv}
    const full = time ? [time, '-f', '%M', '-o', rssFile, ...argv] : argv
    const started = process.hrtime.bigint()
    const r = spawnSync(full[0], full.slice(1), {
      cwd: dir,
      env: {...env, ...extraEnv},
      encoding: 'utf8',
      maxBuffer: 512 * 1024 * 1024,
    })
    const ms = Number(process.hrtime.bigint() - started) / 1e6
    const rssKiB = time ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) : undefined
    return {ms, rssKiB, status: r.status, stdout: r.stdout, stderr: r.stderr}
  }

  const problems = []
  const verifyDoctor = (r) => {
    let report
    try {
      report = JSON.parse(r.stdout)
    } catch {
      problems.push(`doctor printed no JSON report (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`)
      return
    }
    const findings = report.checks.flatMap((c) => c.findings)
    const orphanClaude = findings.filter((f) => f.check === 'orphan-claude' && f.severity === 'error')
    const unverified = findings.filter((f) => f.check === 'orphan-claude' && f.severity !== 'error')
    const orphanMcp = findings.filter((f) => f.check === 'orphan-mcp')
    const pids = orphanClaude.reduce((n, f) => n + f.pids.length, 0)
    const crashed = report.checks.filter((c) => c.status === 'crashed')
    const got = `${orphanClaude.length} orphan claudes (${pids} processes), ${orphanMcp.length} orphan MCP trees, ${unverified.length} unverifiable, ${crashed.length} crashed checks`
    const want = `${built.orphanClaudes} orphan claudes (${expectedOrphanPids} processes), 0 orphan MCP trees, 0 unverifiable, 0 crashed checks`
    if (got !== want) problems.push(`doctor found ${got}; expected ${want}`)
  }
  let baselineFound
  const verifyBaseline = (r) => {
    const lines = r.stdout.trim().split('\n')
    const count = (k) => lines.filter((l) => l.startsWith(`${k} `)).length
    const value = (k) => Number(lines.find((l) => l.startsWith(`${k} `))?.split(' ')[1])
    const listed = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('listed '))
      .reduce((n, l) => n + Number(l.split(' ')[1]), 0)
    baselineFound = {
      stride,
      listed,
      examined: value('examined'),
      orphanClaude: count('orphan-claude'),
      orphanMcp: count('orphan-mcp'),
      tmuxCalls: value('tmux-calls'),
      psCalls: value('ps-calls'),
    }
  }

  // With a stride the baseline examines a sample; its fixed part (the two pgrep scans) is timed on its own
  // in the same round, so that the whole can be extrapolated: fixed + (sample - fixed) * listed / examined.
  const names = opts.skipBaseline
    ? ['doctor', 'floor']
    : stride === 1
      ? ['doctor', 'floor', 'baseline']
      : ['doctor', 'floor', 'baseline', 'baselineFixed']
  const samples = Object.fromEntries(names.map((n) => [n, []]))
  const rss = Object.fromEntries(names.map((n) => [n, []]))
  for (let round = 0; round < opts.warmup + opts.runs; round++) {
    // Rotate the order each round: no command always runs first (cold caches) or last.
    const order = names.map((_, i) => names[(i + round) % names.length])
    for (const name of order) {
      const r = run(name)
      if (name === 'doctor') verifyDoctor(r)
      if (name === 'baseline') verifyBaseline(r)
      if (round < opts.warmup) continue
      samples[name].push(r.ms)
      if (r.rssKiB !== undefined) rss[name].push(r.rssKiB)
    }
    log(
      `round ${round + 1}/${opts.warmup + opts.runs}${round < opts.warmup ? ' (warm-up)' : ''}: ${order.map((n) => `${n} ${samples[n].at(-1)?.toFixed(0) ?? '-'} ms`).join(', ')}`,
    )
  }

  // watch: start-up paid once, so each later run should cost what collecting costs. Its runs' own durations
  // (the history's durationMs, run 2 on) are paired with the floor of the same round; every run is checked.
  const watch = opts.watch ? {perRun: [], floor: [], ratio: []} : undefined
  if (watch) {
    commands.watch = [
      process.execPath,
      path.join(REPO, 'bin', 'run.js'),
      'watch',
      '--interval',
      '0.05',
      '--count',
      String(opts.watch),
    ]
    for (let round = 0; round < opts.warmup + opts.runs; round++) {
      let perRun
      let floorMs
      for (const name of round % 2 ? ['floor', 'watch'] : ['watch', 'floor']) {
        if (name === 'floor') {
          floorMs = run('floor').ms
          continue
        }
        const history = path.join(dir, `watch-${round}.jsonl`)
        const r = run('watch', {}, [], ['--history', history])
        const entries = fs.existsSync(history)
          ? fs
              .readFileSync(history, 'utf8')
              .trim()
              .split('\n')
              .filter(Boolean)
              .map((l) => JSON.parse(l))
          : []
        const wrong = entries.filter(
          (e) => e.orphanClaude !== built.orphanClaudes || e.orphanMcp !== expectedOrphanPids - built.orphanClaudes,
        )
        if (entries.length !== opts.watch || wrong.length > 0) {
          problems.push(
            `watch recorded ${entries.length} of ${opts.watch} runs (exit ${r.status}), ${wrong.length} with other orphan counts than ${built.orphanClaudes} claudes / ${expectedOrphanPids - built.orphanClaudes} MCP servers`,
          )
        }
        perRun = median(entries.slice(1).map((e) => e.durationMs))
      }
      log(
        `watch round ${round + 1}/${opts.warmup + opts.runs}${round < opts.warmup ? ' (warm-up)' : ''}: ${perRun} ms per later run, floor ${floorMs.toFixed(0)} ms`,
      )
      if (round < opts.warmup) continue
      watch.perRun.push(perRun)
      watch.floor.push(floorMs)
      watch.ratio.push(perRun / floorMs)
    }
  }

  // Where the doctor's time goes (GT_DOCTOR_TIMING=1 prints phase timings to stderr), outside the timed runs.
  const timing = run('doctor', {GT_DOCTOR_TIMING: '1'})
  const phases = timing.stderr
    .split('\n')
    .filter((l) => l.startsWith('gt-doctor timing '))
    .map((l) => JSON.parse(l.slice('gt-doctor timing '.length)))
  if (opts.profileDir) {
    fs.mkdirSync(opts.profileDir, {recursive: true})
    run('doctor', {}, [
      '--cpu-prof',
      '--cpu-prof-dir',
      opts.profileDir,
      '--cpu-prof-name',
      `doctor-${opts.target}.cpuprofile`,
    ])
  }

  process.stdout.write(
    JSON.stringify({
      target: opts.target,
      machine: {...built, expectedOrphanPids, sessions: machine.sessions.length, servers: built.sockets.length},
      samples,
      rssKiB: rss,
      timeTool: time ?? null,
      baselineFound,
      watch,
      phases: phases.at(-1) ?? null,
      problems: [...new Set(problems)],
    }) + '\n',
  )
}

/** The doctor's environment: no colour, its state and the tmux socket directory inside the machine's directory. */
function doctorEnv() {
  const env = {
    ...process.env,
    NO_COLOR: '1',
    XDG_STATE_HOME: path.join(dir, 'state'),
    TMUX_TMPDIR: path.join(dir, 'tmux-tmpdir'),
  }
  delete env.NODE_ENV
  return env
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/**
 * An idle machine: this namespace holds nothing but itself. `check --json` and `node -e 0` in turn, the order
 * alternating, each doctor run checked to have found nothing to complain of.
 */
function idle() {
  const env = doctorEnv()
  const time = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
  const rssFile = path.join(dir, 'rss')
  const commands = {
    doctor: [process.execPath, path.join(REPO, 'bin', 'run.js'), 'check', '--json'],
    node: [process.execPath, '-e', '0'],
  }
  const samples = {doctor: [], node: []}
  const rssKiB = {doctor: [], node: []}
  const problems = []
  const processes = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length
  for (let round = 0; round < opts.warmup + opts.runs; round++) {
    for (const name of round % 2 ? ['node', 'doctor'] : ['doctor', 'node']) {
      const argv = time ? [time, '-f', '%M', '-o', rssFile, ...commands[name]] : commands[name]
      const started = process.hrtime.bigint()
      const r = spawnSync(argv[0], argv.slice(1), {cwd: dir, env, encoding: 'utf8'})
      const ms = Number(process.hrtime.bigint() - started) / 1e6
      if (name === 'doctor') {
        try {
          const report = JSON.parse(r.stdout)
          const findings = report.checks.flatMap((c) => c.findings).filter((f) => f.severity !== 'info')
          const crashed = report.checks.filter((c) => c.status === 'crashed')
          if (findings.length > 0 || crashed.length > 0)
            problems.push(`idle: doctor found ${findings.length} findings, ${crashed.length} crashed checks`)
        } catch {
          problems.push(`idle: doctor printed no JSON report (exit ${r.status}): ${r.stderr.trim().split('\n')[0]}`)
        }
      }
      if (round < opts.warmup) continue
      samples[name].push(ms)
      if (time) rssKiB[name].push(Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)))
    }
  }
  if (opts.profileDir) {
    fs.mkdirSync(opts.profileDir, {recursive: true})
    const [node, ...rest] = commands.doctor
    spawnSync(
      node,
      ['--cpu-prof', '--cpu-prof-dir', opts.profileDir, '--cpu-prof-name', 'doctor-idle.cpuprofile', ...rest],
      {cwd: dir, env, encoding: 'utf8'},
    )
  }
  log(
    `idle (${processes} processes): doctor ${median(samples.doctor).toFixed(0)} ms, node -e 0 ${median(samples.node).toFixed(0)} ms`,
  )
  process.stdout.write(
    JSON.stringify({idle: true, processes, samples, rssKiB, problems: [...new Set(problems)]}) + '\n',
  )
}
