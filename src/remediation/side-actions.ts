import {lstatSync, unlinkSync} from 'node:fs'
import net from 'node:net'
import {runTmux} from '../snapshot/tmux.js'

/** Runs `tmux -S socket args...`; the seam for tmux actions. */
export type TmuxRunner = (socket: string, args: string[]) => Promise<{code: number | null; stdout: string; stderr: string}>

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
