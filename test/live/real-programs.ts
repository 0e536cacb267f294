/**
 * The real Claude Code and three real MCP servers, at pinned versions, installed from the npm registry once
 * into a cache directory that every test file and every run shares. A lock keeps two vitest workers (or two
 * checkouts) from installing at once; an install goes to a temporary directory renamed into place only once
 * it is complete and verified, so a killed install never leaves a half-made cache behind.
 *
 *   $GT_LIVE_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/gt-doctor/live/
 *     real-<hash of the pins>/
 *       package.json  node_modules/  installed.json
 */
import {spawn} from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import lockfile from 'proper-lockfile'

export const PINS = {
  '@anthropic-ai/claude-code': '2.1.328',
  '@modelcontextprotocol/server-filesystem': '2026.8.31',
  '@modelcontextprotocol/server-memory': '2026.8.31',
  '@modelcontextprotocol/server-everything': '2026.8.31',
} as const

export const CLAUDE_VERSION = PINS['@anthropic-ai/claude-code']

export interface RealPrograms {
  /** The install directory (package.json, node_modules/). */
  dir: string
  nodeModules: string
  /** node_modules/.bin: `claude`, `mcp-server-memory`, ... */
  bin: string
  /** The native binary npm's postinstall put in place: node_modules/@anthropic-ai/claude-code/bin/claude.exe. */
  claude: string
  /** node_modules/@modelcontextprotocol/server-NAME (its package directory). */
  server: (name: 'filesystem' | 'memory' | 'everything') => string
}

const INSTALL_TIMEOUT_MS = 5 * 60_000

export function realProgramsDir(): string {
  const root =
    process.env.GT_LIVE_CACHE ||
    path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'gt-doctor', 'live')
  const hash = crypto.createHash('sha256').update(JSON.stringify(PINS)).digest('hex').slice(0, 12)
  return path.join(root, `real-${hash}`)
}

function layout(dir: string): RealPrograms {
  const nodeModules = path.join(dir, 'node_modules')
  return {
    dir,
    nodeModules,
    bin: path.join(nodeModules, '.bin'),
    claude: path.join(nodeModules, '@anthropic-ai', 'claude-code', 'bin', 'claude.exe'),
    server: (name) => path.join(nodeModules, '@modelcontextprotocol', `server-${name}`),
  }
}

const isElf = (file: string): boolean => {
  try {
    const fd = fs.openSync(file, 'r')
    try {
      const head = Buffer.alloc(4)
      fs.readSync(fd, head, 0, 4, 0)
      return head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))
    } finally {
      fs.closeSync(fd)
    }
  } catch {
    return false
  }
}

/** What is wrong with the install in dir, or undefined when every pin is there and claude is the native binary. */
function problem(dir: string, requireMarker = true): string | undefined {
  const p = layout(dir)
  if (requireMarker && !fs.existsSync(path.join(dir, 'installed.json'))) return 'not installed'
  for (const [name, version] of Object.entries(PINS)) {
    let found: string | undefined
    try {
      found = JSON.parse(fs.readFileSync(path.join(p.nodeModules, name, 'package.json'), 'utf8')).version
    } catch {}
    if (found !== version) return `${name}@${version} is not installed (found ${found ?? 'nothing'})`
  }
  if (process.platform === 'linux' && !isElf(p.claude))
    return `${p.claude} is not the native binary (the postinstall did not put it in place)`
  return undefined
}

function run(argv: string[], cwd: string): Promise<{code: number | null; output: string}> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {cwd, stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    const keep = (d: Buffer) => (output = (output + d.toString('utf8')).slice(-4000))
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({code: null, output: e.message})
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code, output})
    })
  })
}

/** What npm said went wrong, in one line: its error lines but the pointer to its debug log. */
const npmError = (text: string) => {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /\S/.test(l))
  const errors = lines
    .filter((l) => /^npm error/.test(l) && !/complete log of this run/.test(l))
    .map((l) => l.replace(/^npm error\s*/, ''))
  return (errors.length ? errors.slice(0, 3).join('; ') : (lines.at(-1) ?? '')).slice(0, 300)
}

async function install(dir: string): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`
  fs.rmSync(tmp, {recursive: true, force: true})
  fs.mkdirSync(tmp, {recursive: true})
  fs.writeFileSync(
    path.join(tmp, 'package.json'),
    JSON.stringify(
      {
        name: 'gt-doctor-live-real-programs',
        private: true,
        dependencies: PINS,
        // npm 11 runs unreviewed install scripts with a warning today and will block them later: claude's
        // postinstall is what puts the native binary in place.
        allowScripts: {[`@anthropic-ai/claude-code@${CLAUDE_VERSION}`]: true},
      },
      null,
      2,
    ) + '\n',
  )
  try {
    // One quick look first: an unreachable registry costs npm install minutes of retries.
    const view = await run(
      [
        'npm',
        'view',
        `@anthropic-ai/claude-code@${CLAUDE_VERSION}`,
        'version',
        '--prefer-offline',
        '--fetch-retries=0',
        '--fetch-timeout=20000',
      ],
      tmp,
    )
    if (view.code !== 0)
      throw new Error(`npm cannot reach the registry (${view.code ?? 'did not run'}): ${npmError(view.output)}`)
    // Claude Code 2.1.328 declares engines node >= 22; npm only warns (EBADENGINE) and the native binary needs no node.
    const npm = await run(['npm', 'install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], tmp)
    if (npm.code !== 0) throw new Error(`npm install failed (${npm.code ?? 'did not run'}): ${npmError(npm.output)}`)
    const p = layout(tmp)
    if (!isElf(p.claude)) {
      const post = await run([process.execPath, 'install.cjs'], path.dirname(path.dirname(p.claude)))
      if (post.code !== 0)
        throw new Error(`claude-code's install.cjs failed (${post.code}): ${post.output.trim().split('\n').at(-1)}`)
    }
    const bad = problem(tmp, false)
    if (bad) throw new Error(bad)
    fs.writeFileSync(
      path.join(tmp, 'installed.json'),
      JSON.stringify({pins: PINS, time: new Date().toISOString(), node: process.version}) + '\n',
    )
    fs.rmSync(dir, {recursive: true, force: true})
    fs.renameSync(tmp, dir)
  } finally {
    fs.rmSync(tmp, {recursive: true, force: true})
  }
}

/** The installed programs, installing them first when the cache lacks them. Throws with the reason it cannot. */
export async function ensureRealPrograms(): Promise<RealPrograms> {
  const dir = realProgramsDir()
  if (!problem(dir)) return layout(dir)
  fs.mkdirSync(path.dirname(dir), {recursive: true})
  // stale/update: a worker that died holding the lock frees it within a minute; a live one keeps it fresh.
  const release = await lockfile.lock(path.dirname(dir), {
    lockfilePath: `${dir}.lock`,
    stale: 60_000,
    update: 5_000,
    retries: {retries: Math.ceil(INSTALL_TIMEOUT_MS / 1000) + 60, factor: 1, minTimeout: 1000, maxTimeout: 1000},
  })
  try {
    if (problem(dir)) await install(dir)
  } finally {
    await release().catch(() => {})
  }
  return layout(dir)
}

/** The programs, or why they cannot be had here (the registry unreachable, npm missing, ...). */
export async function realProgramsOrReason(): Promise<RealPrograms | string> {
  if (process.env.GT_LIVE_REAL_DISABLE === '1') return 'real-program tests disabled by GT_LIVE_REAL_DISABLE=1'
  try {
    return await ensureRealPrograms()
  } catch (e) {
    return `cannot install the real Claude Code and MCP servers from the npm registry: ${(e as Error).message}`
  }
}
