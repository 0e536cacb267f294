/**
 * The one place where the config's ignore rules and per-check age limits act: on findings right after a
 * check's `detect` (the runner calls `filterFindings`), and on every action a check's `fix` plans
 * (`guardCheck` wraps `fix`). An ignored process is therefore never reported and never a fix target,
 * whichever check, built-in or not, found it.
 */
import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import {treeOf, type ProcessTree} from '../tree/process-tree.js'
import type {Check, CheckContext, Finding, FixAction, ProcessTarget, RegisteredCheck} from './api.js'
import {runInterruptible, withoutProcessExit} from './isolate.js'
import type {CheckRunConfig, IgnoreConfig} from './settings.js'

/** The compiled ignore rules. */
export interface IgnoreRules {
  /** False when the config ignores nothing: every filter is then the identity. */
  readonly active: boolean
  process(p: ProcessInfo, tree: ProcessTree): boolean
  target(t: ProcessTarget, tree: ProcessTree): boolean
  session(name: string | undefined): boolean
}

const commandOf = (argv: readonly string[], comm: string) => (argv.length > 0 ? argv.join(' ') : comm)

const compiled = new WeakMap<IgnoreConfig, IgnoreRules>()
const NOTHING_IGNORED: IgnoreConfig = Object.freeze({commands: [], sessions: [], uids: []}) as unknown as IgnoreConfig

export function ignoreRules(cfg: IgnoreConfig = NOTHING_IGNORED): IgnoreRules {
  const hit = compiled.get(cfg)
  if (hit) return hit
  const commands = cfg.commands.map((c) => new RegExp(c))
  const sessions = new Set(cfg.sessions)
  const uids = new Set(cfg.uids)
  const byCommand = (command: string) => commands.some((re) => re.test(command))
  const perSnapshot = new WeakMap<Snapshot, Map<number, boolean>>()
  const rules: IgnoreRules = {
    active: commands.length + sessions.size + uids.size > 0,
    session: (name) => name !== undefined && sessions.has(name),
    process(p, tree) {
      let memo = perSnapshot.get(tree.snapshot)
      if (!memo) perSnapshot.set(tree.snapshot, (memo = new Map()))
      let answer = memo.get(p.pid)
      if (answer === undefined) {
        answer =
          (p.uid !== undefined && uids.has(p.uid)) ||
          byCommand(commandOf(p.argv, p.comm)) ||
          (sessions.size > 0 &&
            (rules.session(tree.paneOwner(p)?.pane.session) || rules.session(tree.sessionFromTmuxEnv(p.env.TMUX))))
        memo.set(p.pid, answer)
      }
      return answer
    },
    target(t, tree) {
      const p = tree.get(t.pid)
      if (p && rules.process(p, tree)) return true
      return (t.uid !== undefined && uids.has(t.uid)) || byCommand(t.command)
    },
  }
  compiled.set(cfg, rules)
  return rules
}

function ageMs(p: ProcessInfo, snapshot: Snapshot): number | undefined {
  const at = Date.parse(snapshot.collectedAt)
  return p.startTimeMs === undefined || Number.isNaN(at) ? undefined : at - p.startTimeMs
}

/**
 * Drops findings about ignored processes, ignored sessions or processes younger than the check's
 * `minAgeSeconds`, and takes ignored processes out of the `pids` of the rest (memory recounted).
 */
export function filterFindings(
  findings: Finding[],
  snapshot: Snapshot,
  config: CheckRunConfig,
  checkId: string,
): Finding[] {
  const ignore = ignoreRules(config.ignore)
  const minAgeMs = (config.checks[checkId]?.minAgeSeconds ?? 0) * 1000
  if (!ignore.active && minAgeMs <= 0) return findings
  const tree = treeOf(snapshot)
  const ignored = (pid: number) => {
    const p = tree.get(pid)
    return p !== undefined && ignore.process(p, tree)
  }
  const out: Finding[] = []
  for (const f of findings) {
    if (ignore.session(f.session)) continue
    if (f.pid !== undefined) {
      if (ignored(f.pid)) continue
      const root = tree.get(f.pid)
      const age = root && ageMs(root, snapshot)
      if (minAgeMs > 0 && age !== undefined && age < minAgeMs) continue
    }
    const pids = f.pids.filter((pid) => !ignored(pid))
    if (pids.length === f.pids.length) {
      out.push(f)
      continue
    }
    if (pids.length === 0) continue
    const memory = f.memoryBytes === undefined ? undefined : tree.memoryOf(pids)
    out.push({...f, pids, ...(memory ? {memoryBytes: memory.bytes, memorySource: memory.source} : {})})
  }
  return out
}

/** Removes ignored processes from planned actions; a tree whose root is ignored is not touched at all. */
export function filterActions(actions: FixAction[], tree: ProcessTree, config: CheckRunConfig): FixAction[] {
  const ignore = ignoreRules(config.ignore)
  if (!ignore.active) return actions
  const out: FixAction[] = []
  for (const a of actions) {
    if (a.kind !== 'terminate-tree') {
      out.push(a)
      continue
    }
    if (ignore.session(a.session) || a.targets.length === 0 || ignore.target(a.targets[0], tree)) continue
    const targets = a.targets.filter((t) => !ignore.target(t, tree))
    out.push(targets.length === a.targets.length ? a : {...a, targets})
  }
  return out
}

const isPid = (n: unknown) => Number.isInteger(n) && (n as number) > 0

/** What is wrong with one planned action, or undefined: the engine must never guess at a malformed one. */
export function actionProblem(a: unknown): string | undefined {
  const x = a as Partial<Record<string, unknown>> | null
  if (!x || typeof x !== 'object') return 'an action is not an object'
  if (typeof x.reason !== 'string') return `a ${String(x.kind)} action has no reason`
  switch (x.kind) {
    case 'terminate-tree': {
      if (!Array.isArray(x.targets) || x.targets.length === 0) return 'a terminate-tree action has no targets'
      const bad = x.targets.find(
        (t: Partial<ProcessTarget>) =>
          !t || !isPid(t.pid) || !Number.isInteger(t.ppid) || typeof t.command !== 'string',
      )
      return bad ? `a terminate-tree target is malformed: ${JSON.stringify(bad)}` : undefined
    }
    case 'tmux':
      return typeof x.socket === 'string' &&
        x.socket.startsWith('/') &&
        Array.isArray(x.args) &&
        x.args.every((s) => typeof s === 'string')
        ? undefined
        : 'a tmux action needs an absolute socket and string args'
    case 'remove-socket':
      return typeof x.path === 'string' && x.path.startsWith('/')
        ? undefined
        : 'a remove-socket action needs an absolute path'
    case 'stop-container': {
      const client = x.client as {pid?: unknown} | undefined
      if (x.runtime !== 'docker' && x.runtime !== 'podman')
        return 'a stop-container action needs runtime docker or podman'
      if (typeof x.id !== 'string' || !/^[0-9a-f]{12,64}$/.test(x.id))
        return 'a stop-container action needs a container id (hex)'
      return typeof x.remove === 'boolean' && isPid(client?.pid)
        ? undefined
        : 'a stop-container action needs remove and its client pid'
    }
    default:
      return `unknown action kind ${JSON.stringify(x.kind)}`
  }
}

/** Why a planned `fix` failed, as one line; the engine records it against that finding and goes on. */
export class FixPlanError extends Error {
  constructor(checkId: string, cause: unknown) {
    super(`fix of ${checkId} failed: ${(cause instanceof Error ? cause.message : String(cause)).split('\n')[0]}`)
    this.name = 'FixPlanError'
  }
}

/**
 * The check as the runner and the remediation engine must see it: `fix` filtered through the ignore
 * rules, and, for checks that are not built in, `detect` and `fix` interruptible after the time limit.
 * Every check goes through this, so a plugin's fix meets exactly the safety net a built-in's does.
 */
export function guardCheck(registered: RegisteredCheck, config: CheckRunConfig): RegisteredCheck {
  const {check, source} = registered
  const timeoutMs = config.checkTimeoutSeconds * 1000
  const foreign = source.kind !== 'built-in'
  const call = <T>(fn: () => T): T =>
    foreign ? withoutProcessExit(() => runInterruptible(fn, timeoutMs), timeoutMs) : fn()
  const guarded: Check<any> = {
    ...check,
    detect: foreign ? (ctx: CheckContext<any>) => call(() => check.detect(ctx)) : check.detect,
    ...(check.fix
      ? {
          fix(finding: Finding, ctx: CheckContext<any>): FixAction[] {
            let actions: unknown
            try {
              actions = call(() => check.fix!(finding, ctx))
            } catch (error) {
              throw new FixPlanError(check.id, error)
            }
            const problem = Array.isArray(actions)
              ? actions.map(actionProblem).find(Boolean)
              : 'fix did not return an array of actions'
            if (problem) throw new FixPlanError(check.id, new Error(problem))
            return filterActions(actions as FixAction[], ctx.tree, config)
          },
        }
      : {}),
  }
  return {check: Object.freeze(guarded), source}
}
