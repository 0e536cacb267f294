#!/usr/bin/env node
// Writes oclif.manifest.json: the command list with every command's flags and help, so that oclif starts
// without importing (and globbing for) every command module. Run by `npm run build` after tsc, every time,
// so the manifest can never describe another build (a stale one hides commands). Not committed (.gitignore);
// published through package.json `files`. The same as `oclif manifest`, whose CLI needs a newer Node.
import {rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {Plugin, settings} from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const file = join(root, 'oclif.manifest.json')
settings.enableAutoTranspile = false
rmSync(file, {force: true})
const plugin = new Plugin({root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true})
await plugin.load()
writeFileSync(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
process.stdout.write(`wrote ${Object.keys(plugin.manifest.commands).length} commands to oclif.manifest.json\n`)
