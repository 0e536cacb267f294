import {describe, expect, it} from 'vitest'
import {hanging, wrap} from '../src/render/width.js'

describe('wrap', () => {
  it('never leaves a number at the end of a line and its unit on the next', () => {
    expect(wrap('Next: fix 3 findings and free 59 MiB.', 33)).toBe('Next: fix 3 findings and free\n59 MiB.')
    expect(wrap('Orphan claude, 5m old, 5 MCP servers (9 processes)', 46)).toBe(
      'Orphan claude, 5m old, 5 MCP servers\n(9 processes)',
    )
    expect(wrap('then SIGKILL after 5 s', 20)).toBe('then SIGKILL after\n5 s')
    for (const line of hanging('Next: free 10.2 GiB (`gt-doctor --fix --dry-run` first)', 24, '', '  '))
      expect(line.length).toBeLessThanOrEqual(24)
  })

  it('leaves other spaces, and text that already holds its placeholder, as they are', () => {
    expect(wrap('5 MCP servers', 9)).toBe('5 MCP\nservers')
    expect(wrap('3 sessions', 8)).toBe('3\nsessions')
    expect(wrap('a\uE000b 5 MiB', 80)).toBe('a\uE000b 5 MiB')
  })
})
