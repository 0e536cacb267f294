#!/usr/bin/env node
// Replays recorded `tmux list-panes` answers: FAKE_TMUX_DIR/<socket basename> holds a server's output.
// A socket with no recording behaves like a stale one; FAKE_TMUX_HANG names a socket that never answers.
import fs from 'node:fs'
import path from 'node:path'

// The doctor always passes -u (UTF-8 output whatever the locale): the rest is what it asks.
const args = process.argv.slice(2).filter((a, i) => !(i === 0 && a === '-u'))
if (args[0] === '-V') {
  console.log('tmux 3.4')
  process.exit(0)
}
const socket = args[args.indexOf('-S') + 1]
if (process.env.FAKE_TMUX_HANG && socket === process.env.FAKE_TMUX_HANG) setInterval(() => {}, 1000)
else {
  const file = path.join(process.env.FAKE_TMUX_DIR ?? '', path.basename(socket))
  if (fs.existsSync(file)) process.stdout.write(fs.readFileSync(file))
  else {
    process.stderr.write(`no server running on ${socket}\n`)
    process.exit(1)
  }
}
