/**
 * The real OpenAI Codex CLI (@openai/codex, its native binary from the npm registry) in a private PID and
 * network namespace: no address but loopback, a dummy key, so it never reaches OpenAI. On Node 20 its
 * launcher `node …/.bin/codex` spawns the native `…/vendor/<triple>/bin/codex` (Node >= 22.15 would execve
 * it). An interactive codex in a tmux pane is healthy; a `codex exec` started with setsid (detached, adopted
 * by init: it keeps retrying its connection for a while) is a detached run of agent codex, never ended.
 */
import {execFileSync} from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {
  describeLive,
  liveUnavailableReason,
  networkUnavailableReason,
  runsNode,
  startNamespace,
  type LiveNamespace,
  type NsProcess,
} from './namespace.js'
import {runDoctor} from './scenarios.js'

const CODEX_VERSION = '0.171.0'
const DIR = path.join(os.homedir(), '.cache', `gt-doctor-live-codex-${CODEX_VERSION}`)
const NATIVE = path.join(DIR, 'node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex')
const LAUNCHER = path.join(DIR, 'node_modules/.bin/codex')

/** Installs the pinned codex into the cache once (into a temp dir renamed into place: no half installs). */
function ensureCodex(): string | undefined {
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the pinned codex binary is for linux x64'
  if (fs.existsSync(NATIVE)) return undefined
  const tmp = fs.mkdtempSync(`${DIR}.tmp-`)
  try {
    fs.writeFileSync(path.join(tmp, 'package.json'), '{"private":true}')
    execFileSync('npm', ['install', '--no-audit', '--no-fund', `@openai/codex@${CODEX_VERSION}`], {
      cwd: tmp,
      stdio: 'ignore',
      timeout: 240_000,
    })
    try {
      fs.renameSync(tmp, DIR)
    } catch {
      // Another worker won the race: its install is as good as ours.
    }
    return fs.existsSync(NATIVE) ? undefined : 'npm installed @openai/codex without its linux-x64 binary'
  } catch (e) {
    return `cannot install @openai/codex@${CODEX_VERSION} from the npm registry: ${(e as Error).message.split('\n')[0]}`
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
}

const unavailable = liveUnavailableReason() ?? networkUnavailableReason() ?? ensureCodex()

describeLive(
  `the real OpenAI Codex CLI ${CODEX_VERSION} (live)`,
  () => {
    let ns: LiveNamespace
    let report: Report
    let before: NsProcess[]
    let after: NsProcess[]
    let pane: {launcher: number; native: number}
    let job: {launcher: number; native: number}

    const codexOf = (ps: NsProcess[], parent: number) => ps.find((p) => p.ppid === parent && p.argv[0] === NATIVE)

    beforeAll(async () => {
      ns = await startNamespace({network: true})
      const home = path.join(ns.tmpdir, 'home')
      fs.mkdirSync(home, {recursive: true})
      const env = {
        HOME: home,
        SHELL: '/bin/sh',
        OPENAI_API_KEY: 'sk-test-not-a-key',
        CODEX_HOME: path.join(home, '.codex'),
        PATH: `${path.dirname(LAUNCHER)}:${process.env.PATH}`,
      }
      fs.mkdirSync(env.CODEX_HOME, {recursive: true})
      // The interactive codex, in a pane of a private tmux server.
      const started = await ns.tmux(
        [
          'new-session',
          '-d',
          '-s',
          'work',
          '-x',
          '120',
          '-y',
          '40',
          `HOME=${home} CODEX_HOME=${env.CODEX_HOME} OPENAI_API_KEY=${env.OPENAI_API_KEY} exec ${LAUNCHER}`,
        ],
        'a',
        {env},
      )
      expect(started.code, started.stderr).toBe(0)
      // The detached headless run: setsid, adopted by init at once.
      const spawned = await ns.spawn([LAUNCHER, 'exec', '--skip-git-repo-check', 'say hi'], {
        orphan: true,
        detached: true,
        env,
        cwd: home,
      })
      await ns.waitUntil(
        async () => {
          const ps = await ns.ps()
          const inPane = ps.find((p) => runsNode(p) && p.argv[1] === LAUNCHER && p.pid !== spawned.pid)
          return inPane !== undefined && codexOf(ps, inPane.pid) !== undefined && codexOf(ps, spawned.pid) !== undefined
        },
        30_000,
        200,
        'both codex launchers and their native binaries running',
      )
      before = await ns.ps()
      const inPane = before.find((p) => runsNode(p) && p.argv[1] === LAUNCHER && p.pid !== spawned.pid)!
      pane = {launcher: inPane.pid, native: codexOf(before, inPane.pid)!.pid}
      job = {launcher: spawned.pid, native: codexOf(before, spawned.pid)!.pid}
      const r = await runDoctor(ns, ['check', '--json'], {timeoutMs: 60_000})
      report = JSON.parse(r.stdout) as Report
      after = await ns.ps()
    }, 360_000)

    afterAll(async () => {
      await ns?.close()
    })

    it('sees the real process shape: node running the .bin symlink above the native binary, comm codex', () => {
      const native = before.find((p) => p.pid === job.native)!
      expect(native.comm).toBe('codex')
      expect(native.argv).toEqual([NATIVE, 'exec', '--skip-git-repo-check', 'say hi'])
      expect(before.find((p) => p.pid === job.launcher)!.argv.slice(1)).toEqual([
        LAUNCHER,
        'exec',
        '--skip-git-repo-check',
        'say hi',
      ])
    })

    it('reports the setsid codex exec as a detached run of agent codex (launcher and binary one job), nothing else', () => {
      const findings = report.checks.flatMap((c) => c.findings)
      const runs = findings.filter((f) => f.check === 'detached-run')
      expect(
        runs.map((f) => [f.pid, f.severity, f.fixable, f.data?.agent, f.data?.headless, f.data?.detachedBy]),
      ).toEqual([[job.launcher, 'info', false, 'codex', 'exec', 'own-session']])
      // The job is the launcher, the native binary and whatever the binary runs at that moment (under load a
      // failing `codex exec` is caught starting its helpers): every other pid of the finding is a descendant of
      // the launcher that /proc still shows after the run, or one that has already ended.
      const pids = runs[0].pids
      expect(pids).toEqual(expect.arrayContaining([job.launcher, job.native]))
      const byPid = new Map(after.map((p) => [p.pid, p]))
      const underJob = (pid: number) => {
        for (let p = byPid.get(pid), hops = 0; p && hops < 64; p = byPid.get(p.ppid), hops++)
          if (p.pid === job.launcher) return true
        return !byPid.has(pid)
      }
      expect(pids.filter((pid) => !underJob(pid))).toEqual([])
      expect(pids).not.toContain(pane.launcher)
      expect(pids).not.toContain(pane.native)
      expect(findings.filter((f) => f.check !== 'detached-run')).toEqual([])
      expect(report.summary.agents).toMatchObject({codex: {orphans: 0, detachedRuns: 1, leftovers: 0}})
      expect(report.summary.agents?.codex.processes).toBeGreaterThanOrEqual(2)
    })

    it('--fix ends nothing: the pane codex is healthy, the detached run is a job', async () => {
      const r = await runDoctor(ns, ['check', '--fix', '--yes', '--json'], {timeoutMs: 60_000})
      expect(r.stderr).not.toMatch(/Error/)
      for (const pid of [pane.launcher, pane.native, job.launcher, job.native])
        expect(await ns.alive(pid), `pid ${pid}`).toBe(true)
    })
  },
  unavailable,
)
