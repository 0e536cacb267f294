import path from 'node:path'
import type {ResolvedConfig} from '../config/config.js'
import {DoctorError} from '../errors.js'
import {createRules} from '../rules/rules.js'
import {collectSnapshot} from '../snapshot/collect.js'
import {AuditLog} from './audit.js'
import {describeAuditFailure, executeRequest, type EngineOptions} from './engine.js'
import {acquireFixLock, fixLockDir} from './lock.js'
import {procProbe, systemClock, type ProcessProbe} from './probe.js'
import {planTeardown, type RecordedProcess, type TeardownRequest} from './teardown-plan.js'
import {runTeardown, type TeardownResult} from './teardown-steps.js'
import {liveSocketOps, liveTmux, tmuxServerRefusal, type TmuxRunner} from './server-ownership.js'
import {stateDir} from '../state-dir.js'

export interface SessionStopOptions {
  request: TeardownRequest
  graceMs: number
  interruptWaitMs: number
  config: ResolvedConfig
  /** Where the audit log lives (default: the XDG state directory). */
  stateDir?: string
  /** Where the fix lock lives (default: `fixLockDir()`, shared with --fix). */
  lockDir?: string
  probe?: ProcessProbe
  tmux?: TmuxRunner
  lockWaitMs?: number
  /** root only: also stop sessions on other users' servers, and their processes. */
  allUsers?: boolean
}

export interface SessionStopResult extends TeardownResult {
  auditFile: string
}

/** The one line to show when the audit log failed mid-stop, if it did. */
export function sessionStopFailure(result: SessionStopResult): string | undefined {
  return result.auditFailure && describeAuditFailure(result.auditFile, result.auditFailure)
}

/**
 * `--socket` as tmux takes it: a path (`-S`), or a bare name resolved like `tmux -L name` does, in
 * `$TMUX_TMPDIR/tmux-UID/`.
 */
export function socketPath(value: string, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (value.includes('/')) return path.resolve(value)
  return path.join(env.TMUX_TMPDIR || '/tmp', `tmux-${uid}`, value)
}

/**
 * `session stop`: under the same lock as --fix (one actor at a time), record the sessions' trees from one
 * snapshot, then the graceful teardown, every signal through the remediation engine and its audit log.
 */
export async function stopSessions(opts: SessionStopOptions): Promise<SessionStopResult> {
  const dir = opts.stateDir ?? stateDir()
  const lock = await acquireFixLock(opts.lockDir ?? fixLockDir(), {waitMs: opts.lockWaitMs})
  try {
    const sockets = [...opts.config.sockets, ...(opts.request.socket ? [opts.request.socket] : [])]
    const snapshot = await collectSnapshot({sockets})
    const {host} = snapshot
    if (host.platform !== 'linux')
      throw new DoctorError(
        `session stop needs Linux /proc to verify each process before signalling it (this is ${host.platform})`,
      )
    const plan = planTeardown(snapshot, opts.request)
    const probe = opts.probe ?? procProbe()
    const isAlive = (p: RecordedProcess) => {
      const live = probe.read(p.pid)
      // Without a start time the identity cannot be proved gone either: count it alive (the engine spares it).
      return (
        live !== undefined &&
        (p.startTicks === undefined || live.startTicks === p.startTicks) &&
        live.state !== 'Z' &&
        live.state !== 'X'
      )
    }
    const audit = new AuditLog(dir, `${process.pid}@${new Date().toISOString()}`)
    const rules = createRules(opts.config.rules)
    const tmux = opts.tmux ?? liveTmux
    const {allUsers} = opts
    const engineOptions: EngineOptions = {
      probe,
      audit,
      rules,
      graceMs: opts.graceMs,
      invokingUid: host.uid,
      allUsers,
      doctorPid: host.doctorPid,
      doctorAncestors: host.doctorAncestors,
      bootTimeMs: host.bootTimeMs,
      clockTicksPerSecond: host.clockTicksPerSecond,
      tmux,
    }
    const serverPids = new Map(snapshot.tmux.servers.map((s) => [s.socket, s.pid]))
    try {
      const result = await runTeardown(
        plan,
        {
          tmux,
          isAlive,
          audit,
          refuse: (socket) =>
            tmuxServerRefusal(
              socket,
              {
                tmux,
                sockets: liveSocketOps,
                probe,
                isTmuxServer: (live) =>
                  rules.isTmuxServer({pid: live.pid, ppid: live.ppid, comm: live.comm, argv: [], env: {}}),
                invokingUid: host.uid,
                allUsers,
              },
              serverPids.get(socket),
            ),
          sleep: systemClock.sleep,
          now: systemClock.now,
          act: (request) => executeRequest(request, engineOptions),
          execute: (request) => executeRequest(request, engineOptions),
        },
        {graceMs: opts.graceMs, interruptWaitMs: opts.interruptWaitMs},
      )
      return {...result, auditFile: audit.file}
    } finally {
      audit.close()
    }
  } finally {
    await lock.release()
  }
}
