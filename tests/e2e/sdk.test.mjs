// The real openai SDK (7.57.0, pinned in package-lock.json) against `wafer serve` on
// loopback. WAFER_URL points at the server (e.g. http://127.0.0.1:18080); the model is a
// synthesised tiny model that ends its turns after a few tokens (synth --turn-end-logit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { ResponsesWS } from 'openai/resources/responses/ws';
import { ResponsesWebSocketSession } from 'openai/lib/responses/responses-websocket-session';

const base = process.env.WAFER_URL;
const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: process.env.WAFER_API_KEY ?? 'unused', maxRetries: 0 });
const sampled = { temperature: 1, max_output_tokens: 48 };

test('models.list names the loaded model', async () => {
  const models = [];
  for await (const m of client.models.list()) models.push(m);
  assert.equal(models.length, 1);
  assert.equal(models[0].object, 'model');
});

test('responses.create stream: event order and sequence numbers', async () => {
  const stream = await client.responses.create({ model: 'any', input: 'Say hi', stream: true, ...sampled });
  const events = [];
  for await (const e of stream) events.push(e);
  assert.equal(events[0].type, 'response.created');
  assert.equal(events[1].type, 'response.in_progress');
  const last = events.at(-1);
  assert.ok(['response.completed', 'response.incomplete'].includes(last.type), last.type);
  events.forEach((e, i) => assert.equal(e.sequence_number, i));
  assert.ok(last.response.usage.input_tokens > 0);
});

test('responses.stream finalResponse and non-stream create', async () => {
  const final = await client.responses.stream({ model: 'any', input: 'Write one word', ...sampled }).finalResponse();
  assert.ok(['completed', 'incomplete'].includes(final.status));
  assert.equal(typeof final.output_text, 'string');
  assert.ok(final.usage.output_tokens >= 0);
  const r = await client.responses.create({ model: 'any', input: [{ role: 'user', content: 'Hello' }], ...sampled });
  assert.match(r.id, /^resp_/);
  assert.equal(typeof r.output_text, 'string');
  const fetched = await client.responses.retrieve(r.id);
  assert.equal(fetched.id, r.id);
});

test('function tools and a function_call_output continuation (full resend)', async () => {
  const tools = [{ type: 'function', name: 'get_weather', description: 'Get weather for a city', strict: true,
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } }];
  const r = await client.responses.create({
    model: 'any', tools, ...sampled,
    input: [
      { role: 'user', content: 'Weather in Paris?' },
      { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"temp":21}' },
    ],
  });
  assert.ok(['completed', 'incomplete'].includes(r.status));
});

test('previous_response_id over HTTP reuses the stored conversation', async () => {
  const first = await client.responses.create({ model: 'any', input: 'Remember the number 7.', ...sampled });
  const second = await client.responses.create({ model: 'any', previous_response_id: first.id, input: 'What was it?', ...sampled });
  assert.ok(second.usage.input_tokens > first.usage.input_tokens);
  await assert.rejects(
    client.responses.create({ model: 'any', previous_response_id: 'resp_does_not_exist', input: 'x' }),
    (err) => err.status === 404 || err.status === 400);
});

test('chat.completions stream with usage', async () => {
  const stream = await client.chat.completions.create({
    model: 'any', messages: [{ role: 'user', content: 'Hi' }], stream: true,
    stream_options: { include_usage: true }, max_tokens: 32, temperature: 1 });
  let usage = null;
  let chunks = 0;
  for await (const c of stream) {
    chunks += 1;
    if (c.usage) usage = c.usage;
  }
  assert.ok(chunks >= 2);
  assert.ok(usage && usage.prompt_tokens > 0);
  const plain = await client.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 });
  assert.equal(plain.object, 'chat.completion');
  assert.ok(['stop', 'length'].includes(plain.choices[0].finish_reason));
});

test('completions with suffix (fill-in-the-middle)', async () => {
  const r = await client.completions.create({ model: 'any', prompt: 'def add(a, b):\n    ', suffix: '\n\nprint(add(1, 2))\n', max_tokens: 16, temperature: 0 });
  assert.equal(r.object, 'text_completion');
  assert.equal(typeof r.choices[0].text, 'string');
  const stream = await client.completions.create({ model: 'any', prompt: 'x = ', suffix: '\n', max_tokens: 8, stream: true });
  let n = 0;
  for await (const c of stream) n += c.choices.length;
  assert.ok(n >= 1);
});

function collect(ws, until) {
  return new Promise((resolve, reject) => {
    const events = [];
    const onEvent = (e) => {
      events.push(e);
      if (until(e)) { ws.off('event', onEvent); resolve(events); }
    };
    ws.on('event', onEvent);
    setTimeout(() => reject(new Error(`timeout; got ${events.map((e) => e.type)}`)), 120000);
  });
}
const terminal = (e) => ['response.completed', 'response.incomplete', 'response.failed', 'error'].includes(e.type);

test('ResponsesWS: warm-up, chained turn, tool continuation, unknown id, steer', async () => {
  const ws = new ResponsesWS(client);
  const errors = [];
  ws.on('error', (err) => errors.push(err));
  const tools = [{ type: 'function', name: 'get_weather', description: 'Get weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
  let done = collect(ws, terminal);
  ws.send({ type: 'response.create', model: 'any', generate: false, instructions: 'Be brief.', tools, input: [{ role: 'user', content: 'A long system context to keep warm.' }] });
  const warm = (await done).at(-1);
  assert.equal(warm.type, 'response.completed');
  const warmTokens = warm.response.usage.input_tokens;

  done = collect(ws, terminal);
  // Instructions are not inherited through previous_response_id: resend them, as Codex does.
  ws.send({ type: 'response.create', model: 'any', previous_response_id: warm.response.id, instructions: 'Be brief.', tools, input: [{ role: 'user', content: 'Now answer.' }], ...sampled });
  const turn = (await done).at(-1);
  assert.ok(['response.completed', 'response.incomplete'].includes(turn.type));
  assert.ok(turn.response.usage.input_tokens_details.cached_tokens >= warmTokens,
    `cached ${turn.response.usage.input_tokens_details.cached_tokens} < warm-up ${warmTokens}`);

  done = collect(ws, terminal);
  ws.send({ type: 'response.create', model: 'any', previous_response_id: turn.response.id, instructions: 'Be brief.', tools, ...sampled,
    input: [{ type: 'function_call_output', call_id: 'call_x', output: 'sunny' }] });
  const cont = (await done).at(-1);
  assert.ok(['response.completed', 'response.incomplete'].includes(cont.type));
  assert.ok(cont.response.usage.input_tokens_details.cached_tokens > 0);

  done = collect(ws, terminal);
  ws.send({ type: 'response.create', model: 'any', previous_response_id: 'resp_does_not_exist', input: [] });
  const unknown = (await done).at(-1);
  assert.equal(unknown.type, 'error');
  assert.equal(unknown.error.code, 'previous_response_not_found');

  done = collect(ws, (e) => e.type.startsWith('response.steer'));
  ws.send({ type: 'response.steer', previous_response_id: cont.response.id, input: [{ type: 'message', role: 'user', content: 'In French.' }] });
  const steer = (await done).at(-1);
  assert.equal(steer.type, 'response.steer.failed');
  ws.close({ code: 1000, reason: 'done' });
});

test('ResponsesWebSocketSession: two lanes finish independently', async () => {
  const ws = new ResponsesWS(client);
  ws.on('error', () => {});
  for (let i = 0; i < 500 && ws.socket.readyState !== 1; i++) await new Promise((r) => setTimeout(r, 10));
  const session = new ResponsesWebSocketSession(ws, { maxLanes: 8, maxBufferedEvents: 10000, maxBufferedBytes: 1 << 24 });
  const a = session.lane('a');
  const b = session.lane('b');
  a.create({ model: 'any', input: 'first', ...sampled });
  b.create({ model: 'any', input: 'second', ...sampled });
  const [ra, rb] = await Promise.all([a.finalResponse(), b.finalResponse()]);
  assert.notEqual(ra.id, rb.id);
  session.close();
  ws.close({ code: 1000, reason: 'done' });
});

// Structured output through the SDK: the model is random, so only the grammar makes these
// parse. Checked by hand against the schema (types, required keys, no others).
const person = {
  type: 'object', additionalProperties: false, required: ['name', 'age', 'tags'],
  properties: { name: { type: 'string' }, age: { type: 'integer' }, tags: { type: 'array', items: { type: 'string' }, maxItems: 3 } },
};
function assertPerson(value) {
  assert.deepEqual(Object.keys(value).sort(), ['age', 'name', 'tags']);
  assert.equal(typeof value.name, 'string');
  assert.ok(Number.isInteger(value.age));
  assert.ok(Array.isArray(value.tags) && value.tags.length <= 3 && value.tags.every((t) => typeof t === 'string'));
}

test('responses text.format json_schema and chat response_format parse and validate', async () => {
  for (const seed of [1, 2]) {
    const r = await client.responses.create({
      model: 'any', input: 'Describe someone', temperature: 1, max_output_tokens: 64,
      text: { format: { type: 'json_schema', name: 'person', strict: true, schema: person } },
    });
    assertPerson(JSON.parse(r.output_text));
    const c = await client.chat.completions.create({
      model: 'any', messages: [{ role: 'user', content: 'Describe someone' }], max_tokens: 64, temperature: 1, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: person } },
    });
    assertPerson(JSON.parse(c.choices[0].message.content));
  }
});

test('forced tool calls come back as function calls with valid arguments', async () => {
  const tools = [{ type: 'function', name: 'save_person', strict: true, parameters: person }];
  for (const tool_choice of ['required', { type: 'function', name: 'save_person' }]) {
    const r = await client.responses.create({ model: 'any', input: 'Save someone', tools, tool_choice, temperature: 1, max_output_tokens: 80 });
    const call = r.output.find((o) => o.type === 'function_call');
    assert.ok(call, JSON.stringify(r.output));
    assert.equal(call.name, 'save_person');
    assertPerson(JSON.parse(call.arguments));
  }
  const c = await client.chat.completions.create({
    model: 'any', messages: [{ role: 'user', content: 'Save someone' }], max_tokens: 80, temperature: 1,
    tools: [{ type: 'function', function: { name: 'save_person', strict: true, parameters: person } }],
    tool_choice: { type: 'function', function: { name: 'save_person' } },
  });
  const calls = c.choices[0].message.tool_calls;
  assert.equal(calls.length, 1);
  assertPerson(JSON.parse(calls[0].function.arguments));
});

