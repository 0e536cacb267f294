/**
 * The scheduling recipes of docs/operations.md, run exactly as written: the systemd service's ExecStart line and the
 * crontab command, with stdin closed and no terminal, as their user, against a real orphan in a private PID
 * namespace. Each must end the orphan and leave node_exporter a metrics file.
 */
import fs from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, expect, it} from 'vitest'
import {
  CLAUDE_STANDIN,
  REPO_ROOT,
  type EnvPatch,
  type LiveNamespace,
  describeLive,
  startNamespace,
} from './namespace.js'

const DOC = fs.readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8')
const section = DOC.slice(DOC.indexOf('\n## Scheduling'), DOC.indexOf('\n## CI recipes'))
/** The body of the first fenced block of `lang` in the Scheduling section whose text contains `needle`. */
function block(lang: string, needle: string): string {
  const blocks = [...section.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1])
  const found = blocks.find((b) => b.includes(needle))
  if (!found) throw new Error(`no ${lang} block with ${needle} in docs/operations.md's Scheduling section`)
  return found
}

describeLive('the scheduling recipes of docs/operations.md', () => {
  let ns: LiveNamespace
  let home: string
  let bin: string
  let env: EnvPatch
  const prom = () => path.join(home, '.local/share/node_exporter/textfile/gt_doctor.prom')

  beforeAll(async () => {
    ns = await startNamespace()
    home = path.join(ns.tmpdir, 'home')
    // `gt-doctor` on PATH as an installed package puts it; nothing of the test's environment but that.
    bin = path.join(ns.tmpdir, 'installed-bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(
      path.join(bin, 'gt-doctor'),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(REPO_ROOT, 'bin', 'run.js')}" "$@"\n`,
      {mode: 0o755},
    )
    env = {HOME: home, PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, XDG_STATE_HOME: null, TERM: null}
    fs.mkdirSync(home)
    // The recipe's one-time step.
    const mkdir = block('sh', 'mkdir -p').trim()
    expect((await ns.exec(['sh', '-c', mkdir], {env})).code).toBe(0)
    // A server that stays up and a session whose claude outlives it.
    await ns.tmux(['new-session', '-d', '-s', 'keep', 'sleep 600'])
  })
  afterAll(async () => {
    await ns?.close()
  })

  /** An orphan claude with two MCP servers: its session killed the way Gas Town kills it. */
  async function orphan(name: string): Promise<number[]> {
    const known = new Set((await ns.ps()).map((p) => p.pid))
    await ns.tmux(['new-session', '-d', '-s', name, CLAUDE_STANDIN])
    const [claude] = await ns.waitForStandins('claude', (p) => !known.has(p.pid))
    const {mcp = []} = await ns.waitReady(claude.pid)
    for (const m of mcp) await ns.waitReady(m)
    await ns.tmux(['kill-session', '-t', name])
    await ns.waitUntil(
      async () => !(await ns.tmux(['list-panes', '-a', '-F', '#{pane_pid}'])).stdout.includes(String(claude.pid)),
    )
    return [claude.pid, ...mcp]
  }
  const alive = async (pids: number[]) => (await Promise.all(pids.map((p) => ns.alive(p)))).filter(Boolean).length

  it("the systemd service's ExecStart ends the orphan and writes the metrics, with no terminal", async () => {
    const line = block('ini', 'ExecStart=')
      .split('\n')
      .find((l) => l.startsWith('ExecStart='))!
    // systemd expands %h to the home directory; nothing else in the line is special to it.
    const command = line.slice('ExecStart='.length).replaceAll('%h', home)
    expect(command).toContain('--fix --yes --format prometheus --output')
    const tree = await orphan('gt-timer')
    const r = await ns.exec(['sh', '-c', command], {env, timeoutMs: 30_000})
    // SuccessExitStatus=1 is in the unit too, but a clean run is 0.
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
    expect(await alive(tree)).toBe(0)
    const metrics = fs.readFileSync(prom(), 'utf8')
    expect(metrics).toMatch(/^gt_doctor_fixed_findings 1$/m)
    expect(metrics).toMatch(/^gt_doctor_orphan_claude 0$/m)
    expect(fs.readFileSync(path.join(home, '.local/state/gt-doctor/actions.jsonl'), 'utf8')).toContain(
      `"pid":${tree[0]}`,
    )
  })

  it("the crontab line does the same under cron's environment (its PATH line, sh, no terminal)", async () => {
    const lines = block('cron', '--fix --yes').trim().split('\n')
    const cronPath = lines.find((l) => l.startsWith('PATH='))!.slice('PATH='.length)
    const entry = lines.find((l) => l.includes('gt-doctor'))!
    // The five schedule fields, then the command cron hands to /bin/sh.
    const command = entry.split(/\s+/).slice(5).join(' ')
    expect(entry.startsWith('*/5 * * * * gt-doctor ')).toBe(true)
    const tree = await orphan('gt-cron')
    const r = await ns.exec(['/bin/sh', '-c', command], {
      env: {HOME: home, SHELL: '/bin/sh', PATH: `${bin}:${cronPath}`, XDG_STATE_HOME: null, TERM: null},
      timeoutMs: 30_000,
    })
    expect(r.code, r.stderr).toBe(0)
    expect(await alive(tree)).toBe(0)
    expect(fs.readFileSync(prom(), 'utf8')).toMatch(/^gt_doctor_fixed_findings 1$/m)
    expect(fs.existsSync(path.join(home, '.local/state/gt-doctor/cron.log'))).toBe(true)
  })
})
