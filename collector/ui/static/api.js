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

// request fetches url with the user's credentials, throwing an ApiError (the API's message and
// parameter at fault when it says them) unless the answer is a success.
async function request(url, headers, signal) {
  const auth = authorization();
  if (auth) headers.Authorization = auth;
  let resp;
  try {
    resp = await fetch(url, { headers, signal, cache: 'no-store' });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the collector (${e.message})`);
  }
  if (!resp.ok) {
    const body = await resp.json().catch(() => null);
    throw new ApiError(resp.status, body?.error || `${resp.status} ${resp.statusText}`, body?.parameter);
  }
  return resp;
}

// get fetches an API path with parameters (arrays repeat a parameter; empty values are left out).
export async function get(path, params = {}, signal) {
  const url = new URL(path, apiBase);
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.filter((x) => x !== '').forEach((x) => url.searchParams.append(k, x));
    else if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const resp = await request(url, { Accept: 'application/json' }, signal);
  return resp.json().catch(() => null);
}

// getFile fetches an API path that answers a file (a profile's pprof or trace part): its bytes as a
// Blob and the file name the API gives in Content-Disposition.
export async function getFile(path, signal) {
  const resp = await request(new URL(path, apiBase), {}, signal);
  const name = /filename="([^"]+)"/.exec(resp.headers.get('Content-Disposition') || '')?.[1] || '';
  return { blob: await resp.blob(), name };
}
