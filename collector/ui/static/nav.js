// Links between the UI's pages. Every page is a URL whose query string holds its filters; a link keeps
// the time range of the page it is on.

import { el, message } from './dom.js';

// current is the current page's query string.
export function current() {
  return new URLSearchParams(window.location.search);
}

// required returns the current page's values of names, or null where one is missing: box then says so
// ("No <what> in the URL.") instead of the page.
export function required(box, what, ...names) {
  const s = current();
  const values = names.map((n) => s.get(n));
  if (values.some((v) => !v)) {
    box.replaceChildren(message('error', `No ${what} in the URL.`));
    return null;
  }
  return values;
}

// sortTabs reads the URL's sort, one of the keys of sorts (pairs of key and label, the first the
// default), and returns it with the tabs that link to the page of params in each order.
export function sortTabs(sorts, params) {
  const want = current().get('sort');
  const sort = sorts.some(([k]) => k === want) ? want : sorts[0][0];
  return [sort, el('nav', { class: 'tabs sort' }, 'Sort by ',
    sorts.map(([k, text]) => link({ ...params, sort: k }, text, { class: k === sort ? 'active' : '' })))];
}

// href builds a UI URL from params (arrays repeat a parameter; empty values are left out), keeping the
// time range of the current one.
export function href(params) {
  const u = new URLSearchParams();
  const cur = current();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.filter(Boolean).forEach((x) => u.append(k, x));
    else if (v !== undefined && v !== null && v !== '' && v !== false) u.set(k, v);
  }
  for (const k of ['range', 'from', 'to']) if (cur.get(k) && !u.has(k)) u.set(k, cur.get(k));
  const s = u.toString();
  return s ? `?${s}` : './';
}

// link is an in-app link to the page of params (the app handles its clicks: data-nav).
export function link(params, text, attrs = {}) {
  return el('a', { href: href(params), 'data-nav': '', ...attrs }, text);
}
