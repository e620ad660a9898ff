// The trace waterfall: one row per transaction or span, nested by parent, its bar placed on the trace's
// time axis and coloured by type. A click on a row opens its details (db.statement, labels, HTTP...).

import { us } from './format.js';
import { el } from './dom.js';
import { link } from './nav.js';
import { profileIdOf } from './profile.js';

// typeClass maps a span type to its colour class.
export function typeClass(item) {
  if (item.kind === 'transaction') return 't-tx';
  const t = (item.type || '').split('.')[0];
  return { db: 't-db', external: 't-ext', app: 't-app', messaging: 't-msg', cache: 't-cache', storage: 't-db' }[t] || 't-other';
}

export const legend = [
  ['t-tx', 'transaction'], ['t-app', 'app'], ['t-db', 'db'], ['t-ext', 'external'], ['t-msg', 'messaging'], ['t-other', 'other'],
];

// tookMs returns the server-side time Elasticsearch reported for a span, or null.
function tookMs(item) {
  const v = item.labels?.es_took_ms;
  return typeof v === 'number' ? v : null;
}

function barLabel(item) {
  let s = us(item.duration_us);
  const took = tookMs(item);
  if (took !== null) s += ` · ES took ${took} ms`;
  return s;
}

function niceMs(span) {
  const raw = span / 5;
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

// renderWaterfall renders trace (the API's answer) into container; selectedTx is the transaction id to
// highlight, onSelect(item) is told when a row is opened.
export function renderWaterfall(container, trace, selectedTx, onSelect) {
  container.replaceChildren();
  const total = Math.max(trace.duration_us, 1);
  const pct = (v) => `${Math.min(100, Math.max(0, (v / total) * 100))}%`;

  const legendEl = el('div', { class: 'legend' });
  for (const [cls, name] of legend) legendEl.append(el('span', { class: 'legend-item' }, el('span', { class: `swatch ${cls}` }), name));
  container.append(legendEl);

  const wf = el('div', { class: 'waterfall', role: 'list' });
  const axis = el('div', { class: 'wf-row wf-axis' }, el('div', { class: 'wf-name' }, 'name'));
  const ticks = el('div', { class: 'wf-track' });
  const step = niceMs(total);
  for (let t = 0; t <= total; t += step) {
    const tick = el('span', { class: 'wf-tick' }, us(t));
    tick.style.left = pct(t);
    ticks.append(tick);
  }
  axis.append(ticks);
  wf.append(axis);

  const rootService = trace.items[0]?.service;
  let open = null;
  for (const item of trace.items) {
    const cls = typeClass(item);
    const name = el('div', { class: 'wf-name', title: item.name },
      el('span', { class: `swatch ${cls}` }),
      el('span', { class: 'wf-text' }, item.name));
    name.style.paddingLeft = `${0.3 + Math.min(item.depth, 12) * 1.1}rem`;
    if (item.service !== rootService) name.append(el('span', { class: 'tag' }, item.service));
    // A database call's query shape: a link to the shape's figures (its click opens it, not the row).
    if (item.query_shape) {
      name.append(link({ page: 'query', service: item.service, shape: item.query_shape.shape }, 'shape',
        { class: 'tag shape-link', title: item.query_shape.summary }));
    }
    if (item.error_count) name.append(el('span', { class: 'tag tag-error', title: `${item.error_count} error(s)` }, '!'));
    const bar = el('div', { class: `wf-bar ${cls}` });
    bar.style.left = pct(item.offset_us);
    bar.style.width = `max(2px, ${pct(item.duration_us)})`;
    const took = tookMs(item);
    if (took !== null && item.duration_us > 0) {
      // The part of the bar Elasticsearch itself spent (hatched, in the middle of the round trip), the
      // rest being network and queueing.
      const server = el('div', { class: 'wf-took', title: `Elasticsearch took ${took} ms` });
      const share = Math.min(100, (took * 1000 / item.duration_us) * 100);
      server.style.width = `${share}%`;
      server.style.left = `${(100 - share) / 2}%`;
      bar.append(server);
    }
    // The label goes after the bar, or, for a bar ending in the last quarter, inside it when it is
    // wide enough, else before it.
    const label = el('span', { class: 'wf-label' }, barLabel(item));
    const end = item.offset_us + item.duration_us;
    if (end <= total * 0.75) {
      label.style.left = pct(end);
    } else if (item.duration_us >= total * 0.35) {
      label.classList.add('wf-label-inside');
      label.style.right = `calc(100% - ${pct(end)})`;
    } else {
      label.classList.add('wf-label-left');
      label.style.right = `calc(100% - ${pct(item.offset_us)})`;
    }
    const track = el('div', { class: 'wf-track' }, bar, label);
    const row = el('div', {
      class: `wf-row wf-item${item.kind === 'transaction' && item.id === selectedTx ? ' selected' : ''}`,
      role: 'listitem', tabindex: '0', 'data-id': item.id, 'data-name': item.name, 'data-kind': item.kind,
      'aria-expanded': 'false',
    }, name, track);
    const toggle = () => {
      if (open) {
        open.detail.remove();
        open.row.setAttribute('aria-expanded', 'false');
        open.row.classList.remove('open');
        if (open.row === row) {
          open = null;
          return;
        }
      }
      const detail = details(item, trace);
      row.after(detail);
      row.classList.add('open');
      row.setAttribute('aria-expanded', 'true');
      open = { row, detail };
      if (onSelect) onSelect(item);
    };
    row.addEventListener('click', (ev) => {
      if (!ev.target.closest('a')) toggle();
    });
    row.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        toggle();
      }
    });
    wf.append(row);
  }
  container.append(wf);
  if (trace.truncated) {
    container.append(el('p', { class: 'note' }, `This trace has more than ${trace.items.length} spans; the first ${trace.items.length} are shown.`));
  }
}

function field(dl, key, value) {
  if (value === undefined || value === null || value === '') return;
  dl.append(el('dt', {}, key), el('dd', {}, value));
}

// details is the panel of one item.
function details(item, trace) {
  const panel = el('div', { class: 'wf-detail', role: 'region', 'aria-label': `details of ${item.name}` });
  const dl = el('dl', {});
  field(dl, 'name', item.name);
  field(dl, 'kind', item.kind);
  field(dl, 'type', [item.type, item.subtype, item.action].filter(Boolean).join(' / '));
  field(dl, 'service', item.service);
  field(dl, 'start', `+${us(item.offset_us)}`);
  field(dl, 'duration', us(item.duration_us));
  const took = tookMs(item);
  if (took !== null) {
    field(dl, 'Elasticsearch took', `${took} ms (network and queueing: ${us(Math.max(0, item.duration_us - took * 1000))})`);
  }
  field(dl, 'result', item.result);
  field(dl, 'outcome', item.outcome);
  if (item.http) field(dl, 'http', [item.http.method, item.http.url, item.http.status_code].filter(Boolean).join(' '));
  if (item.destination) {
    const d = item.destination;
    field(dl, 'destination', [d.service_type, d.service_name, d.address && `${d.address}${d.port ? `:${d.port}` : ''}`].filter(Boolean).join(' '));
  }
  if (item.db) {
    field(dl, 'db', [item.db.type, item.db.instance, item.db.user].filter(Boolean).join(' / '));
    if (item.db.rows_affected !== undefined) field(dl, 'rows affected', String(item.db.rows_affected));
  }
  if (item.composite) field(dl, 'compressed', `${item.composite.count} similar spans, ${us(item.composite.sum_us)} in all`);
  for (const [k, v] of Object.entries(item.labels || {})) field(dl, `label ${k}`, String(v));
  field(dl, 'id', item.id);
  panel.append(dl);
  // A transaction the profiler captured while it was slow: its flame graphs.
  if (item.kind === 'transaction' && profileIdOf(item)) {
    panel.append(el('p', {}, link({ page: 'profile', id: profileIdOf(item), trace: trace.trace_id, tx: item.id },
      'Profile of this request: CPU and goroutine flame graphs →', { class: 'profile-link' })));
  }
  if (item.query_shape) {
    panel.append(el('p', {}, link({ page: 'query', service: item.service, shape: item.query_shape.shape },
      `Query shape ${item.query_shape.summary}: its calls over time and the slowest →`, { class: 'shape-detail-link' })));
  }
  if (item.db?.statement) {
    panel.append(el('div', { class: 'statement-title' }, 'db.statement'), el('pre', { class: 'statement' }, item.db.statement));
  }
  const errs = trace.errors.filter((e) => e.parent_id === item.id);
  for (const e of errs) {
    panel.append(el('div', { class: 'error-box' }, `${e.type || 'error'}: ${e.message || ''}${e.culprit ? ` (in ${e.culprit})` : ''}`));
  }
  return panel;
}
