import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

/** One process of a fake /proc: what its stat, status, cmdline, environ and cgroup files say. */
export interface FakeProc {
  pid: number
  ppid: number
  comm: string
  argv: string[]
  startTicks: number
  tty?: number
  uid?: number
  /** undefined: no environ file (as for another user's process: unreadable). */
  environ?: Record<string, string>
  /** The whole /proc/PID/cgroup text; undefined: no file. */
  cgroup?: string
}

/**
 * Writes a /proc the collector can read (`collectSnapshot({procRoot})`): the files it reads for each
 * process, /proc/stat's btime and a `self` entry. Returns the directory.
 */
export function writeFakeProc(procs: readonly FakeProc[]): string {
  const root = mkdtempSync(path.join(tmpdir(), 'gt-doctor-proc-'))
  const stat = (p: FakeProc) => {
    // Fields 3.. of /proc/PID/stat; field N is rest[N - 3].
    const rest = Array.from({length: 50}, () => '0')
    rest[0] = 'S'
    rest[4 - 3] = String(p.ppid)
    rest[5 - 3] = String(p.pid)
    rest[6 - 3] = String(p.pid)
    rest[7 - 3] = String(p.tty ?? 0)
    rest[22 - 3] = String(p.startTicks)
    return `${p.pid} (${p.comm}) ${rest.join(' ')}\n`
  }
  for (const p of procs) {
    const dir = path.join(root, String(p.pid))
    mkdirSync(dir)
    writeFileSync(path.join(dir, 'stat'), stat(p))
    writeFileSync(
      path.join(dir, 'status'),
      `Name:\t${p.comm}\nUid:\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\t${p.uid ?? 0}\nVmRSS:\t    4096 kB\n`,
    )
    writeFileSync(path.join(dir, 'cmdline'), `${p.argv.join('\0')}\0`)
    writeFileSync(path.join(dir, 'smaps_rollup'), 'Rss:  4096 kB\nPss:  2048 kB\n')
    if (p.environ)
      writeFileSync(
        path.join(dir, 'environ'),
        Object.entries(p.environ)
          .map(([k, v]) => `${k}=${v}\0`)
          .join(''),
      )
    if (p.cgroup !== undefined) writeFileSync(path.join(dir, 'cgroup'), p.cgroup)
  }
  mkdirSync(path.join(root, 'self'))
  writeFileSync(path.join(root, 'self', 'stat'), stat(procs[0]))
  writeFileSync(path.join(root, 'stat'), 'cpu  1 0 1 1 0 0 0 0 0 0\nbtime 1760000000\n')
  return root
}
