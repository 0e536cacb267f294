import {readlinkSync} from 'node:fs'
import {readText} from './proc.js'
import type {ProcessInfo} from './types.js'

/** The native installer runs `.../claude/versions/X.Y.Z`. */
const NATIVE = /(?:^|\/)claude\/versions\/(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/
/**
 * A file inside an npm package of Claude Code: `bin/claude.exe` of the native wrapper, the binary of its
 * platform package (`@anthropic-ai/claude-code-linux-x64/claude`), or `cli.js` of the older package. The
 * package is the last such directory on the path (pnpm and nested node_modules repeat it).
 */
const NPM_PACKAGE = /^(.*\/@anthropic-ai\/claude-code(?:-[a-z0-9]+)*)\/(?:[^/]+\/)*[^/]+$/
/** The script node runs for the older npm package. */
const NPM_CLI = /^(.*\/@anthropic-ai\/claude-code)\/cli\.m?js$/
/** What readlink says of an executable replaced or removed since it started (an update). */
const DELETED = / \(deleted\)$/

/** What a process's command line (or executable) says about the Claude Code version it runs. */
export type ClaudeVersionClue = {version: string} | {packageDir: string}

/**
 * The version, or the package whose package.json says it, from the executable (`/proc/PID/exe`) and argv[0]
 * (native binary or npm package file), else from the script of the first arguments (`node …/cli.js`).
 */
export function claudeVersionClue(argv: readonly string[], exe?: string): ClaudeVersionClue | undefined {
  const paths = [exe?.replace(DELETED, ''), argv[0]]
  for (const path of paths) {
    const m = path ? NATIVE.exec(path) : null
    if (m) return {version: m[1]}
  }
  for (const path of paths) {
    const m = path ? NPM_PACKAGE.exec(path) : null
    if (m) return {packageDir: m[1]}
  }
  for (const arg of argv.slice(1, 3)) {
    const m = NPM_CLI.exec(arg)
    if (m) return {packageDir: m[1]}
  }
  return undefined
}

/** Processes worth asking: named claude, or running something Claude Code shaped. */
export function mayBeClaude(p: ProcessInfo): boolean {
  return p.comm === 'claude' || p.argv.slice(0, 3).some((a) => /claude/.test(a))
}

function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', {numeric: true})
}

/** The version most Claude processes run; a tie goes to the newest. */
export function pickClaudeVersion(versions: readonly string[]): string | undefined {
  const counts = new Map<string, number>()
  for (const v of versions) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1] || compareVersions(b[0], a[0]))[0]?.[0]
}

/** Where detectClaudeVersion reads what the command line does not say. */
export interface VersionReaders {
  /** The target of /proc/PID/exe, when readable. */
  readExe(pid: number): string | undefined
  /** The `version` of PACKAGE_DIR/package.json, when readable and that package is Claude Code's. */
  readPackageVersion(packageDir: string): string | undefined
}

/** The readers of a live machine (or of a recorded /proc at `procRoot`): readlink and package.json, nothing run. */
export function procVersionReaders(procRoot: string): VersionReaders {
  return {
    readExe: (pid) => {
      try {
        return readlinkSync(`${procRoot}/${pid}/exe`)
      } catch {
        return undefined
      }
    },
    readPackageVersion: (dir) => {
      try {
        const pkg: {name?: unknown; version?: unknown} = JSON.parse(readText(`${dir}/package.json`) ?? '{}')
        // A directory that only looks like the package (a copy, a fork) does not say the version.
        const ours =
          typeof pkg.name === 'string' &&
          (pkg.name === '@anthropic-ai/claude-code' || pkg.name.startsWith('@anthropic-ai/claude-code-'))
        return ours && typeof pkg.version === 'string' ? pkg.version : undefined
      } catch {
        return undefined
      }
    },
  }
}

/** The Claude Code version this machine runs, from command lines first and executables or package.json after. */
export function detectClaudeVersion(processes: readonly ProcessInfo[], read: VersionReaders): string | undefined {
  const packageVersions = new Map<string, string | undefined>()
  const found: string[] = []
  for (const p of processes) {
    if (!mayBeClaude(p)) continue
    const clue = claudeVersionClue(p.argv) ?? claudeVersionClue(p.argv, read.readExe(p.pid))
    if (!clue) continue
    if ('version' in clue) {
      found.push(clue.version)
      continue
    }
    if (!packageVersions.has(clue.packageDir))
      packageVersions.set(clue.packageDir, read.readPackageVersion(clue.packageDir))
    const v = packageVersions.get(clue.packageDir)
    if (v) found.push(v)
  }
  return pickClaudeVersion(found)
}
