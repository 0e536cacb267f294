import type {ProcessInfo} from './types.js'

/** The native installer runs `.../claude/versions/X.Y.Z`; the npm package runs `.../@anthropic-ai/claude-code/cli.js`. */
const NATIVE = /(?:^|\/)claude\/versions\/(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)$/
const NPM_CLI = /^(.*\/@anthropic-ai\/claude-code)\/cli\.m?js$/

/** What a process's command line (or executable) says about the Claude Code version it runs. */
export type ClaudeVersionClue = {version: string} | {packageDir: string}

export function claudeVersionClue(argv: readonly string[], exe?: string): ClaudeVersionClue | undefined {
  for (const path of [exe, argv[0]]) {
    const m = path ? NATIVE.exec(path) : null
    if (m) return {version: m[1]}
  }
  for (const arg of argv.slice(0, 3)) {
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

export interface VersionReaders {
  /** The target of /proc/PID/exe, when readable. */
  readExe(pid: number): string | undefined
  /** The `version` of PACKAGE_DIR/package.json, when readable. */
  readPackageVersion(packageDir: string): string | undefined
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
    if (!packageVersions.has(clue.packageDir)) packageVersions.set(clue.packageDir, read.readPackageVersion(clue.packageDir))
    const v = packageVersions.get(clue.packageDir)
    if (v) found.push(v)
  }
  return pickClaudeVersion(found)
}
