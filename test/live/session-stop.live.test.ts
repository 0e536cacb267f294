/**
 * `gt-doctor session stop` against real tmux servers in a private PID namespace: a claude that ignores SIGHUP
 * and SIGTERM and keeps MCP children is stopped with nothing left (SIGKILL needed), where a plain
 * `tmux kill-session` of an identical session leaves orphans; a claude that exits on Ctrl-C needs no signal;
 * another session on the same server is untouched; an unknown session is exit 2 and one line.
 */
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import type {AuditEntry} from '../../src/remediation/audit.js'
import type {SessionStopResult} from '../../src/remediation/stop-sessions.js'
import {CLAUDE_STANDIN, REPO_ROOT, type LiveNamespace, describeLive, startNamespace} from './namespace.js'

const BIN = path.join(REPO_ROOT, 'bin', 'run.js')

describeLive('session stop on a live machine', () => {
  let ns: LiveNamespace
  let xdg: string
  const trees: Record<string, number[]> = {}

  /** A session on server `s` whose pane runs a stand-in claude (env applied), and its whole tree, ready. */
  async function agent(name: string, env: Record<string, string> = {}): Promise<number[]> {
    const known = Object.values(trees).flat()
    const e = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    expect((await ns.tmux(['new-session', '-d', '-s', name, ...e, CLAUDE_STANDIN], 's')).code).toBe(0)
    const [claude] = await ns.waitForStandins('claude', (p) => !known.includes(p.pid))
    const {mcp = []} = await ns.waitReady(claude.pid)
    for (const m of mcp) await ns.waitReady(m)
    trees[name] = [claude.pid, ...mcp]
    return trees[name]
  }
  const stop = (args: string[]) =>
    ns.exec(['node', BIN, 'session', 'stop', '--socket', ns.socket('s'), ...args], {
      timeoutMs: 30_000,
      env: {XDG_STATE_HOME: xdg, NO_COLOR: '1'},
    })
  const sessions = async () =>
    (await ns.tmux(['list-sessions', '-F', '#{session_name}'], 's')).stdout.trim().split('\n').sort()
  const alive = async (pids: number[]) => (await Promise.all(pids.map((p) => ns.alive(p)))).filter(Boolean).length
  const audit = () =>
    fs
      .readFileSync(path.join(xdg, 'gt-doctor', 'actions.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEntry)

  beforeAll(async () => {
    ns = await startNamespace()
    xdg = path.join(ns.tmpdir, 'xdg')
    await agent('bystander')
    // Its MCP servers shrug off the Ctrl-C too (it reaches the whole foreground process group).
    await agent('stubborn', {STANDIN_IGNORE_TERM: '1', STANDIN_IGNORE_INT: '1'})
    await agent('stubborn-twin', {STANDIN_IGNORE_TERM: '1', STANDIN_IGNORE_INT: '1'})
    await agent('polite', {STANDIN_EXIT_ON_INT: '1'})
  }, 60_000)
  afterAll(async () => {
    await ns?.close()
  })

  it('plain kill-session leaves the stubborn claude and its MCP servers running (the comparison)', async () => {
    await ns.tmux(['kill-session', '-t', 'stubborn-twin'], 's')
    await ns.waitUntil(async () => !(await sessions()).includes('stubborn-twin'))
    await new Promise((r) => setTimeout(r, 300))
    expect(await alive(trees['stubborn-twin'])).toBe(3)
  })

  it('stops a claude that ignores SIGHUP and SIGTERM, MCP children and all: SIGKILL was needed, nothing survives', async () => {
    const r = await stop(['stubborn', '--grace', '0.5', '--wait', '0.5'])
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(await alive(trees.stubborn)).toBe(0)
    expect(await sessions()).not.toContain('stubborn')
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe(`Session stubborn (${ns.socket('s')}): closed by itself when its last pane exited`)
    expect(r.stdout).not.toContain('note:')
    for (const pid of trees.stubborn)
      expect(r.stdout).toMatch(
        new RegExp(`│ \\S+ +│ ${pid} +│ .* │ ended by SIGKILL \\(ignored Ctrl-C and SIGTERM\\) +│`),
      )
    expect(lines[lines.length - 1]).toBe(
      'Stopped 1 session: 3 processes ended (0 on Ctrl-C, 0 by SIGTERM, 3 needed SIGKILL); nothing survived.',
    )

    // Through the --fix engine: each process SIGTERMed then SIGKILLed, recorded with its identity.
    const signals = audit().filter(
      (e) =>
        e.event === 'signal' && (e.signal === 'SIGTERM' || e.signal === 'SIGKILL') && trees.stubborn.includes(e.pid!),
    )
    expect(signals.map((e) => `${e.pid} ${e.signal}`).sort()).toEqual(
      trees.stubborn.flatMap((p) => [`${p} SIGKILL`, `${p} SIGTERM`]).sort(),
    )
    expect(
      signals.every(
        (e) => e.startTicks! > 0 && e.findingId.startsWith('session-stop:stubborn:') && e.session === 'stubborn',
      ),
    ).toBe(true)
    expect(audit().some((e) => e.event === 'tmux' && e.args?.join(' ').startsWith('send-keys -t %'))).toBe(true)
  })

  it('a claude that exits on Ctrl-C is stopped without any signal, and the output says so', async () => {
    const before = audit().length
    const r = await stop(['polite', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const result = JSON.parse(r.stdout) as SessionStopResult
    expect(result.survived).toBe(0)
    expect(result.sessions.map((s) => [s.session, s.processes.map((p) => [p.pid, p.ended])])).toEqual([
      ['polite', trees.polite.map((p) => [p, 'ctrl-c'])],
    ])
    expect(await alive(trees.polite)).toBe(0)
    expect(
      audit()
        .slice(before)
        .filter((e) => e.event === 'signal'),
    ).toEqual([])

    // The same, for people: recreate and stop it in table form.
    await agent('polite', {STANDIN_EXIT_ON_INT: '1'})
    const text = await stop(['polite'])
    expect(text.code).toBe(0)
    expect(text.stdout.trim().split('\n').pop()).toBe(
      'Stopped 1 session: 3 processes ended (3 on Ctrl-C, 0 by SIGTERM, 0 needed SIGKILL); no SIGTERM was needed; nothing survived.',
    )
    expect(text.stdout.match(/exited on Ctrl-C/g)).toHaveLength(3)
  })

  it('leaves another session on the same server untouched', async () => {
    expect(await alive(trees.bystander)).toBe(3)
    expect(await sessions()).toContain('bystander')
  })

  it('an unknown session is exit 2 and one line naming the sessions that exist', async () => {
    const r = await stop(['no-such'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toEqual(['gt-doctor: unknown session no-such; sessions: bystander'])
    // A prefix of an existing name is not that session (tmux itself would match it).
    expect((await stop(['bystand'])).code).toBe(2)
    expect(await alive(trees.bystander)).toBe(3)
  })
})
