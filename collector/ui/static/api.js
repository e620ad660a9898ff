// The query API client: the UI reads nothing else. Credentials (when the collector requires them) are
// the Authorization header value the user typed, kept in this browser's local storage.

const apiBase = new URL('../api/v1/', document.baseURI);
const storageKey = 'hotpath.authorization';

export class ApiError extends Error {
  constructor(status, message, parameter) {
    super(message);
    this.status = status;
    this.parameter = parameter;
  }
}

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export function authorization() {
  return storage()?.getItem(storageKey) || '';
}

// setAuthorization keeps a secret token ("Bearer <token>") or API key ("ApiKey <base64>") header value.
export function setAuthorization(value) {
  const s = storage();
  if (!s) return;
  if (value) s.setItem(storageKey, value);
  else s.removeItem(storageKey);
}

// get fetches an API path with parameters (arrays repeat a parameter; empty values are left out).
export async function get(path, params = {}, signal) {
  const url = new URL(path, apiBase);
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.filter((x) => x !== '').forEach((x) => url.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { Accept: 'application/json' };
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  let resp;
  try {
    resp = await fetch(url, { headers, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the collector (${e.message})`);
  }
  let body = null;
  try {
    body = await resp.json();
  } catch {
    body = null;
  }
  if (!resp.ok) {
    throw new ApiError(resp.status, body?.error || `${resp.status} ${resp.statusText}`, body?.parameter);
  }
  return body;
}

// getFile fetches an API path that answers a file (a profile's pprof or trace part): its bytes as a
// Blob and the file name the API gives in Content-Disposition.
export async function getFile(path, signal) {
  const headers = {};
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  let resp;
  try {
    resp = await fetch(new URL(path, apiBase), { headers, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the collector (${e.message})`);
  }
  if (!resp.ok) {
    let body = null;
    try {
      body = await resp.json();
    } catch {
      body = null;
    }
    throw new ApiError(resp.status, body?.error || `${resp.status} ${resp.statusText}`, body?.parameter);
  }
  const name = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') || '')?.[1] || '';
  return { blob: await resp.blob(), name };
}
