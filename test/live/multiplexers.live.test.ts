/**
 * The scene of issue 13 items 2 and 4, live in a private PID namespace: real GNU screen (Debian's `screen`,
 * private SCREENDIR) holding a claude stand-in in a live session, one left by a killed window of it, one left by a killed session, and an
 * orphaned `docker run -i --rm mcp/x` client. The `docker` on PATH is a fake that records what it is asked and
 * lists one running container: no daemon. The client is node under the name `docker` (argv[0], `exec -a`), so
 * that its command line reads exactly as the real client's does.
 */
import {spawnSync} from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {CLAUDE_STANDIN, describeLive, startNamespace, type LiveNamespace} from './namespace.js'
import {readAudit, runDoctor} from './scenarios.js'

const ID = 'f'.repeat(64)
const screenMissing = spawnSync('screen', ['-v']).error
  ? 'this test needs GNU screen (Debian package screen)'
  : undefined

describeLive(
  'screen sessions and docker MCP containers (live)',
  () => {
    let ns: LiveNamespace
    let bin: string
    let log: string
    const pid: Record<string, number> = {}
    const env = () => ({SCREENDIR: path.join(ns.tmpdir, 'screen'), SHELL: '/bin/sh', STANDIN_MCP: '0'})
    const doctor = (args: string[]) => runDoctor(ns, args, {env: {...env(), PATH: `${bin}:${ns.env.PATH}`}})

    beforeAll(async () => {
      ns = await startNamespace()
      fs.mkdirSync(path.join(ns.tmpdir, 'screen'), {mode: 0o700})
      bin = path.join(ns.tmpdir, 'bin')
      log = path.join(ns.tmpdir, 'docker.log')
      fs.mkdirSync(bin)
      // The fake runtime: every call on record; `ps` lists the one container; `rm` finds it gone (--rm honoured).
      fs.writeFileSync(
        path.join(bin, 'docker'),
        `#!/bin/sh\necho "$*" >> ${log}\ncase "$1" in\n  ps) printf '${ID}\\tmcp-x-1\\tmcp/x\\n' ;;\n  rm) echo "Error response from daemon: No such container: $2" >&2; exit 1 ;;\nesac\n`,
        {mode: 0o755},
      )
      // The client's program: node running ./run, under argv[0] `docker`.
      const client = path.join(ns.tmpdir, 'client')
      fs.mkdirSync(client)
      fs.writeFileSync(path.join(client, 'run'), "process.on('SIGHUP', () => {}); setInterval(() => {}, 1 << 30)\n")

      for (const name of ['live', 'dead']) {
        const r = await ns.exec(['screen', '-dmS', name, CLAUDE_STANDIN], {env: env()})
        expect(r.code, r.stderr).toBe(0)
      }
      const claudes = await ns.waitForStandins('claude', undefined, 2, 10_000)
      for (const c of claudes) pid[(await ns.environ(c.pid))!.STY.split('.')[1]] = c.pid
      pid.screen = (await ns.ps()).find((p) => p.argv[0] === 'SCREEN' && p.argv.includes('live'))!.pid
      // `screen -X quit` hangs the window up; the claude stand-in ignores SIGHUP (the report's bug) and stays.
      expect((await ns.exec(['screen', '-S', 'dead', '-X', 'quit'], {env: env()})).code).toBe(0)
      await ns.waitUntil(
        async () => (await ns.ps()).find((p) => p.pid === pid.dead)?.ppid === 1,
        5000,
        50,
        "the dead session's claude reparented",
      )

      // A window killed in the live session: its claude ignores the hangup and stays a child of SCREEN.
      expect((await ns.exec(['screen', '-S', 'live', '-X', 'screen', CLAUDE_STANDIN], {env: env()})).code).toBe(0)
      pid.window = (
        await ns.waitForStandins('claude', (p) => p.ppid === pid.screen && p.pid !== pid.live, 1, 10_000)
      )[0].pid
      expect((await ns.environ(pid.window))!.WINDOW).toBe('1')
      expect((await ns.exec(['screen', '-S', 'live', '-p', '1', '-X', 'kill'], {env: env()})).code).toBe(0)
      await ns.waitUntil(
        async () =>
          !(await ns.exec(['screen', '-S', 'live', '-Q', 'windows'], {env: env()})).stdout
            .split(/\s\s/)
            .some((w) => w.startsWith('1')),
        5000,
        50,
        'window 1 gone',
      )
      expect((await ns.ps()).find((p) => p.pid === pid.window)?.ppid).toBe(pid.screen)

      const {pid: dockerClient} = await ns.spawn(
        ['bash', '-c', `cd ${client} && exec -a docker ${process.execPath} run -i --rm mcp/x`],
        {orphan: true},
      )
      pid.docker = dockerClient
      await ns.waitUntil(
        async () => (await ns.ps()).find((p) => p.pid === dockerClient)?.argv.join(' ') === 'docker run -i --rm mcp/x',
        5000,
        50,
        'the docker client',
      )
    }, 60_000)
    afterAll(async () => {
      await ns?.close()
    })

    it('reports exactly the claude of the killed screen session and the docker client; the live one is healthy', async () => {
      const r = await doctor(['--json'])
      const report = JSON.parse(r.stdout) as Report
      // orphan-memory sums the others' trees: not a finding of its own about a process.
      const findings = report.checks
        .filter((c) => c.id !== 'orphan-memory')
        .flatMap((c) => c.findings.map((f) => ({...f, check: c.id})))
      const found = findings.filter((f) => f.severity !== 'info').map((f) => [f.check, f.pid])
      expect(found.sort()).toEqual(
        [
          ['orphan-claude', pid.dead],
          ['orphan-claude', pid.window],
          ['orphan-mcp', pid.docker],
        ].sort(),
      )
      const dead = findings.find((f) => f.pid === pid.dead)!
      expect(dead.reason).toMatch(/screen session \d+\.dead no longer exists/)
      expect(findings.find((f) => f.pid === pid.window)!.reason).toMatch(
        /its parent is the screen server \(pid \d+\) of screen session \d+\.live, which no longer lists its window 1/,
      )
      expect(findings.find((f) => f.pid === pid.docker)!.reason).toContain(
        'a fix stops its docker container mcp-x-1 too',
      )
      expect(findings.filter((f) => f.severity === 'info')).toEqual([])
      // Collection asked docker once, for its containers; nothing else.
      expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
        `ps --no-trunc --format {{.ID}}\t{{.Names}}\t{{.Image}}`,
      ])
    })

    it('--fix ends exactly the orphans and asks docker to stop exactly that container, on record first', async () => {
      // The plan shows the stop as its own step, and a dry run asks docker for nothing but its list.
      fs.writeFileSync(log, '')
      const dry = await doctor(['--fix', '--dry-run'])
      expect(dry.stdout.replace(/\s+/g, ' ')).toContain(
        'Plan: docker stop mcp-x-1, then docker rm mcp-x-1 if --rm did not remove it',
      )
      expect(
        fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .every((c) => c.startsWith('ps ')),
      ).toBe(true)
      fs.writeFileSync(log, '')
      const r = await doctor(['--fix', '--yes', '--grace', '1', '--json'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(await ns.alive(pid.dead)).toBe(false)
      expect(await ns.alive(pid.docker)).toBe(false)
      expect(await ns.alive(pid.window)).toBe(false)
      expect(await ns.alive(pid.live)).toBe(true)
      expect(await ns.alive(pid.screen)).toBe(true)
      const calls = fs.readFileSync(log, 'utf8').trim().split('\n')
      expect(calls.filter((c) => !c.startsWith('ps '))).toEqual([`stop ${ID}`, `rm ${ID}`])
      const audit = readAudit(path.join(ns.tmpdir, 'state')).filter((e) => e.container === ID)
      expect(audit.map((e) => [e.event, e.args?.[0], e.outcome])).toEqual([
        ['intent', 'stop', 'intended'],
        ['intent', 'rm', 'intended'],
        ['container', 'rm', 'fixed'],
      ])
    })
  },
  screenMissing,
)
