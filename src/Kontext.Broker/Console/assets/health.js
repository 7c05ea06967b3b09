import { api, V1, entityTypes } from './api.js';
import { h, errorText } from './dom.js';

const facts = pairs => h('dl', { class: 'facts' }, pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '–')]));

/** A gauge from the Prometheus text of /metrics (summed over its labels), or null. */
export function metric(text, name) {
  const lines = text.split('\n').filter(l => l.startsWith(name + ' ') || l.startsWith(name + '{'));
  return lines.length ? lines.reduce((sum, l) => sum + Number(l.trim().split(/\s+/).pop()), 0) : null;
}

export async function showHealth(_, screen) {
  const ready = await api('/health/ready').then(r => r.body, err => err.problem ?? { status: errorText(err) });
  const version = await api('/version').then(r => r.body, () => ({}));
  const backlog = await api('/metrics', { accept: 'text/plain' }).then(r => metric(r.text, 'kontext_notifications_pending'), () => null);
  const counts = h('tbody', {});
  screen('Health',
    facts([['readiness', ready.status], ['store', ready.store ?? version.store], ['version', version.version],
      ['NGSI-LD', version.ngsiLd ? `${version.ngsiLd.target} (floor ${version.ngsiLd.floor})` : null], ['runtime', version.runtime],
      ['notification backlog', backlog === null ? 'not available (/metrics off or needs its scrape key)' : String(backlog)]]),
    h('table', { id: 'type-counts' }, h('caption', {}, 'Entities per type'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'type'), h('th', { scope: 'col' }, 'entities'))), counts));
  try {
    const types = await entityTypes();
    const rows = await Promise.all(types.map(async t => {
      const { headers } = await api(`${V1}/entities?type=${encodeURIComponent(t)}&count=true&limit=0`);
      return h('tr', {}, h('th', { scope: 'row' }, h('a', { href: '#/entities' }, t)), h('td', {}, headers.get('NGSILD-Results-Count') ?? '?'));
    }));
    counts.replaceChildren(...rows);
  } catch (err) { counts.replaceChildren(h('tr', {}, h('td', { colspan: 2, class: 'error' }, errorText(err)))); }
}
