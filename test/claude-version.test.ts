/**
 * host.claudeVersion for every way Claude Code is installed, read from /proc/PID/exe and package.json, never
 * by running the binary: a fake /proc (exe symlinks) over fake package directories.
 */
import {mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {claudeVersionClue, detectClaudeVersion, procVersionReaders} from '../src/snapshot/claude-version.js'
import type {ProcessInfo} from '../src/snapshot/types.js'

const root = mkdtempSync(path.join(tmpdir(), 'gt-doctor-version-'))

function pkg(dir: string, name: string, version: string, file?: string): string {
  mkdirSync(dir, {recursive: true})
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({name, version}))
  if (!file) return dir
  mkdirSync(path.dirname(path.join(dir, file)), {recursive: true})
  writeFileSync(path.join(dir, file), '')
  return path.join(dir, file)
}

/** A fake /proc with one process whose exe links to `exe`. */
function procWith(pid: number, exe: string): string {
  const proc = mkdtempSync(path.join(root, 'proc-'))
  mkdirSync(path.join(proc, String(pid)))
  symlinkSync(exe, path.join(proc, String(pid), 'exe'))
  return proc
}

const claude = (pid: number, argv: string[], comm = 'claude'): ProcessInfo => ({pid, ppid: 1, comm, argv, env: {}})

const global = path.join(root, 'usr/lib/node_modules/@anthropic-ai')

describe('the Claude Code version, without running it', () => {
  it("npm's native wrapper: exe is …/@anthropic-ai/claude-code/bin/claude.exe, cmdline just `claude`", () => {
    const exe = pkg(path.join(global, 'claude-code'), '@anthropic-ai/claude-code', '2.1.328', 'bin/claude.exe')
    expect(detectClaudeVersion([claude(10, ['claude'])], procVersionReaders(procWith(10, exe)))).toBe('2.1.328')
    expect(detectClaudeVersion([claude(11, ['claude', '-p', 'hi'])], procVersionReaders(procWith(11, exe)))).toBe(
      '2.1.328',
    )
  })

  it("the platform package the wrapper's binary resolves into (…/claude-code-linux-x64/…)", () => {
    const dir = path.join(
      root,
      'opt/node_modules/@anthropic-ai/claude-code/node_modules/@anthropic-ai/claude-code-linux-x64',
    )
    const exe = pkg(dir, '@anthropic-ai/claude-code-linux-x64', '2.1.327', 'claude')
    expect(detectClaudeVersion([claude(10, ['claude'])], procVersionReaders(procWith(10, exe)))).toBe('2.1.327')
    const musl = pkg(
      path.join(root, 'musl/node_modules/@anthropic-ai/claude-code-linux-x64-musl'),
      '@anthropic-ai/claude-code-linux-x64-musl',
      '2.1.326',
      'bin/claude',
    )
    expect(detectClaudeVersion([claude(12, ['claude'])], procVersionReaders(procWith(12, musl)))).toBe('2.1.326')
  })

  it('the older npm package run by node: …/@anthropic-ai/claude-code/cli.js', () => {
    const dir = pkg(
      path.join(root, 'old/lib/node_modules/@anthropic-ai/claude-code'),
      '@anthropic-ai/claude-code',
      '1.0.128',
      'cli.js',
    )
    expect(
      detectClaudeVersion([claude(10, ['node', dir], 'node')], procVersionReaders(procWith(10, '/usr/bin/node'))),
    ).toBe('1.0.128')
  })

  it("the native installer's …/claude/versions/X.Y.Z, by exe when the cmdline says only `claude`, even after an update deleted it", () => {
    expect(
      detectClaudeVersion(
        [claude(10, ['claude'])],
        procVersionReaders(procWith(10, '/home/u/.local/share/claude/versions/2.1.300')),
      ),
    ).toBe('2.1.300')
    expect(
      detectClaudeVersion(
        [claude(11, ['claude'])],
        procVersionReaders(procWith(11, '/home/u/.local/share/claude/versions/2.1.299 (deleted)')),
      ),
    ).toBe('2.1.299')
    const gone = pkg(
      path.join(root, 'gone/node_modules/@anthropic-ai/claude-code'),
      '@anthropic-ai/claude-code',
      '2.1.301',
    )
    expect(
      detectClaudeVersion(
        [claude(12, ['claude'])],
        procVersionReaders(procWith(12, `${gone}/bin/claude.exe (deleted)`)),
      ),
    ).toBe('2.1.301')
  })

  it('reads only the package.json of a Claude Code package, once per package', () => {
    // A package.json that is not Claude Code's (a path that only looks like one) is not believed.
    const fake = pkg(
      path.join(root, 'fake/node_modules/@anthropic-ai/claude-code'),
      'left-pad',
      '9.9.9',
      'bin/claude.exe',
    )
    expect(detectClaudeVersion([claude(10, ['claude'])], procVersionReaders(procWith(10, fake)))).toBeUndefined()
    expect(claudeVersionClue(['claude'], '/x/node_modules/@anthropic-ai/claude-code-linux-arm64/claude')).toEqual({
      packageDir: '/x/node_modules/@anthropic-ai/claude-code-linux-arm64',
    })
    expect(
      claudeVersionClue(
        ['claude'],
        '/x/node_modules/.pnpm/@anthropic-ai+claude-code@2.1.3/node_modules/@anthropic-ai/claude-code/bin/claude.exe',
      ),
    ).toEqual({
      packageDir: '/x/node_modules/.pnpm/@anthropic-ai+claude-code@2.1.3/node_modules/@anthropic-ai/claude-code',
    })
    expect(claudeVersionClue(['claude'], '/usr/bin/node')).toBeUndefined()
    const asked: string[] = []
    const version = detectClaudeVersion([claude(1, ['claude']), claude(2, ['claude'])], {
      readExe: () => '/n/node_modules/@anthropic-ai/claude-code/bin/claude.exe',
      readPackageVersion: (dir) => (asked.push(dir), '2.1.328'),
    })
    expect(version).toBe('2.1.328')
    expect(asked).toEqual(['/n/node_modules/@anthropic-ai/claude-code'])
  })
})
