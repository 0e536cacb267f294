// A scripted stand-in for the Anthropic Messages API, for the real Claude Code in live tests. It listens on
// 127.0.0.1 inside the test's network namespace (nothing else is reachable there) and never sees a real key.
//
// usage: node model-server.mjs PORT READY_FILE [LOG_FILE]
//   Listens on 127.0.0.1:PORT (0: any free port), writes the port to READY_FILE (atomically) once listening,
//   and appends one JSON line per request to LOG_FILE.
//
// The script is in the prompt, so that one server serves every claude of a scene:
//   [[bg: CMD]]   the first answer is a Bash tool call {command: CMD, run_in_background: true}; once the
//                 conversation holds that call, the answer is held (see [[hold]]), so the claude stays mid-turn.
//   [[hold]]      the answer starts and is then held open with SSE pings until the client goes away: a
//                 `claude -p` that stays busy for as long as the test needs it.
//   anything else a short text answer ("ok"), so `claude -p` prints it and exits.
//   run:NAME      anywhere in the prompt: logged as {run: NAME}, so a test can wait for that claude's request.
// Requests without a Bash tool (titles, summaries, quota probes) always get a short text answer.

import fs from 'node:fs'
import http from 'node:http'

const [port, readyFile, logFile] = process.argv.slice(2)
if (!readyFile || !/^\d+$/.test(port)) {
  process.stderr.write('usage: model-server.mjs PORT READY_FILE [LOG_FILE]\n')
  process.exit(2)
}

const log = (entry) => {
  if (logFile) fs.appendFileSync(logFile, JSON.stringify({time: new Date().toISOString(), ...entry}) + '\n')
}

/** The text of a message's content, whatever its shape. */
const textOf = (content) =>
  typeof content === 'string'
    ? content
    : Array.isArray(content)
      ? content
          .map((b) => (b.type === 'text' ? b.text : b.type === 'tool_result' ? `[tool_result ${b.tool_use_id}]` : ''))
          .join('\n')
      : ''

const promptOf = (messages) =>
  messages
    .filter((m) => m.role === 'user')
    .map((m) => textOf(m.content))
    .join('\n')

/** What to answer: {kind: 'text', text} | {kind: 'bash', command} | {kind: 'hold'}. */
function decide(body) {
  const messages = Array.isArray(body.messages) ? body.messages : []
  const hasBash = Array.isArray(body.tools) && body.tools.some((t) => t?.name === 'Bash')
  if (!hasBash) return {kind: 'text', text: 'ok'}
  const prompt = promptOf(messages)
  // Once: a claude that retries or re-sends the turn must not start the command twice.
  const called = messages.some(
    (m) => m.role === 'assistant' && Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_use'),
  )
  const bg = /\[\[bg: ([^\]]+)\]\]/.exec(prompt)
  if (bg && !called) return {kind: 'bash', command: bg[1]}
  if (bg || prompt.includes('[[hold]]')) return {kind: 'hold'}
  return {kind: 'text', text: 'ok'}
}

let nextId = 1
const sse = (res, event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify({type: event, ...data})}\n\n`)

function stream(res, body, answer) {
  const id = `msg_live_${nextId++}`
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'request-id': `req_${id}`,
  })
  const usage = {input_tokens: 10, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0}
  sse(res, 'message_start', {
    message: {
      id,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  })
  if (answer.kind === 'hold') {
    // Pings keep every proxy and idle timer content; the client ends it (exit, kill) whenever it likes.
    sse(res, 'ping', {})
    const timer = setInterval(() => sse(res, 'ping', {}), 5000)
    res.on('close', () => clearInterval(timer))
    return
  }
  if (answer.kind === 'bash') {
    const toolId = `toolu_live_${nextId++}`
    sse(res, 'content_block_start', {index: 0, content_block: {type: 'tool_use', id: toolId, name: 'Bash', input: {}}})
    const input = {command: answer.command, description: 'Start the background command', run_in_background: true}
    sse(res, 'content_block_delta', {index: 0, delta: {type: 'input_json_delta', partial_json: JSON.stringify(input)}})
    sse(res, 'content_block_stop', {index: 0})
    sse(res, 'message_delta', {delta: {stop_reason: 'tool_use', stop_sequence: null}, usage: {output_tokens: 20}})
  } else {
    sse(res, 'content_block_start', {index: 0, content_block: {type: 'text', text: ''}})
    sse(res, 'content_block_delta', {index: 0, delta: {type: 'text_delta', text: answer.text}})
    sse(res, 'content_block_stop', {index: 0})
    sse(res, 'message_delta', {delta: {stop_reason: 'end_turn', stop_sequence: null}, usage: {output_tokens: 1}})
  }
  sse(res, 'message_stop', {})
  res.end()
}

function reply(res, body, answer) {
  const text = answer.kind === 'text' ? answer.text : 'ok'
  res.writeHead(200, {'content-type': 'application/json'})
  res.end(
    JSON.stringify({
      id: `msg_live_${nextId++}`,
      type: 'message',
      role: 'assistant',
      model: body.model,
      content: [{type: 'text', text}],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: {input_tokens: 10, output_tokens: 1},
    }),
  )
}

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    let body = {}
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}')
    } catch {}
    if (req.method === 'POST' && url.pathname === '/v1/messages') {
      const answer = decide(body)
      const messages = Array.isArray(body.messages) ? body.messages : []
      const shape = messages.map(
        (m) => `${m.role}:${Array.isArray(m.content) ? m.content.map((b) => b.type).join('+') : 'text'}`,
      )
      const run = /\brun:(\S+)/.exec(promptOf(messages))?.[1]
      log({
        method: req.method,
        path: url.pathname,
        run,
        model: body.model,
        stream: !!body.stream,
        tools: (body.tools ?? []).length,
        messages: shape,
        answer: answer.kind,
      })
      return body.stream ? stream(res, body, answer) : reply(res, body, answer)
    }
    if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
      log({method: req.method, path: url.pathname})
      res.writeHead(200, {'content-type': 'application/json'})
      return res.end(JSON.stringify({input_tokens: 10}))
    }
    log({method: req.method, path: url.pathname, status: 404})
    res.writeHead(404, {'content-type': 'application/json'})
    res.end(JSON.stringify({type: 'error', error: {type: 'not_found_error', message: `no ${url.pathname} here`}}))
  })
})

server.listen(Number(port), '127.0.0.1', () => {
  const tmp = `${readyFile}.${process.pid}`
  fs.writeFileSync(tmp, String(server.address().port))
  fs.renameSync(tmp, readyFile)
})
