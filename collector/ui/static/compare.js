// The Compare view: one service's endpoints in population A against population B (two versions, two
// values of a label, or two time windows), with the size of each change, its 95% interval and a
// verdict; for one endpoint, the two latency histograms overlaid and where the time went on each side.
// It reads /api/v1/versions and /api/v1/compare.

import { get } from './api.js';
import * as fmt from './format.js';
import { el, message, loading, table } from './dom.js';
import { current, href, link } from './nav.js';
import { svgEl } from './chart.js';


// delta formats a change in µs with its sign.
function delta(v) {
  if (v === null || v === undefined) return '–';
  return `${v > 0 ? '+' : v < 0 ? '−' : '±'}${fmt.us(Math.abs(v))}`;
}

function pct(d, base) {
  if (!base) return '';
  const p = (100 * d) / base;
  return ` (${p > 0 ? '+' : ''}${p.toFixed(Math.abs(p) < 10 ? 1 : 0)}%)`;
}

function ci(c) {
  return c ? `[${delta(c.ci_us?.[0])}, ${delta(c.ci_us?.[1])}]` : '';
}

function chip(verdict, reason) {
  return el('span', { class: `chip verdict v-${verdict}`, title: reason || '', 'data-verdict': verdict }, verdict.replace('_', ' '));
}

function pval(q) {
  if (q === null || q === undefined) return '–';
  return q < 0.001 ? '< 0.001' : q.toFixed(3);
}

// params reads the comparison of the URL: by, a, b (or the windows), name.
function params(s) {
  const p = { service: s.get('service'), by: s.get('by') || 'version', name: s.get('name') || '' };
  if (p.by === 'time') {
    for (const k of ['a_from', 'a_to', 'b_from', 'b_to']) p[k] = s.get(k) || '';
  } else {
    p.a = s.get('a') || '';
    p.b = s.get('b') || '';
    const from = s.get('from');
    p.from = from || `now-${s.get('range') || '24h'}`;
    p.to = s.get('to') || 'now';
  }
  return p;
}

function ready(p) {
  return p.by === 'time' ? p.a_from && p.a_to && p.b_from && p.b_to : p.a && p.b;
}

// form picks A and B: the versions seen (newest two by default), a label's values, or two windows.
function form(p, versions, navigate) {
  const f = el('form', { class: 'filters compare-form' });
  const by = el('select', { name: 'by', 'aria-label': 'compare by' },
    el('option', { value: 'version', selected: p.by === 'version' }, 'versions'),
    el('option', { value: 'label', selected: p.by.startsWith('label:') }, 'a label'),
    el('option', { value: 'time', selected: p.by === 'time' }, 'time windows'));
  f.append(el('label', {}, 'Compare ', by));
  if (p.by === 'version') {
    const pick = (name, value) => el('select', { name, 'aria-label': `version ${name.toUpperCase()}` },
      versions.map((v) => el('option', { value: v.version, selected: v.version === value }, `${v.version} (${fmt.count(v.count)})`)));
    f.append(el('label', {}, 'A ', pick('a', p.a)), el('label', {}, 'B ', pick('b', p.b)));
  } else if (p.by.startsWith('label:') || p.by === 'label') {
    f.append(el('label', {}, 'label ', el('input', { name: 'key', size: 12, placeholder: 'es_cluster', value: p.by.slice(6) })),
      el('label', {}, 'A ', el('input', { name: 'a', size: 8, placeholder: 'es2', value: p.a })),
      el('label', {}, 'B ', el('input', { name: 'b', size: 8, placeholder: 'es7', value: p.b })));
  } else {
    for (const k of ['a_from', 'a_to', 'b_from', 'b_to']) {
      f.append(el('label', {}, `${k.replace('_', ' ')} `, el('input', { name: k, size: 20, placeholder: k.endsWith('from') ? 'now-25h' : 'now-24h', value: p[k] })));
    }
  }
  f.append(el('button', { type: 'submit' }, 'Compare'));
  by.addEventListener('change', () => navigate(href({ page: 'compare', service: p.service, by: by.value === 'label' ? 'label:' : by.value, name: p.name })));
  f.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const d = new FormData(f);
    const q = { page: 'compare', service: p.service, name: p.name };
    if (by.value === 'time') {
      q.by = 'time';
      for (const k of ['a_from', 'a_to', 'b_from', 'b_to']) q[k] = d.get(k);
    } else {
      q.by = by.value === 'label' ? `label:${d.get('key') || ''}` : 'version';
      q.a = d.get('a');
      q.b = d.get('b');
    }
    navigate(href(q));
  });
  return f;
}

// overlay draws the two histograms as shares of their side, on the same bars.
function overlay(container, ha, hb) {
  const bins = new Map();
  const add = (h, side, total) => h.forEach((b) => {
    const x = bins.get(b.from_us) || { from: b.from_us, to: b.to_us, a: 0, b: 0 };
    x[side] = b.count / total;
    bins.set(b.from_us, x);
  });
  add(ha, 'a', ha.reduce((s, b) => s + b.count, 0) || 1);
  add(hb, 'b', hb.reduce((s, b) => s + b.count, 0) || 1);
  const list = [...bins.values()].sort((x, y) => x.from - y.from);
  const width = Math.max(320, container.clientWidth || 640);
  const height = 200;
  const m = { top: 10, right: 8, bottom: 24, left: 44 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const svg = svgEl('svg', { width, height, role: 'img', 'aria-label': 'latency histograms of A and B' }, container);
  if (list.length === 0) return;
  const max = Math.max(...list.map((b) => Math.max(b.a, b.b)), 0.01);
  const bw = w / list.length;
  const y = (v) => m.top + h - (v / max) * h;
  const g = svgEl('g', { class: 'axis' }, svg);
  for (const v of [0, max / 2, max]) {
    svgEl('line', { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: 'grid' }, g);
    svgEl('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, g).textContent = `${Math.round(v * 100)}%`;
  }
  const every = Math.ceil(list.length / Math.max(1, Math.floor(w / 70)));
  list.forEach((b, i) => {
    for (const side of ['a', 'b']) {
      const r = svgEl('rect', { x: m.left + i * bw + 1, y: y(b[side]), width: Math.max(1, bw - 2), height: m.top + h - y(b[side]), class: `bar side-${side}` }, svg);
      svgEl('title', {}, r).textContent = `${side.toUpperCase()} ${fmt.us(b.from)} – ${fmt.us(b.to)}: ${(b[side] * 100).toFixed(1)}%`;
    }
    if (i % every === 0) svgEl('text', { x: m.left + i * bw, y: m.top + h + 16 }, g).textContent = fmt.us(b.from);
  });
}

function breakdownTable(bd) {
  const key = (t) => (t.subtype ? `${t.type}.${t.subtype}` : t.type);
  const rows = new Map();
  for (const side of ['a', 'b']) for (const t of bd[side]?.types || []) {
    const r = rows.get(key(t)) || { a: null, b: null };
    r[side] = t;
    rows.set(key(t), r);
  }
  if (rows.size === 0) return message('empty', 'No breakdown for these populations yet: agents send it with their metrics (the Go agent every 30 s).');
  const per = (t, side) => (t && bd[side].types.length ? t.sum_us / Math.max(1, t.count) : null);
  return table([{ text: 'Span type' }, { text: 'A share', num: true }, { text: 'B share', num: true }, { text: 'A self time', num: true }, { text: 'B self time', num: true }],
    [...rows.entries()].map(([k, r]) => el('tr', {},
      el('td', {}, k),
      el('td', { class: 'num' }, fmt.rate(r.a?.share ?? 0)),
      el('td', { class: 'num' }, fmt.rate(r.b?.share ?? 0)),
      el('td', { class: 'num', title: r.a ? `${fmt.us(per(r.a, 'a'))} each` : '' }, fmt.us(r.a?.sum_us)),
      el('td', { class: 'num', title: r.b ? `${fmt.us(per(r.b, 'b'))} each` : '' }, fmt.us(r.b?.sum_us)))), 'compare-breakdown');
}

// comparePage renders the Compare view of the URL's service (and endpoint, with name).
export async function comparePage(box, signal, navigate) {
  const s = current();
  const p = params(s);
  if (!p.service) {
    box.replaceChildren(message('error', 'No service in the URL.'));
    return;
  }
  let versions = [];
  if (p.by === 'version') {
    versions = (await get('versions', { service: p.service, from: p.from, to: p.to }, signal)).versions;
    if (!p.a && !p.b && versions.length >= 2) {
      p.a = versions[versions.length - 2].version;
      p.b = versions[versions.length - 1].version;
    }
  }
  box.replaceChildren(
    el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ', link({ page: 'endpoint', service: p.service }, p.service),
      p.name ? [' › ', link({ page: 'endpoint', service: p.service, name: p.name }, p.name)] : null),
    el('h1', {}, `Compare ${p.name || p.service}`),
    form(p, versions, navigate));
  if (p.by === 'version' && versions.length < 2) {
    box.append(message('empty', `${p.service} has ${versions.length ? 'one version' : 'no versions'} (service.version) in this range: nothing to compare. Pick another range, or compare time windows.`));
    return;
  }
  if (!ready(p)) {
    box.append(message('empty', 'Pick A and B.'));
    return;
  }
  const body = el('div', {}, loading('comparison'));
  box.append(body);
  const q = { ...p };
  const c = await get('compare', q, signal);
  const card = (title, ...content) => el('section', { class: 'card' }, el('h2', {}, title), el('div', { class: 'card-body' }, ...content));
  const rows = c.endpoints.map((e) => el('tr', { 'data-endpoint': e.name },
    el('td', { class: 'name' }, p.name ? e.name : link({ page: 'compare', ...q, name: e.name, from: s.get('from'), to: s.get('to') }, e.name)),
    el('td', { class: 'num opt' }, `${fmt.count(e.a.count)} / ${fmt.count(e.b.count)}`),
    el('td', { class: 'num' }, fmt.us(e.a.p99_us), ' → ', fmt.us(e.b.p99_us)),
    el('td', { class: 'num' }, delta(e.p99.delta_us), pct(e.p99.delta_us, e.a.p99_us), el('div', { class: 'hint' }, ci(e.p99))),
    el('td', { class: 'num opt' }, delta(e.p95.delta_us), el('div', { class: 'hint' }, ci(e.p95))),
    el('td', { class: 'num opt' }, delta(e.p50.delta_us), el('div', { class: 'hint' }, ci(e.p50))),
    el('td', { class: 'num opt' }, `${fmt.rate(e.a.error_rate)} → ${fmt.rate(e.b.error_rate)}`, e.errors.verdict && e.errors.verdict !== 'no_change' && e.errors.verdict !== 'too_few' ? el('div', { class: 'hint bad' }, e.errors.verdict.replace('_', ' ')) : null),
    el('td', { class: 'num' }, pval(e.q_value)),
    el('td', {}, chip(e.verdict, e.reason))));
  const headers = [{ text: 'Endpoint' }, { text: 'Count A / B', num: true, opt: true }, { text: 'p99 A → B', num: true },
    { text: 'Δ p99 [95%]', num: true }, { text: 'Δ p95', num: true, opt: true }, { text: 'Δ p50', num: true, opt: true },
    { text: 'Errors A → B', num: true, opt: true }, { text: 'q', num: true }, { text: 'Verdict' }];
  const label = c.by === 'time' ? `A = ${c.a.replace('/', ' – ')}, B = ${c.b.replace('/', ' – ')}` : `A = ${c.a}, B = ${c.b}`;
  body.replaceChildren(card(`${label}`,
    c.endpoints.length ? table(headers, rows, 'compare') : message('empty', 'No transactions on either side.'),
    el('p', { class: 'hint' }, `Verdicts need q < 0.05 (Benjamini–Hochberg across the endpoints) and a percentile that moved by at least 5% and 100 µs with its 95% interval clear of 0; too few means under ${c.min_count} transactions on a side.`,
      c.truncated ? ` Only the first ${fmt.count(c.scanned)} transactions were read.` : '')));
  if (p.name && c.endpoints[0]) {
    const e = c.endpoints[0];
    const hist = el('div', { class: 'histogram compare-histogram' });
    body.append(el('div', { class: 'grid' },
      card('Latency distribution, A against B',
        el('div', { class: 'legend' }, el('span', { class: 'legend-item' }, el('span', { class: 'key side-a' }), 'A'), el('span', { class: 'legend-item' }, el('span', { class: 'key side-b' }), 'B')),
        hist, el('p', {}, chip(e.verdict, e.reason), ' ', e.reason)),
      card('Where the time went, A against B', c.breakdown ? breakdownTable(c.breakdown) : message('empty', 'No breakdown for label comparisons: breakdown metrics carry no transaction labels.'))));
    overlay(hist, c.histograms.a, c.histograms.b);
  } else if (c.breakdown) {
    body.append(card('Where the time went, A against B', breakdownTable(c.breakdown)));
  }
}
