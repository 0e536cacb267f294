import {existsSync, readFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/**
 * `gt-doctor --version` without oclif: loading @oclif/core and its config costs twice node's own start-up,
 * only to print `name/version platform-arch node-version`. Taken only when oclif could print nothing else:
 * no user or linked plugin (whose init hook would run first), no debug output asked, not WSL (oclif names the
 * platform `wsl` there). Otherwise undefined, and oclif answers as before.
 */
export function fastVersion(root: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (process.platform !== 'linux' && process.platform !== 'darwin') return undefined
  if (env.DEBUG || env.GT_DOCTOR_DEBUG) return undefined
  if (process.platform === 'linux' && mentionsMicrosoft()) return undefined
  const home = env.HOME || os.homedir() || os.tmpdir()
  const dataDir = env.GT_DOCTOR_DATA_DIR || path.join(env.XDG_DATA_HOME || path.join(home, '.local/share'), 'gt-doctor')
  // oclif's user plugins (installed or linked) are listed there: any such file, and oclif decides.
  if (existsSync(path.join(dataDir, 'package.json'))) return undefined
  const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {name: string; version?: string}
  const arch = os.arch() === 'ia32' ? 'x86' : os.arch()
  return `${pjson.name}/${pjson.version ?? '0.0.0'} ${process.platform}-${arch} node-${process.version}\n`
}

/** What is-wsl looks at (the kernel release, /proc/version): either naming Microsoft leaves it to oclif. */
function mentionsMicrosoft(): boolean {
  if (/microsoft/i.test(os.release())) return true
  try {
    return /microsoft/i.test(readFileSync('/proc/version', 'utf8'))
  } catch {
    return false
  }
}
