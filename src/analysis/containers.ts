/**
 * Which container a `docker run` / `podman run` client started, from what the snapshot holds: the client's
 * own arguments (--name, --cidfile, the image) and the runtime's list of running containers. Ending a client
 * leaves its container running, so an orphan tree's fix stops the container too, but only one this proves
 * is the client's: a runtime that could not be asked, or two containers of one image, is said, never guessed.
 */
import {basename} from 'node:path'
import {DOCKER_GLOBAL_SPEC, DOCKER_RUN_SPEC, scan} from '../rules/argv.js'
import type {ContainerRuntime, ProcessInfo, Snapshot} from '../snapshot/types.js'

export interface RunClient {
  runtime: ContainerRuntime['runtime']
  /** The image as given to `run`. */
  image: string
  name?: string
  cidfile?: string
  /** --rm was given: the runtime should remove the container once it stops. */
  remove: boolean
}

/** `docker [global options] [container] run [options] IMAGE ...` as data, or undefined for any other command. */
export function runClientOf(p: ProcessInfo): RunClient | undefined {
  const base = basename(p.argv[0] ?? '')
  if (base !== 'docker' && base !== 'podman') return undefined
  const argv = p.argv
  let at = scan(argv, 1, DOCKER_GLOBAL_SPEC)
  if (at < 0) return undefined
  if (argv[at] === 'container') at++
  if (argv[at] !== 'run') return undefined
  const pos = scan(argv, at + 1, DOCKER_RUN_SPEC)
  if (pos < 0) return undefined
  const client: RunClient = {runtime: base, image: argv[pos], remove: false}
  const sp = DOCKER_RUN_SPEC
  for (let i = at + 1; i < pos; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) {
      // A short cluster (-it, -e X, -ie X, -eX): the first letter that takes a value takes the rest, or the next argument.
      const j = [...a.slice(1)].findIndex((c) => !sp.shortBool.includes(c))
      if (j === a.length - 2) i++
      continue
    }
    const eq = a.indexOf('=')
    const flag = eq === -1 ? a : a.slice(0, eq)
    const inline = eq === -1 ? undefined : a.slice(eq + 1)
    const takesValue =
      inline === undefined && (sp.longValue.has(flag) || (sp.unknownLongTakesValue && !sp.longBool.has(flag)))
    const value = takesValue ? argv[++i] : inline
    if (flag === '--name') client.name = value
    else if (flag === '--cidfile') client.cidfile = value
    else if (flag === '--rm') client.remove = inline === undefined || inline === 'true'
  }
  return client
}

/** The container a client started, or why it cannot be told. */
export type ClientContainer =
  | {client: ProcessInfo; run: RunClient; found: {id: string; name?: string}}
  | {client: ProcessInfo; run: RunClient; found?: undefined; why: string}

/** The container of every run client among `members`. */
export function containersOf(snapshot: Snapshot, members: readonly ProcessInfo[]): ClientContainer[] {
  // Recorded before runtimes were asked (a live collection always asks when a client runs): nothing to say.
  if (!snapshot.containers) return []
  const out: ClientContainer[] = []
  for (const client of members) {
    const run = runClientOf(client)
    if (run) out.push(containerOf(snapshot, client, run))
  }
  return out
}

function containerOf(snapshot: Snapshot, client: ProcessInfo, run: RunClient): ClientContainer {
  const no = (why: string): ClientContainer => ({client, run, why})
  const runtime = snapshot.containers?.find((r) => r.runtime === run.runtime)
  if (!runtime)
    return no(
      `${run.runtime} was not asked for its containers, so its container is not known: stop it yourself if it still runs`,
    )
  if (runtime.status !== 'ok')
    return no(
      `${run.runtime} could not be asked (${runtime.error ?? runtime.status}), so its container is left running: stop it yourself`,
    )
  const named = (c: ContainerRuntime['containers'][number]) => ({id: c.id, name: c.names[0]})
  if (run.cidfile !== undefined) {
    const id = runtime.cidfiles?.[run.cidfile]
    const c = id === undefined ? undefined : runtime.containers.find((x) => x.id === id)
    if (c) return {client, run, found: named(c)}
    if (id !== undefined) return no(`its container ${id.slice(0, 12)} (from ${run.cidfile}) no longer runs`)
  }
  if (run.name !== undefined) {
    const c = runtime.containers.find((x) => x.names.includes(run.name!))
    return c ? {client, run, found: named(c)} : no(`no running container is named ${run.name}`)
  }
  // No name: a container of its image is its own only if it is the one such container and the one such client.
  const candidates = runtime.containers.filter((x) => x.image === run.image)
  const clients = unnamedClients(snapshot).get(clientKey(run)) ?? 0
  if (candidates.length === 1 && clients === 1) return {client, run, found: named(candidates[0])}
  if (candidates.length === 0) return no(`no running container of ${run.image}`)
  return no(
    `${candidates.length} containers of ${run.image} run for ${clients} clients, so which one is its own cannot be told: left running (give it --name to make this certain)`,
  )
}

const clientKey = (run: RunClient) => `${run.runtime}\0${run.image}`
const UNNAMED = new WeakMap<Snapshot, Map<string, number>>()

/** How many run clients without --name each (runtime, image) has: counted once per snapshot, not per client. */
function unnamedClients(snapshot: Snapshot): Map<string, number> {
  let counts = UNNAMED.get(snapshot)
  if (!counts) {
    counts = new Map()
    for (const p of snapshot.processes) {
      const other = runClientOf(p)
      if (other && other.name === undefined) counts.set(clientKey(other), (counts.get(clientKey(other)) ?? 0) + 1)
    }
    UNNAMED.set(snapshot, counts)
  }
  return counts
}
