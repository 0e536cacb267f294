import {describe, expect, it} from 'vitest'
import {maxOf} from '../src/render/format.js'
import {chart} from '../src/render/history.js'
import {codeBlock, codeSpan} from '../src/render/markdown.js'

// Math.max(...values) overflows the stack past about 120,000 arguments: each of these threw RangeError.
describe('renderers take inputs far larger than a spread can', () => {
  it('charts a history of 200,000 runs (about what the 64 MiB read limit holds)', () => {
    const values = Array.from({length: 200_000}, (_, i) => i % 7)
    const lines = chart('Orphans', values, {color: false, width: 80}).split('\n')
    expect(lines[0]).toBe('Orphans')
    expect(lines[1]).toMatch(/^ *6 /)
  })

  it('fences a code span or block around 300,000 runs of backticks', () => {
    expect(codeSpan('``a'.repeat(300_000)).startsWith('```')).toBe(true)
    expect(codeBlock(Array(300_000).fill('````')).split('\n')[0]).toBe('`````text')
  })

  it('maxOf is Math.max with a floor', () => {
    expect(maxOf([])).toBe(0)
    expect(maxOf([3, 9, 2])).toBe(9)
    expect(maxOf([-5, -2], -Infinity)).toBe(-2)
  })
})
