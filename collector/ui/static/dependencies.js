// The Dependencies view: what a service calls (Elasticsearch, the segmenter, databases: its exit spans
// by service.target), with calls per minute, error rate and p50/p95/p99 from HDR histograms, where
// Kibana shows averages only; and one dependency: its latency and calls over time, its histogram and
// its slowest calls, each a link to its waterfall. It reads /api/v1/dependencies and /api/v1/dependency.

import { get } from './api.js';
import * as fmt from './format.js';
import { el, tile, legend, shareBar } from './dom.js';
import { link, required } from './nav.js';
import { lineChart } from './chart.js';
import { listingPage, latencyCards, slowestCard } from './detail.js';

const sorts = [['total', 'total time'], ['p99', 'p99'], ['calls', 'calls'], ['errors', 'errors']];

// depName is a dependency's name with its type as a tag (unless the name says it).
function depName(d) {
  const name = d.name || d.target;
  return [el('span', { class: 'dep-name mono' }, name), d.type && d.type !== name ? el('span', { class: 'tag' }, d.type) : null];
}

// dependenciesPage lists a service's dependencies.
export function dependenciesPage(box, signal, ui) {
  return listingPage(box, signal, ui, {
    page: 'dependencies', title: 'Dependencies', sorts, heading: 'Dependencies', none: 'calls to other services',
    hint: ['What the service calls, from its exit spans. Percentiles are of every call (HDR histograms), not averages.'],
    columns: [
      { text: 'Dependency' }, { text: 'Calls/min', num: true }, { text: 'Error rate', num: true },
      { text: 'p50', num: true, opt: true }, { text: 'p95', num: true, opt: true }, { text: 'p99', num: true },
      { text: 'Total time', num: true, opt: true }, { text: 'Share of time in calls', num: true },
    ],
    row: (x, service) => el('tr', { 'data-target': x.target },
      el('td', { class: 'name' }, link({ page: 'dependency', service, target: x.target }, depName(x), { class: 'dependency-link' })),
      el('td', { class: 'num' }, fmt.perMinute(x.calls_per_minute)),
      el('td', { class: `num${x.error_rate > 0.05 ? ' bad' : ''}` }, fmt.rate(x.error_rate)),
      el('td', { class: 'num opt' }, fmt.us(x.duration_us.p50)),
      el('td', { class: 'num opt' }, fmt.us(x.duration_us.p95)),
      el('td', { class: 'num p99' }, fmt.us(x.duration_us.p99)),
      el('td', { class: 'num opt total' }, fmt.us(x.total_us)),
      el('td', { class: 'num' }, shareBar(x.share), ` ${fmt.rate(x.share)}`)),
  });
}

// dependencyPage shows one dependency.
export async function dependencyPage(box, signal, ui) {
  const [service, target] = required(box, 'service or dependency', 'service', 'target') || [];
  if (!service) return;
  const d = await get('dependency', { service, target, ...ui.timeParams() }, signal);
  const latency = latencyCards(d, 'dependency', (p) => p.calls);
  const calls = el('div', { class: 'latency-chart calls-chart' });
  box.replaceChildren(
    el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ', el('span', {}, service), ' › ', link({ page: 'dependencies', service }, 'dependencies'), ' › ', d.name),
    el('h1', { class: 'dependency-title' }, depName(d)),
    el('div', { class: 'tiles' },
      tile('Calls/min', fmt.perMinute(d.calls_per_minute)),
      tile('Error rate', fmt.rate(d.error_rate), d.error_rate > 0.05 ? 'bad' : ''),
      tile('p50', fmt.us(d.duration_us.p50)),
      tile('p95', fmt.us(d.duration_us.p95)),
      tile('p99', fmt.us(d.duration_us.p99), 'p99'),
      tile('Share of time in calls', fmt.rate(d.share))),
    el('div', { class: 'grid' },
      ...latency.cards,
      el('section', { class: 'card wide' }, el('h2', {}, 'Calls and errors'), el('div', { class: 'card-body' },
        legend([['calls', 's-p50'], ['errors', 's-err']], el('span', { class: 'hint' }, ` per ${fmt.interval(d.interval_seconds)}`)), calls))));
  latency.draw();
  lineChart(calls, {
    label: 'calls and errors per interval',
    points: d.series.map((p) => ({ t: new Date(p.start), values: [p.calls, p.errors] })),
    series: [{ name: 'calls', cls: 's-p50' }, { name: 'errors', cls: 's-err' }],
    yFormat: fmt.count,
    stepMs: d.interval_seconds * 1000,
  });
  box.append(slowestCard(d.slowest || [], service, { heading: 'Span', cell: (x) => el('td', { class: 'mono' }, x.name) },
    'slowest', 'slow-call-link'));
}
