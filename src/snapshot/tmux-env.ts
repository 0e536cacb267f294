import type {ProcessInfo} from './types.js'

/**
 * The one reader of the `TMUX` variable tmux gives every process of a pane: `socket,serverPid,sessionIndex`
 * (`/tmp/tmux-1000/default,1234,0`). Discovery, the tree's session lookup and the orphan verdicts all read
 * it here. Pure: no I/O, so the tree and the analysis may import it.
 */
export interface TmuxEnv {
  /** The server's socket path; undefined when the value does not start with an absolute path. */
  readonly socket: string | undefined
  /** The path exactly as written before the first comma (the tree's session lookup keys on it). */
  readonly rawSocket: string
  /** The server's pid as written (compare as a string: the variable is text). */
  readonly serverPid: string | undefined
  /** The session number (`$N` is its session id). */
  readonly sessionIndex: string | undefined
}

export function parseTmuxEnv(value: string): TmuxEnv {
  const [rawSocket, serverPid, sessionIndex] = value.split(',')
  return {socket: rawSocket.startsWith('/') ? rawSocket : undefined, rawSocket, serverPid, sessionIndex}
}

/** The socket path part of a TMUX environment value (`/tmp/tmux-1000/default,1234,0`). */
export function socketFromTmuxEnv(value: string): string | undefined {
  return parseTmuxEnv(value).socket
}

/** The socket a process's own TMUX variable names, if any. */
export function tmuxSocketOf(p: ProcessInfo): string | undefined {
  return p.env.TMUX ? socketFromTmuxEnv(p.env.TMUX) : undefined
}
