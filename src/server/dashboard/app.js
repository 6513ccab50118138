// The dashboard of `sweep serve`: hash routes drawn from the REST API, kept current by
// GET /events (server-sent events) or, when the service has none (404), by polling
// every 2 s. No framework, no external URL.
'use strict';

const view = document.getElementById('view');
const live = document.getElementById('live');
const STATES = ['pending', 'waiting', 'running', 'succeeded', 'failed', 'timed_out',
  'cancelled', 'interrupted', 'skipped'];
// What the page shows besides the route: the study page's filter, sort, page of tasks
// (offset, per page) and plot axes.
const ui = { filter: '', sort: 'id', desc: false, x: '', y: '', offset: 0, per: 100 };
const PER_PAGE = [100, 1000]; // the choices; GET /tasks takes at most 1000
let drawing = false, again = false, shownHtml = '';

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) =>
    ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}
function num(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
}
function state(s) { return `<span class="state ${esc(s)}">${esc(s)}</span>`; }
function enc(s) { return encodeURIComponent(s); }

async function get(path, type = 'json') {
  const r = await fetch(path, { cache: 'no-store' });
  if (!r.ok) {
    let detail = r.statusText;
    try { detail = (await r.json()).detail || detail; } catch (e) { /* not JSON */ }
    const err = new Error(detail);
    err.status = r.status;
    throw err;
  }
  return type === 'json' ? r.json() : r.text();
}

// ---- pages ----

function counts(c) {
  return `<div class="counts">${STATES.filter((s) => c[s]).map((s) =>
    `<span>${state(s)} ${c[s]}</span>`).join('')}</div>`;
}

async function studiesPage() {
  const list = await get('/studies');
  if (!list.length) return '<h1>Studies</h1><p class="muted">No study yet: submit one ' +
    'with POST /studies.</p>';
  const rows = list.map((s) => {
    const c = s.counts, done = c.total - c.pending - c.running - c.waiting;
    const prio = Object.entries(s.by_priority || {}).filter(([, v]) => v.total)
      .map(([k, v]) => `${esc(k)} ${v.total - v.pending - v.running - v.waiting}/${v.total}`)
      .join(', ');
    return `<tr class="study-row" data-study="${esc(s.study)}">
      <td><a href="#/study/${enc(s.study)}">${esc(s.study)}</a></td>
      <td>${state(s.status)}</td>
      <td><progress max="${c.total || 1}" value="${done}"></progress>
        <span class="done">${done}/${c.total}</span></td>
      <td>${counts(c)}</td><td class="hide-narrow">${prio}</td>
      <td class="hide-narrow muted">${esc(s.updated_at)}</td></tr>`;
  }).join('');
  return `<h1>Studies</h1><div class="card scroll"><table id="studies"><thead><tr><th>Study</th>
    <th>Status</th><th>Progress</th><th>Tasks by state</th>
    <th class="hide-narrow">By priority (ended/total)</th>
    <th class="hide-narrow">Updated</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

// One page of the study's tasks in the state chosen (all: ""): ui.per of them from
// ui.offset, one request of GET /tasks (limit, offset), so that a redraw of a large
// study stays one small request. An offset past the end (tasks went to another state)
// goes back to the first page. The page says which offset it is: ui.offset may have
// moved on (a click while a live redraw was fetching), and the pager must show the
// range of the rows it is drawn with.
async function pageOfTasks(study) {
  const q = (offset) => get(`/tasks?study=${enc(study)}&limit=${ui.per}&offset=${
    offset}${ui.filter ? `&status=${enc(ui.filter)}` : ''}`);
  let offset = ui.offset, p = await q(offset);
  if (!p.tasks.length && offset > 0 && ui.offset === offset)
    p = await q(offset = ui.offset = 0);
  return { tasks: p.tasks, offset,
    more: p.next_offset !== null && p.next_offset !== undefined };
}

function pager(n, more, offset) {
  const per = PER_PAGE.map((k) => `<option${k === ui.per ? ' selected' : ''}>${k}</option>`)
    .join('');
  return `<span class="pager"><button id="page-prev"${offset > 0 ? '' : ' disabled'}>
    ← previous</button><span id="page-range">${n ? `${offset + 1}–${offset + n}`
    : 'none'}</span><button id="page-next"${more ? '' : ' disabled'}>next →</button>
    <label>per page <select id="per-page">${per}</select></label></span>`;
}

function taskTable(tasks, more, offset) {
  const pkeys = [...new Set(tasks.flatMap((t) => Object.keys(t.params || {})))];
  const mkeys = [...new Set(tasks.flatMap((t) => Object.keys(t.metrics || {})))];
  const cols = [['id', (t) => t.id], ['state', (t) => t.state],
    ['priority', (t) => t.priority], ['attempts', (t) => t.attempts],
    ...pkeys.map((k) => [k, (t) => t.params?.[k]]),
    ...mkeys.map((k) => [k, (t) => t.metrics?.[k]]),
    ['wall', (t) => t.wall], ['error', (t) => t.error]];
  const col = cols.find(([n]) => n === ui.sort) || cols[0];
  const shown = tasks.slice().sort((a, b) => {
    const va = col[1](a), vb = col[1](b);
    const d = va === vb ? 0 : va === null || va === undefined ? 1
      : vb === null || vb === undefined ? -1 : va < vb ? -1 : 1;
    return ui.desc ? -d : d;
  });
  const head = cols.map(([n]) => `<th class="sortable" data-sort="${esc(n)}">${esc(n)}${
    n === col[0] ? (ui.desc ? ' ▼' : ' ▲') : ''}</th>`).join('');
  const body = shown.map((t) => `<tr data-task="${t.id}">${cols.map(([n, f]) => {
    const v = f(t);
    if (n === 'id') return `<td><a href="#/task/${t.id}">${t.id}</a></td>`;
    if (n === 'state') return `<td>${state(v)}</td>`;
    return `<td class="${typeof v === 'number' ? 'num' : ''}">${esc(num(v))}</td>`;
  }).join('')}</tr>`).join('');
  const opts = ['', ...STATES].map((s) => `<option value="${s}"${
    s === ui.filter ? ' selected' : ''}>${s || 'all states'}</option>`).join('');
  return { pkeys, mkeys, html: `<div class="controls"><label>Show <select id="filter">${
    opts}</select></label>${pager(shown.length, more, offset)}${more || offset ? '<span ' +
    'class="muted">sorted within the page</span>' : ''}` +
    `</div><div class="scroll"><table id="tasks"><thead><tr>${head}</tr></thead>` +
    `<tbody>${body}</tbody></table></div>` };
}

function aggTable(agg) {
  const groups = Object.entries(agg || {});
  if (!groups.length) return '<p class="muted">No aggregate yet.</p>';
  const keys = [...new Set(groups.flatMap(([, v]) => Object.keys(v)))];
  return `<div class="scroll"><table id="aggregate"><thead><tr><th>group</th>${
    keys.map((k) => `<th class="num">${esc(k)}</th>`).join('')}</tr></thead><tbody>${
    groups.map(([g, v]) => `<tr><td>${esc(g)}</td>${keys.map((k) =>
      `<td class="num">${esc(num(v[k]))}</td>`).join('')}</tr>`).join('')
  }</tbody></table></div>`;
}

async function studyPage(name) {
  const [st, { tasks, more, offset }] = await Promise.all([get(`/studies/${enc(name)}`),
    pageOfTasks(name)]);
  let agg = null;
  try { agg = await get(`/studies/${enc(name)}/aggregate`); } catch (e) { agg = null; }
  const p = st.progress || {};
  const table = taskTable(tasks, more, offset);
  // The plot's axes: a numeric parameter that varies (x) against a metric (y); by
  // default the parameter with the most distinct values among the page's tasks (the
  // study's swept axis rather than a second one with a few values; seeds and task
  // ids are no axis) and the metric named value, else the first metric (metrics come
  // in name order: for chaos that would be its bookkeeping "attempt").
  const distinct = (k) => new Set(tasks.map((t) => JSON.stringify(t.params?.[k]))).size;
  const xs = table.pkeys.filter((k) => k !== 'seed' && k !== 'task_id' &&
    distinct(k) > 1 && tasks.some((t) => typeof t.params?.[k] === 'number'));
  const ys = table.mkeys;
  if (!xs.includes(ui.x))
    ui.x = xs.reduce((best, k) => (best && distinct(best) >= distinct(k) ? best : k), '');
  if (!ys.includes(ui.y)) ui.y = ys.includes('value') ? 'value' : ys[0] || '';
  const sel = (id, list, cur) => `<select id="${id}">${list.map((k) =>
    `<option${k === cur ? ' selected' : ''}>${esc(k)}</option>`).join('')}</select>`;
  const plot = ui.x && ui.y
    ? `<div class="controls"><label>x ${sel('plot-x', xs, ui.x)}</label><label>y ${
      sel('plot-y', ys, ui.y)}</label></div><img id="plot" alt="plot of ${esc(ui.y)
    } against ${esc(ui.x)}" src="/studies/${enc(name)}/plot.svg?x=${enc(ui.x)}&y=${
      enc(ui.y)}&t=${p.completed || 0}-${p.failed || 0}">`
    : '<p class="muted">Nothing to plot yet (a varying numeric parameter and a metric ' +
      'are needed).</p>';
  return `<p><a href="#/">← Studies</a></p><h1>${esc(name)} ${state(st.status)}</h1>
    <div class="card"><progress id="study-progress" max="${p.total || 1}" value="${
    (p.completed || 0) + (p.failed || 0)}"></progress> ${num(p.percentage)}% · ${
    p.completed ?? 0} completed · ${p.failed ?? 0} failed · ${p.total ?? 0} tasks${
    st.estimated_remaining ? ` · about ${Math.round(st.estimated_remaining)} s left` : ''
    }</div><h2>Tasks</h2><div class="card">${table.html}</div>
    <h2>Aggregate</h2><div class="card">${aggTable(agg)}</div>
    <h2>Plot</h2><div class="card plot">${plot}</div>`;
}

async function taskPage(id) {
  const [t, at] = await Promise.all([get(`/tasks/${enc(id)}`),
    get(`/tasks/${enc(id)}/attempts`).catch(() => ({ attempts: [] }))]);
  const logs = await Promise.all(['stdout', 'stderr'].map((s) =>
    get(`/tasks/${enc(id)}/logs?stream=${s}&tail=200`, 'text')
      .catch((e) => `(${e.message})`)));
  const kv = (o) => {
    const e = Object.entries(o || {});
    return e.length ? `<dl class="kv">${e.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${
      esc(typeof v === 'object' && v !== null ? JSON.stringify(v) : num(v))}</dd>`)
      .join('')}</dl>` : '<p class="muted">none</p>';
  };
  return `<p><a href="#/study/${enc(t.study)}">← ${esc(t.study)}</a></p>
    <h1>Task ${t.id} ${state(t.state)}</h1>
    <div class="card">${kv({ study: t.study, key: t.key, priority: t.priority,
      attempts: t.attempts, exit_code: t.exit_code, signal: t.signal, error: t.error,
      wall: t.wall, started_at: t.started_at, finished_at: t.finished_at })}</div>
    <h2>Parameters</h2><div class="card">${kv(t.params)}</div>
    <h2>Metrics</h2><div class="card">${kv(t.metrics)}</div>
    <h2>Attempts</h2><div class="card scroll">${at.attempts.length ? `<table id="attempts">
    <thead><tr><th>#</th><th>state</th><th>exit</th><th>signal</th><th>wall</th>
    <th>started</th><th>error</th></tr></thead><tbody>${at.attempts.map((a) => `<tr>
    <td>${a.attempt}</td><td>${state(a.state)}</td><td>${esc(a.exit_code)}</td>
    <td>${esc(a.signal)}</td><td class="num">${esc(num(a.wall))}</td>
    <td>${esc(a.started_at)}</td><td>${esc(a.error)}</td></tr>`).join('')}</tbody></table>`
    : '<p class="muted">none yet</p>'}</div>
    <h2>stdout (last attempt, last 200 lines)</h2>
    <pre class="log" id="log-stdout">${esc(logs[0]) || '(empty)'}</pre>
    <h2>stderr</h2><pre class="log" id="log-stderr">${esc(logs[1]) || '(empty)'}</pre>`;
}

async function workersPage() {
  try {
    const w = await get('/workers');
    const list = Array.isArray(w) ? w : w.workers || [];
    const keys = [...new Set(list.flatMap((x) => Object.keys(x)))];
    return `<h1 id="workers">Workers</h1><div class="card scroll"><table><thead><tr>${keys.map((k) =>
      `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${list.map((x) => `<tr>${
      keys.map((k) => `<td>${esc(typeof x[k] === 'object' ? JSON.stringify(x[k])
        : num(x[k]))}</td>`).join('')}</tr>`).join('')}</tbody></table></div>`;
  } catch (e) {
    if (e.status !== 404) throw e;
  }
  const s = await get('/status'); // no remote workers: the local service
  return `<h1 id="workers">Workers</h1><p class="muted">This service runs its tasks itself.</p>
    <div class="card"><dl class="kv"><dt>status</dt><dd>${esc(s.status)}</dd>
    <dt>pid</dt><dd>${esc(s.pid)}</dd><dt>started</dt><dd>${esc(s.started_at)}</dd>
    <dt>slots</dt><dd>${esc(s.slots)}</dd><dt>studies running</dt><dd>${
    esc(s.studies_running)}</dd><dt>studies queued</dt><dd>${esc(s.studies_queued)}</dd>
    </dl></div>`;
}

// ---- drawing and live updates ----

async function draw() {
  if (drawing) { again = true; return; }
  drawing = true;
  const h = decodeURIComponent(location.hash.replace(/^#\/?/, ''));
  const [page, ...rest] = h.split('/');
  const arg = rest.join('/');
  try {
    const html = page === 'study' ? await studyPage(arg)
      : page === 'task' ? await taskPage(arg)
        : page === 'workers' ? await workersPage() : await studiesPage();
    // Unchanged: the page is left as it is (an open list, a selection, a scrolled log).
    if (html !== shownHtml) view.innerHTML = shownHtml = html;
  } catch (e) {
    view.innerHTML = shownHtml =
      `<p class="error">${esc(e.message)}</p><p><a href="#/">Studies</a></p>`;
  }
  drawing = false;
  if (again) { again = false; draw(); }
}

let pending = null;
function soon() { // one redraw for a burst of events
  if (!pending) pending = setTimeout(() => { pending = null; draw(); }, 300);
}

function poll() {
  live.textContent = 'polling 2 s';
  live.className = 'live poll';
  setInterval(draw, 2000);
}

function listen() {
  if (!window.EventSource) return poll();
  const es = new EventSource('/events');
  let opened = false;
  es.onopen = () => { opened = true; live.textContent = 'live'; live.className = 'live sse'; };
  es.addEventListener('task', soon);
  es.addEventListener('study', soon);
  es.addEventListener('dropped', soon); // events were lost: redraw all the same
  es.onmessage = soon;
  es.onerror = () => {
    // A 404 (no /events on this service) closes the source: poll instead. A dropped
    // stream reconnects by itself.
    if (es.readyState === EventSource.CLOSED) { es.close(); if (!opened) poll(); else listen(); }
  };
}

view.addEventListener('change', (ev) => {
  const id = ev.target.id;
  if (id === 'filter') { ui.filter = ev.target.value; ui.offset = 0; }
  else if (id === 'per-page') { ui.per = +ev.target.value; ui.offset = 0; }
  else if (id === 'plot-x') ui.x = ev.target.value;
  else if (id === 'plot-y') ui.y = ev.target.value;
  else return;
  draw();
});
view.addEventListener('click', (ev) => {
  const step = { 'page-prev': -1, 'page-next': 1 }[ev.target.id];
  if (step) {
    ui.offset = Math.max(0, ui.offset + step * ui.per);
    draw();
    return;
  }
  const th = ev.target.closest('th[data-sort]');
  if (!th) return;
  ui.desc = ui.sort === th.dataset.sort ? !ui.desc : false;
  ui.sort = th.dataset.sort;
  draw();
});
window.addEventListener('hashchange', () => { ui.filter = ''; ui.offset = 0; draw(); });
draw();
listen();
