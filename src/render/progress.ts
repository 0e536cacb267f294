import type {CollectStep} from '../snapshot/collect.js'
import {wrap} from './width.js'

/** What collection is doing, in a few words: what a person waits on. */
export function describeStep(step: Exclude<CollectStep, {step: 'done'}>): string {
  if (step.step === 'processes') return 'Reading processes…'
  const waiting =
    step.waitingFor.length === 1
      ? ` (waiting for ${step.waitingFor[0]})`
      : step.waitingFor.length > 1
        ? ` (waiting for ${step.waitingFor.length})`
        : ''
  return `Asking tmux servers: ${step.answered} of ${step.total} answered${waiting}…`
}

/**
 * One status line on a terminal (stderr, so stdout keeps only the report), rewritten in place and erased
 * by `done()`; never wider than the terminal, so it never wraps and leaves a line behind.
 */
export function statusLine(stream: NodeJS.WriteStream = process.stderr): {
  update(step: CollectStep): void
  done(): void
} {
  let shown = false
  const done = () => {
    if (shown) stream.write('\r\u001b[2K')
    shown = false
  }
  const update = (step: CollectStep) => {
    if (step.step === 'done') return done()
    stream.write(`\r\u001b[2K${wrap(describeStep(step), Math.max(10, (stream.columns || 80) - 1)).split('\n')[0]}`)
    shown = true
  }
  return {update, done}
}
