import fs from 'node:fs'
import path from 'node:path'

/**
 * What `plugins install` may change in oclif's data dir, saved before it runs. @oclif/plugin-plugins
 * uninstalls the name it was asked for when an install fails, so a failed `plugins install NAME` used to
 * remove an already installed (or linked) plugin of that name; restore() puts it back as it was.
 */
export interface PluginInstallState {
  restore(): void
  discard(): void
}

const MANIFESTS = ['package.json', 'package-lock.json', 'node_modules/.package-lock.json']

export function savePluginInstallState(dataDir: string, names: string[]): PluginInstallState {
  const files = new Map(MANIFESTS.map((f) => [f, readIfPresent(path.join(dataDir, f))]))
  const backupRoot = path.join(dataDir, `.install-backup-${process.pid}`)
  const saved: string[] = []
  for (const name of names) {
    const from = packageDir(dataDir, name)
    if (!from || !exists(from)) continue
    const to = path.join(backupRoot, name)
    fs.mkdirSync(path.dirname(to), {recursive: true})
    fs.cpSync(from, to, {recursive: true, verbatimSymlinks: true})
    saved.push(name)
  }
  const discard = () => fs.rmSync(backupRoot, {recursive: true, force: true})
  return {
    discard,
    restore() {
      for (const [file, text] of files) {
        const target = path.join(dataDir, file)
        if (text === undefined) fs.rmSync(target, {force: true})
        else fs.writeFileSync(target, text)
      }
      for (const name of saved) {
        const target = packageDir(dataDir, name)!
        fs.rmSync(target, {recursive: true, force: true})
        fs.mkdirSync(path.dirname(target), {recursive: true})
        fs.renameSync(path.join(backupRoot, name), target)
      }
      discard()
    },
  }
}

/** node_modules/NAME for an npm package name; undefined for anything else (a URL, a path, a bad name). */
function packageDir(dataDir: string, name: string): string | undefined {
  const bare = name.replace(/(?<=.)@[^/@]*$/, '')
  if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(bare)) return undefined
  return path.join(dataDir, 'node_modules', bare)
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

function exists(p: string): boolean {
  try {
    fs.lstatSync(p)
    return true
  } catch {
    return false
  }
}
