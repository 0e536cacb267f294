// The top frames of a V8 CPU profile (node --cpu-prof), by self time, and the same summed per package or
// file: how the bench reads the profile it takes where a target is missed.
//
//   node bench/profile-top.js FILE.cpuprofile [N=25]
import fs from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** `nm/<package>` for node_modules, a repo-relative path for ours, `node:...` for node's own, `(gc)` and the like as is. */
function where(url) {
  if (!url) return ''
  const file = url.startsWith('file://') ? fileURLToPath(url) : url
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)
  if (nm) return `nm/${nm[1]}`
  return file.startsWith(REPO) ? path.relative(REPO, file) : file
}

export function summarize(profile, n = 25) {
  const nodes = new Map(profile.nodes.map((x) => [x.id, x]))
  const selfUs = new Map()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const frames = new Map()
  const places = new Map()
  let total = 0
  for (const [id, us] of selfUs) {
    const {callFrame: f} = nodes.get(id)
    const place = where(f.url) || f.functionName
    // Native frames (the kernel side of a syscall, the GC) have no script: their name says it all.
    const frame = f.url ? `${f.functionName || '(anonymous)'} ${place}:${f.lineNumber + 1}` : f.functionName
    frames.set(frame, (frames.get(frame) ?? 0) + us)
    places.set(place, (places.get(place) ?? 0) + us)
    total += us
  }
  const top = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({name, ms: us / 1000}))
  return {totalMs: total / 1000, frames: top(frames), places: top(places)}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = summarize(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), Number(process.argv[3] ?? 25))
  console.log(`sampled ${s.totalMs.toFixed(1)} ms\n-- self time by frame`)
  for (const f of s.frames) console.log(`${f.ms.toFixed(1).padStart(8)}  ${f.name}`)
  console.log('-- self time by package or file')
  for (const p of s.places) console.log(`${p.ms.toFixed(1).padStart(8)}  ${p.name}`)
}
