import type {ProcessInfo, Snapshot} from '../snapshot/types.js'
import {formatBytes} from './format.js'

/** One process of a finding's tree, as the renderers print it. */
export interface TreeLine {
  /** `├─ ` / `└─ ` prefix that draws the tree, empty for a root. */
  prefix: string
  pid: number
  command: string
  memoryBytes?: number
}

/**
 * What a person would type: argv joined, or the kernel's name when argv is unreadable. One line: breaks
 * become spaces and other control characters `\xNN`, so an argument cannot draw on a terminal or end a block.
 */
export function commandOf(p: ProcessInfo): string {
  const joined = p.argv.join(' ').trim()
  const text = joined === '' ? `[${p.comm}]` : joined
  return text
    .replace(/[\r\n\t]/g, ' ')
    .replace(/[\u0000-\u001F\u007F-\u009F]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}

/** How long a process had been running when the snapshot was taken. */
export function elapsedMsOf(snapshot: Snapshot, p: ProcessInfo | undefined): number | undefined {
  const collected = Date.parse(snapshot.collectedAt)
  if (!p || p.startTimeMs === undefined || Number.isNaN(collected)) return undefined
  return Math.max(0, collected - p.startTimeMs)
}

const indexes = new WeakMap<Snapshot, Map<number, ProcessInfo>>()

/** pid → process, built once per snapshot: a report of 10,000 trees looks up 10,000 of them (a find each was quadratic). */
export function processIndex(snapshot: Snapshot): Map<number, ProcessInfo> {
  let index = indexes.get(snapshot)
  if (!index) indexes.set(snapshot, (index = new Map(snapshot.processes.map((p) => [p.pid, p]))))
  return index
}

/**
 * The processes `pids` covers, drawn as the tree they form: each process under its parent when the parent
 * is in the set, roots in the order given (a finding lists its root first), children by pid.
 */
export function treeLines(snapshot: Snapshot, pids: readonly number[]): TreeLine[] {
  const byPid = processIndex(snapshot)
  const members = [...new Set(pids)].map((pid) => byPid.get(pid)).filter((p): p is ProcessInfo => p !== undefined)
  const inSet = new Set(members.map((p) => p.pid))
  const children = new Map<number, ProcessInfo[]>()
  for (const p of members) {
    if (!inSet.has(p.ppid) || p.ppid === p.pid) continue
    const list = children.get(p.ppid) ?? []
    list.push(p)
    children.set(p.ppid, list)
  }
  for (const list of children.values()) list.sort((a, b) => a.pid - b.pid)
  const out: TreeLine[] = []
  const seen = new Set<number>()
  const visit = (p: ProcessInfo, lead: string, branch: string) => {
    if (seen.has(p.pid)) return
    seen.add(p.pid)
    out.push({prefix: lead + branch, pid: p.pid, command: commandOf(p), memoryBytes: p.pssBytes ?? p.rssBytes})
    const kids = children.get(p.pid) ?? []
    const next = lead + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ')
    kids.forEach((k, i) => visit(k, next, i === kids.length - 1 ? '└─ ' : '├─ '))
  }
  for (const p of members) if (!inSet.has(p.ppid) || p.ppid === p.pid) visit(p, '', '')
  // Members caught in a parent cycle have no root: still shown, flat.
  for (const p of members) visit(p, '', '')
  return out
}

/** A note report/display.ts left where it cut an argument. */
const CUT_NOTE = /…\[([\d,]+) characters cut\]/g

/** `command` cut at `max` characters, saying how many were cut (those an earlier cut took included). */
function cutCommand(command: string, max: number): string {
  if (command.length <= max) return command
  const hidden = command.slice(max)
  let cut = hidden.length
  for (const m of hidden.matchAll(CUT_NOTE)) cut += Number(m[1].replace(/,/g, '')) - m[0].length
  return `${command.slice(0, max)}…[${cut.toLocaleString('en-US')} characters cut]`
}

/** `1234 claude --resume (412 MiB)` per line, tree-drawn; commands cut at `maxCommand` characters (saying how many were cut). */
export function formatTree(lines: readonly TreeLine[], maxCommand = 240): string[] {
  return lines.map((l) => {
    const command = cutCommand(l.command, maxCommand)
    const memory = l.memoryBytes === undefined ? '' : ` (${formatBytes(l.memoryBytes)})`
    return `${l.prefix}${l.pid} ${command}${memory}`
  })
}
