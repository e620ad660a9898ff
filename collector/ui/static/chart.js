// Small SVG charts: a time-series line chart and a histogram. They size themselves to their container
// and redraw when it is resized.

import { axisTime, us } from './format.js';

const svgNS = 'http://www.w3.org/2000/svg';

// svgEl creates an SVG element with attributes, appended to parent when given.
export function svgEl(name, attrs = {}, parent) {
  const e = document.createElementNS(svgNS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

// niceStep returns a round step (1, 2 or 5 times a power of ten) giving about `ticks` ticks up to max.
function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

const timeSteps = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3, 172800e3];

// responsive calls draw(width) now and whenever the container's width changes.
function responsive(container, draw) {
  let last = 0;
  const run = () => {
    const w = Math.max(240, Math.floor(container.clientWidth));
    if (w === last) return;
    last = w;
    draw(w);
  };
  run();
  if (window.ResizeObserver) new ResizeObserver(run).observe(container);
}

// lineChart draws series over time. opts: points [{t: Date, values: [number|null...]}], series
// [{name, cls}], yFormat(value) for the axis and the tooltip, height, markers [{t: Date, label}]
// (vertical lines at events, such as a new version), bands [{from: Date, to: Date|null, label}]
// (shaded intervals, such as a circuit breaker open; to null: still open), stepMs (the points' step).
export function lineChart(container, opts) {
  container.classList.add('chart');
  const { points, series, yFormat } = opts;
  const height = opts.height || 220;
  responsive(container, (width) => {
    container.replaceChildren();
    const m = { top: 10, right: 12, bottom: 24, left: 64 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const svg = svgEl('svg', { width, height, role: 'img', 'aria-label': opts.label || 'chart' }, container);
    if (points.length === 0) return;
    // The points are the starts of their steps (opts.stepMs): a band in the last step widens the axis
    // to its end, so that an interval of the current minute shows.
    const t0 = points[0].t.getTime();
    const last = points[points.length - 1].t.getTime();
    let t1 = Math.max(last, t0 + 1);
    for (const b of opts.bands || []) t1 = Math.max(t1, Math.min(b.to ? b.to.getTime() : Infinity, last + (opts.stepMs || 0)));
    let max = 0;
    for (const p of points) for (const v of p.values) if (v !== null && v > max) max = v;
    const step = niceStep(max || 1, 4);
    const ymax = Math.ceil((max || 1) / step) * step;
    const x = (t) => m.left + ((t - t0) / (t1 - t0)) * w;
    const y = (v) => m.top + h - (v / ymax) * h;
    const g = svgEl('g', { class: 'axis' }, svg);
    for (let v = 0; v <= ymax + step / 2; v += step) {
      svgEl('line', { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: 'grid' }, g);
      const label = svgEl('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, g);
      label.textContent = yFormat(v);
    }
    const span = t1 - t0;
    const tstep = timeSteps.find((s) => span / s <= Math.max(2, Math.floor(w / 90))) || timeSteps[timeSteps.length - 1];
    for (let t = Math.ceil(t0 / tstep) * tstep; t <= t1; t += tstep) {
      svgEl('line', { x1: x(t), x2: x(t), y1: m.top + h, y2: m.top + h + 4, class: 'tick' }, g);
      const label = svgEl('text', { x: x(t), y: m.top + h + 16, 'text-anchor': 'middle' }, g);
      label.textContent = axisTime(new Date(t), span);
    }
    // Bands under the lines: each interval clipped to the chart, at least 2 px wide, so that an open
    // period shorter than a pixel's worth of time still shows.
    for (const b of opts.bands || []) {
      const from = Math.max(b.from.getTime(), t0);
      const to = Math.min(b.to ? b.to.getTime() : t1, t1);
      if (to < t0 || from > t1 || to < from) continue;
      const width = x(to) - x(from);
      const rect = svgEl('rect', {
        x: x(from), y: m.top, width: Math.max(2, width), height: h, class: width < 4 ? 'band narrow' : 'band', 'data-band': b.label,
      }, svg);
      svgEl('title', {}, rect).textContent = b.title || b.label;
    }
    series.forEach((s, i) => {
      let d = '';
      let pen = false;
      for (const p of points) {
        const v = p.values[i];
        if (v === null || v === undefined) {
          pen = false;
          continue;
        }
        d += `${pen ? 'L' : 'M'}${x(p.t.getTime()).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
      }
      svgEl('path', { d, class: `line ${s.cls}` }, svg);
      // Single points (between gaps) get a dot, so that they show.
      points.forEach((p, k) => {
        const v = p.values[i];
        const prev = points[k - 1]?.values[i];
        const next = points[k + 1]?.values[i];
        if (v !== null && v !== undefined && (prev === null || prev === undefined) && (next === null || next === undefined)) {
          svgEl('circle', { cx: x(p.t.getTime()), cy: y(v), r: 2.5, class: `dot ${s.cls}` }, svg);
        }
      });
    });
    // Markers (a new service.version): a dashed line and a label at their time.
    for (const mk of opts.markers || []) {
      const t = mk.t.getTime();
      if (t < t0 || t > t1) continue;
      const mg = svgEl('g', { class: 'marker', 'data-marker': mk.label }, svg);
      svgEl('line', { x1: x(t), x2: x(t), y1: m.top, y2: m.top + h }, mg);
      svgEl('text', { x: x(t) + 3, y: m.top + 10 }, mg).textContent = mk.label;
    }
    // Hover: a cursor line and the values of the nearest point.
    const cursor = svgEl('line', { y1: m.top, y2: m.top + h, class: 'cursor', visibility: 'hidden' }, svg);
    const tip = document.createElement('div');
    tip.className = 'tip';
    tip.hidden = true;
    container.appendChild(tip);
    const overlay = svgEl('rect', { x: m.left, y: m.top, width: w, height: h, class: 'overlay' }, svg);
    overlay.addEventListener('mousemove', (ev) => {
      const box = svg.getBoundingClientRect();
      const t = t0 + ((ev.clientX - box.left - m.left) / w) * (t1 - t0);
      let best = 0;
      points.forEach((p, k) => {
        if (Math.abs(p.t.getTime() - t) < Math.abs(points[best].t.getTime() - t)) best = k;
      });
      const p = points[best];
      cursor.setAttribute('x1', x(p.t.getTime()));
      cursor.setAttribute('x2', x(p.t.getTime()));
      cursor.setAttribute('visibility', 'visible');
      tip.replaceChildren();
      const head = document.createElement('div');
      head.className = 'tip-time';
      head.textContent = axisTime(p.t, 0);
      tip.appendChild(head);
      series.forEach((s, i) => {
        const row = document.createElement('div');
        const key = document.createElement('span');
        key.className = `key ${s.cls}`;
        row.append(key, `${s.name} ${p.values[i] === null ? '–' : yFormat(p.values[i])}`);
        tip.appendChild(row);
      });
      tip.hidden = false;
      const left = x(p.t.getTime()) + 12;
      tip.style.left = `${left + 160 > width ? left - 180 : left}px`;
      tip.style.top = `${m.top}px`;
    });
    overlay.addEventListener('mouseleave', () => {
      cursor.setAttribute('visibility', 'hidden');
      tip.hidden = true;
    });
  });
}

// barChart draws a histogram. opts: bins [{label, count, title}], height.
export function barChart(container, opts) {
  container.classList.add('chart');
  const height = opts.height || 180;
  responsive(container, (width) => {
    container.replaceChildren();
    const { bins } = opts;
    const m = { top: 10, right: 8, bottom: 24, left: 48 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const svg = svgEl('svg', { width, height, role: 'img', 'aria-label': opts.label || 'histogram' }, container);
    if (bins.length === 0) return;
    const max = Math.max(...bins.map((b) => b.count), 1);
    const step = Math.max(1, niceStep(max, 3));
    const ymax = Math.ceil(max / step) * step;
    const y = (v) => m.top + h - (v / ymax) * h;
    const g = svgEl('g', { class: 'axis' }, svg);
    for (let v = 0; v <= ymax; v += step) {
      svgEl('line', { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v), class: 'grid' }, g);
      const label = svgEl('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, g);
      label.textContent = v >= 1000 ? `${v / 1000}k` : `${v}`;
    }
    const bw = w / bins.length;
    const every = Math.ceil(bins.length / Math.max(1, Math.floor(w / 70)));
    bins.forEach((b, i) => {
      const rect = svgEl('rect', {
        x: m.left + i * bw + 1, y: y(b.count), width: Math.max(1, bw - 2), height: m.top + h - y(b.count), class: 'bar',
      }, svg);
      svgEl('title', {}, rect).textContent = `${b.title}: ${b.count}`;
      if (i % every === 0) {
        const label = svgEl('text', { x: m.left + i * bw, y: m.top + h + 16, 'text-anchor': 'start' }, g);
        label.textContent = b.label;
      }
    });
  });
}

// percentileSeries are the lines of a p50/p95/p99 chart.
export const percentileSeries = [{ name: 'p50', cls: 's-p50' }, { name: 'p95', cls: 's-p95' }, { name: 'p99', cls: 's-p99' }];

// latencyHistogram draws an API histogram (bins of { from_us, to_us, count }) as a bar chart.
export function latencyHistogram(container, label, histogram) {
  barChart(container, {
    label,
    bins: histogram.map((b) => ({ label: us(b.from_us), count: b.count, title: `${us(b.from_us)} – ${us(b.to_us)}` })),
  });
}
