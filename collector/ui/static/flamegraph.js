// A flame graph drawn with the DOM, from the query API's flame graph JSON (a tree of frames with self
// and total values): the root on top, each frame's callees below it, widths proportional to their
// value. A click on a frame zooms into it; hovering shows its name and values.

import { el, table } from './dom.js';

const rowHeight = 19; // px, as in style.css's .flame-node
const minWidth = 0.0005; // frames narrower than this share of the view are not drawn

// valueText formats a value of the graph's unit ("nanoseconds" of CPU, a goroutine "count", "bytes").
export function valueText(v, unit) {
  if (unit === 'nanoseconds') {
    if (v >= 1e9) return `${(v / 1e9).toFixed(2).replace(/\.?0+$/, '')} s`;
    if (v >= 1e6) return `${(v / 1e6).toFixed(1).replace(/\.0$/, '')} ms`;
    return `${Math.round(v / 1e3)} µs`;
  }
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
  }
  return new Intl.NumberFormat().format(v);
}

// percent formats v as a share of total: "12.5 %".
const percent = (v, total) => `${((v / total) * 100).toFixed(1)} %`;

// shortName drops a function's package path: "github.com/x/y/pkg.(*T).M" is "pkg.(*T).M".
export function shortName(name) {
  const slash = name.lastIndexOf('/', name.indexOf('(') >= 0 ? name.indexOf('(') : name.length);
  return slash >= 0 ? name.slice(slash + 1) : name;
}

// isRuntime tells the runtime's frames (and the root) from the program's.
const isRuntime = (name) => /^(runtime|internal\/|syscall)[./]/.test(name) || name === 'root';

// hue colours a frame by its package: warm for the program's, cool grey for the runtime's.
function colour(name) {
  if (name === 'root') return 'hsl(220, 15%, 80%)';
  if (isRuntime(name)) return 'hsl(215, 20%, 76%)';
  const pkg = name.slice(0, name.lastIndexOf('.', name.indexOf('(') >= 0 ? name.indexOf('(') : name.length));
  let h = 0;
  for (let i = 0; i < pkg.length; i++) h = (h * 31 + pkg.charCodeAt(i)) >>> 0;
  return `hsl(${10 + (h % 45)}, ${70 + (h % 20)}%, ${62 + (h % 12)}%)`;
}

// renderFlame draws graph (the API's answer) into container.
export function renderFlame(container, graph) {
  const { unit } = graph;
  const total = graph.root.total;
  const frame = el('div', { class: 'flame', role: 'tree', 'aria-label': `flame graph of ${graph.part}` });
  const crumbs = el('div', { class: 'flame-zoom' });
  const detail = el('div', { class: 'flame-detail', 'aria-live': 'polite' }, 'Hover over a frame for its values; click one to zoom in.');
  container.replaceChildren(crumbs, frame, detail);
  if (total === 0) {
    frame.append(el('p', { class: 'state state-empty' }, 'No samples.'));
    return;
  }
  const describe = (n) => `${n.name} — total ${valueText(n.total, unit)} (${percent(n.total, total)}), self ${valueText(n.self, unit)} (${percent(n.self, total)})`;

  const draw = (base, path) => {
    frame.replaceChildren();
    crumbs.replaceChildren();
    if (path.length > 0) {
      const reset = el('button', { type: 'button', class: 'ghost' }, 'Reset zoom');
      reset.addEventListener('click', () => draw(graph.root, []));
      crumbs.append(reset, ' ', ...path.map((n) => el('span', { class: 'tag' }, shortName(n.name))));
    }
    let depth = 0;
    const place = (n, d, left, scale, ancestors) => {
      const width = n.total * scale;
      if (width < minWidth) return;
      depth = Math.max(depth, d);
      const box = el('div', {
        class: `flame-node${n.self > 0 ? ' self' : ''}`, role: 'treeitem', tabindex: '0',
        'data-name': n.name, 'data-self': String(n.self), 'data-total': String(n.total), title: describe(n),
      }, el('span', {}, n.name === 'root' ? `all (${valueText(n.total, unit)})` : shortName(n.name)));
      box.style.left = `${left * 100}%`;
      box.style.width = `${width * 100}%`;
      box.style.top = `${d * rowHeight}px`;
      box.style.background = colour(n.name);
      const zoom = () => {
        if (n !== base) draw(n, [...ancestors, n]);
      };
      box.addEventListener('click', zoom);
      box.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter') zoom();
      });
      box.addEventListener('mouseenter', () => detail.replaceChildren(describe(n)));
      box.addEventListener('focus', () => detail.replaceChildren(describe(n)));
      frame.append(box);
      let x = left;
      for (const c of n.children || []) {
        place(c, d + 1, x, scale, [...ancestors, n].filter((a) => a !== graph.root));
        x += c.total * scale;
      }
    };
    place(base, 0, 0, 1 / base.total, path.slice(0, -1));
    frame.style.height = `${(depth + 1) * rowHeight}px`;
  };
  draw(graph.root, []);
}

// renderFunctions lists the graph's largest functions by self value.
export function renderFunctions(container, graph, limit = 15) {
  const total = graph.root.total || 1;
  const rows = graph.functions.filter((f) => f.self > 0).slice(0, limit).map((f) => el('tr', { 'data-name': f.name },
    el('td', { class: 'fn', title: f.name }, shortName(f.name)),
    el('td', { class: 'num' }, valueText(f.self, graph.unit)),
    el('td', { class: 'num' }, percent(f.self, total)),
    el('td', { class: 'num' }, valueText(f.total, graph.unit))));
  container.replaceChildren(table(['Function', { text: 'Self', num: true }, { text: 'Self %', num: true }, { text: 'Total', num: true }], rows, 'functions'));
}

// renderWaits lists where a goroutine profile's stacks are: for each, the program's last frame and the
// runtime call it is in (the channel receive, the lock, the syscall...), summed, the largest first.
export function renderWaits(container, graph, limit = 15) {
  const total = graph.root.total || 1;
  const sums = new Map();
  const walk = (n, path) => {
    const p = n === graph.root ? path : [...path, n.name];
    if (n.self > 0) {
      let i = p.length - 1;
      while (i >= 0 && isRuntime(p[i])) i--;
      const key = i < 0 ? p[p.length - 1] || 'root' : `${p[i]}\u0000${p[i + 1] || ''}`;
      sums.set(key, (sums.get(key) || 0) + n.self);
    }
    for (const c of n.children || []) walk(c, p);
  };
  walk(graph.root, []);
  const rows = [...sums].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([key, v]) => {
    const [fn, call] = key.split('\u0000');
    return el('tr', { 'data-name': fn, 'data-call': call || '' },
      el('td', { class: 'fn', title: fn }, shortName(fn)),
      el('td', { class: 'fn', title: call || '' }, call ? shortName(call) : '(running)'),
      el('td', { class: 'num' }, valueText(v, graph.unit)),
      el('td', { class: 'num' }, percent(v, total)));
  });
  container.replaceChildren(table(['In', 'Waiting in', { text: 'Stacks', num: true }, { text: 'Share', num: true }], rows, 'functions waits'));
}
