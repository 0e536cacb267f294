import {readdirSync, readFileSync, existsSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'

/**
 * The shape of the source tree, as imports: no cycle between files, and folders import one way only
 * (snapshot → tree → rules → analysis → checks API/runner → remediation → report → render, commands on top).
 * Imports are read with TypeScript's own `preProcessFile` (static, type-only, `export … from` and dynamic
 * `import()` alike): a type cycle is a cycle too.
 */

const ROOT = resolve(import.meta.dirname, '..')

function sources(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...sources(p))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

/** file (relative to the repository) → the repository files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'checks'))]) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    const deps = new Set<string>()
    for (const {fileName} of info.importedFiles) {
      if (!fileName.startsWith('.')) continue
      const target = resolve(dirname(file), fileName).replace(/\.js$/, '.ts')
      if (existsSync(target)) deps.add(relative(ROOT, target))
    }
    graph.set(relative(ROOT, file), [...deps].sort())
  }
  return graph
}

/** Strongly connected components of more than one node (Tarjan). */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  const visit = (v: string): void => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(w)
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

/** The type cycle of the plugin contract: `GtDoctorApi = typeof import('../index.js')`. */
const ALLOWED_FILE_CYCLES = []

/**
 * The layers, lowest first: a unit (a folder, or a file of its own) may import units of its own layer and of
 * lower layers, never of a higher one; units of one layer must not import each other in a circle.
 * Layer 0 is the foundation every layer shares (errors, safe files, the state directory, freezing, timing).
 */
const LAYERS: readonly (readonly string[])[] = [
  [
    'src/errors.ts',
    'src/safe-fs.ts',
    'src/state-dir.ts',
    'src/freeze.ts',
    'src/lazy.ts',
    'src/timing.ts',
    'src/words.ts',
  ],
  // What bin/run.js runs before anything else loads (the --version fast path, the compile cache).
  ['src/compile-cache.ts', 'src/fast-version.ts'],
  ['src/snapshot'],
  ['src/tree'],
  ['src/rules'],
  ['src/analysis'],
  ['src/checks'],
  // What configures the checks (severity overrides, per-check settings) and loads more of them.
  ['src/config'],
  ['src/plugins'],
  ['src/remediation'],
  ['src/report'],
  // watch/history: records reports over time; only the renderers read it.
  ['src/monitor'],
  ['src/render'],
  // Under the commands: one diagnosis, the setup (which hands plugins the public API), the public API
  // itself, the shared flags and prompts.
  ['src/doctor.ts', 'src/setup.ts', 'src/index.ts', 'src/cli'],
  ['src/commands'],
  // The built-in checks use the public API, as a plugin does.
  ['checks'],
]

/**
 * Imports against the direction that other parts of issue 16 remove. Each names its owner; the lead drops
 * the line when merging that part.
 */
const ALLOWED_UPWARD = new Set<string>([])

function unitOf(file: string): string {
  const unit = LAYERS.flat().filter((u) => file === u || file.startsWith(`${u}/`))
  return unit.sort((a, b) => b.length - a.length)[0] ?? file
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit))
}

describe('architecture', () => {
  const graph = importGraph()

  it('reads the imports (a sanity check of the reader itself)', () => {
    expect(graph.get('src/rules/match.ts')).toContain('src/rules/argv.ts')
    expect(graph.get('src/analysis/classify.ts')).toContain('src/rules/types.ts')
    // type-only and re-exports count
    expect(graph.get('src/rules/rules.ts')).toEqual(
      expect.arrayContaining(['src/rules/types.ts', 'src/rules/defaults.ts']),
    )
  })

  it('has no import cycle between files', () => {
    const allowed = new Set(ALLOWED_FILE_CYCLES.map((c) => [...c].sort().join(' <-> ')))
    expect(
      cycles(graph)
        .map((c) => c.join(' <-> '))
        .filter((c) => !allowed.has(c)),
    ).toEqual([])
  })

  it('finds a cycle when there is one (the check can fail)', () => {
    const g = new Map([
      ...graph,
      ['src/snapshot/types.ts', [...(graph.get('src/snapshot/types.ts') ?? []), 'src/tree/process-tree.ts']],
    ])
    expect(cycles(g).some((c) => c.includes('src/snapshot/types.ts') && c.includes('src/tree/process-tree.ts'))).toBe(
      true,
    )
  })

  it('places every source file in a layer', () => {
    expect([...graph.keys()].filter((f) => layerOf(unitOf(f)) === -1)).toEqual([])
  })

  it('imports only its own layer or lower ones (folders one way)', () => {
    const upward = new Set<string>()
    for (const [file, deps] of graph) {
      const from = unitOf(file)
      for (const dep of deps) {
        const to = unitOf(dep)
        if (from !== to && layerOf(to) > layerOf(from)) upward.add(`${from} -> ${to}`)
      }
    }
    expect([...upward].filter((edge) => !ALLOWED_UPWARD.has(edge)).sort()).toEqual([])
  })

  it('has no import cycle between folders (beyond the allowed upward imports)', () => {
    const units = new Map<string, Set<string>>()
    for (const [file, deps] of graph) {
      const from = unitOf(file)
      if (!units.has(from)) units.set(from, new Set())
      for (const dep of deps) {
        const to = unitOf(dep)
        if (to !== from && !ALLOWED_UPWARD.has(`${from} -> ${to}`)) units.get(from)!.add(to)
      }
    }
    expect(cycles(new Map([...units].map(([u, to]) => [u, [...to]])))).toEqual([])
  })

  it('names every test that starts a PID namespace *.live.test.ts (the vitest projects select on it)', () => {
    const TEST = join(ROOT, 'test')
    const misnamed = sources(TEST)
      .filter((f) => f.endsWith('.test.ts') && !f.endsWith('.live.test.ts'))
      // describeLive, startNamespace and useNamespace live there
      .filter((f) => /from '(?:\.\.?\/)+(?:live\/)?namespace\.js'/.test(readFileSync(f, 'utf8')))
    expect(misnamed.map((f) => relative(ROOT, f))).toEqual([])
  })
})
