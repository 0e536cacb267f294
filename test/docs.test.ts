import fs from 'node:fs'
import path from 'node:path'
import {describe, expect, it} from 'vitest'

const files = ['README.md', ...fs.readdirSync('docs').map((f) => path.join('docs', f)), 'examples/prometheus/README.md']

describe('the README is a front door, the docs one link away', () => {
  it('the README fits in 200 lines', () => {
    expect(fs.readFileSync('README.md', 'utf8').split('\n').length).toBeLessThanOrEqual(200)
  })

  it('every doc is linked from the README', () => {
    const readme = fs.readFileSync('README.md', 'utf8')
    for (const f of fs.readdirSync('docs')) expect(readme, f).toContain(`(docs/${f})`)
  })

  it.each(files)('every relative link in %s names a file that exists', (file) => {
    const text = fs.readFileSync(file, 'utf8')
    const links = [...text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l))
    expect(links.length).toBeGreaterThan(0)
    for (const l of links) expect(fs.existsSync(path.join(path.dirname(file), l)), `${file}: ${l}`).toBe(true)
  })

  it('no doc tells people to install a package that is not on the npm registry', () => {
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8')
      expect(text, file).not.toMatch(/npm (install|i) -g gt-doctor(\s|$)/)
      expect(text, file).not.toMatch(/plugins install gt-doctor-plugin/)
    }
  })
})
