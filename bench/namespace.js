// Runs a bench script inside a private PID namespace: `unshare --pid --fork --mount-proc --kill-child`, with a
// bash PID 1 that reaps every orphan, so that the bench builds, measures and tears down its own processes and
// never sees (or signals) the host's. The same layout as test/live/namespace.ts, without its RPC: the script
// runs to completion inside and prints one JSON line as its last line of stdout.
//
//   host: node bench/run.js
//    └─ unshare -pf --mount-proc --kill-child
//        └─ bash (PID 1): reaps orphans, exits when the script does -> the kernel kills the rest
//            └─ node bench/<script>.js (PID 2)
import {spawn, spawnSync} from 'node:child_process'
import fs from 'node:fs'

const INIT_SCRIPT =
  'exec 3<&0; "$@" <&3 3<&- & ctl=$!; exec 0</dev/null 3<&-; ' +
  'while :; do wait "$ctl"; st=$?; kill -0 "$ctl" 2>/dev/null || break; done; exit "$st"'

const onPath = (cmd) =>
  (process.env.PATH ?? '').split(':').some((dir) => {
    try {
      fs.accessSync(`${dir || '.'}/${cmd}`, fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })

/** Why the bench cannot build namespaces here, or undefined. */
export function namespaceUnavailable() {
  if (process.platform !== 'linux') return `needs Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'needs root (it creates PID namespaces)'
  for (const cmd of ['unshare', 'tmux', 'bash', 'ps', 'pgrep']) if (!onPath(cmd)) return `needs ${cmd} on PATH`
  const probe = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', 'true'], {
    encoding: 'utf8',
    timeout: 10_000,
  })
  if (probe.status !== 0)
    return `unshare --pid --mount-proc does not work here: ${(probe.stderr || `exit ${probe.status}`).trim()}`
  return undefined
}

/**
 * Runs `node script ...args` in a fresh namespace; resolves with the JSON of its last stdout line. Its stderr
 * (progress) is passed through. The namespace and everything in it is gone when this resolves.
 */
export function runInNamespace(script, args, {env, cwd} = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'unshare',
      [
        '--pid',
        '--fork',
        '--mount-proc',
        '--kill-child',
        'bash',
        '-c',
        INIT_SCRIPT,
        'gt-bench-init',
        process.execPath,
        script,
        ...args,
      ],
      {cwd, env: {...process.env, TMUX: '', TMUX_PANE: '', ...env}, stdio: ['pipe', 'pipe', 'inherit']},
    )
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    const stop = () => child.kill('SIGKILL')
    process.once('exit', stop)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      process.off('exit', stop)
      const last = out.trim().split('\n').at(-1) ?? ''
      try {
        const result = JSON.parse(last)
        if (code !== 0) result.exitCode = code
        resolve(result)
      } catch {
        reject(
          new Error(`${script} ended (code ${code}, signal ${signal}) without a result; stdout: ${out.slice(-2000)}`),
        )
      }
    })
  })
}
