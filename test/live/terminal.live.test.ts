/**
 * What a person sees: the real CLI in tmux panes of 80 and 120 columns (a private tmux server in a private
 * PID namespace), captured as the terminal shows it. A line wider than the pane wraps, and
 * `capture-pane -J` joins it back: so a joined line longer than the pane is a line the doctor drew too wide.
 * Scenes: a live machine (orphans under init and under a server, a healthy agent, a SIGSTOPped tmux server,
 * a --socket with nothing behind it) and the incident fixture (`--from`), the latter against golden files.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {Report} from '../../src/report/model.js'
import {REPO_ROOT, type LiveNamespace, describeLive, startNamespace} from './namespace.js'
import {
  healthySession,
  orphanMcpTrees,
  orphanUnderInit,
  orphanUnderServer,
  plainSession,
  serverPid,
} from './scenarios.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')
const INCIDENT = path.join(REPO_ROOT, 'fixtures', 'reports', 'incident.snapshot.json')
const GOLDEN = path.join(REPO_ROOT, 'test', 'golden')
const SYMBOLS = {ok: '✔', warning: '⚠', error: '✖', crashed: '✖', skipped: '-', info: 'i'} as const
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/** Runs the doctor in a fresh pane `width` columns wide; resolves with the screen (wrapped lines joined) and its exit code. */
async function inPane(
  ns: LiveNamespace,
  name: string,
  width: number,
  args: string[],
): Promise<{lines: string[]; code: number}> {
  const command = `env -u NO_COLOR ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(' ')}; echo "EXIT:$?"; sleep 600`
  // SHELL: tmux starts pane commands with it, and without one in the environment it falls back to the passwd shell.
  const env = {SHELL: '/bin/sh', NODE_ENV: null, TERM: 'xterm-256color'}
  const r = await ns.tmux(['new-session', '-d', '-s', name, '-x', String(width), '-y', '400', command], 'view', {env})
  expect(r.code, r.stderr).toBe(0)
  let screen = ''
  await ns.waitUntil(
    async () => {
      screen = (await ns.tmux(['capture-pane', '-p', '-J', '-t', name, '-S', '-', '-E', '-'], 'view')).stdout
      return /EXIT:\d+/.test(screen)
    },
    40_000,
    200,
    `the doctor's exit in pane ${name}`,
  )
  const lines = screen.split('\n').map((l) => l.trimEnd())
  const at = lines.findIndex((l) => /^EXIT:\d+$/.test(l))
  return {lines: lines.slice(0, at), code: Number(lines[at].slice(5))}
}

const tooWide = (lines: string[], width: number) => lines.filter((l) => [...l].length > width)

describeLive('the CLI in a terminal of 80 and 120 columns', () => {
  let ns: LiveNamespace
  let report: Report
  let stale: string
  let stopped: string
  const screens = new Map<string, {lines: string[]; code: number}>()

  beforeAll(async () => {
    ns = await startNamespace()
    await plainSession(ns, 'view', 'keep')
    await plainSession(ns, 'a', 'keep')
    await healthySession(ns, 'a', 'gt-alive')
    await orphanUnderServer(ns, 'a', 'gt-killed')
    await orphanUnderInit(ns)
    await orphanMcpTrees(ns)
    // A server that does not answer: its sessions cannot be listed within the bound.
    await plainSession(ns, 'stopped', 'frozen')
    stopped = ns.socket('stopped')
    await ns.kill(await serverPid(ns, 'stopped'), 'SIGSTOP')
    stale = path.join(ns.tmpdir, 'tmux', 'typo.sock')
    const args = ['check', '--socket', stale, '--tmux-timeout', '1']
    const json = await ns.exec([process.execPath, BIN, ...args, '--json'], {
      cwd: REPO_ROOT,
      timeoutMs: 30_000,
      env: {NODE_ENV: null},
    })
    report = JSON.parse(json.stdout)
    for (const width of [80, 120]) {
      screens.set(`live-${width}`, await inPane(ns, `live${width}`, width, args))
      screens.set(`incident-${width}`, await inPane(ns, `incident${width}`, width, ['check', '--from', INCIDENT]))
    }
  }, 180_000)

  afterAll(async () => {
    await ns?.close()
  })

  for (const width of [80, 120]) {
    it(`draws no line wider than ${width} columns, live and on the incident`, () => {
      for (const scene of ['live', 'incident'])
        expect(tooWide(screens.get(`${scene}-${width}`)!.lines, width), scene).toEqual([])
    })

    it(`shows every finding's pid and headline at ${width} columns, under its check, with the symbol of its status`, () => {
      const {lines} = screens.get(`live-${width}`)!
      const text = lines.join('\n')
      const findings = report.checks.flatMap((c) => c.findings)
      expect(findings.length).toBeGreaterThanOrEqual(4)
      for (const c of report.checks) {
        const head = lines.find((l) =>
          l.startsWith(`${SYMBOLS[c.status === 'ok' && c.findings.length > 0 ? 'info' : c.status]} ${c.id} `),
        )
        expect(head, `${c.id} (${c.status})`).toBeDefined()
        for (const f of c.findings) {
          if (f.pid !== undefined) expect(text).toContain(`${SYMBOLS[f.severity]} ${f.pid}`)
          // The headline may wrap inside its cell; ages and sizes differ from the JSON run a moment before.
          const words = f.message.split(/[\s,()]+/).filter((w) => /^[a-z-]+$/i.test(w) && !/^[KMG]?i?B$/.test(w))
          const flat = text.replace(/[│\s]+/g, ' ')
          for (const w of words.slice(0, 4)) expect(flat, f.message).toContain(w)
        }
      }
    })

    it(`ends with the command to run at ${width} columns`, () => {
      const {lines, code} = screens.get(`live-${width}`)!
      expect(code).toBe(1)
      const next = lines.join(' ').replace(/\s+/g, ' ')
      expect(next).toMatch(
        /Next: run `gt-doctor --fix` to fix \d+ findings? and free [\d.]+ \w+ \(`gt-doctor --fix --dry-run` shows the plan first\)\./,
      )
    })

    it(`names the stale --socket and the stopped server at ${width} columns instead of passing them`, () => {
      const text = screens.get(`live-${width}`)!.lines.join(' ').replace(/\s+/g, ' ')
      expect(text).toContain(`--socket ${stale} is not a live tmux server`)
      expect(text).toContain(`tmux server ${stopped}`)
      expect(text).toMatch(/did not answer \(no answer within 1000 ms; --tmux-timeout sets the bound\)/)
    })
  }

  it('carries the same limitations in the JSON report', () => {
    expect(report.limitations.some((l) => l.startsWith(`--socket ${stale} is not a live tmux server`))).toBe(true)
    expect(report.limitations.some((l) => l.startsWith(`tmux server ${stopped}`) && l.includes('did not answer'))).toBe(
      true,
    )
    // The doctor's own `tmux -V` child is never one of the processes it could not read.
    expect(report.limitations.join('\n')).not.toMatch(/environment unreadable/)
  })

  for (const width of [80, 120]) {
    it(`shows the incident at ${width} columns as its golden file`, () => {
      const actual = `${screens.get(`incident-${width}`)!.lines.join('\n')}\n`
      const file = path.join(GOLDEN, `incident.terminal-${width}.txt`)
      if (process.env.UPDATE_GOLDEN === '1') {
        mkdirSync(GOLDEN, {recursive: true})
        writeFileSync(file, actual)
      }
      expect(existsSync(file), `${file} is missing: run UPDATE_GOLDEN=1 on this test`).toBe(true)
      expect(actual).toBe(readFileSync(file, 'utf8'))
    })
  }
})
