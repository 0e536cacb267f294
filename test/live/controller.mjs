// Live-test controller: runs INSIDE a private PID namespace (see namespace.ts) and executes requests from the
// test process. Plain JS so that it needs no build step.
//
// Protocol: JSON lines. The test writes {"id", "method", "params", "via"?} to stdin; the controller answers with
// {"id", "result"} or {"id", "error": {"message"}} on stdout. On start it prints {"event": "ready", "pid"}.
// "via" names a sub-controller (started by method "subreaper") that runs the request instead, so that what it
// starts descends from the subreaper.
//
// Lifetime: the controller exits as soon as its stdin closes (the test process died or called close()). The
// namespace's init (PID 1) then exits too, and the kernel kills every process left in the namespace.
//
// The controller is NOT a subreaper and never calls waitpid(-1): orphans in the namespace reparent to PID 1,
// which reaps them. Node reaps only the children it spawned itself.

import {spawn} from 'node:child_process'
import fs from 'node:fs'
import readline from 'node:readline'

const SUB = process.argv.includes('--sub')
const EXEC_DEFAULT_TIMEOUT_MS = 10_000

const send = (msg) => {
  try {
    process.stdout.write(JSON.stringify(msg) + '\n')
  } catch {
    process.exit(0)
  }
}

process.stdout.on('error', () => process.exit(0))
// A controller never dies of a stray signal meant for a stand-in (tests only signal pids they spawned).
process.on('SIGHUP', () => {})
process.on('SIGINT', () => {})

/** params.env is merged onto the controller's environment; null/undefined values remove a key. */
function mergedEnv(extra) {
  const env = {...process.env}
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === null || v === undefined) delete env[k]
    else env[k] = String(v)
  }
  return env
}

function checkArgv(argv) {
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string'))
    throw new Error('argv must be a non-empty array of strings')
}

// Runs argv detached from the controller: a short-lived node helper spawns it and exits at once, so the
// process is an orphan (reparented to the nearest subreaper, normally PID 1) from its first instant.
const ORPHAN_HELPER = `
const {spawn} = require('node:child_process');
const o = JSON.parse(process.argv[1]);
const c = spawn(o.argv[0], o.argv.slice(1), {stdio: 'ignore', detached: o.detached});
c.on('error', (e) => { process.stdout.write(JSON.stringify({error: e.message})); process.exit(1) });
c.on('spawn', () => { process.stdout.write(JSON.stringify({pid: c.pid})); process.exit(0) });
`

async function doSpawn({argv, env, cwd, detached = false, orphan = false}) {
  checkArgv(argv)
  if (orphan) {
    const r = await doExec({
      argv: [process.execPath, '-e', ORPHAN_HELPER, JSON.stringify({argv, detached})],
      env,
      cwd,
    })
    let parsed
    try {
      parsed = JSON.parse(r.stdout)
    } catch {
      throw new Error(`orphan spawn helper failed (code ${r.code}): ${r.stderr}`)
    }
    if (parsed.error) throw new Error(`spawn ${argv[0]}: ${parsed.error}`)
    return {pid: parsed.pid}
  }
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {env: mergedEnv(env), cwd, detached, stdio: 'ignore'})
    child.once('error', (e) => reject(new Error(`spawn ${argv[0]}: ${e.message}`)))
    child.once('spawn', () => resolve({pid: child.pid}))
  })
}

function doExec({argv, env, cwd, timeoutMs = EXEC_DEFAULT_TIMEOUT_MS, input}) {
  checkArgv(argv)
  return new Promise((resolve) => {
    const out = []
    const err = []
    let timedOut = false
    let exitInfo
    let finished = false
    let spawnError
    const child = spawn(argv[0], argv.slice(1), {env: mergedEnv(env), cwd, stdio: ['pipe', 'pipe', 'pipe']})
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    const finish = () => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      child.stdout.destroy()
      child.stderr.destroy()
      resolve({
        code: exitInfo?.code ?? null,
        signal: exitInfo?.signal ?? null,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (spawnError ? `spawn ${argv[0]}: ${spawnError}` : ''),
        timedOut,
      })
    }
    child.stdout.on('data', (d) => out.push(d))
    child.stderr.on('data', (d) => err.push(d))
    child.stdin.on('error', () => {})
    child.on('error', (e) => {
      spawnError = e.message
      exitInfo ??= {code: 127, signal: null}
      setTimeout(finish, 50)
    })
    child.on('exit', (code, signal) => {
      exitInfo = {code, signal}
      // A daemon started by the command (tmux server, `cmd &`) may keep our pipes open: do not wait for it.
      setTimeout(finish, 200)
    })
    child.on('close', finish)
    if (input !== undefined && input !== null) child.stdin.end(input)
    else child.stdin.end()
  })
}

function readStat(pid) {
  const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  const open = text.indexOf('(')
  const close = text.lastIndexOf(')')
  const rest = text.slice(close + 2).split(' ')
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return {
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    sid: Number(rest[3]),
  }
}

function readArgv(pid) {
  const parts = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
  // A NUL-terminated argv, or a process.title rewrite padded with NULs, leaves empty strings at the end.
  while (parts.length > 0 && parts.at(-1) === '') parts.pop()
  return parts
}

function doPs() {
  const rows = []
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const pid = Number(name)
    try {
      const st = readStat(pid)
      let argv = []
      try {
        argv = readArgv(pid)
      } catch {}
      rows.push({
        pid,
        ppid: st.ppid,
        pgid: st.pgid,
        sid: st.sid,
        state: st.state,
        comm: st.comm,
        argv,
        args: argv.join(' '),
      })
    } catch {
      // exited while we were reading
    }
  }
  return rows.sort((a, b) => a.pid - b.pid)
}

function doAlive({pid}) {
  try {
    const {state} = readStat(pid)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

function doKill({pid, signal = 'SIGTERM'}) {
  try {
    process.kill(pid, signal)
    return true
  } catch (e) {
    if (e.code === 'ESRCH') return false
    throw e
  }
}

function doReadFile({path, encoding = 'utf8'}) {
  try {
    return fs.readFileSync(path, encoding)
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ESRCH') return null
    throw e
  }
}

// ---- subreapers -------------------------------------------------------------------------------------------

// Becomes a child subreaper, rewrites its own command line to TITLE (spaces become argv separators, the way
// `systemd --user` reads), then forks a sub-controller on our stdin/stdout and reaps every child forever.
const SUBREAPER_PY = String.raw`
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(36, 1, 0, 0, 0) != 0:  # PR_SET_CHILD_SUBREAPER
    sys.stderr.write('prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d\n' % ctypes.get_errno()); sys.exit(2)
title = sys.argv[1]
node, controller = sys.argv[2], sys.argv[3]
stat = open('/proc/self/stat').read()
f = stat[stat.rindex(')') + 2:].split()
start, end = int(f[45]), int(f[46])  # arg_start, arg_end (fields 48, 49)
data = title.replace(' ', '\0').encode()[:end - start - 1].ljust(end - start, b'\0')
with open('/proc/self/mem', 'r+b', buffering=0) as mem:
    mem.seek(start)
    mem.write(data)
libc.prctl(15, ctypes.c_char_p(title.split(' ')[0].encode()[:15]), 0, 0, 0)  # PR_SET_NAME
if os.fork() == 0:
    os.execv(node, [node, controller, '--sub'])
devnull = os.open('/dev/null', os.O_RDWR)
os.dup2(devnull, 0)
os.dup2(devnull, 1)
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        time.sleep(0.02)
    except InterruptedError:
        pass
`

let pythonPath
async function findPython() {
  if (pythonPath !== undefined) return pythonPath
  const r = await doExec({argv: ['python3', '-c', 'import sys; print(sys.executable)'], timeoutMs: 10_000})
  pythonPath = r.code === 0 && r.stdout.trim() ? r.stdout.trim() : null
  return pythonPath
}

/** A JSON-lines RPC client to a sub-controller. */
class SubClient {
  constructor(child) {
    this.child = child
    this.pending = new Map()
    this.nextId = 1
    this.stderr = ''
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve
      this.readyReject = reject
    })
    child.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-4000)
    })
    child.stdin.on('error', () => {})
    readline.createInterface({input: child.stdout}).on('line', (line) => {
      let msg
      try {
        msg = JSON.parse(line)
      } catch {
        return
      }
      if (msg.event === 'ready') return this.readyResolve(msg)
      const p = this.pending.get(msg.id)
      if (!p) return
      this.pending.delete(msg.id)
      if (msg.error) p.reject(new Error(msg.error.message))
      else p.resolve(msg.result)
    })
    child.stdout.on('close', () => {
      const e = new Error(`sub-controller exited. stderr: ${this.stderr}`)
      this.readyReject(e)
      for (const p of this.pending.values()) p.reject(e)
      this.pending.clear()
      this.closed = true
    })
  }

  call(method, params) {
    if (this.closed) return Promise.reject(new Error('sub-controller is gone (was its subreaper killed?)'))
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, {resolve, reject})
      this.child.stdin.write(JSON.stringify({id, method, params}) + '\n')
    })
  }
}

const subs = new Map()
let nextSubId = 1

async function doSubreaper({title = 'systemd --user', env, cwd}) {
  const python = await findPython()
  if (!python) throw new Error('python3 not found: subreapers need python3 (ctypes prctl)')
  const child = spawn(python, ['-c', SUBREAPER_PY, title, process.execPath, new URL(import.meta.url).pathname], {
    env: mergedEnv(env),
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.on('error', () => {})
  const client = new SubClient(child)
  const ready = await Promise.race([
    client.ready,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`subreaper did not start: ${client.stderr}`)), 10_000),
    ),
  ])
  const id = nextSubId++
  subs.set(id, client)
  return {id, pid: child.pid, controllerPid: ready.pid}
}

// ---- dispatch ---------------------------------------------------------------------------------------------

const methods = {
  ping: () => ({pid: process.pid}),
  spawn: doSpawn,
  exec: doExec,
  ps: doPs,
  alive: doAlive,
  kill: doKill,
  readFile: doReadFile,
  subreaper: doSubreaper,
}

async function handle(msg) {
  const {id, method, params, via} = msg
  try {
    let result
    if (via !== undefined && via !== null) {
      const sub = subs.get(via)
      if (!sub) throw new Error(`no sub-controller ${via}`)
      result = await sub.call(method, params ?? {})
    } else {
      const fn = methods[method]
      if (!fn) throw new Error(`unknown method ${method}`)
      result = await fn(params ?? {})
    }
    send({id, result: result ?? null})
  } catch (e) {
    send({id, error: {message: e?.message ?? String(e)}})
  }
}

const rl = readline.createInterface({input: process.stdin})
rl.on('line', (line) => {
  if (!line.trim()) return
  let msg
  try {
    msg = JSON.parse(line)
  } catch {
    send({id: null, error: {message: `bad request line: ${line.slice(0, 200)}`}})
    return
  }
  void handle(msg)
})
// The test process is gone or closed us: exit so that the namespace (or this subreaper's tree) winds down.
rl.on('close', () => process.exit(0))

send({event: 'ready', pid: process.pid, sub: SUB})
