// The web dashboard of `sweep serve` (GET /, src/server/dashboard/) in a real browser:
// Debian's chromium, headless, driven by playwright-core. A chaos study submitted
// through the API appears on the open page and its progress bar advances without a
// reload (server-sent events from /events, or polling when the service has none); the
// failed task's log is two clicks away; at phone size (390x844) no page overflows
// sideways. Screenshots go to build/artifacts/dashboard-*.png (look at them).
// Run by ctest (node/dashboard) with SWEEP_BIN and SWEEP_SRC; `node --test` directly:
//   SWEEP_BIN=build/sweep SWEEP_SRC=. node --test tests/node/dashboard.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServe, stopServe, waitFor as waitUntil } from './serve.mjs';

const SRC = process.env.SWEEP_SRC;
const BIN = process.env.SWEEP_BIN;
assert.ok(SRC && BIN, 'SWEEP_SRC and SWEEP_BIN must be set (ctest sets them)');
const CHROMIUM = process.env.SWEEP_CHROMIUM || '/usr/bin/chromium';
assert.ok(fs.existsSync(CHROMIUM),
  `${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium`);
const ARTIFACTS = path.join(path.dirname(path.resolve(BIN)), 'artifacts');
const TOKEN = 'dash-token';
const STUDY = 'dash';

let svc, url, browser;
// Waits with a deadline; a timeout shows the service's output.
const waitFor = (what, seconds, check) => waitUntil(what, seconds, check, () => svc?.log);

before(async () => {
  svc = await startServe('sweep-dash-', ['-j', '2'], TOKEN);
  url = svc.url;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
});

// The browser closed; SIGTERM, then the exit waited for (30 s, then SIGKILL): it must
// be 0.
after(async () => {
  await browser?.close();
  if (!svc) return;
  const code = await stopServe(svc);
  assert.equal(code, 0, `sweep serve exited ${code}\n${svc.log}`);
});

test('the files of the dashboard, with their types and no external URL', async () => {
  for (const [p, type] of [['/', 'text/html'], ['/static/app.js', 'text/javascript'],
    ['/static/style.css', 'text/css']]) {
    const r = await fetch(url + p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers.get('content-type').split(';')[0], type, p);
    const text = await r.text();
    const file = p === '/' ? 'index.html' : p.slice('/static/'.length);
    assert.equal(text, fs.readFileSync(path.join(SRC, 'src/server/dashboard', file), 'utf8'));
    assert.doesNotMatch(text, /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i, `${p} names a host`);
  }
  for (const p of ['/static/nope.js', '/static/..%2F..%2Fetc%2Fpasswd']) {
    const r = await fetch(url + p);
    assert.ok(r.status === 404 || r.status === 400, `${p}: ${r.status}`);
    assert.ok((await r.json()).error, p);
  }
  const bad = await fetch(url + '/tasks/1/logs?stream=stdin');
  assert.equal(bad.status, 400);
  assert.equal((await fetch(url + '/tasks/1/logs?tail=0')).status, 400);
  assert.equal((await fetch(url + '/tasks/999/logs')).status, 404);
});

// The done count of the study's row on the studies page: [value, max], or null.
const rowProgress = (page) => page.evaluate((s) => {
  const p = document.querySelector(`tr[data-study="${s}"] progress`);
  return p ? [p.value, p.max] : null;
}, STUDY);

test('a study appears and advances live; its failed task\'s log in two clicks', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url + '/');
  await page.getByText('No study yet').waitFor();
  await page.evaluate(() => { window.notReloaded = true; });

  // 6 tasks of 0.8 s on 2 slots (about 2.4 s); the 3 with fail_rate 1 fail.
  const spec = { study: STUDY, algorithm: 'chaos', variable_parameter: 'fail_rate',
    values: [0, 1], repetitions: 3, base_parameters: { duration: 0.8, x: 2 } };
  const r = await fetch(url + '/studies', { method: 'POST', body: JSON.stringify(spec),
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } });
  assert.equal(r.status, 202, await r.text());
  const seen = new Set();
  await waitFor('the study on the page', 20, async () => {
    const p = await rowProgress(page);
    if (p) seen.add(p[0]);
    return p !== null;
  });
  await waitFor('the study to end on the page', 60, async () => {
    const p = await rowProgress(page);
    seen.add(p[0]);
    return p[0] === p[1];
  });
  assert.ok(seen.size >= 2, `the bar never moved: ${[...seen]}`);
  assert.ok(await page.evaluate(() => window.notReloaded), 'the page was reloaded');

  // Two clicks: the study, then a failed task's id; its page shows its stderr.
  await page.click(`tr[data-study="${STUDY}"] a`);
  await page.locator('#tasks').waitFor();
  await page.click('#tasks tr:has(.state.failed) a');
  await page.locator('#log-stderr', { hasText: 'failed on purpose' }).waitFor();
  assert.equal(await page.locator('#attempts tbody tr').count(), 1);
  assert.equal(await page.locator('#attempts tbody .state').textContent(), 'failed');
  assert.match(page.url(), /#\/task\/\d+$/);
  const id = page.url().match(/(\d+)$/)[1];
  const logs = (q) => fetch(`${url}/tasks/${id}/logs?${q}`).then((r) => r.text());
  const full = await logs('stream=stderr');
  assert.match(full, /failed on purpose/);
  assert.equal(await logs('stream=stderr&tail=1'),
    full.slice(full.lastIndexOf('\n', full.length - 2) + 1));
  assert.equal(await logs('stream=stdout'), ''); // nothing written: no file

  // The study page: filter, sort, aggregate, plot.
  await page.goBack();
  await page.locator('#tasks').waitFor();
  await page.selectOption('#filter', 'failed');
  await waitFor('the filter', 10, async () => {
    const states = await page.$$eval('#tasks tbody .state', (v) => v.map((e) => e.textContent));
    return states.length === 3 && states.every((s) => s === 'failed');
  });
  await page.selectOption('#filter', '');
  await page.click('#tasks th[data-sort="id"]'); // id is the sort: now descending
  await waitFor('the sort', 10, async () => {
    const ids = await page.$$eval('#tasks tbody tr', (v) => v.map((e) => +e.dataset.task));
    return ids.length === 6 && ids.every((id, i) => i === 0 || ids[i - 1] > id);
  });
  assert.equal(await page.locator('#aggregate tbody tr').count(), 2);
  assert.equal(await page.inputValue('#plot-x'), 'fail_rate');
  assert.equal(await page.inputValue('#plot-y'), 'value');
  await waitFor('the plot', 10, () => page.$eval('#plot', (i) => i.complete && i.naturalWidth > 0));
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-desktop.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

// A study larger than a page: its tasks are paged with GET /tasks' limit and offset
// (previous, next, per page), and the plot's x axis is by default the parameter with
// the most distinct values (x, 125 of them), not the first one (sigma, 2), y the
// metric named value (else the first).
test('a study of 250 tasks is paged; the plot shows its swept axis', async () => {
  const spec = { study: 'many', model: 'chaos',
    parameters: { sigma: [1, 2], x: { linspace: [0, 1, 125] } } };
  const r = await fetch(url + '/studies', { method: 'POST', body: JSON.stringify(spec),
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' } });
  assert.equal(r.status, 202, await r.text());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [], pages = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (q) => {
    const u = new URL(q.url());
    if (u.pathname === '/tasks') pages.push(`${u.searchParams.get('offset')}+${u.searchParams.get('limit')}`);
  });
  await page.goto(url + '/#/study/many');
  const ids = () => page.$$eval('#tasks tbody tr', (v) => v.map((e) => +e.dataset.task));
  const range = () => page.textContent('#page-range').catch(() => null);
  await waitFor('the first page', 60, async () => (await ids()).length === 100);
  assert.equal(await range(), '1–100');
  assert.ok(await page.isDisabled('#page-prev'));
  const seen = new Set(await ids());
  for (const [want, n] of [['101–200', 100], ['201–250', 50]]) {
    await page.click('#page-next');
    await waitFor(`the page ${want}`, 10, async () => (await range()) === want);
    const got = await ids();
    assert.equal(got.length, n);
    for (const id of got) {
      assert.ok(!seen.has(id), `task ${id} on two pages`);
      seen.add(id);
    }
  }
  assert.equal(seen.size, 250);
  assert.ok(await page.isDisabled('#page-next'));
  assert.ok(pages.includes('200+100'), `requests: ${pages}`);
  await page.click('#page-prev');
  await waitFor('the page back', 10, async () => (await range()) === '101–200');
  await page.selectOption('#per-page', '1000');
  await waitFor('one page of 1000', 10, async () => (await range()) === '1–250');
  assert.ok(pages.includes('0+1000'), `requests: ${pages}`);

  // The plot, once tasks have metrics: x the swept axis, y the first metric.
  await waitFor('the plot', 120, async () => (await page.locator('#plot-x').count()) > 0);
  assert.equal(await page.inputValue('#plot-x'), 'x');
  assert.equal(await page.inputValue('#plot-y'), 'value');
  assert.deepEqual(errors, []);
  await page.close();
});

// With /events (here one event served by the browser itself) an event redraws the
// page, and nothing polls.
test('an event from /events redraws the page', async () => {
  const page = await browser.newPage();
  const ev = { study: STUDY, task_id: 1, key: 'k', attempt: 1, from: 'running',
    to: 'failed', time: '2026-01-01T00:00:00.000Z' };
  await page.route('**/events', (r) => r.fulfill({ status: 200,
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' },
    body: `retry: 600000\n\nevent: task\nid: 1\ndata: ${JSON.stringify(ev)}\n\n` }));
  let lists = 0;
  page.on('request', (q) => { if (new URL(q.url()).pathname === '/studies') lists++; });
  await page.goto(url + '/');
  await page.locator('#live.sse').waitFor();
  await waitFor('a redraw after the event', 10, () => lists >= 2);
  await page.close();
});

test('at phone size nothing overflows sideways', async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const overflow = () => page.evaluate(() =>
    document.documentElement.scrollWidth - document.documentElement.clientWidth);
  const id = (await (await fetch(`${url}/tasks?study=${STUDY}&status=failed`)).json())
    .tasks[0].id;
  for (const [hash, ready, shot] of [['#/', `tr[data-study="${STUDY}"]`, 'phone-studies'],
    [`#/study/${STUDY}`, '#plot', 'phone-study'], [`#/task/${id}`, '#log-stderr', 'phone-task'],
    ['#/workers', '#workers', null]]) {
    await page.goto(url + '/' + hash);
    await page.locator(ready).waitFor();
    assert.ok(await overflow() <= 0, `${hash} overflows by ${await overflow()} px`);
    if (shot)
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${shot}.png`), fullPage: true });
  }
  await page.close();
});
