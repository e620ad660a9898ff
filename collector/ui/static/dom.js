// el creates an element with attributes and children (strings become text: nothing is parsed as HTML,
// so data from the API cannot inject markup).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

// message is a loading, empty or error state.
export function message(kind, text, ...extra) {
  return el('div', { class: `state state-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text, ...extra);
}

export function loading(what) {
  return message('loading', `Loading ${what}…`);
}

// table is a scrolling table of rows under headers, each a text or { text, num, opt } (num: a number
// column; opt: hidden in a narrow window).
export function table(headers, rows, cls = '') {
  const t = el('table', { class: cls },
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', { class: [h.num && 'num', h.opt && 'opt'].filter(Boolean).join(' ') }, h.text ?? h)))),
    el('tbody', {}, rows));
  return el('div', { class: 'table-wrap' }, t);
}

// tile is a labelled figure of a page's summary row.
export function tile(label, value, cls = '') {
  return el('div', { class: `tile ${cls}` }, el('div', { class: 'tile-label' }, label), el('div', { class: 'tile-value' }, value));
}

// legend is a chart's key: [name, class] pairs, then any further children (a hint, say).
export function legend(items, ...extra) {
  return el('div', { class: 'legend' }, items.map(([name, cls]) => el('span', { class: 'legend-item' }, el('span', { class: `key ${cls}` }), name)), ...extra);
}

// percentileKeys are the legend of a p50/p95/p99 chart.
export const percentileKeys = [['p50', 's-p50'], ['p95', 's-p95'], ['p99', 's-p99']];

// shareBar is a bar showing share (0 to 1) of its width.
export function shareBar(share) {
  const bar = el('span', { class: 'share-bar' }, el('span', {}));
  bar.firstChild.style.width = `${Math.min(100, share * 100)}%`;
  return bar;
}
