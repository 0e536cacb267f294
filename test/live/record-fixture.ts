/**
 * Records the fixtures under fixtures/recorded/ and fixtures/proc/ from a real machine state built in a
 * private PID namespace: three tmux servers (the default socket, `-L hq`, `-S` elsewhere), healthy agents,
 * a session killed under a living server, a claude adopted by init, MCP servers left by a claude that
 * exited, and look-alikes. Run it by hand (root) after `npm run build` when the snapshot format changes:
 *
 *   npx tsx test/live/record-fixture.ts
 *
 * The environment files are filtered to a few keys plus one planted secret, so the recorded /proc
 * proves the collector keeps only the KEPT_ENV_KEYS (TMUX, TMUX_PANE, CLAUDECODE, CLAUDE_CODE_SESSION_ID, ...).
 */
import fs from 'node:fs'
import path from 'node:path'
import {CLAUDE_STANDIN, REPO_ROOT, runsNode, startNamespace} from './namespace.js'

const OUT_SNAPSHOT = path.join(REPO_ROOT, 'fixtures', 'recorded', 'three-servers.snapshot.json')
const OUT_PROC = path.join(REPO_ROOT, 'fixtures', 'proc', 'three-servers')
const KEEP_ENV = /^(TMUX|TMUX_PANE|TMUX_TMPDIR|CLAUDECODE|CLAUDE_CODE_SESSION_ID|PATH|HOME|LANG)=/
const PLANTED = 'ANTHROPIC_API_KEY=sk-ant-api03-recorded-fixture-not-a-real-key'

const ns = await startNamespace()
try {
  const tmuxDefault = async (args: string[]) =>
    ns.exec(['tmux', '-f', '/dev/null', ...args], {env: {TMUX_TMPDIR: ns.tmuxTmpdir}})
  // Server 1: the default socket ($TMUX_TMPDIR/tmux-0/default), found by scanning the socket directory.
  await tmuxDefault(['new-session', '-d', '-s', 'gt-mayor', CLAUDE_STANDIN])
  await tmuxDefault(['new-session', '-d', '-s', 'gt-polecat-1', CLAUDE_STANDIN])
  await tmuxDefault(['new-session', '-d', '-s', 'main', 'sh'])
  // Server 2: `-L hq`, found from the server's command line.
  const hq = (args: string[]) =>
    ns.exec(['tmux', '-f', '/dev/null', '-L', 'hq', ...args], {env: {TMUX_TMPDIR: ns.tmuxTmpdir}})
  await hq(['new-session', '-d', '-s', 'hq-deacon', CLAUDE_STANDIN])
  await hq(['new-session', '-d', '-s', 'hq-polecat-2', `sh -c '${CLAUDE_STANDIN}; true'`])
  await hq(['new-session', '-d', '-s', 'hq-idle', 'sleep 3600'])
  // Server 3: `-S` somewhere else, with an npm-exec-launched MCP server under its claude.
  await ns.tmux(['new-session', '-d', '-s', 'gt-witness', CLAUDE_STANDIN], 'witness', {
    env: {STANDIN_MCP_WRAPPER: 'npm-exec'},
  })
  await ns.waitForStandins('claude', undefined, 5, 10_000)

  // The killed ones: gt-polecat-1 stays under the default server, hq-polecat-2's claude goes to init.
  await ns.spawn([CLAUDE_STANDIN], {orphan: true, env: {STANDIN_EXIT_AFTER_MS: '1000', STANDIN_MCP_WRAPPER: 'sh'}})
  await ns.spawn(['sh', '-c', 'exec tail -f /dev/null # mcp-server.log'], {orphan: true})
  for (const p of await ns.ps())
    if (p.comm === 'claude' || runsNode(p)) await ns.waitReady(p.pid).catch(() => undefined)
  await tmuxDefault(['kill-session', '-t', 'gt-polecat-1'])
  await hq(['kill-session', '-t', 'hq-polecat-2'])
  await new Promise((r) => setTimeout(r, 2000))

  // The snapshot, collected inside the namespace by the built collector.
  const collect = `import {collectSnapshot} from '${REPO_ROOT}/dist/src/snapshot/collect.js'; process.stdout.write(JSON.stringify(await collectSnapshot(), null, 2))`
  const snap = await ns.exec(['node', '--input-type=module', '-e', collect], {
    env: {TMUX_TMPDIR: ns.tmuxTmpdir},
    timeoutMs: 20_000,
  })
  if (snap.code !== 0) throw new Error(snap.stderr)
  const tmp = ns.tmpdir
  // Paths under the namespace's private tmpdir would differ on every run: make them stable.
  const stable = (text: string) => text.split(tmp).join('/tmp/gt-live')
  fs.mkdirSync(path.dirname(OUT_SNAPSHOT), {recursive: true})
  fs.writeFileSync(OUT_SNAPSHOT, stable(snap.stdout) + '\n')

  // The raw material: the process table ps-list saw, /proc files, and each server's list-panes answer.
  const raw = `
    import fs from 'node:fs'
    import psList from '${REPO_ROOT}/node_modules/ps-list/index.js'
    const out = ${JSON.stringify(OUT_PROC)}
    fs.rmSync(out, {recursive: true, force: true})
    fs.mkdirSync(out + '/self', {recursive: true})
    // /proc files report size 0: read and write them, a file copy would copy nothing.
    fs.writeFileSync(out + '/stat', fs.readFileSync('/proc/stat'))
    fs.writeFileSync(out + '/self/stat', fs.readFileSync('/proc/self/stat'))
    // Not this recorder itself: its own command line holds the planted secret.
    const list = (await psList({all: true})).filter((p) => p.pid !== process.pid && fs.existsSync('/proc/' + p.pid))
    fs.writeFileSync(out + '/ps-list.json', JSON.stringify(list.map(({pid, ppid, uid, name, cmd}) => ({pid, ppid, uid, name, cmd})), null, 1))
    for (const {pid} of list) {
      fs.mkdirSync(out + '/' + pid)
      for (const f of ['stat', 'status', 'cmdline', 'smaps_rollup', 'environ']) {
        let text = fs.readFileSync('/proc/' + pid + '/' + f, 'latin1')
        if (f === 'environ') text = text.split('\\0').filter((kv) => ${KEEP_ENV}.test(kv)).concat(${JSON.stringify(PLANTED)}).join('\\0') + '\\0'
        fs.writeFileSync(out + '/' + pid + '/' + f, text, 'latin1')
      }
    }
  `
  const r = await ns.exec(['node', '--input-type=module', '-e', raw], {timeoutMs: 20_000})
  if (r.code !== 0) throw new Error(r.stderr)
  const snapshot = JSON.parse(fs.readFileSync(OUT_SNAPSHOT, 'utf8'))
  fs.mkdirSync(path.join(OUT_PROC, 'tmux'), {recursive: true})
  for (const server of snapshot.tmux.servers) {
    const real = server.socket.replace('/tmp/gt-live', tmp)
    const panes = await ns.exec([
      'tmux',
      '-S',
      real,
      'list-panes',
      '-a',
      '-F',
      (await import('../../src/snapshot/tmux.js')).LIST_PANES_FORMAT,
    ])
    fs.writeFileSync(path.join(OUT_PROC, 'tmux', path.basename(server.socket)), panes.stdout)
  }
  // Every file is stable text: rewrite the private tmpdir in all of them.
  for (const file of fs.readdirSync(OUT_PROC, {recursive: true}) as string[]) {
    const full = path.join(OUT_PROC, file)
    if (fs.statSync(full).isFile()) fs.writeFileSync(full, stable(fs.readFileSync(full, 'latin1')), 'latin1')
  }
  console.log(`recorded ${snapshot.processes.length} processes, ${snapshot.tmux.servers.length} servers`)
} finally {
  await ns.close()
}
