// A fake LLM provider for the SDK tests: one Node http server on 127.0.0.1,
// port 0, that answers like
//   - an OpenAI Chat Completions upstream  POST /v1/chat/completions
//   - an Anthropic Messages upstream        POST /v1/messages (+ /count_tokens)
//   - an OpenAI Responses upstream          POST /v1/responses
//   - a Google Gemini upstream              POST /v1/models/<m>:generateContent
//                                           POST /v1/models/<m>:streamGenerateContent?alt=sse
// in JSON and in SSE, in each protocol's exact wire shape.
//
// It records every request (path, headers, parsed body) so tests can assert on
// what the router sent, and validates requests the way a strict upstream
// would: a request that the real API would reject (missing max_tokens,
// missing anthropic-version, a tool message without tool_call_id, a wrong
// key, ...) gets a 400/401 in that protocol's error shape, so a translation
// bug shows up as a failing SDK call and in `upstream.rejections`.
//
// Script (by the model name the upstream receives, and by the conversation):
//   model "fail-400"                    -> 400 in the protocol's error shape,
//                                          message FAIL_MESSAGE
//   tools offered, last turn not a tool result
//                                       -> a call to the first tool with
//                                          arguments TOOL_ARGS (streamed in
//                                          pieces when stream is on)
//   last turn is a tool result          -> text "Weather in Paris: <result>"
//   otherwise                           -> text "Hello from <route>! You said: <last user text>"
// Usage is always USAGE.in input tokens and USAGE.out output tokens.
//
// Scripted replies (exact upstream transcripts, for the fidelity tests):
// `upstream.script(model, ...replies)` queues replies for requests whose
// upstream model (body.model, or the Gemini path's model) is `model`; each
// such request is validated as usual and then answered with the next reply:
//   { json: <object>, status?: 200 }   -> that JSON body
//   { sse: [<event>, ...] }            -> text/event-stream; each event is one
//        write: a string is written verbatim, { event?, data } as
//        `event: <event>\n` (when given) + `data: <JSON of data, or data if a
//        string>\n\n`
// A model whose name starts with SCRIPTED_PREFIX and has no reply left gets
// a 500, so a test never silently falls back to the default script.
//
// Fixed text (for agent harnesses, whose number and order of requests is not
// theirs to script): `upstream.fixedText(model, text)` makes every request
// for the upstream model `model`, in any protocol, JSON or SSE, validated as
// usual, answered with exactly `text` as plain text and no tool call, even
// when tools are offered or the last turn is a tool result.

import http from 'node:http';

export const UPSTREAM_KEYS = { openai: 'upstream-oai-key', anthropic: 'upstream-ant-key', google: 'upstream-gem-key' };
export const SCRIPTED_PREFIX = 'scripted';
export const FAIL_MODEL = 'fail-400';
export const FAIL_MESSAGE = 'fake upstream rejects model fail-400';
export const TOOL_ARGS = { city: 'Paris', unit: 'celsius' };
export const USAGE = { in: 11, out: 7 };
export const COUNT_TOKENS = 42;

// The pieces a streamed text or argument string is cut into: the client must
// reassemble them, so they deliberately split words and JSON tokens.
export function pieces(s, n = 3) {
  const out = [];
  const size = Math.max(1, Math.ceil(s.length / n));
  for (let i = 0; i < s.length; i += size) out.push(s.slice(i, i + size));
  return out;
}

function textOf(content) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (typeof p === 'string' ? p : (p.text ?? '')))
      .join('');
  }
  return '';
}

class Rejection extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function check(cond, message, status = 400) {
  if (!cond) throw new Rejection(status, message);
}

// ---------------------------------------------------------------- Chat

function validateChat(req) {
  const auth = req.headers['authorization'] ?? '';
  check(auth === `Bearer ${UPSTREAM_KEYS.openai}`, `bad Authorization header: ${JSON.stringify(auth)}`, 401);
  const b = req.body;
  check(b && typeof b === 'object' && !Array.isArray(b), 'body must be a JSON object');
  check(typeof b.model === 'string' && b.model.length > 0, 'model must be a non-empty string');
  check(Array.isArray(b.messages) && b.messages.length > 0, 'messages must be a non-empty array');
  const toolIds = new Set();
  for (const [i, m] of b.messages.entries()) {
    check(['system', 'developer', 'user', 'assistant', 'tool'].includes(m.role), `messages[${i}].role ${JSON.stringify(m.role)} is invalid`);
    if (m.role === 'tool') {
      check(typeof m.tool_call_id === 'string', `messages[${i}].tool_call_id is required`);
      check(toolIds.has(m.tool_call_id), `messages[${i}].tool_call_id ${m.tool_call_id} answers no earlier tool call`);
    }
    if (m.role === 'assistant' && m.tool_calls !== undefined) {
      check(Array.isArray(m.tool_calls) && m.tool_calls.length > 0, `messages[${i}].tool_calls must be a non-empty array`);
      for (const tc of m.tool_calls) {
        check(typeof tc.id === 'string' && tc.type === 'function', `messages[${i}].tool_calls[].id/type invalid`);
        check(typeof tc.function?.name === 'string', `messages[${i}].tool_calls[].function.name missing`);
        check(typeof tc.function?.arguments === 'string', `messages[${i}].tool_calls[].function.arguments must be a string`);
        toolIds.add(tc.id);
      }
    } else if (m.role !== 'tool') {
      check(m.content !== undefined && m.content !== null, `messages[${i}].content is required`);
    }
  }
  if (b.tools !== undefined) {
    check(Array.isArray(b.tools), 'tools must be an array');
    for (const t of b.tools) check(t.type === 'function' && typeof t.function?.name === 'string', 'tools[] must be {type:function, function:{name}}');
  }
  if (b.stream_options !== undefined) check(b.stream === true, 'stream_options is only allowed with stream: true');
  if (b.max_tokens !== undefined) check(Number.isInteger(b.max_tokens), 'max_tokens must be an integer');
  if (b.max_completion_tokens !== undefined) check(Number.isInteger(b.max_completion_tokens), 'max_completion_tokens must be an integer');
}

function chatTurn(b) {
  const last = b.messages.at(-1);
  if (last.role === 'tool') return { toolResult: textOf(last.content) };
  const user = [...b.messages].reverse().find((m) => m.role === 'user');
  const tools = Array.isArray(b.tools) && b.tools.length > 0 && b.tool_choice !== 'none';
  return { userText: textOf(user?.content), tool: tools ? b.tools[0].function.name : null };
}

function replyText(route, turn) {
  if (turn.fixed !== undefined) return turn.fixed;
  if (turn.toolResult !== undefined) return `Weather in Paris: ${turn.toolResult}`;
  return `Hello from ${route}! You said: ${turn.userText}`;
}

function chatAnswer(b, res, state, opts = {}) {
  const turn = opts.fixedText !== undefined ? { fixed: opts.fixedText } : chatTurn(b);
  const id = `chatcmpl-fake-${++state.seq}`;
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: USAGE.in, completion_tokens: USAGE.out, total_tokens: USAGE.in + USAGE.out };
  const args = JSON.stringify(TOOL_ARGS);
  const callId = `call_fake_${state.seq}`;
  if (!b.stream) {
    const message = turn.tool
      ? { role: 'assistant', content: null, tool_calls: [{ id: callId, type: 'function', function: { name: turn.tool, arguments: args } }], refusal: null }
      : { role: 'assistant', content: replyText('fake-openai', turn), refusal: null };
    return sendJSON(res, 200, {
      id, object: 'chat.completion', created, model: b.model, system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message, logprobs: null, finish_reason: turn.tool ? 'tool_calls' : 'stop' }],
      usage,
    });
  }
  startSSE(res);
  const chunk = (choices, extra = {}) =>
    writeData(res, { id, object: 'chat.completion.chunk', created, model: b.model, system_fingerprint: 'fp_fake', choices, ...extra });
  if (turn.tool) {
    chunk([{ index: 0, delta: { role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type: 'function', function: { name: turn.tool, arguments: '' } }] }, logprobs: null, finish_reason: null }]);
    for (const p of pieces(args, 4)) chunk([{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: p } }] }, logprobs: null, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'tool_calls' }]);
  } else {
    chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }]);
    for (const p of pieces(replyText('fake-openai', turn), 4)) chunk([{ index: 0, delta: { content: p }, logprobs: null, finish_reason: null }]);
    chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
  }
  if (b.stream_options?.include_usage) chunk([], { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}

// ---------------------------------------------------------------- Messages

function validateMessages(req, countTokens = false) {
  const key = req.headers['x-api-key'] ?? '';
  check(key === UPSTREAM_KEYS.anthropic, `bad x-api-key header: ${JSON.stringify(key)}`, 401);
  check(/^\d{4}-\d{2}-\d{2}$/.test(req.headers['anthropic-version'] ?? ''), 'anthropic-version header is required (YYYY-MM-DD)');
  const b = req.body;
  check(b && typeof b === 'object' && !Array.isArray(b), 'body must be a JSON object');
  check(typeof b.model === 'string' && b.model.length > 0, 'model: Field required');
  if (!countTokens) check(Number.isInteger(b.max_tokens) && b.max_tokens > 0, 'max_tokens: Field required (positive integer)');
  check(Array.isArray(b.messages) && b.messages.length > 0, 'messages: Field required');
  check(b.messages[0].role === 'user', 'messages: first message must use the "user" role');
  if (b.system !== undefined) check(typeof b.system === 'string' || Array.isArray(b.system), 'system must be a string or an array of text blocks');
  // Mid-conversation system messages (text only) are accepted with the beta
  // Claude Code sends them under (mid-conversation-tool-changes-*); without
  // it they are refused, and Claude Code retries with the text in a user turn.
  const midSystem = /\bmid-conversation-tool-changes-/.test(req.headers['anthropic-beta'] ?? '');
  const toolIds = new Set();
  for (const [i, m] of b.messages.entries()) {
    if (midSystem && i > 0 && m.role === 'system') {
      check(typeof m.content === 'string' || (Array.isArray(m.content) && m.content.every((c) => c.type === 'text' && typeof c.text === 'string')),
        `messages.${i}: a system message holds text only`);
      continue;
    }
    check(m.role === 'user' || m.role === 'assistant', `messages.${i}.role: Input should be 'user' or 'assistant'`);
    check(typeof m.content === 'string' || Array.isArray(m.content), `messages.${i}.content must be a string or array`);
    if (!Array.isArray(m.content)) continue;
    for (const [j, c] of m.content.entries()) {
      check(['text', 'image', 'tool_use', 'tool_result', 'document', 'thinking', 'redacted_thinking'].includes(c.type), `messages.${i}.content.${j}.type ${JSON.stringify(c.type)} is invalid`);
      if (c.type === 'text') check(typeof c.text === 'string', `messages.${i}.content.${j}.text must be a string`);
      if (c.type === 'tool_use') {
        check(m.role === 'assistant', `messages.${i}: tool_use blocks belong to assistant turns`);
        check(typeof c.id === 'string' && typeof c.name === 'string', `messages.${i}.content.${j}: tool_use needs id and name`);
        check(c.input && typeof c.input === 'object' && !Array.isArray(c.input), `messages.${i}.content.${j}.input must be an object`);
        toolIds.add(c.id);
      }
      if (c.type === 'tool_result') {
        check(m.role === 'user', `messages.${i}: tool_result blocks belong to user turns`);
        check(toolIds.has(c.tool_use_id), `messages.${i}.content.${j}: tool_use_id ${c.tool_use_id} answers no tool_use block`);
      }
    }
  }
  if (b.tools !== undefined) {
    check(Array.isArray(b.tools), 'tools must be an array');
    for (const t of b.tools) check(typeof t.name === 'string' && t.input_schema && typeof t.input_schema === 'object', 'tools[] must be {name, input_schema}');
  }
  for (const f of ['stream_options', 'n', 'frequency_penalty', 'presence_penalty', 'logprobs', 'response_format', 'max_completion_tokens']) {
    check(b[f] === undefined, `${f}: Extra inputs are not permitted`);
  }
}

function messagesTurn(b) {
  const last = b.messages.at(-1);
  if (Array.isArray(last.content)) {
    const tr = last.content.find((c) => c.type === 'tool_result');
    if (tr) return { toolResult: textOf(tr.content) };
  }
  const user = [...b.messages].reverse().find((m) => m.role === 'user');
  const tools = Array.isArray(b.tools) && b.tools.length > 0 && b.tool_choice?.type !== 'none';
  return { userText: textOf(user?.content), tool: tools ? b.tools[0].name : null };
}

function sseEvent(res, type, data) {
  res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
}

function messagesAnswer(b, res, state, opts = {}) {
  const turn = opts.fixedText !== undefined ? { fixed: opts.fixedText } : messagesTurn(b);
  const id = `msg_fake_${++state.seq}`;
  const toolId = `toolu_fake_${state.seq}`;
  const preamble = 'Let me check the weather.';
  if (!b.stream) {
    const content = turn.tool
      ? [{ type: 'text', text: preamble }, { type: 'tool_use', id: toolId, name: turn.tool, input: TOOL_ARGS }]
      : [{ type: 'text', text: replyText('fake-anthropic', turn) }];
    return sendJSON(res, 200, {
      id, type: 'message', role: 'assistant', model: b.model, content,
      stop_reason: turn.tool ? 'tool_use' : 'end_turn', stop_sequence: null,
      usage: { input_tokens: USAGE.in, output_tokens: USAGE.out, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    });
  }
  startSSE(res);
  sseEvent(res, 'message_start', {
    message: {
      id, type: 'message', role: 'assistant', model: b.model, content: [], stop_reason: null, stop_sequence: null,
      usage: { input_tokens: USAGE.in, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
  const textBlock = (index, text) => {
    sseEvent(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
    for (const p of pieces(text, 4)) sseEvent(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: p } });
    sseEvent(res, 'content_block_stop', { index });
  };
  sseEvent(res, 'ping', {});
  if (turn.tool) {
    textBlock(0, preamble);
    sseEvent(res, 'content_block_start', { index: 1, content_block: { type: 'tool_use', id: toolId, name: turn.tool, input: {} } });
    sseEvent(res, 'content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const p of pieces(JSON.stringify(TOOL_ARGS), 4)) sseEvent(res, 'content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: p } });
    sseEvent(res, 'content_block_stop', { index: 1 });
  } else {
    textBlock(0, replyText('fake-anthropic', turn));
  }
  sseEvent(res, 'message_delta', { delta: { stop_reason: turn.tool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: USAGE.out } });
  sseEvent(res, 'message_stop', {});
  res.end();
}

// ---------------------------------------------------------------- Responses

function validateResponses(req) {
  const auth = req.headers['authorization'] ?? '';
  check(auth === `Bearer ${UPSTREAM_KEYS.openai}`, `bad Authorization header: ${JSON.stringify(auth)}`, 401);
  const b = req.body;
  check(b && typeof b === 'object' && !Array.isArray(b), 'body must be a JSON object');
  check(typeof b.model === 'string' && b.model.length > 0, 'model must be a non-empty string');
  check(typeof b.input === 'string' || (Array.isArray(b.input) && b.input.length > 0), 'input must be a string or a non-empty array');
  check(b.messages === undefined, "Unrecognized request argument supplied: messages");
  if (Array.isArray(b.input)) {
    const callIds = new Set();
    for (const [i, it] of b.input.entries()) {
      const type = it.type ?? 'message';
      check(['message', 'function_call', 'function_call_output', 'reasoning'].includes(type), `input[${i}].type ${JSON.stringify(type)} is invalid`);
      if (type === 'message') check(['user', 'assistant', 'system', 'developer'].includes(it.role), `input[${i}].role invalid`);
      if (type === 'function_call') {
        check(typeof it.call_id === 'string' && typeof it.name === 'string' && typeof it.arguments === 'string', `input[${i}]: function_call needs call_id, name, arguments (string)`);
        callIds.add(it.call_id);
      }
      if (type === 'function_call_output') check(callIds.has(it.call_id), `input[${i}].call_id ${it.call_id} answers no function_call`);
    }
  }
  if (b.tools !== undefined) {
    check(Array.isArray(b.tools), 'tools must be an array');
    for (const t of b.tools) checkResponsesTool(t);
  }
}

// Function tools are flat ({type:function, name}, not Chat-shaped); Codex
// also sends `custom` tools, `namespace` groups of functions and hosted tools.
const RESPONSES_HOSTED_TOOLS = ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'image_generation', 'mcp', 'local_shell', 'computer_use_preview'];
function checkResponsesTool(t, inNamespace = false) {
  if (t.type === 'function') {
    check(typeof t.name === 'string' && t.function === undefined, 'tools[] must be {type:function, name} (flat, not Chat-shaped)');
  } else if (t.type === 'custom') {
    check(typeof t.name === 'string', 'tools[]: a custom tool needs a name');
  } else if (t.type === 'namespace' && !inNamespace) {
    check(typeof t.name === 'string' && Array.isArray(t.tools) && t.tools.length > 0, 'tools[]: a namespace needs a name and tools');
    for (const n of t.tools) checkResponsesTool(n, true);
  } else {
    check(!inNamespace && RESPONSES_HOSTED_TOOLS.includes(t.type), `tools[].type ${JSON.stringify(t.type)} is invalid`);
  }
}

function responsesTurn(b) {
  if (typeof b.input === 'string') return { userText: b.input, tool: b.tools?.length ? b.tools[0].name : null };
  const last = b.input.at(-1);
  if (last.type === 'function_call_output') return { toolResult: typeof last.output === 'string' ? last.output : textOf(last.output) };
  const user = [...b.input].reverse().find((m) => (m.type ?? 'message') === 'message' && m.role === 'user');
  const tools = Array.isArray(b.tools) && b.tools.length > 0 && b.tool_choice !== 'none';
  return { userText: textOf(user?.content), tool: tools ? b.tools[0].name : null };
}

function responsesAnswer(b, res, state, opts = {}) {
  const turn = opts.fixedText !== undefined ? { fixed: opts.fixedText } : responsesTurn(b);
  const seq = ++state.seq;
  const id = `resp_fake_${seq}`;
  const created_at = Math.floor(Date.now() / 1000);
  const usage = {
    input_tokens: USAGE.in, input_tokens_details: { cached_tokens: 0 },
    output_tokens: USAGE.out, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: USAGE.in + USAGE.out,
  };
  const text = turn.tool ? null : replyText('fake-responses', turn);
  const args = JSON.stringify(TOOL_ARGS);
  const item = turn.tool
    ? { type: 'function_call', id: `fc_fake_${seq}`, call_id: `call_fake_${seq}`, name: turn.tool, arguments: args, status: 'completed' }
    : { type: 'message', id: `msg_fake_${seq}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] };
  const base = {
    id, object: 'response', created_at, model: b.model, error: null, incomplete_details: null,
    instructions: b.instructions ?? null, parallel_tool_calls: true, tool_choice: b.tool_choice ?? 'auto', tools: b.tools ?? [],
    temperature: 1, top_p: 1, metadata: {}, text: { format: { type: 'text' } },
  };
  const done = { ...base, status: 'completed', output: [item], usage, output_text: undefined };
  delete done.output_text;
  if (!b.stream) return sendJSON(res, 200, done);
  startSSE(res);
  let n = 0;
  const ev = (type, data) => sseEvent(res, type, { sequence_number: n++, ...data });
  ev('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  ev('response.in_progress', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  if (turn.tool) {
    ev('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    for (const p of pieces(args, 4)) ev('response.function_call_arguments.delta', { item_id: item.id, output_index: 0, delta: p });
    ev('response.function_call_arguments.done', { item_id: item.id, output_index: 0, arguments: args });
    ev('response.output_item.done', { output_index: 0, item });
  } else {
    ev('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    ev('response.content_part.added', { item_id: item.id, output_index: 0, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    for (const p of pieces(text, 4)) ev('response.output_text.delta', { item_id: item.id, output_index: 0, content_index: 0, delta: p, logprobs: [] });
    ev('response.output_text.done', { item_id: item.id, output_index: 0, content_index: 0, text, logprobs: [] });
    ev('response.content_part.done', { item_id: item.id, output_index: 0, content_index: 0, part: item.content[0] });
    ev('response.output_item.done', { output_index: 0, item });
  }
  ev('response.completed', { response: done });
  res.end();
}

// ---------------------------------------------------------------- Gemini

const GEMINI_PATH = /^\/v1\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function validateGemini(req) {
  const key = req.headers['x-goog-api-key'] ?? '';
  check(key === UPSTREAM_KEYS.google, `bad x-goog-api-key header: ${JSON.stringify(key)}`, 401);
  check(req.headers['authorization'] === undefined, 'Authorization header sent to Gemini');
  if (req.method === 'streamGenerateContent') check(req.query.get('alt') === 'sse', 'streamGenerateContent without alt=sse');
  const b = req.body;
  check(b && typeof b === 'object' && !Array.isArray(b), 'body must be a JSON object');
  check(b.model === undefined && b.messages === undefined, 'Invalid JSON payload received. Unknown name "model"/"messages"');
  check(Array.isArray(b.contents) && b.contents.length > 0, 'contents is not specified');
  for (const [i, c] of b.contents.entries()) {
    check(c.role === undefined || c.role === 'user' || c.role === 'model', `contents[${i}].role must be user or model`);
    check(Array.isArray(c.parts) && c.parts.length > 0, `contents[${i}].parts must be a non-empty array`);
  }
}

function geminiAnswer(b, res, state, req) {
  ++state.seq;
  const user = [...b.contents].reverse().find((c) => (c.role ?? 'user') === 'user');
  const text = req.fixedText ?? `Hello from fake-gemini! You said: ${(user?.parts ?? []).map((p) => p.text ?? '').join('')}`;
  const usageMetadata = { promptTokenCount: USAGE.in, candidatesTokenCount: USAGE.out, totalTokenCount: USAGE.in + USAGE.out };
  const modelVersion = req.model;
  if (req.method === 'generateContent') {
    return sendJSON(res, 200, {
      candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
      usageMetadata, modelVersion,
    });
  }
  startSSE(res);
  const ps = pieces(text, 3);
  ps.forEach((p, i) => {
    const last = i === ps.length - 1;
    writeData(res, {
      candidates: [{ content: { role: 'model', parts: [{ text: p }] }, index: 0, ...(last ? { finishReason: 'STOP' } : {}) }],
      ...(last ? { usageMetadata } : {}), modelVersion,
    });
  });
  res.end();
}

// ---------------------------------------------------------------- scripted

function sendScripted(res, reply) {
  if (reply.json !== undefined) return sendJSON(res, reply.status ?? 200, reply.json);
  if (!Array.isArray(reply.sse)) throw new Error(`scripted reply needs json or sse: ${JSON.stringify(reply)}`);
  res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const e of reply.sse) {
    if (typeof e === 'string') {
      res.write(e);
      continue;
    }
    const data = typeof e.data === 'string' ? e.data : JSON.stringify(e.data);
    res.write(`${e.event ? `event: ${e.event}\n` : ''}data: ${data}\n\n`);
  }
  res.end();
}

// ---------------------------------------------------------------- server

function sendJSON(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function startSSE(res) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

function writeData(res, obj) {
  res.write(`data: ${JSON.stringify(obj)}\n\n`);
}

// The error body a real upstream of this protocol sends.
function sendProtocolError(res, protocol, status, message) {
  if (protocol === 'google') {
    const st = status === 401 ? 'UNAUTHENTICATED' : status === 404 ? 'NOT_FOUND' : status >= 500 ? 'INTERNAL' : 'INVALID_ARGUMENT';
    return sendJSON(res, status, { error: { code: status, message, status: st } });
  }
  if (protocol === 'anthropic') {
    const type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : 'invalid_request_error';
    return sendJSON(res, status, { type: 'error', error: { type, message } });
  }
  const type = status === 401 ? 'invalid_api_key' : 'invalid_request_error';
  return sendJSON(res, status, { error: { message, type, param: null, code: status === 401 ? 'invalid_api_key' : null } });
}

const ROUTES = {
  '/v1/chat/completions': { protocol: 'openai', validate: validateChat, answer: chatAnswer },
  '/v1/messages': { protocol: 'anthropic', validate: (r) => validateMessages(r), answer: messagesAnswer },
  '/v1/messages/count_tokens': {
    protocol: 'anthropic',
    validate: (r) => validateMessages(r, true),
    answer: (b, res) => sendJSON(res, 200, { input_tokens: COUNT_TOKENS }),
  },
  '/v1/responses': { protocol: 'openai', validate: validateResponses, answer: responsesAnswer },
};

export async function startFakeUpstream() {
  const state = { seq: 0 };
  const scripts = new Map(); // model -> queue of scripted replies
  const fixed = new Map(); // model -> the text every answer for it carries
  const requests = [];   // every request, in arrival order
  const rejections = []; // {path, status, message} for requests the fake refused
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      let body;
      try {
        body = raw.length ? JSON.parse(raw) : undefined;
      } catch {
        body = undefined;
      }
      const record = { method: req.method, path: url.pathname, query: url.search, headers: { ...req.headers }, raw, body };
      requests.push(record);
      const gem = GEMINI_PATH.exec(url.pathname);
      const route = gem
        ? { protocol: 'google', validate: validateGemini, answer: geminiAnswer }
        : ROUTES[url.pathname];
      if (!route || req.method !== 'POST') {
        rejections.push({ path: url.pathname, status: 404, message: `no route ${req.method} ${url.pathname}` });
        const protocol = url.pathname.startsWith('/v1/messages') ? 'anthropic' : url.pathname.startsWith('/v1/models/') ? 'google' : 'openai';
        return sendProtocolError(res, protocol, 404, `fake upstream has no route ${req.method} ${url.pathname}`);
      }
      const model = gem ? decodeURIComponent(gem[1]) : body?.model;
      record.model = model;
      try {
        check(body !== undefined, `body is not valid JSON: ${raw.slice(0, 200)}`);
        route.validate({ headers: req.headers, body, query: url.searchParams, method: gem?.[2] });
      } catch (e) {
        if (!(e instanceof Rejection)) throw e;
        rejections.push({ path: url.pathname, status: e.status, message: e.message });
        return sendProtocolError(res, route.protocol, e.status, `fake upstream: ${e.message}`);
      }
      const queue = scripts.get(model);
      if (queue?.length) {
        record.scripted = true;
        return sendScripted(res, queue.shift());
      }
      if (typeof model === 'string' && model.startsWith(SCRIPTED_PREFIX)) {
        rejections.push({ path: url.pathname, status: 500, message: `no scripted reply left for model ${model}` });
        return sendProtocolError(res, route.protocol, 500, `fake upstream: no scripted reply left for model ${model}`);
      }
      if (model === FAIL_MODEL) return sendProtocolError(res, route.protocol, 400, FAIL_MESSAGE);
      route.answer(body, res, state, { model, method: gem?.[2], fixedText: fixed.get(model) });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.address().port;
  return {
    port,
    requests,
    rejections,
    // Queues scripted replies for the upstream model `model` (see the header).
    script(model, ...replies) {
      if (!scripts.has(model)) scripts.set(model, []);
      scripts.get(model).push(...replies);
    },
    // Every answer for the upstream model `model` is `text` (see the header).
    fixedText(model, text) {
      fixed.set(model, text);
    },
    // Scripted replies for `model` not yet taken.
    pending(model) {
      return scripts.get(model)?.length ?? 0;
    },
    // The last request that reached `path` (e.g. '/v1/messages'), or undefined.
    last(path) {
      for (let i = requests.length - 1; i >= 0; i--) if (requests[i].path === path) return requests[i];
      return undefined;
    },
    // Requests that arrived since `mark` (a previous requests.length).
    since(mark) {
      return requests.slice(mark);
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Standalone: `node fake_upstream.mjs` serves until killed (handy with curl).
if (import.meta.url === `file://${process.argv[1]}`) {
  const up = await startFakeUpstream();
  console.log(`fake upstream on http://127.0.0.1:${up.port}`);
}
