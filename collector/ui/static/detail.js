// What the pages of a service's dependencies and of its query shapes share: the listing page, and the
// detail pages' cards of their latency over time and distribution, and of their slowest calls, each
// call's duration a link to its waterfall.

import { get } from './api.js';
import * as fmt from './format.js';
import { el, message, table, legend, percentileKeys } from './dom.js';
import { link, required, sortTabs } from './nav.js';
import { lineChart, latencyHistogram, percentileSeries } from './chart.js';

// listingPage fills box with the listing of the items of a service (its dependencies, its query
// shapes) that the API's path of the same name as the page answers, in the list of that name: a crumb,
// the heading "<title> of <service>", the hint (its parts), the sort tabs of sorts, and a card named
// heading of the table of columns, a row(item, service) per item (ui.noData(none) without any). ui
// holds the app's helpers: timeParams, section, noData.
export async function listingPage(box, signal, ui, { page, title, hint, sorts, heading, none, columns, row }) {
  const [service] = required(box, 'service', 'service') || [];
  if (!service) return;
  const [sort, tabs] = sortTabs(sorts, { page, service });
  box.replaceChildren(
    el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ', el('span', {}, service), ` › ${page}`),
    el('h1', {}, `${title} of ${service}`),
    el('p', { class: 'hint' }, ...hint),
    tabs);
  box.append(ui.section(heading, async (body) => {
    const items = (await get(page, { service, sort, ...ui.timeParams() }, signal))[page];
    if (items.length === 0) {
      body.replaceChildren(ui.noData(none));
      return;
    }
    body.replaceChildren(table(columns, items.map((x) => row(x, service)), page));
  }, { class: 'card' }));
}

// latencyCards returns the cards of the latency over time and the latency distribution of d (an answer
// of /api/v1/dependency or /api/v1/query: series, interval_seconds, histogram), and draw, which draws
// them once they are in the page. what names the thing measured in the charts' labels; calls(point)
// says whether a point of the series has calls (one without has no percentiles).
export function latencyCards(d, what, calls) {
  const chart = el('div', { class: 'latency-chart' });
  const hist = el('div', { class: 'histogram' });
  const cards = [
    el('section', { class: 'card wide' }, el('h2', {}, 'Latency over time'), el('div', { class: 'card-body' },
      legend(percentileKeys, el('span', { class: 'hint' }, ` per ${fmt.interval(d.interval_seconds)}`)), chart)),
    el('section', { class: 'card' }, el('h2', {}, 'Latency distribution'), el('div', { class: 'card-body' }, hist)),
  ];
  const draw = () => {
    lineChart(chart, {
      label: `the ${what}'s latency percentiles over time`,
      points: d.series.map((p) => ({ t: new Date(p.start), values: calls(p) ? [p.duration_us.p50, p.duration_us.p95, p.duration_us.p99] : [null, null, null] })),
      series: percentileSeries,
      yFormat: fmt.us,
      stepMs: d.interval_seconds * 1000,
    });
    latencyHistogram(hist, `the ${what}'s latency histogram`, d.histogram);
  };
  return { cards, draw };
}

// slowestCard returns the card of calls (slowest first) made by service. column says what each call was:
// its heading, and cell(call) its table cell. cls is the table's class and linkClass the links'.
export function slowestCard(calls, service, column, cls, linkClass) {
  return el('section', { class: 'card' }, el('h2', {}, 'Slowest calls'), el('div', { class: 'card-body' },
    calls.length === 0 ? message('empty', 'No calls kept as examples in this range.') : table(
      [{ text: 'Duration', num: true }, { text: 'Time' }, { text: column.heading }],
      calls.map((x) => el('tr', {},
        el('td', { class: 'num' }, link({ page: 'trace', trace: x.trace_id, tx: x.transaction_id, service }, fmt.us(x.duration_us), { class: linkClass })),
        el('td', {}, fmt.when(x.timestamp)),
        column.cell(x))),
      cls)));
}
