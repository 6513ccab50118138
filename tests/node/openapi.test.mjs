// The OpenAPI document of `sweep serve` (src/server/openapi.json) against the service:
// the document is valid OpenAPI (swagger-parser), every route of src/server/route.c is
// in it, GET /openapi.json serves it byte for byte, and every answer of the endpoints
// driven here (each status, each error) is described by it: its status and content
// type are listed for the operation, and a JSON body matches the operation's schema
// (ajv, compiled from the document). A shape that drifts from the document fails.
// Run by ctest (node/openapi) with SWEEP_BIN and SWEEP_SRC; `node --test` directly:
//   SWEEP_BIN=build/sweep SWEEP_SRC=. node --test tests/node/openapi.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startServe, stopServe, waitFor as waitUntil } from './serve.mjs';

const SRC = process.env.SWEEP_SRC;
const BIN = process.env.SWEEP_BIN;
assert.ok(SRC && BIN, 'SWEEP_SRC and SWEEP_BIN must be set (ctest sets them)');
// SWEEP_OPENAPI: another document to check (the test of the test breaks one).
const DOC_PATH = process.env.SWEEP_OPENAPI || path.join(SRC, 'src/server/openapi.json');
const DOC_TEXT = fs.readFileSync(DOC_PATH, 'utf8');
const TOKEN = 's3cret-token';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

let doc; // dereferenced: each schema whole, no $ref
let svc, url;
// Waits with a deadline; a timeout shows the service's output.
const waitFor = (what, seconds, check) => waitUntil(what, seconds, check, () => svc?.log);
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
const validators = new Map();
const seen = new Set(); // "METHOD /path STATUS" checked against the document

// The document's path template of a concrete path ("/studies/s1" -> "/studies/{id}").
function templateOf(p) {
  const segs = p.split('/');
  for (const t of Object.keys(doc.paths)) {
    const ts = t.split('/');
    if (ts.length === segs.length && ts.every((s, i) => s.startsWith('{') || s === segs[i]))
      return t;
  }
  return null;
}

// One request; its answer checked against the document. Returns {status, type, body}.
async function call(method, p, { body, headers = {}, want } = {}) {
  const res = await fetch(url + p, { method, body, headers });
  const text = await res.text();
  const type = (res.headers.get('content-type') || '').split(';')[0].trim();
  const where = `${method} ${p}: ${res.status} ${text.slice(0, 300)}`;
  if (want !== undefined) assert.equal(res.status, want, where);
  // A path the document does not have is a 404, a method it does not list a 405: the
  // route table's answers, described in components.responses.
  const tpl = templateOf(p.split('?')[0]) || p;
  const op = doc.paths[tpl]?.[method.toLowerCase()];
  const responses = op ? op.responses
    : doc.paths[tpl] ? { 405: doc.components.responses.MethodNotAllowed }
      : { 404: doc.components.responses.NotFound };
  const r = responses[String(res.status)];
  assert.ok(r, `${where}: status ${res.status} not in the document for ${method} ${tpl}`);
  if (!text && !r.content) return { status: res.status, type, text }; // 202, 204
  assert.ok(r.content && r.content[type], `${where}: content type ${type} not documented`);
  let json;
  if (type === 'application/json') {
    json = JSON.parse(text);
    const key = `${method} ${tpl} ${res.status}`;
    if (!validators.has(key)) validators.set(key, ajv.compile(r.content[type].schema));
    const validate = validators.get(key);
    assert.ok(validate(json),
      `${where}: does not match the document: ${ajv.errorsText(validate.errors)}`);
    seen.add(key);
  }
  return { status: res.status, type, body: json, text };
}

const post = (p, body, want) =>
  call('POST', p, { body, want, headers: { ...AUTH, 'Content-Type': 'application/json' } });

before(async () => {
  doc = await SwaggerParser.dereference(JSON.parse(DOC_TEXT));
  svc = await startServe('sweep-node-', ['-j', '2', '--max-body', '4K'], TOKEN);
  url = svc.url;
});

// SIGTERM, then the exit waited for with a deadline (30 s, then SIGKILL): it must be 0.
after(async () => {
  if (!svc) return;
  const code = await stopServe(svc);
  assert.equal(code, 0, `sweep serve exited ${code}\n${svc.log}`);
});

test('the document is valid OpenAPI', async () => {
  // validate() dereferences what it is given: a copy.
  await SwaggerParser.validate(JSON.parse(DOC_TEXT));
});

test('every route of the route table is in the document', () => {
  const table = fs.readFileSync(path.join(SRC, 'src/server/route.c'), 'utf8');
  const rows = [...table.matchAll(/\{"([A-Z]+)", "(\/[^"]*)", ROUTE_\w+\}/g)];
  assert.ok(rows.length >= 12, 'the route table was not found in route.c');
  for (const [, method, pattern] of rows) {
    const tpl = templateOf(pattern.replaceAll('*', 'x'));
    assert.ok(tpl && doc.paths[tpl][method.toLowerCase()],
      `${method} ${pattern} is not in the document`);
  }
});

// The statuses http.c and api.c answer for any route, by its shape: an unknown path
// (404), another method (405), a body over --max-body (413, any method), an internal
// error (500); a bad {id} (400); a POST or DELETE without the token (401) or while
// stopping (503); a GET that reads the store when it cannot be opened (503).
test('every route lists the error statuses the service can answer', () => {
  const table = fs.readFileSync(path.join(SRC, 'src/server/route.c'), 'utf8');
  const noStore = ['/health', '/openapi.json', '/', '/static/*', '/stats/performance',
    '/workers', '/workers/*', '/ping_all'];
  for (const [, method, pattern] of table.matchAll(/\{"([A-Z]+)", "(\/[^"]*)", ROUTE_\w+\}/g)) {
    const op = doc.paths[templateOf(pattern.replaceAll('*', 'x'))][method.toLowerCase()];
    const want = ['404', '405', '413', '500'];
    if (pattern.includes('*')) want.push('400');
    if (method !== 'GET') want.push('401', '503');
    // A spec or task file that runs commands, without --allow-commands.
    if (['/studies', '/tasks', '/execute_tasks'].includes(pattern) && method === 'POST')
      want.push('403');
    else if (!noStore.includes(pattern)) want.push('503');
    for (const s of want)
      assert.ok(op.responses[s], `${method} ${pattern}: no response ${s} in the document`);
  }
});

test('GET /openapi.json serves the document as is', async () => {
  const r = await call('GET', '/openapi.json', { want: 200 });
  assert.equal(r.text, fs.readFileSync(path.join(SRC, 'src/server/openapi.json'), 'utf8'));
});

test('the service and empty lists', async () => {
  assert.equal((await call('GET', '/health', { want: 200 })).body.status, 'ok');
  const st = await call('GET', '/status', { want: 200 });
  assert.equal(st.body.slots, 2);
  assert.deepEqual((await call('GET', '/studies', { want: 200 })).body, []);
  assert.equal((await call('GET', '/tasks', { want: 200 })).body.tasks.length, 0);
});

test('errors: 400, 401, 403, 404, 405, 413', async () => {
  const nope = await call('GET', '/nope', { want: 404 });
  assert.equal(nope.body.error, 'not_found');
  await call('PUT', '/studies', { want: 405 });
  await call('GET', '/studies/a%20b', { want: 400 }); // fetch() folds /.. itself
  await call('DELETE', '/tasks/a%20b', { headers: AUTH, want: 400 });
  await call('GET', '/studies/nope', { want: 404 });
  await call('GET', '/studies/nope/results', { want: 404 });
  await call('GET', '/tasks/999999', { want: 404 });
  await call('GET', '/tasks?status=bogus', { want: 400 });
  await call('GET', '/tasks?limit=0', { want: 400 });
  await call('GET', '/tasks?study=nope', { want: 404 });
  await call('DELETE', '/tasks/999999', { headers: AUTH, want: 404 });
  await post('/studies/nope/cancel', '', 404);
  await post('/studies/nope/retry', '', 404);
  await call('POST', '/studies', { body: '{"study": "x", "model": "chaos"}', want: 401 });
  await call('DELETE', '/tasks/1', { want: 401 });
  await post('/studies', 'x'.repeat(5000), 413);
  await post('/tasks', 'x'.repeat(5000), 413);
  await post('/studies', '{"study": "s1", ', 400);
  await post('/studies', '[1]', 400);
  await post('/studies', '{"algorithm": "nope", "variable_parameter": "x", "values": [1]}', 400);
  await post('/tasks', '{"algorithm": "chaos", "bogus": 1}', 400);
  await post('/studies', '{"study": "c1", "command": ["/bin/true"]}', 403);
});

test('a study through the API: submit, progress, results, tasks, retry, cancel', async () => {
  const spec = { algorithm: 'chaos', variable_parameter: 'duration', values: [0.05, 0.1],
    repetitions: 2, study: 's1' };
  const sub = await post('/studies', JSON.stringify(spec), 202);
  assert.equal(sub.body.study_id, 's1');
  // Each answer on the way (QUEUED or PREPARING before it is stored, then RUNNING)
  // is checked against the document.
  await waitFor('s1 COMPLETED', 60, async () =>
    (await call('GET', '/studies/s1', { want: 200 })).body.status === 'COMPLETED');
  const got = await call('GET', '/studies/s1', { want: 200 });
  assert.equal(got.body.progress.total, 4);
  const rows = await call('GET', '/studies/s1/results', { want: 200 });
  assert.equal(rows.body.length, 4);
  const csv = await call('GET', '/studies/s1/results?format=csv', { want: 200 });
  assert.equal(csv.type, 'text/csv');
  await call('GET', '/studies/s1/results?format=xml', { want: 400 });
  const page = await call('GET', '/tasks?study=s1&limit=3', { want: 200 });
  assert.equal(page.body.next_offset, 3);
  await call('GET', '/tasks?study=s1&limit=3&offset=3&status=SUCCEEDED&priority=MEDIUM',
    { want: 200 });
  const id = page.body.tasks[0].id;
  assert.equal((await call('GET', `/tasks/${id}`, { want: 200 })).body.state, 'succeeded');
  assert.equal((await call('DELETE', `/tasks/${id}`, { headers: AUTH, want: 200 }))
    .body.cancelled, false);
  assert.equal((await post('/studies/s1/retry', '', 200)).body.tasks_to_retry, 0);
  await post('/studies/s1/cancel', '');
  await call('GET', '/studies', { want: 200 });
  await call('GET', '/status', { want: 200 });
});

test('one task, and a conflict while a study runs', async () => {
  await post('/tasks', JSON.stringify({ algorithm: 'chaos', task_id: 'one',
    parameters: { duration: 0.05, x: 2, sigma: 0 } }), 202);
  await waitFor('task-one COMPLETED', 60, async () =>
    (await call('GET', '/studies/task-one', { want: 200 })).body.status === 'COMPLETED');
  const t = await call('GET', '/tasks?study=task-one', { want: 200 });
  assert.equal(t.body.tasks[0].metrics.value, 4);
  // A failed study says why: its first failed tasks (the schema's Failures).
  await post('/studies', JSON.stringify({ study: 's3', model: 'chaos',
    base: { fail_attempts: 1 } }), 202);
  let s3;
  await waitFor('s3 failed', 60, async () => {
    s3 = (await call('GET', '/studies/s3', { want: 200 })).body;
    return s3.status === 'FAILED';
  });
  assert.equal(s3.failures.length, 1);
  assert.equal(s3.failures[0].state, 'failed');
  assert.match(s3.failures[0].why, /\S/);
  const slow = JSON.stringify({ study: 's2', model: 'chaos', base: { duration: 2 } });
  await post('/studies', slow, 202);
  await post('/studies', slow, 409);
  // Cancelled while being stored (409) or once it runs (200): each documented.
  await waitFor('s2 cancelled', 60, async () =>
    (await post('/studies/s2/cancel', '')).status === 200);
  await waitFor('s2 ended', 60, async () =>
    !['QUEUED', 'PREPARING', 'RUNNING'].includes(
      (await call('GET', '/studies/s2', { want: 200 })).body.status));
  await call('GET', '/tasks?study=s2', { want: 200 });
});

// /mcp (the Model Context Protocol over HTTP): each kind of answer, as documented.
test('/mcp: the answers of the MCP transport', async () => {
  const headers = { ...AUTH, 'Content-Type': 'application/json',
    Accept: 'application/json, text/event-stream' };
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {},
      clientInfo: { name: 'openapi', version: '1' } } });
  const res = await fetch(url + '/mcp', { method: 'POST', headers, body: init });
  assert.equal(res.status, 200);
  const sid = res.headers.get('mcp-session-id');
  assert.match(sid ?? '', /^[0-9a-f]{32}$/);
  const inSession = { ...headers, 'Mcp-Session-Id': sid };
  await call('POST', '/mcp', { body: init, headers, want: 200 });
  await call('POST', '/mcp', { headers: inSession, want: 202,
    body: '{"jsonrpc": "2.0", "method": "notifications/initialized"}' });
  await call('POST', '/mcp', { headers: inSession, want: 200,
    body: '{"jsonrpc": "2.0", "id": 2, "method": "ping"}' });
  await call('POST', '/mcp', { headers: inSession, body: '{"jsonrpc": ', want: 400 });
  await call('POST', '/mcp', { headers, body: '{"jsonrpc": "2.0", "id": 3, "method": "ping"}',
    want: 400 });
  await call('POST', '/mcp', { headers: { ...inSession, Origin: 'http://evil.example.com' },
    body: '{"jsonrpc": "2.0", "id": 3, "method": "ping"}', want: 403 });
  await call('POST', '/mcp', { body: init, want: 401 });
  await call('POST', '/mcp', { headers, body: 'x'.repeat(5000), want: 413 });
  await call('GET', '/mcp', { want: 405 });
  await call('DELETE', '/mcp', { headers: inSession, want: 204 });
  await call('DELETE', '/mcp', { headers: inSession, want: 404 });
  await call('POST', '/mcp', { headers: inSession, want: 404,
    body: '{"jsonrpc": "2.0", "id": 4, "method": "ping"}' });
});

// Endpoints added beside these (other branches): checked when this build has them,
// told apart by the route table's 404 ("no endpoint ...").
test('the other GET endpoints, where this build has them', async (t) => {
  for (const p of ['/stats', '/stats/performance', '/workers', '/workers/local',
    '/ping_all', '/metrics', '/studies/s1/aggregate',
    '/studies/s1/plot.svg?x=duration&y=value', '/studies/s1/report.png', '/',
    '/static/app.js', '/static/style.css', '/static/nope', '/tasks/1/logs',
    '/tasks/1/logs?stream=stderr&tail=5', '/tasks/1/logs?tail=0', '/tasks/1/attempts',
    '/tasks/999/attempts']) {
    const r = await fetch(url + p);
    const missing = r.status === 404 && /^no endpoint/.test((await r.json()).detail);
    if (missing) {
      t.diagnostic(`${p}: not in this build`);
      continue;
    }
    const got = await call('GET', p);
    assert.ok(got.status < 500, `GET ${p}: ${got.status}`);
  }
});

test('the answers seen cover the operations of the service on main', () => {
  for (const key of ['GET /health 200', 'GET /status 200', 'GET /studies 200',
    'POST /studies 202', 'GET /studies/{id} 200', 'POST /studies/{id}/cancel 200',
    'POST /studies/{id}/retry 200', 'GET /studies/{id}/results 200', 'GET /tasks 200',
    'POST /tasks 202', 'GET /tasks/{id} 200', 'DELETE /tasks/{id} 200',
    'GET /openapi.json 200', 'POST /studies 400', 'POST /studies 401',
    'POST /studies 403', 'POST /studies 409', 'POST /studies 413',
    'GET /studies/{id} 404', 'PUT /studies 405'])
    assert.ok(seen.has(key), `no answer checked for ${key}`);
});
