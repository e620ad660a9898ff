// The profile of a transaction, shown under its trace: the place for the flame graph of the CPU
// profile the profiler captured while a slow request ran (issue 6 adds the profile intake and its
// query API). renderProfile is called with the trace's root transaction; it must render into container
// and read only the query API.

import { el } from './dom.js';

export function renderProfile(container, { traceId, transaction }) {
  container.replaceChildren(
    el('h2', {}, 'Profile'),
    el('div', { class: 'state state-empty', 'data-trace-id': traceId, 'data-transaction-id': transaction?.id || '' },
      'No profile for this request. When the profiler captures a slow request while it runs, its CPU flame graph shows here.'),
  );
}
