/**
 * The package as a person installs it: `npm pack` on a clean tree (no dist/, no manifest: prepack builds
 * them), the tarball installed into an empty global prefix from npm's cache (the one `npm ci` filled),
 * then the installed command run from another directory, and the example plugin linked into it.
 * oclif's and npm's directories are private to the test.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import fs from 'node:fs'
import {createRequire} from 'node:module'
import os from 'node:os'
import path from 'node:path'
import Ajv from 'ajv'
import addFormats from 'ajv-formats'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

const REPO_ROOT = path.resolve(import.meta.dirname, '..')

const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8'))
const work = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'gt-pack-')))
const prefix = path.join(work, 'prefix')
const installed = path.join(prefix, 'lib', 'node_modules', 'gt-doctor')
const elsewhere = path.join(work, 'elsewhere')
/** npm's own settings from `npm test` (npm_config_prefix, npm_lifecycle_*) must not steer the npm we run. */
const env = () => {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)))
  return {
    ...clean,
    XDG_DATA_HOME: path.join(work, 'data'),
    XDG_CONFIG_HOME: path.join(work, 'config'),
    XDG_CACHE_HOME: path.join(work, 'cache'),
    NO_COLOR: '1',
  } as NodeJS.ProcessEnv
}
const run = (cmd: string, args: string[], cwd: string, timeout = 240_000) => {
  const r = spawnSync(cmd, args, {cwd, env: env(), encoding: 'utf8', timeout})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal}
}
const gtDoctor = (args: string[]) => run(path.join(prefix, 'bin', 'gt-doctor'), args, elsewhere, 60_000)

let tarball: string
/** How the dependencies were installed: from the cache alone, or (a cache without their metadata) the registry. */
let installMode: 'offline' | 'registry'

describe('the packed tarball, installed into an empty global prefix', () => {
  beforeAll(() => {
    // A clean tree: the files git would commit (tracked or new), no build output; the dev dependencies linked.
    const tree = path.join(work, 'tree')
    const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f && fs.existsSync(path.join(REPO_ROOT, f)))
    for (const f of files) {
      fs.mkdirSync(path.dirname(path.join(tree, f)), {recursive: true})
      fs.copyFileSync(path.join(REPO_ROOT, f), path.join(tree, f))
    }
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(tree, 'node_modules'))
    const packed = run('npm', ['pack', '--pack-destination', work], tree)
    expect(packed.code, packed.stderr).toBe(0)
    tarball = path.join(work, `gt-doctor-${pkg.version}.tgz`)

    fs.mkdirSync(prefix)
    fs.mkdirSync(elsewhere)
    const install = (mode: string) =>
      run('npm', ['install', '--global', mode, '--prefix', prefix, '--no-audit', '--no-fund', tarball], elsewhere)
    let r = install('--offline')
    installMode = 'offline'
    if (r.code !== 0 && /ENOTCACHED/.test(r.stderr)) {
      // `npm ci` caches tarballs but not the registry's metadata, which an install without a lockfile needs.
      r = install('--prefer-offline')
      installMode = 'registry'
    }
    expect(r.code, r.stderr).toBe(0)
    process.stderr.write(
      `package.test: dependencies installed ${installMode === 'offline' ? "from npm's cache alone (--offline)" : "with the registry's metadata (the cache had only the tarballs)"}\n`,
    )
  }, 480_000)
  afterAll(() => fs.rmSync(work, {recursive: true, force: true}))

  it('prepack built dist/ and the command manifest; the tarball holds the license and the schemas, no tests', () => {
    const list = execFileSync('tar', ['tzf', tarball], {encoding: 'utf8'}).split('\n')
    for (const f of [
      'dist/src/index.js',
      'dist/src/commands/check.js',
      'oclif.manifest.json',
      'LICENSE',
      'README.md',
      'src/report/report-v1.schema.json',
      'src/snapshot/snapshot-v1.schema.json',
      'examples/prometheus/gt-doctor.rules.yml',
    ])
      expect(list, f).toContain(`package/${f}`)
    expect(list.filter((f) => /^package\/(test|dist\/test|fixtures)\//.test(f))).toEqual([])
    const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'oclif.manifest.json'), 'utf8'))
    expect(Object.keys(manifest.commands)).toContain('check')
    expect(manifest.version).toBe(pkg.version)
  })

  it(`installs (dependencies from npm's cache, or the registry when the cache lacks their metadata)`, () => {
    expect(['offline', 'registry']).toContain(installMode)
    expect(fs.existsSync(path.join(prefix, 'bin', 'gt-doctor'))).toBe(true)
  })

  it('`gt-doctor --version` runs from another directory', () => {
    const r = gtDoctor(['--version'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^gt-doctor/${pkg.version.replaceAll('.', '\\.')} linux-`))
  })

  it('`gt-doctor check --json` reports this machine within the schema the package exports under its $id', () => {
    const r = gtDoctor(['check', '--json'])
    expect([0, 1], r.stderr).toContain(r.code)
    const report = JSON.parse(r.stdout)
    expect(report.schemaVersion).toBe(1)
    // The schema's $id is the package's export: it resolves to the shipped file, no network.
    const shipped = JSON.parse(fs.readFileSync(path.join(installed, 'src/report/report-v1.schema.json'), 'utf8'))
    const resolved = createRequire(path.join(prefix, 'lib', 'node_modules', 'x.js')).resolve(shipped.$id)
    expect(resolved).toBe(path.join(installed, 'src/report/report-v1.schema.json'))
    const snapshotId = JSON.parse(
      fs.readFileSync(path.join(installed, 'src/snapshot/snapshot-v1.schema.json'), 'utf8'),
    ).$id
    expect(createRequire(path.join(prefix, 'lib', 'node_modules', 'x.js')).resolve(snapshotId)).toBe(
      path.join(installed, 'src/snapshot/snapshot-v1.schema.json'),
    )
    const ajv = new Ajv({allErrors: true})
    addFormats(ajv)
    const validate = ajv.compile(shipped)
    expect(validate(report), ajv.errorsText(validate.errors)).toBe(true)
  })

  it('links the example plugin, whose check then runs', () => {
    const plugin = path.join(installed, 'examples', 'plugin-stale-sockets')
    const linked = gtDoctor(['plugins', 'link', plugin, '--no-install'])
    expect(linked.code, linked.stderr).toBe(0)
    const r = gtDoctor(['checks', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout).find((c: {id: string}) => c.id === 'stale-tmux-socket')?.source).toBe(
      'plugin gt-doctor-plugin-stale-sockets@0.1.0',
    )
  })
})
