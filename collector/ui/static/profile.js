// Profiles: the card under a trace's waterfall (the profile its transaction's label profile_id names,
// with its CPU flame graph), and the profile page (?page=profile&id=...: CPU and goroutine flame graphs,
// the largest functions, downloads for go tool pprof and go tool trace, and the way back to the
// transaction). Everything comes from the query API, already folded into trees: no pprof parsing here.

import { get, getFile, ApiError } from './api.js';
import { el, message, loading } from './dom.js';
import { current, link } from './nav.js';
import * as fmt from './format.js';
import { renderFlame, renderFunctions, renderWaits } from './flamegraph.js';

// profileIdOf returns the profile_id label of a waterfall item (a transaction), or ''.
export function profileIdOf(item) {
  const v = item?.labels?.profile_id;
  return typeof v === 'string' ? v : '';
}

const triggerText = {
  slow_request: 'slow request, captured while it ran',
  cpu: 'CPU trigger', heap: 'heap trigger', goroutines: 'goroutine trigger', sched_latency: 'scheduling latency trigger',
  periodic: 'periodic profile (Elastic agent)',
};

// cpuNote says how much a CPU flame graph knows, warning when it has few samples.
function cpuNote(graph) {
  const c = graph.cpu;
  if (!c) return null;
  return el('p', { class: `samples-note${c.low_sample_count ? ' low' : ''}`, 'data-samples': String(c.samples), role: c.low_sample_count ? 'note' : null }, c.note);
}

function goroutineNote(graph, profile) {
  const snaps = profile.goroutine_snapshots;
  const stacks = `${fmt.count(graph.samples)} goroutine stack${graph.samples === 1 ? '' : 's'}`;
  return el('p', { class: 'samples-note' }, snaps
    ? `${stacks} over ${snaps} snapshot${snaps === 1 ? '' : 's'} taken while the request ran: where its goroutines waited (off CPU) or ran.`
    : `${stacks}.`);
}

// renderProfile renders the profile card of a trace page: the profile of transaction (the trace's
// selected transaction), if its label profile_id names one.
export function renderProfile(container, { traceId, transaction }) {
  const head = el('h2', {}, 'Profile');
  const id = profileIdOf(transaction);
  if (!id) {
    container.replaceChildren(head,
      el('div', { class: 'state state-empty', 'data-trace-id': traceId, 'data-transaction-id': transaction?.id || '' },
        'No profile for this request. When the profiler captures a slow request while it runs, its CPU flame graph shows here.'));
    return;
  }
  const body = el('div', { class: 'card-body' }, loading('profile'));
  container.replaceChildren(head, body);
  get(`transactions/${encodeURIComponent(transaction.id)}/profile`, { trace_id: traceId }).then((p) => {
    const open = link({ page: 'profile', id: p.profile_id, trace: traceId, tx: transaction.id }, 'Open the flame graphs →', { class: 'profile-link' });
    const graph = p.cpu && p.cpu.total > 0 ? p.cpu : (p.goroutine || p.cpu);
    const parts = [el('p', {}, `${triggerText[p.profile.trigger] || p.profile.trigger} · ${fmt.when(p.profile.timestamp)} · `, open)];
    if (graph) {
      parts.push(el('h3', {}, graph.part === 'cpu' ? 'CPU' : 'Goroutines'), graph.part === 'cpu' ? cpuNote(graph) : goroutineNote(graph, p.profile));
      const fg = el('div', { class: 'flame-wrap' });
      parts.push(fg);
      body.replaceChildren(...parts);
      renderFlame(fg, graph);
    } else {
      body.replaceChildren(...parts, message('empty', 'The profile has no CPU or goroutine part.'));
    }
  }).catch((err) => {
    if (err.name === 'AbortError') return;
    body.replaceChildren(message(err instanceof ApiError && err.status === 404 ? 'empty' : 'error', `Profile ${id}: ${err.message}`));
  });
}

// download fetches a part with the user's credentials and saves it under the API's file name.
async function download(id, kind) {
  const { blob, name } = await getFile(`profiles/${encodeURIComponent(id)}/${encodeURIComponent(kind)}`);
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name || `${id}-${kind}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

const partTitles = { cpu: 'CPU', goroutine: 'Goroutines', heap: 'Heap', profile: 'Profile' };

// profilePage is ?page=profile&id=ID&trace=T&tx=TX&part=cpu: a profile's flame graphs.
export async function profilePage(box, signal) {
  const s = current();
  const id = s.get('id') || '';
  const traceId = s.get('trace');
  const txId = s.get('tx');
  const p = await get(`profiles/${encodeURIComponent(id)}`, {}, signal);
  const pprofParts = p.parts.filter((x) => x.kind !== 'trace');
  const part = pprofParts.some((x) => x.kind === s.get('part')) ? s.get('part') : (pprofParts[0]?.kind || '');
  const tx = p.transaction;
  const backTrace = traceId || p.trace_id;
  const backTx = txId || tx?.id;

  const crumbs = el('nav', { class: 'crumbs' }, link({}, 'Services'), ' › ',
    link({ page: 'endpoint', service: p.service.name }, p.service.name));
  if (tx) crumbs.append(' › ', link({ page: 'endpoint', service: p.service.name, name: tx.name }, tx.name));
  const tracePage = { page: 'trace', trace: backTrace, tx: backTx, service: p.service.name, name: tx?.name };
  if (backTrace) crumbs.append(' › ', link(tracePage, 'trace'));
  crumbs.append(' › profile');
  const back = backTrace ? link(tracePage, '← Back to the transaction', { class: 'back-link' }) : null;
  const chips = el('div', { class: 'chips' },
    el('span', { class: 'chip strong' }, triggerText[p.trigger] || p.trigger),
    el('span', { class: 'chip' }, fmt.when(p.timestamp)),
    tx ? el('span', { class: 'chip' }, `request ran ${tx.ended ? '' : 'at least '}past its ${fmt.us(tx.threshold_us)} threshold`) : null,
    p.duration_us ? el('span', { class: 'chip' }, `captured over ${fmt.us(p.duration_us)}`) : null,
    p.host ? el('span', { class: 'chip' }, p.host) : null,
    el('span', { class: 'chip mono' }, `profile ${p.id}`));
  const title = el('h1', {}, tx ? `Profile of ${tx.name}` : `Profile of ${p.service.name}`);
  const tabs = el('nav', { class: 'tabs' }, pprofParts.map((x) => link(
    { page: 'profile', id: p.id, trace: traceId, tx: txId, part: x.kind }, partTitles[x.kind] || x.kind,
    { class: x.kind === part ? 'active' : '', 'data-part': x.kind })));
  const downloads = el('div', { class: 'downloads' }, 'Download: ', p.parts.map((x) => {
    const b = el('button', { type: 'button', class: 'ghost', 'data-kind': x.kind, title: x.kind === 'trace' ? 'opens with go tool trace' : 'opens with go tool pprof' },
      x.kind === 'trace' ? 'execution trace' : `${x.kind}.pb.gz`);
    b.addEventListener('click', () => download(p.id, x.kind).catch((err) => b.replaceWith(message('error', `Download failed: ${err.message}`))));
    return b;
  }));
  const errors = p.errors.length ? el('ul', { class: 'note' }, p.errors.map((e) => el('li', {}, e))) : null;
  const graphCard = el('section', { class: 'card flame-card', 'data-part': part }, el('h2', {}, partTitles[part] || part || 'Profile'));
  const graphBody = el('div', { class: 'card-body' }, loading('flame graph'));
  graphCard.append(graphBody);
  const fnCard = el('section', { class: 'card' }, el('h2', {}, part === 'goroutine' ? 'Where the goroutines were' : 'Largest functions (self)'));
  const fnBody = el('div', { class: 'card-body' });
  fnCard.append(fnBody);
  box.replaceChildren(...[crumbs, el('div', { class: 'trace-head' }, title, back), chips, el('div', { class: 'profile-tools' }, tabs, downloads), errors, graphCard, fnCard].filter(Boolean));
  if (!part) {
    graphBody.replaceChildren(message('empty', 'This profile has no pprof part (only a trace: download it).'));
    fnCard.remove();
    return;
  }
  const g = await get(`profiles/${encodeURIComponent(p.id)}/flamegraph`, { part }, signal);
  const fg = el('div', { class: 'flame-wrap' });
  graphBody.replaceChildren(part === 'cpu' ? cpuNote(g) : (part === 'goroutine' ? goroutineNote(g, p) : null), fg);
  renderFlame(fg, g);
  if (part === 'goroutine') renderWaits(fnBody, g);
  else renderFunctions(fnBody, g);
}
