/**
 * Whose tmux server is it: the ownership rule every tmux command of a fix obeys (the one signals obey,
 * read right now), and the seams through which it reads (tmux itself, socket files). Apart from the
 * actions because `session stop` asks the same question before it plans.
 */
import {lstatSync, unlinkSync} from 'node:fs'
import net from 'node:net'
import {runTmux} from '../snapshot/tmux.js'
import type {LiveProcess, ProcessProbe} from './probe.js'

/** Runs `tmux -S socket args...`; the seam for tmux actions. */
export type TmuxRunner = (
  socket: string,
  args: string[],
) => Promise<{code: number | null; stdout: string; stderr: string}>

export const liveTmux: TmuxRunner = (socket, args) => runTmux(['-S', socket, ...args], 3000)

/** What the engine needs to remove a stale tmux socket safely; the seam for remove-socket actions. */
export interface SocketOps {
  inspect(path: string): {isSocket: boolean; uid: number} | undefined
  /** Does a server still accept connections on it? */
  listening(path: string): Promise<boolean>
  unlink(path: string): void
}

export const liveSocketOps: SocketOps = {
  inspect(path) {
    try {
      const st = lstatSync(path)
      return {isSocket: st.isSocket(), uid: st.uid}
    } catch {
      return undefined
    }
  },
  listening(path) {
    return new Promise((resolve) => {
      const conn = net.connect(path)
      const done = (answer: boolean) => {
        conn.destroy()
        resolve(answer)
      }
      conn.setTimeout(1000, () => done(true))
      conn.once('connect', () => done(true))
      // ECONNREFUSED: nobody listens. Any other error: do not touch it.
      conn.once('error', (e: NodeJS.ErrnoException) => done(e.code !== 'ECONNREFUSED'))
    })
  },
  unlink: (path) => unlinkSync(path),
}

/** Who may act on a tmux server, and how to find out whose it is. */
export interface ServerOwnership {
  tmux: TmuxRunner
  sockets: SocketOps
  probe: Pick<ProcessProbe, 'read'>
  isTmuxServer(live: LiveProcess): boolean
  invokingUid: number
  /** root with --all-users may act on any user's server. */
  allUsers?: boolean
}

/** Why a tmux server must be left alone: not the user's, or its owner cannot be verified; `gone`: no socket any more. */
export interface ServerRefusal {
  detail: string
  gone?: boolean
}

/**
 * The ownership rule of signals, for tmux commands: act only on a server whose socket file and whose server
 * process (the pid it reports, which must be a tmux server here) both belong to the invoking user, read right
 * now. `pid`: what the server reported when it was recorded, read again from /proc (no round trip to a busy
 * server); without it the server is asked. undefined: the doctor may act on it.
 */
export async function tmuxServerRefusal(
  socket: string,
  o: ServerOwnership,
  known?: number,
): Promise<ServerRefusal | undefined> {
  if (o.allUsers && o.invokingUid === 0) return undefined
  const hint = o.invokingUid === 0 ? '; pass --all-users to include other users' : ''
  const notYours = (uid: number, what: string) => ({
    detail: `the tmux server on ${socket} belongs to uid ${uid} (${what}), not to you (uid ${o.invokingUid})${hint}`,
  })
  const file = o.sockets.inspect(socket)
  if (!file) return {detail: `no tmux server at ${socket} any more`, gone: true}
  if (!file.isSocket) return {detail: `${socket} is not a socket`}
  if (file.uid !== o.invokingUid) return notYours(file.uid, 'its socket file')
  const pid = known ?? (await askPid(socket, o.tmux))
  if (pid === undefined)
    return {detail: `the tmux server on ${socket} did not tell its pid, so its owner cannot be verified`}
  const live = o.probe.read(pid)
  if (!live || !o.isTmuxServer(live))
    return {
      detail: `the tmux server on ${socket} names PID ${pid}, which is no tmux server here, so its owner cannot be verified`,
    }
  if (live.uid === undefined) return {detail: `the owner of the tmux server on ${socket} (PID ${pid}) cannot be read`}
  if (live.uid !== o.invokingUid) return notYours(live.uid, `its process, PID ${pid}`)
  return undefined
}

async function askPid(socket: string, tmux: TmuxRunner): Promise<number | undefined> {
  const r = await tmux(socket, ['display-message', '-p', '#{pid}'])
  const pid = Number(r.stdout.trim())
  return r.code === 0 && Number.isSafeInteger(pid) && pid > 0 ? pid : undefined
}
