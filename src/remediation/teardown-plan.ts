import type {ProcessTarget} from '../checks/api.js'
import {targetOf} from '../checks/actions.js'
import {DoctorError} from '../errors.js'
import type {HostFacts, Snapshot, TmuxPane} from '../snapshot/types.js'
import {treeOf} from '../tree/process-tree.js'
import {detectedAtTicks} from './plan.js'

/** Which sessions `session stop` ends. */
export interface TeardownRequest {
  names: string[]
  allMatching?: RegExp
  /** Only the server on this socket (absolute path); otherwise every server that answered. */
  socket?: string
}

/** One process of a session as recorded before anything was sent: its identity is what may be signalled. */
export interface RecordedProcess extends ProcessTarget {
  paneId: string
  /** The pane's own process (the others descend from it). */
  paneRoot: boolean
}

/** A session to stop, with every pane's whole process tree as it was before the Ctrl-C. */
export interface SessionTeardown {
  session: string
  socket: string
  windows: number[]
  panes: TmuxPane[]
  processes: RecordedProcess[]
}

/** What the stop needs besides the sessions: the snapshot's host facts and memory, for the engine's plan. */
export interface TeardownPlan {
  sessions: SessionTeardown[]
  host: HostFacts
  /** PSS (else RSS) of every recorded process at record time, to report what the stop freed. */
  memory: ReadonlyMap<number, number>
  /** The latest start (ticks) the recording saw: a later child is one the trees started since. */
  detectedAtTicks?: number
}

/**
 * Resolves the sessions to stop on the snapshot's servers and records every live pane's process tree.
 * Pure: a usage error (unknown session, ambiguous name, the doctor inside a session) is a DoctorError, exit 2.
 */
export function planTeardown(snapshot: Snapshot, request: TeardownRequest): TeardownPlan {
  let servers = snapshot.tmux.servers
  if (request.socket) {
    const mine = servers.find((s) => s.socket === request.socket)
    if (mine?.status !== 'ok')
      throw new DoctorError(`no tmux server answers on ${request.socket}${mine?.error ? ` (${mine.error})` : ''}`)
    servers = [mine]
  }
  servers = servers.filter((s) => s.status === 'ok')
  const pairs = servers.flatMap((s) =>
    [...new Set(s.panes.map((p) => p.session))].map((session) => ({session, server: s})),
  )
  const existing = () => {
    const names = [...new Set(pairs.map((p) => p.session))].sort()
    if (names.length === 0) return 'no tmux session exists'
    // One line, even on a host with hundreds of agents.
    return `sessions: ${names.slice(0, 20).join(', ')}${names.length > 20 ? ` and ${names.length - 20} more` : ''}`
  }

  const chosen = new Map<string, (typeof pairs)[number]>()
  const unknown: string[] = []
  for (const name of request.names) {
    const found = pairs.filter((p) => p.session === name)
    if (found.length === 0) unknown.push(name)
    else if (found.length > 1)
      throw new DoctorError(
        `session ${name} exists on several tmux servers (${found.map((f) => f.server.socket).join(', ')}): pass --socket`,
      )
    else chosen.set(`${found[0].server.socket}\u0000${name}`, found[0])
  }
  if (unknown.length > 0)
    throw new DoctorError(`unknown session${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; ${existing()}`)
  if (request.allMatching) {
    const matched = pairs.filter((p) => request.allMatching!.test(p.session))
    if (matched.length === 0) throw new DoctorError(`no session matches /${request.allMatching.source}/; ${existing()}`)
    for (const p of matched) chosen.set(`${p.server.socket}\u0000${p.session}`, p)
  }

  const tree = treeOf(snapshot)
  const protectedPids = new Set([snapshot.host.doctorPid, ...snapshot.host.doctorAncestors])
  const sessions = [...chosen.values()].map(({session, server}): SessionTeardown => {
    const panes = server.panes.filter((p) => p.session === session)
    const processes: RecordedProcess[] = []
    for (const pane of panes) {
      const root = pane.dead ? undefined : tree.get(pane.panePid)
      if (!root) continue
      for (const p of tree.subtree(root)) {
        if (protectedPids.has(p.pid)) {
          throw new DoctorError(
            `gt-doctor runs inside session ${session} (pane ${pane.paneId}): stopping it would end the doctor itself; run it from outside the session`,
          )
        }
        const target = targetOf(tree, p.pid)
        if (target) processes.push({...target, paneId: pane.paneId, paneRoot: p === root})
      }
    }
    return {session, socket: server.socket, windows: [...new Set(panes.map((p) => p.windowIndex))], panes, processes}
  })
  const memory = new Map<number, number>()
  for (const p of sessions.flatMap((t) => t.processes)) {
    const bytes = tree.get(p.pid)?.pssBytes ?? tree.get(p.pid)?.rssBytes
    if (bytes !== undefined) memory.set(p.pid, bytes)
  }
  return {sessions, host: snapshot.host, memory, detectedAtTicks: detectedAtTicks(snapshot.processes)}
}
