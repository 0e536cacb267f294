/**
 * oclif.manifest.json lets the CLI start without importing every command module. `npm run build` (which
 * `npm test` runs first) writes it from the compiled commands every time: if it ever lists other commands
 * than src/commands/ holds, oclif would hide the new ones.
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

const root = new URL('../', import.meta.url)

describe('oclif.manifest.json', () => {
  it('is written by the build and lists exactly the commands in src/commands, at this version', () => {
    const file = new URL('oclif.manifest.json', root)
    expect(existsSync(file), 'run npm run build').toBe(true)
    const manifest = JSON.parse(readFileSync(file, 'utf8'))
    // Topics are folders: src/commands/session/stop.ts is the command `session:stop`.
    const commands = (readdirSync(new URL('src/commands/', root), {recursive: true}) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, '').split('/').join(':'))
      .sort()
    expect(Object.keys(manifest.commands).sort()).toEqual(commands)
    expect(manifest.version).toBe(JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version)
    expect(manifest.commands.check.flags.json).toBeDefined()
  })

  it('is shipped and never committed', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
    expect(pkg.files).toContain('oclif.manifest.json')
    expect(pkg.scripts.build).toMatch(/write-manifest/)
    expect(readFileSync(new URL('.gitignore', root), 'utf8').split('\n')).toContain('oclif.manifest.json')
  })
})
