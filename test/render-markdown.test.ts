import MarkdownIt from 'markdown-it'
import {parse, type HTMLElement} from 'node-html-parser'
import {beforeAll, describe, expect, it} from 'vitest'
import type {Report} from '../src/report/model.js'
import {codeSpan, mdText, renderMarkdown} from '../src/render/markdown.js'
import type {Snapshot} from '../src/snapshot/types.js'
import {reportFor} from './support/doctor.js'
import {Machine} from './support/machine.js'
import {incidentFixture} from './support/incident.js'

/** GitHub-flavoured enough: CommonMark + GFM tables + strikethrough, raw HTML allowed (for <details>). */
const md = new MarkdownIt({html: true})
// <pre> parsed as elements (node-html-parser keeps it as raw text by default).
const html = (markdown: string): HTMLElement =>
  parse(md.render(markdown), {blockTextElements: {script: true, style: true}})

const cellsOf = (table: HTMLElement) =>
  table.querySelectorAll('tr').map((tr) => tr.querySelectorAll('th, td').map((c) => c.text))

describe('markdown report of the incident', () => {
  let snapshot: Snapshot
  let report: Report
  let doc: HTMLElement

  beforeAll(async () => {
    snapshot = incidentFixture()
    report = await reportFor(snapshot)
    doc = html(renderMarkdown(report, snapshot, {redacted: true}))
  })

  it('opens with a title line and the environment block', () => {
    expect(doc.querySelector('h2')?.text).toBe(
      'gt-doctor report: 12 orphan Claude processes, 66 orphan MCP servers, 10.3 GiB held by orphans',
    )
    const env = doc.querySelectorAll('h3').find((h) => h.text === 'Environment')
    expect(env).toBeDefined()
    const items = doc
      .querySelectorAll('ul')[0]
      .querySelectorAll('li')
      .map((li) => li.text)
    expect(items).toEqual([
      'OS: Linux (WSL2)',
      'Kernel: 6.6.87.2-microsoft-standard-WSL2',
      'WSL: yes',
      'Total RAM: 81 GiB',
      'tmux: 3.4',
      'Claude Code: 2.1.3',
    ])
  })

  it("summarises in the investigation's terms", () => {
    const items = doc
      .querySelectorAll('ul')[1]
      .querySelectorAll('li')
      .map((li) => li.text)
    expect(items).toEqual([
      '19 Claude processes running',
      '15 tmux sessions active (10 agent sessions)',
      '12 orphaned Claude processes (no live tmux pane holds them)',
      '115 MCP server processes running',
      '66 orphaned MCP servers',
      '10.3 GiB memory held by orphans',
      '0 detached headless runs (jobs, not orphans)',
      '1 process tree left behind by agent tools',
    ])
  })

  it('has one table per check with findings, one row per finding, seven cells per row', () => {
    const tables = doc.querySelectorAll('table')
    expect(tables).toHaveLength(5)
    const expected = report.checks.filter((c) => c.findings.length > 0)
    tables.forEach((table, i) => {
      const rows = cellsOf(table)
      expect(rows[0]).toEqual(['PID', 'Elapsed', 'Parent', 'Session', 'Memory', 'Finding', 'Why'])
      expect(rows).toHaveLength(expected[i].findings.length + 1)
      for (const r of rows) expect(r).toHaveLength(7)
    })
  })

  it('reads like the investigation: pid, elapsed time and parent of each orphan', () => {
    const withFindings = report.checks.filter((c) => c.findings.length > 0).map((c) => c.id)
    const rows = cellsOf(doc.querySelectorAll('table')[withFindings.indexOf('orphan-claude')]).slice(1)
    expect(rows.map((r) => [r[0].split(' ')[0], r[1], r[2]]).slice(0, 5)).toEqual([
      ['1199837', '8h 39m', '1 (systemd)'],
      ['1526607', '9m', '1522098 (tmux: server)'],
      ['1541788', '8m', '1522098 (tmux: server)'],
      ['1551157', '7m', '1522098 (tmux: server)'],
      ['1559357', '6m', '1522098 (tmux: server)'],
    ])
    expect(rows[1][6]).toBe('its parent is the tmux server (pid 1522098) but no pane holds it: its session was killed')
  })

  it('folds the process trees of orphans into one <details> block', () => {
    const details = doc.querySelectorAll('details')
    expect(details).toHaveLength(1)
    expect(details[0].querySelector('summary')?.text).toBe('Process trees of 19 findings (116 processes)')
    const blocks = details[0].querySelectorAll('pre code')
    expect(blocks).toHaveLength(19)
    // Trees follow the checks: agent-leftover's one tree, then orphan-claude's.
    expect(blocks[0].text).toContain('1450000 node ~/gt/web/node_modules/.bin/vite --port 5173')
    const first = blocks[1].text.split('\n').filter(Boolean)
    expect(first[0]).toBe('1199837 ~/.local/share/claude/versions/2.0.76 --dangerously-skip-permissions (1012 MiB)')
    expect(first[1]).toBe('├─ 1199838 npm exec @modelcontextprotocol/server-filesystem ~/gt (48 MiB)')
    expect(first[2]).toMatch(
      /^│ {2}└─ 1199839 node ~\/\.npm\/_npx\/.*server-filesystem\/dist\/index\.js ~\/gt \(61 MiB\)$/,
    )
    expect(first).toHaveLength(9)
  })

  it('says that it was redacted', () => {
    expect(doc.querySelectorAll('em').at(-1)?.text).toContain('redacted')
  })
})

describe('markdown escaping', () => {
  const hostile = [
    'a | b || c',
    'back`tick ``double`` and ```triple```',
    '<script>alert(1)</script> <img src=x onerror=alert(1)>',
    '*bold* _em_ ~strike~ [link](http://x) ![img](y)',
    '$x^2$ and $$math$$',
    '&amp; &lt; &#124; entities',
    '@anthropic-ai/claude-code and @someone',
    'trailing backslash \\',
    'line\nbreak\r\nand\ttab',
    '# not a heading',
    '</details><details open>',
  ]

  it('keeps a hostile command line inside its cell, text unchanged', () => {
    const m = new Machine()
    m.proc({pid: 50, ppid: 1, cmd: 'claude'})
    const snapshot = m.snapshot()
    const findings = hostile.map((text, i) => ({
      id: `x:${i}`,
      check: 'orphan-claude',
      severity: 'error' as const,
      message: text,
      reason: `why ${text}`,
      pid: 50,
      pids: [50],
      session: text,
      fixable: false,
    }))
    const report = {
      schemaVersion: 1,
      tool: {name: 'gt-doctor', version: '0'},
      generatedAt: '2026-01-11T12:00:00.000Z',
      host: {platform: 'linux', release: '6.1', wsl: false, totalMemoryBytes: 1, tmuxVersion: '3.4'},
      summary: {
        status: 'error',
        claudeProcesses: 1,
        tmuxSessions: 0,
        orphanClaude: 1,
        orphanMcp: 0,
        orphanMemoryBytes: 0,
        mcpServers: 0,
        checks: {passed: 0, warnings: 0, errors: 1, crashed: 0, skipped: 0},
      },
      checks: [
        {id: 'orphan-claude', title: 'Orphan | Claude', status: 'error', durationMs: 0, source: 'built-in', findings},
      ],
      limitations: ['<b>not bold</b>'],
    } as Report
    const doc = html(renderMarkdown(report, snapshot, {redacted: true}))
    const rows = cellsOf(doc.querySelector('table')!).slice(1)
    expect(rows).toHaveLength(hostile.length)
    rows.forEach((r, i) => {
      const flat = hostile[i].replace(/\r\n|\n|\t/g, ' ')
      expect(r).toHaveLength(7)
      expect(r[3]).toBe(flat)
      expect(r[5]).toBe(flat)
      expect(r[6]).toBe(`why ${flat}`)
    })
    expect(doc.querySelectorAll('script, img, b')).toHaveLength(0)
    expect(doc.querySelectorAll('details')).toHaveLength(1)
    expect(doc.querySelectorAll('h4')[0].text).toBe(`✖ Orphan | Claude (orphan-claude): ${hostile.length} errors`)
  })

  it('puts @scope mentions in code spans so GitHub neither mentions nor links them', () => {
    const doc = html(mdText('npm exec @modelcontextprotocol/server-github for @someone'))
    expect(doc.querySelectorAll('code').map((c) => c.text)).toEqual(['@modelcontextprotocol/server-github', '@someone'])
  })

  it('puts a mention after punctuation in a code span too, but not an e-mail address', () => {
    for (const text of ['x;@octocat', "'@octocat'", '"@octocat"', '!@octocat', '*@octocat*', '…/@octocat']) {
      const doc = html(mdText(text))
      expect(
        doc.querySelectorAll('code').map((c) => c.text),
        text,
      ).toEqual(['@octocat'])
    }
    expect(html(mdText('mail a@octocat.org')).querySelectorAll('code')).toHaveLength(0)
  })

  it('builds code spans that survive backticks and pipes', () => {
    const doc = html(`| a |\n| --- |\n| ${codeSpan('x | `y` ``z')} |`)
    expect(doc.querySelector('td code')?.text).toBe('x | `y` ``z')
  })

  it('fences process trees so that a command line cannot close the block', () => {
    const m = new Machine()
    m.proc({pid: 60, ppid: 1, argv: ['sh', '-c', 'echo ```\n</details>\n# x'], comm: 'sh'})
    const snapshot = m.snapshot()
    const report = {
      schemaVersion: 1,
      tool: {name: 'gt-doctor', version: '0'},
      generatedAt: '2026-01-11T12:00:00.000Z',
      host: {platform: 'linux', release: '6.1', wsl: false, totalMemoryBytes: 1, tmuxVersion: null},
      summary: {
        status: 'error',
        claudeProcesses: 0,
        tmuxSessions: 0,
        orphanClaude: 0,
        orphanMcp: 1,
        orphanMemoryBytes: 0,
        checks: {passed: 0, warnings: 0, errors: 1, crashed: 0, skipped: 0},
      },
      checks: [
        {
          id: 'orphan-mcp',
          title: 'T',
          status: 'error',
          durationMs: 0,
          source: 'built-in',
          findings: [
            {
              id: 'a',
              check: 'orphan-mcp',
              severity: 'error',
              message: 'm',
              reason: 'r',
              pid: 60,
              pids: [60],
              fixable: false,
            },
          ],
        },
      ],
      limitations: [],
    } as Report
    const doc = html(renderMarkdown(report, snapshot, {redacted: false}))
    const details = doc.querySelectorAll('details')
    expect(details).toHaveLength(1)
    expect(details[0].querySelector('pre code')?.text).toContain('</details>')
    expect(doc.querySelectorAll('h1')).toHaveLength(0)
  })
})
