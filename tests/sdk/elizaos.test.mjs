// The elizaOS plugin (`elizaos-plugin-bitrouter` 0.1.0, research brief A.7)
// through its own client library: `@ai-sdk/openai-compatible` 2.x with the
// `ai` package's generateText / generateObject, so every request body is the
// one the plugin sends (tests/e2e/eliza_test.cc replays recorded bodies).
// For an upstream of each protocol (fakeoai = Chat, fakeant = Messages,
// fakeresp = Responses, fakegem = Gemini):
//   0 the plugin's init probe, GET /v1/models with its bearer;
//   1 generateText with the plugin's parameters (system + prompt,
//     maxOutputTokens, temperature, topP, frequencyPenalty, presencePenalty,
//     seed, stopSequences), non-streaming: the text and usage come back, and
//     the upstream receives them as the README's table says;
//   2 generateObject with a JSON schema, as the plugin's structured path:
//     supportsStructuredOutputs true -> response_format json_schema (name
//     "response", strict), false -> json_object; the object comes back and
//     the upstream receives the translated form;
//   3 the model-name forms the plugin uses: a bare catalog id,
//     `provider:model`, `provider/model` and a virtual model; and a route
//     whose Responses endpoint cannot take `stop` (README: refused with 400)
//     serving the plugin's call from its next (Chat) endpoint.
// The library's own fetch is wrapped only to record the exact bytes it sent.

import assert from 'node:assert/strict';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateObject, generateText, jsonSchema } from 'ai';

import { USAGE } from './fake_upstream.mjs';
import { rtest, setupRouter } from './harness.mjs';

// The plugin's bearer when BITROUTER_API_KEY is unset (skip_auth).
const PLUGIN_KEY = 'bitrouter-local';

// One upstream model per provider, in its catalog (so the bare id resolves),
// plus a virtual model per provider.
const PROVIDERS = {
  chat: { provider: 'fakeoai', model: 'gpt-4o-mini', virtual: 'eliza-chat', path: '/v1/chat/completions' },
  messages: { provider: 'fakeant', model: 'claude-3-5-haiku-20241022', virtual: 'eliza-messages', path: '/v1/messages' },
  responses: { provider: 'fakeresp', model: 'gpt-4o', virtual: 'eliza-responses', path: '/v1/responses' },
  gemini: { provider: 'fakegem', model: 'gemini-2.0-flash', virtual: 'eliza-gemini', path: '/v1/models/gemini-2.0-flash:generateContent' },
};

function config(port) {
  const base = `http://127.0.0.1:${port}/v1`;
  const p = PROVIDERS;
  return `inherit_defaults: false
providers:
  fakeoai:
    api_protocol: openai
    api_base: ${base}
    api_key: upstream-oai-key
    models: [${p.chat.model}]
  fakeant:
    api_protocol: anthropic
    api_base: ${base}
    api_key: upstream-ant-key
    models: [${p.messages.model}]
  fakeresp:
    api_protocol: openai_responses
    api_base: ${base}
    api_key: upstream-oai-key
    models: [${p.responses.model}]
  fakegem:
    api_protocol: google
    api_base: ${base}
    api_key: upstream-gem-key
    models: [${p.gemini.model}]
models:
${Object.values(p)
  .map((x) => `  ${x.virtual}:\n    endpoints:\n      - {provider: ${x.provider}, model_id: ${x.model}}\n`)
  .join('')}  eliza-cascade:
    endpoints:
      - {provider: fakeresp, model_id: ${p.responses.model}}
      - {provider: fakeoai, model_id: ${p.chat.model}}
`;
}

const ctx = setupRouter({ config });

// json_object with a schema makes the library warn on every call (its
// supportsStructuredOutputs: false path); the warning is the library's, not
// a failure.
globalThis.AI_SDK_LOG_WARNINGS = false;

// The plugin's provider, plus a recorder of the exact bodies the library
// sent (a fetch wrapper that forwards them untouched).
function plugin({ structured }) {
  const sent = [];
  const provider = createOpenAICompatible({
    name: 'bitrouter',
    baseURL: `${ctx.router.baseURL}/v1`,
    apiKey: PLUGIN_KEY,
    supportsStructuredOutputs: structured,
    fetch: async (url, init) => {
      sent.push({ url: String(url), body: init?.body });
      return fetch(url, init);
    },
  });
  return { provider, sent };
}

const SYSTEM = 'You are Eliza, a helpful agent.';
const PROMPT = 'Say something about yourself.';
// What elizaOS passes for a text tier (every optional field set).
const SAMPLING = {
  maxOutputTokens: 256,
  temperature: 0.7,
  topP: 0.9,
  frequencyPenalty: 0.5,
  presencePenalty: 0.25,
  seed: 42,
};
const STOP = ['\nUser:'];

const SCHEMA = {
  type: 'object',
  properties: { name: { type: 'string' }, score: { type: 'number' } },
  required: ['name', 'score'],
  additionalProperties: false,
};
const OBJECT = { name: 'eliza', score: 7 };
const OBJECT_TEXT = JSON.stringify(OBJECT);

const TIMEOUT_MS = 15000;

// The one upstream request this test caused, checked for the client's
// credential and the provider's path and model.
function upstreamRequest(mark, target) {
  const reqs = ctx.upstream.since(mark);
  assert.equal(reqs.length, 1, `expected one upstream request, got ${reqs.map((r) => r.path).join(', ') || 'none'}`);
  const rec = reqs[0];
  assert.equal(rec.path, target.path);
  assert.equal(rec.model, target.model);
  assert.ok(!rec.raw.includes(PLUGIN_KEY), 'the client key reached the upstream body');
  for (const [k, v] of Object.entries(rec.headers)) assert.ok(!String(v).includes(PLUGIN_KEY), `the client key reached the upstream in ${k}`);
  return rec;
}

function assertUsage(usage) {
  assert.equal(usage.inputTokens, USAGE.in);
  assert.equal(usage.outputTokens, USAGE.out);
  assert.equal(usage.totalTokens, USAGE.in + USAGE.out);
}

// The body the library sent, parsed, with the plugin's fields as A.7 says.
function assertPluginBody(sent, model, { stop, responseFormat }) {
  assert.equal(sent.length, 1);
  assert.match(sent[0].url, /\/v1\/chat\/completions$/);
  const b = JSON.parse(sent[0].body);
  assert.equal(b.model, model);
  assert.deepEqual(b.messages, [
    { role: 'system', content: SYSTEM },
    { role: 'user', content: PROMPT },
  ]);
  assert.equal(b.max_tokens, 256);
  assert.equal(b.temperature, 0.7);
  assert.equal(b.top_p, 0.9);
  assert.equal(b.frequency_penalty, 0.5);
  assert.equal(b.presence_penalty, 0.25);
  assert.equal(b.seed, 42);
  assert.deepEqual(b.stop, stop);
  assert.deepEqual(b.response_format, responseFormat);
  assert.equal(b.stream, undefined, 'the plugin does not stream');
  return b;
}

const JSON_SCHEMA_FORMAT = { type: 'json_schema', json_schema: { schema: SCHEMA, strict: true, name: 'response' } };
const JSON_OBJECT_FORMAT = { type: 'json_object' };

// ---------------------------------------------------------------- 0 init

// The plugin's init (only when a key is set): GET /v1/models with its
// bearer, only response.ok checked; the catalogs are listed.
rtest(ctx, 'init: GET /v1/models with the plugin bearer is ok and lists the catalog ids', async () => {
  const r = await fetch(`${ctx.router.baseURL}/v1/models`, { headers: { Authorization: `Bearer ${PLUGIN_KEY}` } });
  assert.equal(r.status, 200);
  const ids = (await r.json()).data.map((m) => m.id);
  for (const t of Object.values(PROVIDERS)) {
    assert.ok(ids.includes(`${t.provider}:${t.model}`), `${t.provider}:${t.model} not in ${ids}`);
    assert.ok(ids.includes(t.virtual), `${t.virtual} not in ${ids}`);
  }
}, { timeout: TIMEOUT_MS });

// ---------------------------------------------------------------- 1 generateText

// `stopSequences: undefined` sends no `stop` (an absent option, as elizaOS
// leaves it when it has none).
async function pluginText(modelName, opts = {}) {
  const stopSequences = 'stopSequences' in opts ? opts.stopSequences : STOP;
  const { provider, sent } = plugin({ structured: false });
  const result = await generateText({
    model: provider(modelName),
    system: SYSTEM,
    prompt: PROMPT,
    ...SAMPLING,
    stopSequences,
    maxRetries: 0,
  });
  return { result, sent };
}

const TEXT = 'I am Eliza, routed through BitRouter.';

// The plugin's generateText through `provider:model` to target `t`, with the
// checks every upstream shares: the answer, its usage, the plugin's own
// body. Returns that body, the name and what reached the upstream.
async function pluginTextTo(t) {
  ctx.upstream.fixedText(t.model, TEXT);
  const mark = ctx.upstream.requests.length;
  const name = `${t.provider}:${t.model}`;
  const { result, sent } = await pluginText(name);
  assert.equal(result.text, TEXT);
  assert.equal(result.finishReason, 'stop');
  assertUsage(result.usage);
  assertPluginBody(sent, name, { stop: STOP, responseFormat: undefined });
  return { sent, name, rec: upstreamRequest(mark, t) };
}

rtest(ctx, 'generateText: Chat upstream gets the plugin body byte for byte', async () => {
  const t = PROVIDERS.chat;
  const { sent, name, rec } = await pluginTextTo(t);
  // A passthrough: only the model value is spliced.
  assert.equal(rec.raw, sent[0].body.replace(`"model":"${name}"`, `"model":"${t.model}"`));
  assert.equal(rec.headers.authorization, 'Bearer upstream-oai-key');
}, { timeout: TIMEOUT_MS });

rtest(ctx, 'generateText: Messages upstream gets max_tokens, temperature, top_p, stop_sequences; no penalties or seed', async () => {
  const b = (await pluginTextTo(PROVIDERS.messages)).rec.body;
  assert.equal(b.system, SYSTEM);
  assert.deepEqual(b.messages, [{ role: 'user', content: PROMPT }]);
  assert.equal(b.max_tokens, 256);
  assert.equal(b.temperature, 0.7);
  assert.equal(b.top_p, 0.9);
  assert.deepEqual(b.stop_sequences, STOP);
  for (const gone of ['seed', 'frequency_penalty', 'presence_penalty', 'stop', 'response_format', 'output_config', 'stream']) {
    assert.equal(b[gone], undefined, `${gone} reached the Messages upstream`);
  }
}, { timeout: TIMEOUT_MS });

rtest(ctx, 'generateText: Gemini upstream gets every parameter in generationConfig', async () => {
  const b = (await pluginTextTo(PROVIDERS.gemini)).rec.body;
  assert.deepEqual(b.systemInstruction.parts, [{ text: SYSTEM }]);
  assert.deepEqual(b.contents, [{ role: 'user', parts: [{ text: PROMPT }] }]);
  assert.deepEqual(b.generationConfig, {
    maxOutputTokens: 256,
    temperature: 0.7,
    topP: 0.9,
    frequencyPenalty: 0.5,
    presencePenalty: 0.25,
    seed: 42,
    stopSequences: STOP,
  });
}, { timeout: TIMEOUT_MS });

rtest(ctx, 'generateText: Responses upstream refuses stop sequences with 400 and gets the rest without them', async () => {
  const t = PROVIDERS.responses;
  ctx.upstream.fixedText(t.model, TEXT);
  const name = `${t.provider}:${t.model}`;
  // README: Responses has no stop parameter; the request is refused naming it
  // (another endpoint of the route would be tried) and nothing goes upstream.
  let mark = ctx.upstream.requests.length;
  await assert.rejects(pluginText(name), (e) => {
    assert.equal(e.statusCode, 400, String(e));
    assert.match(e.responseBody, /stop/);
    return true;
  });
  assert.equal(ctx.upstream.since(mark).length, 0);

  // Without stop sequences (absent, or the empty list the library sends as
  // `"stop":[]`) the call goes through.
  for (const stopSequences of [undefined, []]) {
    mark = ctx.upstream.requests.length;
    const { result, sent } = await pluginText(name, { stopSequences });
    assert.equal(result.text, TEXT);
    assert.equal(result.finishReason, 'stop');
    assertUsage(result.usage);
    assertPluginBody(sent, name, { stop: stopSequences, responseFormat: undefined });
    const b = upstreamRequest(mark, t).body;
    assert.equal(b.instructions, SYSTEM);
    assert.deepEqual(b.input, [{ role: 'user', content: PROMPT }]);
    assert.equal(b.max_output_tokens, 256);
    assert.equal(b.temperature, 0.7);
    assert.equal(b.top_p, 0.9);
    for (const gone of ['seed', 'frequency_penalty', 'presence_penalty', 'stop', 'max_tokens', 'messages', 'response_format', 'text']) {
      assert.equal(b[gone], undefined, `${gone} reached the Responses upstream`);
    }
  }
}, { timeout: TIMEOUT_MS });

// ---------------------------------------------------------------- 2 generateObject

async function pluginObject(modelName, structured) {
  const { provider, sent } = plugin({ structured });
  const result = await generateObject({
    model: provider(modelName),
    schema: jsonSchema(SCHEMA),
    system: SYSTEM,
    prompt: PROMPT,
    ...SAMPLING,
    maxRetries: 0,
  });
  return { result, sent };
}

for (const structured of [true, false]) {
  const label = structured ? 'json_schema' : 'json_object';
  const format = structured ? JSON_SCHEMA_FORMAT : JSON_OBJECT_FORMAT;

  // Runs generateObject against `target` and returns the upstream body.
  const objectCase = async (target) => {
    ctx.upstream.fixedText(target.model, OBJECT_TEXT);
    const mark = ctx.upstream.requests.length;
    const name = `${target.provider}:${target.model}`;
    const { result, sent } = await pluginObject(name, structured);
    assert.deepEqual(result.object, OBJECT);
    assert.equal(result.finishReason, 'stop');
    assertUsage(result.usage);
    assertPluginBody(sent, name, { stop: undefined, responseFormat: format });
    const rec = upstreamRequest(mark, target);
    return { rec, sent, name };
  };

  rtest(ctx, `generateObject (${label}): Chat upstream gets response_format unchanged`, async () => {
    const t = PROVIDERS.chat;
    const { rec, sent, name } = await objectCase(t);
    assert.equal(rec.raw, sent[0].body.replace(`"model":"${name}"`, `"model":"${t.model}"`));
    assert.deepEqual(rec.body.response_format, format);
  }, { timeout: TIMEOUT_MS });

  rtest(ctx, `generateObject (${label}): Messages upstream gets ${structured ? 'output_config.format' : 'a JSON instruction'}`, async () => {
    const { rec } = await objectCase(PROVIDERS.messages);
    const b = rec.body;
    assert.equal(b.max_tokens, 256);
    assert.equal(b.temperature, 0.7);
    assert.equal(b.top_p, 0.9);
    assert.equal(b.response_format, undefined);
    if (structured) {
      assert.deepEqual(b.output_config, { format: { type: 'json_schema', schema: SCHEMA } });
      assert.equal(b.system, SYSTEM);
    } else {
      assert.equal(b.output_config, undefined);
      // An instruction after the client's own system prompt.
      assert.ok(Array.isArray(b.system) && b.system.length === 2, JSON.stringify(b.system));
      assert.deepEqual(b.system[0], { type: 'text', text: SYSTEM });
      assert.match(b.system[1].text, /JSON object/);
    }
  }, { timeout: TIMEOUT_MS });

  rtest(ctx, `generateObject (${label}): Gemini upstream gets responseMimeType${structured ? ' and responseJsonSchema' : ''}`, async () => {
    const { rec } = await objectCase(PROVIDERS.gemini);
    const gc = rec.body.generationConfig;
    assert.equal(gc.responseMimeType, 'application/json');
    if (structured) assert.deepEqual(gc.responseJsonSchema, SCHEMA);
    else assert.equal(gc.responseJsonSchema, undefined);
    assert.equal(gc.responseSchema, undefined);
    assert.equal(gc.maxOutputTokens, 256);
    assert.equal(gc.seed, 42);
  }, { timeout: TIMEOUT_MS });

  rtest(ctx, `generateObject (${label}): Responses upstream gets text.format`, async () => {
    const { rec } = await objectCase(PROVIDERS.responses);
    const b = rec.body;
    assert.equal(b.response_format, undefined);
    assert.deepEqual(b.text.format, structured
      ? { type: 'json_schema', name: 'response', schema: SCHEMA, strict: true }
      : { type: 'json_object' });
    assert.equal(b.max_output_tokens, 256);
  }, { timeout: TIMEOUT_MS });
}

// ---------------------------------------------------------------- 3 model names

for (const [proto, t] of Object.entries(PROVIDERS)) {
  rtest(ctx, `model names: bare id, provider:model, provider/model and a virtual model reach ${t.provider} (${proto})`, async () => {
    ctx.upstream.fixedText(t.model, TEXT);
    // Responses has no stop sequences (see above): the plugin's call without them.
    const stopSequences = proto === 'responses' ? undefined : STOP;
    for (const name of [t.model, `${t.provider}:${t.model}`, `${t.provider}/${t.model}`, t.virtual]) {
      const mark = ctx.upstream.requests.length;
      const { result, sent } = await pluginText(name, { stopSequences });
      assert.equal(result.text, TEXT, name);
      assert.equal(JSON.parse(sent[0].body).model, name);
      upstreamRequest(mark, t);
    }
  }, { timeout: TIMEOUT_MS });
}

rtest(ctx, 'model names: a route whose Responses endpoint cannot take stop sequences serves them from its Chat endpoint', async () => {
  ctx.upstream.fixedText(PROVIDERS.chat.model, TEXT);
  const mark = ctx.upstream.requests.length;
  const { result, sent } = await pluginText('eliza-cascade');
  assert.equal(result.text, TEXT);
  assertPluginBody(sent, 'eliza-cascade', { stop: STOP, responseFormat: undefined });
  const rec = upstreamRequest(mark, PROVIDERS.chat);
  assert.deepEqual(rec.body.stop, STOP);
}, { timeout: TIMEOUT_MS });
