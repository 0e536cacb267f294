/**
 * Supervised processes: a claude run as a `systemd --user` unit, an MCP server run as a system service, a
 * claude PM2 keeps alive. Their parent is init, a subreaper or a supervisor, exactly what an orphan's is, but
 * someone configured them to run: ending one is a false kill (and the supervisor may restart it anyway).
 * The doctor reports them and leaves them to their supervisor.
 */
import type {Rules} from '../rules/rules.js'
import type {ProcessInfo} from '../snapshot/types.js'
import type {ProcessTree} from '../tree/process-tree.js'

/** Who supervises a process, for the report. */
export interface Supervision {
  /** `claude-agent.service`, `PM2 (pid 42)`. */
  by: string
  /** One sentence of evidence, and how to stop it the supervisor's way. */
  why: string
}

/** The systemd unit a cgroup path ends in, when that is a service (`…/app.slice/claude-agent.service`). */
export function serviceUnit(cgroup: string | undefined): string | undefined {
  if (!cgroup) return undefined
  const last = cgroup.slice(cgroup.lastIndexOf('/') + 1)
  return last.endsWith('.service') && last.length > '.service'.length ? last : undefined
}

const sessionCgroups = new WeakMap<ProcessTree, Set<string>>()

/**
 * The cgroups that are someone's session rather than a supervisor: those tmux servers run in (a unit that
 * started tmux owns its panes' leftovers no more than tmux does) and the doctor's own (the unit the user runs
 * it from: ssh.service without pam_systemd, a CI runner's service, cron.service).
 */
function unsupervisingCgroups(tree: ProcessTree, rules: Rules): Set<string> {
  let set = sessionCgroups.get(tree)
  if (!set) {
    set = new Set()
    for (const p of tree.snapshot.processes) if (p.cgroup !== undefined && rules.isTmuxServer(p)) set.add(p.cgroup)
    const doctor = tree.get(tree.snapshot.host.doctorPid)?.cgroup
    if (doctor !== undefined) set.add(doctor)
    sessionCgroups.set(tree, set)
  }
  return set
}

/**
 * Why `p` is a supervised service rather than an orphan, or undefined: a known supervisor between it and
 * the reaper or tmux server above it, or a systemd service cgroup of its own in which neither a tmux server
 * nor the doctor runs (when tmux itself was started by that unit, cron.service or tmux.service, a killed
 * session's leftover is in it too and is still the orphan it looks like; the doctor's own unit is the user's
 * session).
 */
export function supervisionOf(tree: ProcessTree, rules: Rules, p: ProcessInfo): Supervision | undefined {
  const seen = new Set<number>([p.pid])
  for (
    let a = tree.parent(p);
    a && !seen.has(a.pid) && !rules.isReaper(a) && !rules.isTmuxServer(a);
    a = tree.parent(a)
  ) {
    if (rules.isSupervisor(a)) {
      const name = (a.comm.split(' ')[0] || a.argv[0]?.split('/').pop()) ?? 'supervisor'
      return {
        by: `${name} (pid ${a.pid})`,
        why: `supervised by ${name} (pid ${a.pid}), which restarts what it runs: stop it through ${name}`,
      }
    }
    seen.add(a.pid)
  }
  const unit = serviceUnit(p.cgroup)
  if (unit && !unsupervisingCgroups(tree, rules).has(p.cgroup!)) {
    const user = /\/user@\d+\.service\//.test(p.cgroup!) ? ' --user' : ''
    return {
      by: unit,
      why: `runs in the systemd unit ${unit} (cgroup ${p.cgroup}), which supervises it: stop it with systemctl${user} stop ${unit}`,
    }
  }
  return undefined
}
