import {basename} from 'node:path'
import {readRegularFile} from '../safe-fs.js'
import {runMux, type MuxRunner} from './multiplexers.js'
import {failureLine} from './run-bounded.js'
import type {ContainerRuntime, ProcessInfo} from './types.js'

/**
 * The containers `docker run` / `podman run` clients started. Ending a client leaves its container running,
 * so the collector asks each runtime that has a `run` client in the process table once for its running
 * containers (and reads the clients' --cidfile files); which client started which container the analysis
 * decides from that, purely. No client, no question: a machine without containers pays nothing.
 */

const RUNTIMES = ['docker', 'podman'] as const
type RuntimeName = (typeof RUNTIMES)[number]
const SEP = '\t'

/** The runtime of a process that looks like a `run` client (cheap: the argv is parsed properly later). */
function runClientRuntime(p: ProcessInfo): RuntimeName | undefined {
  const base = basename(p.argv[0] ?? '')
  const runtime = RUNTIMES.find((r) => r === base)
  return runtime && p.argv.includes('run') ? runtime : undefined
}

/** The --cidfile values of a command line. */
function cidfilesOf(argv: readonly string[]): string[] {
  const out: string[] = []
  for (let i = 1; i < argv.length; i++) {
    if (argv[i] === '--cidfile' && argv[i + 1]) out.push(argv[i + 1])
    else if (argv[i].startsWith('--cidfile=')) out.push(argv[i].slice('--cidfile='.length))
  }
  return out
}

/** `RUNTIME ps --no-trunc --format '{{.ID}}\t{{.Names}}\t{{.Image}}'`, one line per running container. */
export function parseContainerList(stdout: string): ContainerRuntime['containers'] {
  const out: ContainerRuntime['containers'] = []
  for (const line of stdout.split('\n')) {
    const [id, names, image] = line.trim().split(SEP)
    if (!id || image === undefined) continue
    out.push({id, names: names.split(',').filter(Boolean), image})
  }
  return out
}

export async function collectContainers(
  processes: readonly ProcessInfo[],
  opts: {timeoutMs?: number; run?: MuxRunner} = {},
): Promise<ContainerRuntime[] | undefined> {
  const wanted = new Map<RuntimeName, Set<string>>()
  for (const p of processes) {
    const runtime = runClientRuntime(p)
    if (!runtime) continue
    const files = wanted.get(runtime) ?? new Set<string>()
    for (const f of cidfilesOf(p.argv)) files.add(f)
    wanted.set(runtime, files)
  }
  if (wanted.size === 0) return undefined
  const run = opts.run ?? runMux
  const timeoutMs = opts.timeoutMs ?? 3000
  return Promise.all(
    [...wanted].map(async ([runtime, files]): Promise<ContainerRuntime> => {
      const r = await run(
        runtime,
        ['ps', '--no-trunc', '--format', ['{{.ID}}', '{{.Names}}', '{{.Image}}'].join(SEP)],
        timeoutMs,
      )
      const cidfiles: Record<string, string> = {}
      for (const f of files) {
        try {
          const id = readRegularFile(f, 4096).text.trim()
          if (/^[0-9a-f]{12,64}$/.test(id)) cidfiles[f] = id
        } catch {
          // Not written (yet) or unreadable: that client is matched by name or image, or not at all.
        }
      }
      const base = {runtime, containers: [] as ContainerRuntime['containers'], ...(files.size > 0 ? {cidfiles} : {})}
      if (r.missing) return {...base, status: 'error', error: `${runtime} not found on PATH`}
      if (r.timedOut)
        return {...base, status: 'unresponsive', error: `${runtime} ps gave no answer within ${timeoutMs} ms`}
      if (r.code !== 0)
        return {
          ...base,
          status: 'error',
          error: `${runtime} ps failed: ${failureLine(r)}`,
        }
      return {...base, status: 'ok', containers: parseContainerList(r.stdout)}
    }),
  )
}
