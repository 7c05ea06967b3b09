// The broker's API with the signed-in user's own credential: the console holds no rights of its own.
const KEY = 'kontext.console.';
const get = name => sessionStorage.getItem(KEY + name) ?? '';
const set = (name, value) => value ? sessionStorage.setItem(KEY + name, value) : sessionStorage.removeItem(KEY + name);

export const session = {
  get kind() { return get('kind') || 'apikey'; },
  get key() { return get('key'); },
  get adminKey() { return get('admin'); },
  get tenant() { return get('tenant'); },
  set tenant(value) { set('tenant', value.trim()); },
  signIn(kind, key, adminKey) { set('kind', kind); set('key', key.trim()); set('admin', adminKey.trim()); },
  signOut() { for (const n of ['kind', 'key', 'admin']) set(n, ''); },
};

export class ApiError extends Error {
  constructor(status, problem, text) {
    super(problem?.detail || problem?.title || text || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const V1 = '/ngsi-ld/v1';

export async function api(path, { method = 'GET', accept = 'application/json', body, headers = {} } = {}) {
  const h = new Headers(headers);
  h.set('Accept', accept);
  if (session.key) {
    if (session.kind === 'bearer') h.set('Authorization', 'Bearer ' + session.key);
    else h.set('X-Api-Key', session.key);
  }
  if (session.adminKey && path.startsWith('/adapters/')) h.set('X-Admin-Key', session.adminKey);
  if (session.tenant) h.set('NGSILD-Tenant', session.tenant);
  let payload;
  if (body !== undefined) {
    h.set('Content-Type', 'application/json');
    payload = JSON.stringify(body);
  }
  const response = await fetch(path, { method, headers: h, body: payload, credentials: 'omit', cache: 'no-store' });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON: kept as text */ }
  if (!response.ok) {
    if (response.status === 401) document.dispatchEvent(new CustomEvent('kontext:unauthorized'));
    throw new ApiError(response.status, json, text);
  }
  return { status: response.status, headers: response.headers, body: json, text };
}

export const query = params => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v != null)).toString();

/** Entity types of the tenant, as the broker names them (compacted with the core context). */
export async function entityTypes() {
  const { body } = await api(`${V1}/types`);
  return (body?.typeList ?? []).slice().sort();
}
