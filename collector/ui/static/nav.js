// Links between the UI's pages. Every page is a URL whose query string holds its filters; a link keeps
// the time range of the page it is on.

import { el } from './dom.js';

// current is the current page's query string.
export function current() {
  return new URLSearchParams(window.location.search);
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
