import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'
import {climbChain, detachedShellLink} from './chains.js'
import type {ClaudeVerdict, Detachment} from './verdicts.js'
import {isShellLoop} from './wrappers.js'

export type {DetachedBy, Detachment} from './verdicts.js'

/**
 * The outermost run of command wrappers (`bash -c`, `sh -c`, `env`, `timeout`) above `p` that holds no
 * terminal and hangs from init, a subreaper or a tmux server; undefined when the chain reaches anything else
 * (a live program such as cron or an SDK app owns the job).
 */
function detachedShell(
  tree: ProcessTree,
  rules: Rules,
  p: ProcessInfo,
  protect: ReadonlySet<number>,
): {top: ProcessInfo; holder?: ProcessInfo} | undefined {
  // A wrapper holding a terminal, or any other program, ends the climb below a non-reaper: not detached.
  const {top, above: up} = climbChain(
    p,
    (q) => tree.parent(q),
    rules,
    detachedShellLink,
    (q) => protect.has(q.pid),
  )
  if (top === p) return undefined
  // Under the doctor's own chain or a claude, the shell is theirs: only a reaper or a tmux server means detached.
  const hangsFromReaper = up === undefined ? top.ppid <= 1 : rules.isReaper(up) || rules.isTmuxServer(up)
  return hangsFromReaper ? {top, holder: up} : undefined
}

function holderName(rules: Rules, holder: ProcessInfo | undefined, ppid: number): string {
  if (!holder) return ppid <= 1 ? 'init' : `PID ${ppid}`
  if (holder.pid === 1) return 'init'
  if (rules.isTmuxServer(holder)) return `the tmux server (pid ${holder.pid})`
  return holder.argv.join(' ') || holder.comm
}

/**
 * Whether a judged Claude process is a detached headless run: started with a `claude.headless` flag, in no
 * live pane, and either judged an orphan, or run by a detached shell with no terminal. Those are jobs the user
 * detached on purpose (`claude -p … & disown`, `setsid -f claude -p …`, a setsid'd loop), never orphans. A
 * claude the doctor protects, one in a live pane, one a server could not vouch for, and one under a live
 * program stay as judged.
 */
export function judgeDetached(
  tree: ProcessTree,
  rules: Rules,
  verdict: ClaudeVerdict,
  protect: ReadonlySet<number>,
): Detachment | undefined {
  const p = verdict.proc
  if (verdict.kind !== 'orphan' && verdict.kind !== 'healthy') return undefined
  if (protect.has(p.pid) || tree.isInLivePane(p) || rules.headlessFlag(p) === undefined) return undefined
  if (verdict.kind === 'healthy' && p.ttyNr !== 0) return undefined
  const shell = detachedShell(tree, rules, p, protect)
  if (shell) {
    const name = `${(shell.top.argv[0] ?? shell.top.comm).split('/').pop()} ${shell.top.pid}`
    return isShellLoop(shell.top)
      ? {by: 'shell-loop', root: shell.top, holder: shell.holder, how: `in a detached shell loop (${name})`}
      : {by: 'shell', root: shell.top, holder: shell.holder, how: `in a detached shell (${name})`}
  }
  if (verdict.kind !== 'orphan') return undefined
  const parent = tree.parent(p)
  // A pane's own command leads its session too: under the tmux server, sid == pid is not setsid's doing.
  if (parent && rules.isTmuxServer(parent))
    return {by: 'session-killed', root: p, holder: parent, how: 'left by a killed tmux session'}
  // screen makes every window its own session: a window's program is a session leader without setsid.
  if (parent && tree.isMultiplexerServer(parent))
    return {by: 'session-killed', root: p, holder: parent, how: 'its screen or zellij window was killed'}
  if (p.sid === p.pid) return {by: 'own-session', root: p, holder: parent, how: 'own session (setsid)'}
  if (p.ppid === 1 || rules.isReaper(parent))
    return {by: 'disowned', root: p, holder: parent, how: `disowned (adopted by ${holderName(rules, parent, p.ppid)})`}
  const paneGone = p.env.TMUX_PANE ? `its pane ${p.env.TMUX_PANE} is gone` : 'its screen or zellij session is gone'
  return {
    by: 'session-killed',
    root: p,
    holder: parent,
    how: verdict.evidence === 'pane-gone' ? paneGone : 'left by a killed tmux session',
  }
}

/** The reason of a detached run's finding: why it is a job and not an orphan. */
export function detachedWhy(tree: ProcessTree, rules: Rules, d: Detachment, claude: ProcessInfo, flag: string): string {
  const holder = holderName(rules, d.holder, d.root.ppid)
  const headless = `headless (${flag})`
  switch (d.by) {
    case 'own-session':
      return `${headless} in its own session (sid ${claude.sid}), hanging from ${holder}, with no terminal and no live tmux pane: a job detached on purpose`
    case 'disowned': {
      const leader = claude.sid === undefined ? undefined : tree.get(claude.sid)
      const shell =
        leader && leader.state !== 'Z'
          ? `while its session's leader (pid ${leader.pid}) still runs`
          : `after the shell that started it (session ${claude.sid ?? 'unknown'}) went away`
      return `${headless}, adopted by ${holder} ${shell}; in no live tmux pane: a job detached on purpose`
    }
    case 'shell-loop':
    case 'shell':
      return `${headless}, run by ${d.root.argv.join(' ') || d.root.comm} (pid ${d.root.pid}) hanging from ${holder}, with no terminal and no live tmux pane: the job is the whole shell (ending one step would start the next)`
    case 'session-killed':
      return `${headless}, its tmux session gone (${d.how}) and no terminal holds it: reported as a detached run, not an orphan`
  }
}
