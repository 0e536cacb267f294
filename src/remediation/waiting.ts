import type {Member} from './members.js'
import type {Clock, ProcessProbe} from './probe.js'

/** Reads a signalled member again: alive, a zombie (and whose), or gone (its pid now someone else's counts as gone). */
export function observe(m: Member, probe: Pick<ProcessProbe, 'read'>): void {
  if (m.life === 'gone') return
  const live = probe.read(m.target.pid)
  if (!live || live.startTicks !== m.target.startTicks || live.state === 'X') {
    m.life = 'gone'
    return
  }
  m.lastState = live.state
  if (live.state === 'Z') {
    m.life = 'zombie'
    m.zombieParent = live.ppid
  } else {
    m.life = 'alive'
  }
}

/** A zombie whose parent is a reaper is about to be reaped: as good as gone. */
export function settled(m: Member, isReaper: (pid: number) => boolean): boolean {
  if (m.life === 'gone') return true
  if (m.life === 'zombie') return m.zombieParent !== undefined && isReaper(m.zombieParent)
  return false
}

/** Observes `members` every `pollMs` until each is `done` or the deadline passes. */
export async function pollUntil(
  members: Member[],
  deadline: number,
  done: (m: Member) => boolean,
  o: {probe: Pick<ProcessProbe, 'read'>; clock: Clock; pollMs?: number},
): Promise<void> {
  const poll = o.pollMs ?? 25
  for (;;) {
    for (const m of members) observe(m, o.probe)
    if (members.every(done)) return
    const left = deadline - o.clock.now()
    if (left <= 0) return
    await o.clock.sleep(Math.min(poll, left))
  }
}
