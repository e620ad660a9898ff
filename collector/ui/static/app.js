// hotpath's web UI: services overview, endpoint detail, trace waterfall and errors. Every view is a URL
// (its filters in the query string), so it can be shared and reloaded; it reads only the query API.

import { get, ApiError, setAuthorization, authorization } from './api.js';
import * as fmt from './format.js';
import { el, message, loading, table, tile, legend, percentileKeys } from './dom.js';
import { current, link } from './nav.js';
import { lineChart, latencyHistogram, percentileSeries } from './chart.js';
import { renderWaterfall } from './waterfall.js';
import { renderProfile, profilePage } from './profile.js';
import { comparePage } from './compare.js';
import { queriesPage, queryPage } from './queries.js';
import { dependenciesPage, dependencyPage } from './dependencies.js';

const ranges = [['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['6h', 'Last 6 hours'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days']];
const main = document.getElementById('app');
let aborter = null;

// ---- URLs ----

function navigate(url, replace = false) {
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  render();
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest && ev.target.closest('a[data-nav]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(a.getAttribute('href'));
});
window.addEventListener('popstate', () => render());

// timeParams returns the API's from and to for the current URL: range=1h (the default) means from
// now-1h to now; from and to (Unix milliseconds or RFC 3339) give a fixed window.
function timeParams(s = current()) {
  if (s.get('from')) return { from: s.get('from'), to: s.get('to') || 'now' };
  return { from: `now-${rangeName(s)}`, to: 'now' };
}

function rangeName(s = current()) {
  const r = s.get('range');
  return ranges.some(([k]) => k === r) ? r : '1h';
}

function rangeText(s = current()) {
  if (s.get('from')) {
    const t = (v) => (/^\d+$/.test(v) ? fmt.when(new Date(Number(v))) : v === 'now' ? 'now' : fmt.when(v));
    return `${t(s.get('from'))} – ${t(s.get('to') || 'now')}`;
  }
  return ranges.find(([k]) => k === rangeName(s))[1].toLowerCase();
}

// ---- chrome ----

function header() {
  const s = current();
  const select = el('select', { id: 'range', 'aria-label': 'time range' });
  for (const [k, text] of ranges) select.append(el('option', { value: k, selected: !s.get('from') && rangeName(s) === k }, text));
  if (s.get('from')) select.prepend(el('option', { value: '', selected: true }, rangeText(s)));
  select.addEventListener('change', () => {
    const u = current();
    u.delete('from');
    u.delete('to');
    u.set('range', select.value);
    navigate(`?${u}`);
  });
  const refresh = el('button', { type: 'button', class: 'ghost', title: 'reload the data' }, 'Refresh');
  refresh.addEventListener('click', () => render());
  const auth = el('button', { type: 'button', class: 'ghost', title: 'secret token or API key' }, authorization() ? 'Credentials ✓' : 'Credentials');
  auth.addEventListener('click', () => showAuth());
  const page = s.get('page') || 'overview';
  return el('header', { class: 'top' },
    link({}, 'hotpath', { class: 'brand' }),
    el('nav', {},
      link({}, 'Services', { class: page === 'overview' || page === 'endpoint' ? 'active' : '' }),
      link({ page: 'errors', service: s.get('service') }, 'Errors', { class: page === 'errors' ? 'active' : '' })),
    el('div', { class: 'controls' }, select, refresh, auth));
}

function footer() {
  return el('footer', {}, `Times in ${fmt.timeZone}. Percentiles from HDR histograms (within 1%).`);
}

function showAuth(reason) {
  // method post: were the form ever submitted natively, the secret would not end up in a URL.
  const dialog = el('form', { class: 'card auth', method: 'post' },
    el('h2', {}, 'Credentials'),
    reason ? el('p', { class: 'state state-error', role: 'alert' }, reason) : null,
    el('p', {}, 'This collector requires the secret token or an API key its agents use. It is kept in this browser only.'),
    el('label', {}, 'Kind ', el('select', { name: 'kind' },
      el('option', { value: 'Bearer' }, 'Secret token'), el('option', { value: 'ApiKey' }, 'API key (base64 of id:key)'))),
    el('label', {}, 'Value ', el('input', { name: 'value', type: 'password', autocomplete: 'off', required: true })),
    el('div', { class: 'buttons' },
      el('button', { type: 'submit' }, 'Use'),
      el('button', { type: 'button', class: 'ghost', name: 'clear' }, 'Forget')));
  dialog.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setAuthorization(`${dialog.kind.value} ${dialog.value.value.trim()}`);
    render();
  });
  dialog.clear.addEventListener('click', () => {
    setAuthorization('');
    render();
  });
  main.replaceChildren(header(), el('main', {}, dialog), footer());
}

// failure renders an API error into box, with a way out.
function failure(box, err, retry) {
  if (err.name === 'AbortError') return;
  if (err instanceof ApiError && err.status === 401) {
    showAuth(err.message);
    return;
  }
  const again = el('button', { type: 'button', class: 'ghost' }, 'Retry');
  again.addEventListener('click', retry);
  box.replaceChildren(message('error', `Could not load: ${err.message} `, again));
}

// section renders a titled card whose body loads asynchronously: load(body) fills it.
function section(title, load, attrs = {}) {
  const body = el('div', { class: 'card-body' });
  const card = el('section', { class: 'card', ...attrs }, title ? el('h2', {}, title) : null, body);
  const run = () => {
    body.replaceChildren(loading(title ? title.toLowerCase() : 'data'));
    load(body).catch((err) => failure(body, err, run));
  };
  run();
  return card;
}

function statCells(s) {
  return [
    el('td', { class: 'num opt' }, fmt.perMinute(s.throughput_per_minute)),
    el('td', { class: `num${s.error_rate > 0.05 ? ' bad' : ''}` }, fmt.rate(s.error_rate)),
    el('td', { class: 'num opt' }, fmt.us(s.latency_us?.p50)),
    el('td', { class: 'num' }, fmt.us(s.latency_us?.p95)),
    el('td', { class: 'num p99' }, fmt.us(s.latency_us?.p99)),
  ];
}

// Columns marked opt are hidden in a narrow window, where p99 and the error rate matter most.
const statHeaders = [
  { text: 'Throughput', num: true, opt: true }, { text: 'Error rate', num: true },
  { text: 'p50', num: true, opt: true }, { text: 'p95', num: true }, { text: 'p99', num: true },
];

function tiles(s) {
  return el('div', { class: 'tiles' },
    tile('Throughput', fmt.perMinute(s.throughput_per_minute)),
    tile('Transactions', fmt.count(s.transactions)),
    tile('Error rate', fmt.rate(s.error_rate), s.error_rate > 0.05 ? 'bad' : ''),
    tile('p50', fmt.us(s.latency_us?.p50)),
    tile('p95', fmt.us(s.latency_us?.p95)),
    tile('p99', fmt.us(s.latency_us?.p99), 'p99'));
}

function noData(what) {
  const origin = window.location.origin;
  return message('empty', `No ${what} in the ${rangeText()}. `,
    el('span', { class: 'hint' }, 'Point an agent at this collector: ', el('code', {}, `ELASTIC_APM_SERVER_URL=${origin}`), ', or choose a longer range.'));
}

// ---- pages ----

async function overview(box, signal) {
  const data = await get('services', timeParams(), signal);
  box.replaceChildren();
  if (data.services.length === 0) {
    box.append(noData('services'));
    return;
  }
  for (const svc of data.services) {
    const head = el('div', { class: 'service-head' },
      el('h2', {}, svc.name),
      el('span', { class: 'chips' },
        el('span', { class: 'chip' }, fmt.perMinute(svc.throughput_per_minute)),
        el('span', { class: `chip${svc.error_rate > 0.05 ? ' bad' : ''}` }, `errors ${fmt.rate(svc.error_rate)}`),
        el('span', { class: 'chip' }, `p99 ${fmt.us(svc.latency_us?.p99)}`)),
      link({ page: 'compare', service: svc.name }, 'compare →', { class: 'side-link compare-link' }),
      link({ page: 'queries', service: svc.name }, 'queries →', { class: 'side-link queries-link' }),
      link({ page: 'dependencies', service: svc.name }, 'dependencies →', { class: 'side-link dependencies-link' }),
      link({ page: 'errors', service: svc.name }, 'errors →', { class: 'side-link' }));
    const body = el('div', { class: 'card-body' }, loading('endpoints'));
    box.append(el('section', { class: 'card service', 'data-service': svc.name }, head, body));
    const load = () => get('endpoints', { service: svc.name, ...timeParams() }, signal).then((eps) => {
      if (eps.endpoints.length === 0) {
        body.replaceChildren(message('empty', `No transactions of ${svc.name} in the ${rangeText()}.`));
        return;
      }
      body.replaceChildren(table([{ text: 'Endpoint' }, ...statHeaders], eps.endpoints.map((e) => el('tr', {},
        el('td', { class: 'name' }, link({ page: 'endpoint', service: svc.name, name: e.name }, e.name, { class: 'endpoint-link' })),
        ...statCells(e))), 'endpoints'));
    }).catch((err) => failure(body, err, load));
    load();
  }
}

async function endpointPage(box, signal) {
  const s = current();
  const service = s.get('service');
  const name = s.get('name') || '';
  if (!service) {
    box.replaceChildren(message('error', 'No service in the URL.'));
    return;
  }
  box.replaceChildren(
    el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ', el('span', {}, service)),
    el('h1', {}, name || `${service} (all transactions)`,
      link({ page: 'compare', service, name }, 'Compare versions →', { class: 'side-link compare-link' }),
      link({ page: 'queries', service }, 'Queries →', { class: 'side-link queries-link' }),
      link({ page: 'dependencies', service }, 'Dependencies →', { class: 'side-link dependencies-link' })));
  const summary = el('div', {}, loading('figures'));
  box.append(summary);
  const grid = el('div', { class: 'grid' });
  box.append(grid);

  const params = { service, name, ...timeParams() };
  let detail;
  let versions = [];
  let failover = null;
  const load = () => Promise.all([
    get('endpoint', params, signal),
    get('versions', { service, ...timeParams() }, signal).catch(() => null),
    get('failover', { service, ...timeParams() }, signal).catch(() => null),
  ]).then(([d, v, f]) => {
    detail = d;
    versions = v?.versions || [];
    failover = f;
    summary.replaceChildren(tiles(d));
    renderCharts();
  }).catch((err) => failure(summary, err, load));
  const latencyCard = el('section', { class: 'card wide' }, el('h2', {}, 'Latency over time'), el('div', { class: 'card-body' }, loading('latency')));
  const histCard = el('section', { class: 'card' }, el('h2', {}, 'Latency distribution'), el('div', { class: 'card-body' }, loading('histogram')));
  // The service's circuit breakers, shown when it has any: the share the emergency cache served.
  const failoverCard = el('section', { class: 'card wide failover', hidden: true }, el('h2', {}, 'Failover'), el('div', { class: 'card-body' }));
  grid.append(latencyCard, histCard, failoverCard);
  const renderCharts = () => {
    const d = detail;
    const lb = latencyCard.querySelector('.card-body');
    const hb = histCard.querySelector('.card-body');
    if (d.transactions === 0) {
      lb.replaceChildren(noData('transactions'));
      hb.replaceChildren(message('empty', 'No transactions.'));
      return;
    }
    const chart = el('div', { class: 'latency-chart' });
    lb.replaceChildren(legend(percentileKeys, el('span', { class: 'hint' }, ` per ${fmt.interval(d.interval_seconds)}`)), chart);
    lineChart(chart, {
      label: 'latency percentiles over time',
      points: d.series.map((p) => ({ t: new Date(p.start), values: p.latency_us ? [p.latency_us.p50, p.latency_us.p95, p.latency_us.p99] : [null, null, null] })),
      series: percentileSeries,
      yFormat: fmt.us,
      // A marker where each service.version but the first seen in the range starts.
      markers: versions.slice(1).map((v) => ({ t: new Date(v.first_seen), label: v.version })),
      bands: breakerBands(failover),
      stepMs: d.interval_seconds * 1000,
    });
    renderFailover(failoverCard, failover);
    const hist = el('div', { class: 'histogram' });
    hb.replaceChildren(hist);
    latencyHistogram(hist, 'latency histogram', d.histogram);
  };
  load();

  grid.append(section('Time spent by span type', async (body) => {
    const b = await get('breakdown', params, signal);
    if (b.types.length === 0) {
      body.replaceChildren(message('empty', 'No breakdown yet: agents send it with their metrics (the Go agent every 30 s).'));
      return;
    }
    const bar = el('div', { class: 'stack', role: 'img', 'aria-label': 'share of time by span type' });
    const rows = [];
    b.types.forEach((t, i) => {
      const cls = `b${i % 8}`;
      const typeName = t.subtype ? `${t.type}.${t.subtype}` : t.type;
      const part = el('div', { class: `stack-part ${cls}`, title: `${typeName} ${fmt.rate(t.share)}` });
      part.style.width = `${t.share * 100}%`;
      bar.append(part);
      rows.push(el('tr', {},
        el('td', {}, el('span', { class: `key ${cls}` }), ` ${typeName}`),
        el('td', { class: 'num' }, fmt.rate(t.share)),
        el('td', { class: 'num' }, fmt.us(t.sum_us)),
        el('td', { class: 'num' }, fmt.count(t.count))));
    });
    body.replaceChildren(bar, table([{ text: 'Span type' }, { text: 'Share', num: true }, { text: 'Self time', num: true }, { text: 'Count', num: true }], rows, 'breakdown'));
  }, { class: 'card' }));

  box.append(transactionsCard(service, name, signal));
  box.append(section('Errors', async (body) => {
    const e = await get('errors', { ...params, limit: 10 }, signal);
    body.replaceChildren(errorTable(e, service));
  }));
}

// breakerBands turns the failover API's open intervals into the latency chart's shaded bands.
function breakerBands(f) {
  const bands = [];
  for (const b of f?.breakers || []) {
    for (const iv of b.open_intervals || []) {
      const from = new Date(iv.from);
      const to = iv.to ? new Date(iv.to) : null;
      const length = to ? fmt.us((to - from) * 1000) : 'still open';
      bands.push({ from, to, label: b.name, title: `breaker ${b.name} open from ${fmt.when(from)} (${length})` });
    }
  }
  return bands;
}

// renderFailover fills card with the service's breakers and, per minute, the share of its requests the
// emergency cache served, over the same shaded open intervals; the card stays hidden for a service
// without breakers.
function renderFailover(card, f) {
  const minutes = (f?.served_by || []).filter((m) => m.elasticsearch + m.emergency_cache + m.rejected > 0);
  if (!f || ((f.breakers || []).length === 0 && minutes.length === 0)) {
    card.hidden = true;
    return;
  }
  card.hidden = false;
  const body = card.querySelector('.card-body');
  let cached = 0;
  let total = 0;
  for (const m of minutes) {
    cached += m.emergency_cache;
    total += m.elasticsearch + m.emergency_cache + m.rejected;
  }
  const chart = el('div', { class: 'cache-share-chart' });
  body.replaceChildren(
    el('div', { class: 'legend' },
      el('span', { class: 'legend-item' }, el('span', { class: 'key s-cache' }), 'served by the emergency cache, share per minute'),
      el('span', { class: 'legend-item' }, el('span', { class: 'key s-band' }), 'breaker open'),
      el('span', { class: 'hint' }, ` ${fmt.rate(total ? cached / total : 0)} of ${fmt.count(total)} requests in the range`)),
    chart,
    table([{ text: 'Breaker' }, { text: 'State changes', num: true }, { text: 'Open', num: true }, { text: 'Open for', num: true }],
      (f.breakers || []).map((b) => {
        let openUs = 0;
        let stillOpen = false;
        for (const iv of b.open_intervals || []) {
          if (iv.to) openUs += (new Date(iv.to) - new Date(iv.from)) * 1000;
          else stillOpen = true;
        }
        return el('tr', { 'data-breaker': b.name },
          el('td', {}, b.name),
          el('td', { class: 'num' }, fmt.count(b.changes)),
          el('td', { class: 'num' }, `${fmt.count((b.open_intervals || []).length)}×`),
          el('td', { class: 'num' }, `${fmt.us(openUs)}${stillOpen ? ', still open' : ''}`));
      }), 'breakers'));
  lineChart(chart, {
    label: 'share of requests served by the emergency cache per minute',
    height: 160,
    points: minutes.map((m) => {
      const n = m.elasticsearch + m.emergency_cache + m.rejected;
      return { t: new Date(m.minute), values: [m.emergency_cache / n] };
    }),
    series: [{ name: 'emergency cache', cls: 's-cache' }],
    yFormat: fmt.rate,
    bands: breakerBands(f),
    stepMs: 60e3,
  });
}

// transactionsCard lists transactions with the filters of the URL (sort, slow, min_duration, result,
// label), a page at a time.
function transactionsCard(service, name, signal) {
  const s = current();
  const sort = s.get('sort') === 'time' ? 'time' : 'duration';
  const form = el('form', { class: 'filters', role: 'search' },
    el('label', {}, 'Sort ', el('select', { name: 'sort' },
      el('option', { value: 'duration', selected: sort === 'duration' }, 'slowest first'),
      el('option', { value: 'time', selected: sort === 'time' }, 'newest first'))),
    el('label', {}, el('input', { type: 'checkbox', name: 'slow', checked: s.get('slow') === 'true' }), ' slow only'),
    el('label', {}, 'at least ', el('input', { name: 'min_duration', placeholder: '500ms', size: 7, value: s.get('min_duration') || '' })),
    el('label', {}, 'result ', el('input', { name: 'result', placeholder: 'HTTP 5xx', size: 9, value: s.get('result') || '' })),
    el('label', {}, 'label ', el('input', { name: 'label', placeholder: 'key:value', size: 12, value: s.get('label') || '' })),
    el('button', { type: 'submit' }, 'Apply'));
  const title = sort === 'duration' ? 'Slowest transactions' : 'Latest transactions';
  const body = el('div', { class: 'card-body' });
  const card = el('section', { class: 'card transactions-card' }, el('h2', {}, title), form, body);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const u = current();
    for (const k of ['sort', 'min_duration', 'result', 'label']) {
      const v = form[k].value.trim();
      if (v && !(k === 'sort' && v === 'duration')) u.set(k, v);
      else u.delete(k);
    }
    if (form.slow.checked) u.set('slow', 'true');
    else u.delete('slow');
    navigate(`?${u}`, true);
  });
  const params = {
    service, name, sort, slow: s.get('slow') === 'true' ? 'true' : '', min_duration: s.get('min_duration') || '',
    result: s.get('result') || '', label: s.get('label') || '', limit: 20, ...timeParams(),
  };
  const tbody = el('tbody', {});
  const more = el('button', { type: 'button', class: 'ghost more', hidden: true }, 'Load more');
  let cursor = '';
  const page = async () => {
    const p = await get('transactions', { ...params, cursor }, signal);
    for (const t of p.transactions) {
      tbody.append(el('tr', {},
        el('td', { class: 'num' }, link({ page: 'trace', trace: t.trace_id, tx: t.transaction_id, service, name: t.name }, fmt.us(t.duration_us), { class: 'trace-link' })),
        el('td', {}, fmt.when(t.timestamp)),
        el('td', {}, name ? '' : t.name, name ? null : ' ', el('span', { class: `result${t.outcome === 'failure' ? ' bad' : ''}` }, t.result || t.outcome)),
        el('td', { class: 'labels' }, Object.entries(t.labels || {}).map(([k, v]) => el('span', { class: 'tag' }, k === 'slow' && v === 'true' ? 'slow' : `${k}:${v}`)))));
    }
    cursor = p.next || '';
    more.hidden = !p.next;
    return p;
  };
  more.addEventListener('click', () => {
    more.disabled = true;
    page().catch((err) => failure(body, err, () => navigate(window.location.search, true))).finally(() => {
      more.disabled = false;
    });
  });
  const run = () => {
    body.replaceChildren(loading('transactions'));
    tbody.replaceChildren();
    cursor = '';
    page().then((p) => {
      if (p.transactions.length === 0) {
        body.replaceChildren(message('empty', `No transactions match in the ${rangeText()}.`));
        return;
      }
      body.replaceChildren(el('div', { class: 'table-wrap' }, el('table', { class: 'transactions' },
        el('thead', {}, el('tr', {}, el('th', { class: 'num' }, 'Duration'), el('th', {}, 'Time'), el('th', {}, 'Result'), el('th', {}, 'Labels'))),
        tbody)), more);
    }).catch((err) => failure(body, err, run));
  };
  run();
  return card;
}

function errorTable(e, service) {
  if (e.groups.length === 0) return message('empty', `No errors in the ${rangeText()}.`);
  const rows = e.groups.map((g) => el('tr', {},
    el('td', { class: 'num' }, fmt.count(g.count)),
    el('td', { class: 'error-msg' }, el('strong', {}, g.type || 'error'), ` ${g.message}`, g.handled === false ? el('span', { class: 'tag tag-error' }, 'unhandled') : null),
    el('td', {}, g.culprit),
    el('td', { title: fmt.when(g.last_seen) }, fmt.ago(g.last_seen)),
    el('td', {}, g.latest.trace_id ? link({ page: 'trace', trace: g.latest.trace_id, tx: g.latest.transaction_id, service }, 'trace →') : '')));
  const out = [table([{ text: 'Count', num: true }, { text: 'Error' }, { text: 'Culprit' }, { text: 'Last seen' }, { text: '' }], rows, 'errors')];
  if (e.truncated) out.push(el('p', { class: 'note' }, `Counted over the newest ${fmt.count(e.total)} errors of the range.`));
  return el('div', {}, out);
}

async function tracePage(box, signal) {
  const s = current();
  const id = s.get('trace');
  const service = s.get('service');
  const name = s.get('name');
  const crumbs = el('nav', { class: 'crumbs' }, link({}, 'Services'));
  if (service) crumbs.append(' › ', el('span', {}, service));
  if (service && name) crumbs.append(' › ', link({ page: 'endpoint', service, name }, name));
  crumbs.append(' › trace');
  box.replaceChildren(crumbs, loading('trace'));
  const t = await get(`traces/${encodeURIComponent(id || '')}`, {}, signal);
  const tx = t.items.find((i) => i.kind === 'transaction' && i.id === s.get('tx')) || t.items.find((i) => i.kind === 'transaction') || t.items[0];
  const head = el('div', { class: 'trace-head' },
    el('h1', {}, tx ? tx.name : `trace ${t.trace_id}`),
    el('div', { class: 'chips' },
      tx ? el('span', { class: 'chip strong' }, fmt.us(tx.duration_us)) : null,
      tx?.result ? el('span', { class: `chip${tx.outcome === 'failure' ? ' bad' : ''}` }, tx.result) : null,
      failoverNote(tx),
      tx ? el('span', { class: 'chip' }, fmt.when(tx.timestamp)) : null,
      el('span', { class: 'chip' }, `${t.items.length} spans and transactions`),
      el('span', { class: 'chip' }, `services: ${t.services.join(', ')}`),
      el('span', { class: 'chip mono' }, `trace ${t.trace_id}`)));
  const wf = el('section', { class: 'card' }, el('h2', {}, 'Waterfall'), el('p', { class: 'hint' }, 'Click a row for its details (db.statement, labels, HTTP).'));
  const wfBody = el('div', { class: 'card-body' });
  wf.append(wfBody);
  box.replaceChildren(crumbs, head, wf);
  renderWaterfall(wfBody, t, tx?.id);
  if (t.errors.length > 0) {
    box.append(el('section', { class: 'card' }, el('h2', {}, 'Errors in this trace'), table(
      [{ text: 'At', num: true }, { text: 'Error' }, { text: 'Culprit' }],
      t.errors.map((e) => el('tr', {}, el('td', { class: 'num' }, `+${fmt.us(e.offset_us)}`),
        el('td', { class: 'error-msg' }, el('strong', {}, e.type || 'error'), ` ${e.message || ''}`), el('td', {}, e.culprit || ''))))));
  }
  const profile = el('section', { class: 'card profile', id: 'profile' });
  box.append(profile);
  renderProfile(profile, { traceId: t.trace_id, transaction: tx });
}

// failoverNote says, for a transaction a circuit breaker decided (the agent's breaker labels), when it
// was short-circuited or answered from the emergency cache; null otherwise.
function failoverNote(tx) {
  const l = tx?.labels || {};
  const breaker = l.breaker ? `breaker ${l.breaker}` : 'the breaker';
  let text = null;
  if (l.served_by === 'emergency_cache') {
    text = l.breaker_decision === 'rejected'
      ? `short-circuited (${breaker} open): answered from the emergency cache`
      : 'answered from the emergency cache (the backend failed)';
  } else if (l.breaker_decision === 'rejected') {
    text = `short-circuited (${breaker} open): refused`;
  } else if (l.breaker_decision === 'probe') {
    text = `a probe of ${breaker}, half-open`;
  } else if (l.served_by === 'rejected') {
    text = 'served by nobody: the backend failed';
  }
  return text && el('span', { class: 'chip failover-note', 'data-served-by': l.served_by || '', 'data-decision': l.breaker_decision || '' }, text);
}

async function errorsPage(box, signal) {
  const s = current();
  const svcs = await get('services', timeParams(), signal);
  const service = s.get('service') || svcs.services[0]?.name;
  box.replaceChildren(el('h1', {}, 'Errors'));
  if (!service) {
    box.append(noData('services'));
    return;
  }
  const tabs = el('nav', { class: 'tabs' }, svcs.services.map((x) => link({ page: 'errors', service: x.name }, x.name, { class: x.name === service ? 'active' : '' })));
  box.append(tabs, section(`Errors of ${service}`, async (body) => {
    const e = await get('errors', { service, ...timeParams() }, signal);
    body.replaceChildren(errorTable(e, service));
  }));
}

// ---- render ----

export function render() {
  if (aborter) aborter.abort();
  aborter = new AbortController();
  const { signal } = aborter;
  const page = current().get('page') || 'overview';
  const box = el('main', { 'data-page': page });
  main.replaceChildren(header(), box, footer());
  const ui = { timeParams, section, noData };
  const pages = {
    overview, endpoint: endpointPage, trace: tracePage, errors: errorsPage, profile: profilePage,
    compare: (b, sig) => comparePage(b, sig, navigate), queries: (b, sig) => queriesPage(b, sig, ui), query: (b, sig) => queryPage(b, sig, ui),
    dependencies: (b, sig) => dependenciesPage(b, sig, ui), dependency: (b, sig) => dependencyPage(b, sig, ui),
  };
  const fn = pages[page] || overview;
  const titles = { overview: 'Services', endpoint: current().get('name') || 'Endpoint', trace: 'Trace', errors: 'Errors', profile: 'Profile', compare: 'Compare', queries: 'Queries', query: 'Query shape', dependencies: 'Dependencies', dependency: current().get('target') || 'Dependency' };
  document.title = `${titles[page] || 'Services'} · hotpath`;
  box.append(loading(page === 'overview' ? 'services' : page));
  fn(box, signal).catch((err) => failure(box, err, render));
}

render();
