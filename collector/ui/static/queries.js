// The Queries view: a service's database calls grouped by query shape (the structure of an
// Elasticsearch query without its literals, or a SQL statement normalised), ranked by the time they cost, with Elasticsearch's own
// time (took) against the rest (network, queueing, client); and one shape: its latency over time, its
// histogram and its slowest calls, each a link to its waterfall. It reads /api/v1/queries and
// /api/v1/query.

import { get } from './api.js';
import * as fmt from './format.js';
import { el, tile, shareBar } from './dom.js';
import { link, required } from './nav.js';
import { listingPage, latencyCards, slowestCard } from './detail.js';

const sorts = [['total', 'total time'], ['p99', 'p99'], ['count', 'calls']];

// shapeName is a shape's summary with its markers: the database when it is not Elasticsearch, and
// "truncated" when the statements were cut.
function shapeName(q) {
  return [
    el('span', { class: 'shape-summary mono' }, q.summary || q.shape),
    q.db_type && q.db_type !== 'elasticsearch' ? el('span', { class: 'tag' }, q.db_type) : null,
    q.truncated ? el('span', { class: 'tag', title: 'the statements were cut: the shape is that of what was there' }, 'truncated') : null,
  ];
}

// tookCell shows Elasticsearch's took against the rest of the call, at p99: a split bar and the two
// figures.
function tookCell(q) {
  if (!q.took_us || !q.overhead_us) return el('td', { class: 'num muted' }, '–');
  const took = q.took_us.p99;
  const over = q.overhead_us.p99;
  const bar = el('span', { class: 'split', title: `p99: Elasticsearch took ${fmt.us(took)}, the rest ${fmt.us(over)}` },
    el('span', { class: 'split-took' }), el('span', { class: 'split-over' }));
  const share = took + over > 0 ? (100 * took) / (took + over) : 0;
  bar.firstChild.style.width = `${share}%`;
  bar.lastChild.style.width = `${100 - share}%`;
  return el('td', { class: 'num took' }, bar, ` ${fmt.us(took)} / ${fmt.us(over)}`);
}

// queriesPage lists a service's query shapes.
export function queriesPage(box, signal, ui) {
  return listingPage(box, signal, ui, {
    page: 'queries', title: 'Queries', sorts, heading: 'Query shapes', none: 'database calls with a query shape',
    hint: ['Database calls grouped by query shape: the structure of the query without its values (for SQL, the statement with ? for each value). ',
      'Elasticsearch took / the rest is the p99 of the time Elasticsearch reported against the time around it (network, queueing, client).'],
    columns: [
      { text: 'Shape' }, { text: 'Calls', num: true }, { text: 'Errors', num: true, opt: true }, { text: 'Total time', num: true },
      { text: 'Share of DB time', num: true }, { text: 'p50', num: true, opt: true }, { text: 'p99', num: true },
      { text: 'Elasticsearch took / the rest (p99)', num: true, opt: true },
    ],
    row: (q, service) => el('tr', { 'data-shape': q.shape },
      el('td', { class: 'name' }, link({ page: 'query', service, shape: q.shape }, shapeName(q), { class: 'shape-link' })),
      el('td', { class: 'num' }, fmt.count(q.count)),
      el('td', { class: `num opt${q.errors > 0 ? ' bad' : ''}` }, fmt.count(q.errors)),
      el('td', { class: 'num total' }, fmt.us(q.total_us)),
      el('td', { class: 'num' }, shareBar(q.share), ` ${fmt.rate(q.share)}`),
      el('td', { class: 'num opt' }, fmt.us(q.duration_us.p50)),
      el('td', { class: 'num p99' }, fmt.us(q.duration_us.p99)),
      tookCell(q)),
  });
}

// queryPage shows one shape.
export async function queryPage(box, signal, ui) {
  const [service, shape] = required(box, 'service or shape', 'service', 'shape') || [];
  if (!service) return;
  const d = await get('query', { service, shape, ...ui.timeParams() }, signal);
  const latency = latencyCards(d, 'shape', (p) => p.count);
  box.replaceChildren(
    el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ', el('span', {}, service), ' › ', link({ page: 'queries', service }, 'queries'), ' › shape'),
    el('h1', { class: 'shape-title' }, shapeName(d)),
    el('p', { class: 'hint mono' }, `shape ${d.shape}`),
    el('div', { class: 'tiles' },
      tile('Calls', fmt.count(d.count)),
      tile('Errors', fmt.count(d.errors), d.errors > 0 ? 'bad' : ''),
      tile('Total time', fmt.us(d.total_us)),
      tile('Share of DB time', fmt.rate(d.share)),
      tile('p50', fmt.us(d.duration_us.p50)),
      tile('p99', fmt.us(d.duration_us.p99), 'p99'),
      d.took_us ? tile('Elasticsearch took p99', fmt.us(d.took_us.p99)) : null,
      d.overhead_us ? tile('The rest p99', fmt.us(d.overhead_us.p99)) : null),
    el('div', { class: 'grid' }, ...latency.cards));
  latency.draw();
  box.append(slowestCard(d.examples || [], service, {
    heading: 'Statement',
    cell: (x) => el('td', { class: 'statement-cell mono', title: x.statement }, x.statement.length > 160 ? `${x.statement.slice(0, 160)}…` : x.statement),
  }, 'examples', 'example-link'));
}
