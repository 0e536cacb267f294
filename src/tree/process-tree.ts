import {multiplexerServerKind} from '../snapshot/multiplexers.js'
import {parseTmuxEnv} from '../snapshot/tmux-env.js'
import type {MultiplexerSession, ProcessInfo, Snapshot, TmuxPane, TmuxServer} from '../snapshot/types.js'

/** The live pane a process descends from, and the server that owns it. */
export interface PaneOwner {
  /** The live pane. */
  pane: TmuxPane
  /** The server that owns the pane. */
  server: TmuxServer
}

/** The live GNU screen window or zellij pane a process descends from. */
export interface WindowOwner {
  /** The session that answered. */
  session: MultiplexerSession
  /** The window's own process (a direct child of the session's server). */
  windowPid: number
  /** screen: WINDOW; zellij: ZELLIJ_PANE_ID (undefined when its environment did not say). */
  window?: string
}

/**
 * An index over one snapshot's process table: parent/child links and pane ownership, built in one pass.
 * Every query is linear in the size of its answer (or in the depth of the tree for ancestor walks).
 */
export class ProcessTree {
  /** Every process of the snapshot by pid. */
  readonly byPid: ReadonlyMap<number, ProcessInfo>
  private readonly childrenOf = new Map<number, ProcessInfo[]>()
  /** pid of every live pane's process -> that pane. */
  private readonly livePaneByPid = new Map<number, PaneOwner>()
  /** Pane owner of each process, memoised as ancestor walks resolve it (null: none). */
  private readonly paneOwnerMemo = new Map<number, PaneOwner | null>()
  /** pid of every live screen window's / zellij pane's process -> its owner. */
  private readonly liveWindowByPid = new Map<number, WindowOwner>()
  private readonly windowOwnerMemo = new Map<number, WindowOwner | null>()
  /** screen and zellij server processes -> their session as collected (undefined: none answered for it). */
  private readonly muxServers = new Map<number, MultiplexerSession | undefined>()
  /** Servers by socket and by pid, and each server's first pane per session id and per pane id (built on first use). */
  private serverIndex?: {
    bySocket: Map<string, TmuxServer>
    byPid: Map<number, TmuxServer>
    paneBySession: Map<TmuxServer, Map<string, TmuxPane>>
    paneById: Map<TmuxServer, Map<string, TmuxPane>>
  }

  /**
   * Indexes `snapshot`. Checks get a shared instance as `ctx.tree`; use `treeOf` rather than building another.
   * @param snapshot The snapshot this tree indexes.
   */
  constructor(
    /** The snapshot this tree indexes. */
    readonly snapshot: Snapshot,
  ) {
    const byPid = new Map<number, ProcessInfo>()
    this.byPid = byPid
    for (const p of snapshot.processes) {
      byPid.set(p.pid, p)
      // A process cannot be its own parent; pid 0 (the kernel) is nobody's child list we care about.
      if (p.ppid === p.pid) continue
      const list = this.childrenOf.get(p.ppid)
      if (list) list.push(p)
      else this.childrenOf.set(p.ppid, [p])
    }
    for (const server of snapshot.tmux.servers) {
      if (server.status !== 'ok') continue
      for (const pane of server.panes) {
        if (!pane.dead && pane.panePid > 0) this.livePaneByPid.set(pane.panePid, {pane, server})
      }
    }
    this.indexWindows(snapshot)
  }

  /**
   * A screen or zellij server's direct children are its windows' (panes') processes: it has no popups or
   * jobs. A window is live unless its session answered and did not list it (screen: a window killed while
   * its program ignored SIGHUP leaves the program a child of SCREEN).
   */
  private indexWindows(snapshot: Snapshot): void {
    const sessions = [
      ...(snapshot.multiplexers?.screen.sessions ?? []),
      ...(snapshot.multiplexers?.zellij.sessions ?? []),
    ]
    for (const p of snapshot.processes) {
      const kind = multiplexerServerKind(p)
      if (!kind) continue
      const session = sessions.find((s) => s.kind === kind && s.pid === p.pid)
      this.muxServers.set(p.pid, session)
      if (session?.status !== 'ok') continue
      for (const child of this.children(p.pid)) {
        const window = kind === 'screen' ? child.env.WINDOW : child.env.ZELLIJ_PANE_ID
        if (kind === 'screen' && window !== undefined && session.windows && !session.windows.includes(Number(window)))
          continue
        this.liveWindowByPid.set(child.pid, {session, windowPid: child.pid, window})
      }
    }
  }

  /** Is `p` a GNU screen or zellij server process? */
  isMultiplexerServer(p: ProcessInfo): boolean {
    return this.muxServers.has(p.pid)
  }

  /** The session a screen or zellij server process serves, when one was collected for it. */
  multiplexerSession(serverPid: number): MultiplexerSession | undefined {
    return this.muxServers.get(serverPid)
  }

  /** The live screen window or zellij pane `p` is (or descends from); memoised like `paneOwner`. */
  windowOwner(p: ProcessInfo): WindowOwner | undefined {
    if (this.liveWindowByPid.size === 0) return undefined
    return this.nearestOwner(p, this.liveWindowByPid, this.windowOwnerMemo)
  }

  /** The process with this pid, if the snapshot has it. */
  get(pid: number): ProcessInfo | undefined {
    return this.byPid.get(pid)
  }

  /** The parent of `p`, if the snapshot has it. */
  parent(p: ProcessInfo): ProcessInfo | undefined {
    return p.ppid === p.pid ? undefined : this.byPid.get(p.ppid)
  }

  /** The direct children of `pid`, in snapshot order. */
  children(pid: number): readonly ProcessInfo[] {
    return this.childrenOf.get(pid) ?? []
  }

  /** Parent chain from the nearest parent up to the root, excluding `p` itself. Cycle-safe. */
  ancestors(p: ProcessInfo): ProcessInfo[] {
    const out: ProcessInfo[] = []
    const seen = new Set<number>([p.pid])
    let cur = this.parent(p)
    while (cur && !seen.has(cur.pid)) {
      out.push(cur)
      seen.add(cur.pid)
      cur = this.parent(cur)
    }
    return out
  }

  /** `p` and every descendant, root first (breadth-first). */
  subtree(p: ProcessInfo): ProcessInfo[] {
    const out: ProcessInfo[] = [p]
    const seen = new Set<number>([p.pid])
    for (let i = 0; i < out.length; i++) {
      for (const child of this.children(out[i].pid)) {
        if (seen.has(child.pid)) continue
        seen.add(child.pid)
        out.push(child)
      }
    }
    return out
  }

  /** The nearest proper ancestor of `p` for which `predicate` holds. */
  nearestAncestor(p: ProcessInfo, predicate: (a: ProcessInfo) => boolean): ProcessInfo | undefined {
    const seen = new Set<number>([p.pid])
    let cur = this.parent(p)
    while (cur && !seen.has(cur.pid)) {
      if (predicate(cur)) return cur
      seen.add(cur.pid)
      cur = this.parent(cur)
    }
    return undefined
  }

  /**
   * The live pane `p` belongs to: `p` is a pane's process or descends from one. Memoised along the walked
   * chain, so answering it for every process costs O(n) in total.
   */
  paneOwner(p: ProcessInfo): PaneOwner | undefined {
    return this.nearestOwner(p, this.livePaneByPid, this.paneOwnerMemo)
  }

  /**
   * The owner `live` names for `p` or its nearest ancestor, memoised (null: none) for every process walked,
   * so asking it for every process costs O(n) in total; a PPID cycle ends the walk.
   */
  private nearestOwner<T>(p: ProcessInfo, live: ReadonlyMap<number, T>, memo: Map<number, T | null>): T | undefined {
    const walked: number[] = []
    let cur: ProcessInfo | undefined = p
    let found: T | null = null
    const seen = new Set<number>()
    while (cur && !seen.has(cur.pid)) {
      const known = memo.get(cur.pid)
      if (known !== undefined) {
        found = known
        break
      }
      walked.push(cur.pid)
      const direct = live.get(cur.pid)
      if (direct) {
        found = direct
        break
      }
      seen.add(cur.pid)
      cur = this.parent(cur)
    }
    for (const pid of walked) memo.set(pid, found)
    return found ?? undefined
  }

  /** Is `p` in a live tmux pane, screen window or zellij pane (its process or a descendant), on a server that answered? */
  isInLivePane(p: ProcessInfo): boolean {
    return this.paneOwner(p) !== undefined || this.windowOwner(p) !== undefined
  }

  /** The pane with this `%id` on this server socket, live or dead. */
  findPane(socket: string, paneId: string): TmuxPane | undefined {
    const server = this.server(socket)
    return server && this.index().paneById.get(server)!.get(paneId)
  }

  /** Lookups by socket, pid, session id and pane id, each answering what a first-match search would. */
  private index(): NonNullable<ProcessTree['serverIndex']> {
    if (this.serverIndex) return this.serverIndex
    const bySocket = new Map<string, TmuxServer>()
    const byPid = new Map<number, TmuxServer>()
    const paneBySession = new Map<TmuxServer, Map<string, TmuxPane>>()
    const paneById = new Map<TmuxServer, Map<string, TmuxPane>>()
    for (const server of this.snapshot.tmux.servers) {
      if (!bySocket.has(server.socket)) bySocket.set(server.socket, server)
      if (server.pid !== undefined && !byPid.has(server.pid)) byPid.set(server.pid, server)
      const sessions = new Map<string, TmuxPane>()
      const panes = new Map<string, TmuxPane>()
      for (const pane of server.panes) {
        if (!sessions.has(pane.sessionId)) sessions.set(pane.sessionId, pane)
        if (!panes.has(pane.paneId)) panes.set(pane.paneId, pane)
      }
      paneBySession.set(server, sessions)
      paneById.set(server, panes)
    }
    return (this.serverIndex = {bySocket, byPid, paneBySession, paneById})
  }

  /** The session a TMUX variable (`socket,serverPid,sessionIndex`) names, while that session still exists. */
  sessionFromTmuxEnv(value: string | undefined): string | undefined {
    if (!value) return undefined
    const {rawSocket, serverPid, sessionIndex: index} = parseTmuxEnv(value)
    const server = index === undefined ? undefined : this.server(rawSocket)
    // Session ids restart with the server: an id from an older server names some other session.
    if (!server || String(server.pid) !== serverPid) return undefined
    return this.index().paneBySession.get(server)!.get(`$${index}`)?.session
  }

  /** The server whose socket path is `socket`. */
  server(socket: string): TmuxServer | undefined {
    return this.index().bySocket.get(socket)
  }

  /** The server whose process is `pid`. */
  serverByPid(pid: number): TmuxServer | undefined {
    return this.index().byPid.get(pid)
  }

  /** Memory of a set of processes, each counted once: PSS where known, else RSS. */
  memoryOf(pids: Iterable<number>): {bytes: number; source: 'pss' | 'rss' | 'mixed'} {
    let bytes = 0
    let pss = 0
    let rss = 0
    for (const pid of new Set(pids)) {
      const p = this.byPid.get(pid)
      if (!p) continue
      if (p.pssBytes !== undefined) {
        bytes += p.pssBytes
        pss++
      } else if (p.rssBytes !== undefined) {
        bytes += p.rssBytes
        rss++
      }
    }
    return {bytes, source: rss === 0 ? 'pss' : pss === 0 ? 'rss' : 'mixed'}
  }
}

const cache = new WeakMap<Snapshot, ProcessTree>()
/** The tree of a snapshot, built once per snapshot however many checks ask for it. */
export function treeOf(snapshot: Snapshot): ProcessTree {
  let tree = cache.get(snapshot)
  if (!tree) {
    tree = new ProcessTree(snapshot)
    cache.set(snapshot, tree)
  }
  return tree
}
