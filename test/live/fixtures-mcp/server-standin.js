#!/usr/bin/env node
// MCP server stand-in for live tests. startNamespace() copies this file to
//   ${ns.tmpdir}/mcp/node_modules/@modelcontextprotocol/server-standin/index.js
// so that its command line reads exactly like a real MCP server started by Claude Code:
//   node …/node_modules/@modelcontextprotocol/server-standin/index.js
// (node_modules/ is gitignored, so the copy cannot live in the repository.)
//
// Behaviour, like the MCP servers that outlive their Claude Code:
//   - ignores SIGHUP (survives the tmux pane's hangup);
//   - reads stdin (the JSON-RPC channel) but ignores EOF and errors: it keeps running when its claude dies;
//   - never writes to stdout/stderr, so a closed pipe cannot kill it (and Node ignores SIGPIPE anyway);
//   - SIGTERM and SIGINT end it (default action), unless STANDIN_IGNORE_TERM=1: then SIGTERM does not, and
//     STANDIN_IGNORE_INT=1: then SIGINT does not (a server that shrugs off the pane's Ctrl-C, which reaches
//     every process of the foreground process group);
//   - with STANDIN_STATE_DIR set, writes $STANDIN_STATE_DIR/<pid>.json ({"role":"mcp","pid"}) once its signal
//     handlers are in place (a process is visible in /proc before that: signal it only once ready).
// Works as CommonJS or ESM (no import/require statements).

process.on('SIGHUP', () => {})
if (process.env.STANDIN_IGNORE_TERM === '1') process.on('SIGTERM', () => {})
if (process.env.STANDIN_IGNORE_INT === '1') process.on('SIGINT', () => {})

process.stdin.on('error', () => {})
process.stdin.on('data', () => {})
process.stdin.on('end', () => {})
process.stdout.on('error', () => {})
process.stderr.on('error', () => {})

if (process.env.STANDIN_STATE_DIR) {
  const fs = process.getBuiltinModule('node:fs')
  const file = `${process.env.STANDIN_STATE_DIR}/${process.pid}.json`
  try {
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({role: 'mcp', pid: process.pid}) + '\n')
    fs.renameSync(`${file}.tmp`, file)
  } catch {}
}

// Idle forever.
setInterval(() => {}, 1 << 30)
