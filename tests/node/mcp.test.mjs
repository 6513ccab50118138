// `sweep mcp` driven by the official MCP TypeScript SDK as the real client (Client over
// StdioClientTransport starting `$SWEEP_BIN mcp --home <tmp>`): initialize, the tools
// and their schemas (the algorithm enum, the bounds), a DLA study of 3 values x 2
// repetitions polled with check_study_status until COMPLETED, its aggregate (a mean df
// per value) and the plot it links to, a check that waits with progress notifications, a retry after an induced failure (the chaos
// model fails its first attempt), the bad arguments (isError, the stream still works
// after), and a study that completes after the client went away (read with
// `sweep status --json`). The SDK also checks every structuredContent against the
// tool's outputSchema. Run by ctest (node/mcp) with SWEEP_BIN; `node --test` directly:
//   SWEEP_BIN=build/sweep node --test tests/node/mcp.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const BIN = process.env.SWEEP_BIN;
assert.ok(BIN, 'SWEEP_BIN must be set (ctest sets it)');

let home, client, stderr = '';

async function connect() {
  const c = new Client({ name: 'sweep-node-test', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: BIN,
    args: ['mcp', '--home', home],
    stderr: 'pipe',
  });
  transport.stderr?.on('data', (d) => { stderr += d; });
  await c.connect(transport);
  return c;
}

// Waits for check() to give a true value, polling every 100 ms; fails after seconds.
async function waitFor(what, seconds, check) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function call(name, args, c = client) {
  return c.callTool({ name, arguments: args });
}

// Polls check_study_status until the status is one of want; fails on another final one.
async function waitStatus(id, want, seconds = 120) {
  const final = ['COMPLETED', 'PARTIALLY_FAILED', 'FAILED', 'CANCELLED', 'INTERRUPTED'];
  return waitFor(`study ${id} ${want}`, seconds, async () => {
    const r = await call('check_study_status', { study_id: id });
    assert.equal(r.isError, false, r.content[0].text);
    const s = r.structuredContent;
    if (want.includes(s.status)) return s;
    assert.ok(!final.includes(s.status), `study ${id} ended ${s.status}: ${r.content[0].text}`);
    return null;
  });
}

before(async () => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'sweep-mcp-'));
  client = await connect();
});

after(async () => {
  await client?.close();
  // No detached run is left behind: each test waited for its study.
  fs.rmSync(home, { recursive: true, force: true });
});

test('initialize: the server and its capabilities', () => {
  assert.equal(client.getServerVersion().name, 'sweep');
  assert.ok(client.getServerCapabilities().tools);
});

test('tools/list: every tool with its schemas, the enum and the bounds', async () => {
  const { tools } = await client.listTools();
  const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
  for (const n of ['run_parametric_study', 'run_grid_study', 'check_study_status',
    'get_study_results', 'retry_failed_simulations', 'list_studies', 'list_models',
    'cancel_study']) {
    assert.ok(byName[n], `no tool ${n}`);
    assert.equal(byName[n].inputSchema.type, 'object');
    assert.equal(byName[n].outputSchema.type, 'object');
  }
  const p = byName.run_parametric_study.inputSchema;
  for (const name of ['DLA', 'CCA', 'BALLISTIC', 'EDEN', 'dla', 'chaos'])
    assert.ok(p.properties.algorithm.enum.includes(name), `algorithm enum lacks ${name}`);
  assert.deepEqual(p.required, ['algorithm', 'variable_parameter', 'values']);
  assert.equal(p.properties.values.minItems, 2);
  assert.equal(p.properties.values.maxItems, 100);
  assert.equal(p.properties.values.items.type, 'number');
  assert.equal(p.properties.repetitions.minimum, 1);
  assert.equal(p.properties.repetitions.maximum, 10);
  assert.equal(p.properties.repetitions.default, 1);
  assert.deepEqual(p.properties.priority.enum, ['HIGH', 'MEDIUM', 'LOW']);
  const models = await call('list_models', { model: 'DLA' });
  const n = models.structuredContent.models[0].parameters.find((x) => x.name === 'n_particles');
  assert.equal(n.type, 'int');
  assert.equal(typeof n.default, 'number');
  assert.equal(typeof n.minimum, 'number');
});

test('a DLA study of 3 values x 2 repetitions: COMPLETED, a mean df per value', async () => {
  const r = await call('run_parametric_study', {
    algorithm: 'DLA', variable_parameter: 'n_particles', values: [500, 1000, 2000],
    repetitions: 2,
  });
  assert.equal(r.isError, false, r.content[0].text);
  const id = r.structuredContent.study_id;
  assert.equal(r.structuredContent.total_simulations, 6);
  assert.ok(['CREATED', 'QUEUED', 'RUNNING', 'COMPLETED'].includes(r.structuredContent.status));
  const s = await waitStatus(id, ['COMPLETED']);
  assert.deepEqual(s.progress, { total: 6, completed: 6, failed: 0, percentage: 100 });

  const res = await call('get_study_results', { study_id: id, metric: 'df' });
  assert.equal(res.isError, false, res.content[0].text);
  const agg = res.structuredContent.aggregate;
  assert.deepEqual(Object.keys(agg), ['500', '1000', '2000']);
  for (const v of Object.values(agg)) {
    assert.equal(v.n_samples, 2);
    assert.equal(typeof v.mean_df, 'number');
    assert.ok(v.mean_df > 1.3 && v.mean_df < 2.0, `df ${v.mean_df}`);
    assert.ok('std_df' in v);
  }
  // Links: the CSV, the aggregate, the plot, as resource links that resources/read serves.
  const links = res.content.filter((c) => c.type === 'resource_link');
  assert.deepEqual(links.map((l) => l.mimeType), ['text/csv', 'application/json', 'image/svg+xml']);
  const plot = await client.readResource({ uri: links[2].uri });
  assert.match(links[2].uri, /plot\.svg\?x=n_particles&y=df$/);
  assert.equal(plot.contents[0].mimeType, 'image/svg+xml');
  assert.match(plot.contents[0].text, /<svg/);
  const csv = await client.readResource({ uri: res.structuredContent.links.csv });
  assert.equal(csv.contents[0].text.trim().split('\n').length, 7);

  const rows = await call('get_study_results', { study_id: id, aggregate: false });
  assert.equal(rows.structuredContent.rows.length, 6);
  const list = await call('list_studies', {});
  assert.ok(list.structuredContent.studies.some((x) => x.study === id && x.status === 'COMPLETED'));
});

test('retry after an induced failure', async () => {
  const r = await call('run_parametric_study', {
    algorithm: 'chaos', variable_parameter: 'x', values: [1, 2],
    base_parameters: { fail_attempts: 1 },
  });
  assert.equal(r.isError, false, r.content[0].text);
  const id = r.structuredContent.study_id;
  const failed = await waitStatus(id, ['FAILED', 'PARTIALLY_FAILED']);
  assert.equal(failed.progress.failed, 2);
  // Why, without another tool: the failed tasks with their error.
  assert.equal(failed.failures.length, 2);
  assert.ok(failed.failures.every((f) => f.state === 'failed' && f.why.length > 0),
    JSON.stringify(failed.failures));
  const text = (await call('check_study_status', { study_id: id })).content[0].text;
  assert.match(text, /the first failure: /);
  // Right after the status turned final (its run may still be exiting: the retry
  // waits for it).
  const retried = await call('retry_failed_simulations', { study_id: id });
  assert.equal(retried.isError, false, retried.content[0].text);
  assert.deepEqual(retried.structuredContent, { study_id: id, requeued: 2 });
  const s = await waitStatus(id, ['COMPLETED']);
  assert.equal(s.progress.completed, 2);
});

test('check_study_status waits for the end, with progress notifications', async () => {
  const r = await call('run_parametric_study', {
    algorithm: 'chaos', variable_parameter: 'x', values: [1, 2, 3, 4],
    base_parameters: { duration: 0.5 },
  });
  assert.equal(r.isError, false, r.content[0].text);
  const id = r.structuredContent.study_id;
  const seen = [];
  const done = await client.callTool(
    { name: 'check_study_status', arguments: { study_id: id, wait_seconds: 50 } },
    undefined, { onprogress: (p) => seen.push(p) });
  assert.equal(done.isError, false, done.content[0].text);
  assert.equal(done.structuredContent.status, 'COMPLETED');
  assert.ok(seen.length >= 1, 'no progress notification');
  assert.equal(seen.at(-1).total, 4);
  assert.ok(seen.every((p, i) => i === 0 || p.progress > seen[i - 1].progress));
});

test('bad arguments: isError with what is allowed; the stream goes on', async () => {
  const dla = { algorithm: 'DLA', variable_parameter: 'n_particles' };
  const cases = [
    [{ ...dla, algorithm: 'FOO', values: [1, 2] }, /algorithm: unknown model "FOO".*the models: chaos/],
    [{ ...dla, variable_parameter: 'temperature', values: [1, 2] },
      /dla: unknown parameter "temperature".*known parameters: n_particles/],
    [{ ...dla, values: [100] }, /values: expected a list of 2 to 100 values of n_particles, got 1/],
    [{ ...dla, values: Array.from({ length: 101 }, (_, i) => 100 + i) }, /2 to 100 values .*got 101/],
    [{ ...dla, values: [100, 200], repetitions: 0 }, /repetitions: expected 1 to 10, got 0/],
    [{ ...dla, values: [100, 200], repetitions: 11 }, /repetitions: expected 1 to 10, got 11/],
    [{ ...dla, values: [100, -5] }, /values\[1\]: dla: n_particles: expected an integer/],
  ];
  for (const [args, want] of cases) {
    const r = await call('run_parametric_study', args);
    assert.equal(r.isError, true, JSON.stringify(args));
    assert.match(r.content[0].text, want);
  }
  for (const tool of ['check_study_status', 'get_study_results', 'retry_failed_simulations',
    'cancel_study']) {
    const r = await call(tool, { study_id: 'no-such-study' });
    assert.equal(r.isError, true, tool);
    assert.match(r.content[0].text, /no study "no-such-study"; the studies: /);
  }
  // An unknown tool is the protocol's error; the session answers the next call still.
  await assert.rejects(call('no_such_tool', {}), /no_such_tool|Unknown tool|not found/i);
  const { tools } = await client.listTools();
  assert.equal(tools.length, 8);
});

test('a study started by a client that went away still completes', async () => {
  const c = await connect();
  const r = await call('run_grid_study', {
    algorithm: 'chaos', parameters: { x: [1, 2], y: [0, 1] },
    base_parameters: { duration: 0.5 },
  }, c);
  assert.equal(r.isError, false, r.content[0].text);
  const id = r.structuredContent.study_id;
  assert.equal(r.structuredContent.total_simulations, 4);
  await c.close(); // the sweep mcp process ends; the detached run goes on
  const status = await waitFor(`${id} completed after the disconnect`, 120, () => {
    const out = execFileSync(BIN, ['status', id, '--json', '--home', home], { encoding: 'utf8' });
    const s = JSON.parse(out);
    return s.status === 'COMPLETED' ? s : null;
  });
  assert.equal(status.counts.succeeded, 4);
});
