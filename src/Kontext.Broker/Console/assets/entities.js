import { api, V1, query, entityTypes } from './api.js';
import { h, field, errorText, typeSelect, time, announce } from './dom.js';

const PAGE = 20;
const state = { type: '', q: '', offset: 0 };
export const entityLink = id => h('a', { href: `#/entity/${encodeURIComponent(id)}` }, id);

export async function showEntities(_, screen) {
  const types = await entityTypes();
  const type = typeSelect(types, state.type, 'entity-type');
  const q = h('input', { id: 'entity-q', name: 'q', value: state.q, size: 40, placeholder: 'temperature>20;status=="ok"', 'aria-describedby': 'q-error', spellcheck: 'false' });
  const qError = h('p', { id: 'q-error', class: 'error', role: 'alert' });
  const results = h('div', { id: 'entity-results', 'aria-live': 'polite' });
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Entities' },
    field('Type', type), h('div', { class: 'field grow' }, h('label', { for: 'entity-q' }, 'q filter'), q, qError),
    h('button', { type: 'submit', id: 'entity-search' }, 'Search'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    state.type = type.value;
    state.q = q.value.trim();
    state.offset = 0;
    load();
  });

  async function load() {
    qError.textContent = '';
    q.removeAttribute('aria-invalid');
    const params = { type: state.type, q: state.q, limit: PAGE, offset: state.offset, count: 'true' };
    if (!state.type && !state.q) params.type = types.join(',');
    if (!params.type && !params.q) { results.replaceChildren(h('p', {}, 'No entity types in this tenant yet.')); return; }
    try {
      const { body, headers } = await api(`${V1}/entities?${query(params)}`);
      render(body ?? [], Number(headers.get('NGSILD-Results-Count') ?? body.length));
    } catch (err) {
      // The broker's own words (with the position of the error in the expression) next to the input.
      qError.textContent = errorText(err);
      q.setAttribute('aria-invalid', 'true');
      results.replaceChildren();
    }
  }

  function render(entities, total) {
    const first = total === 0 ? 0 : state.offset + 1;
    const last = state.offset + entities.length;
    const prev = h('button', { type: 'button', disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }, 'Previous page');
    const next = h('button', { type: 'button', disabled: last >= total, onclick: () => { state.offset += PAGE; load(); } }, 'Next page');
    results.replaceChildren(
      h('p', { id: 'entity-count' }, `${first}–${last} of ${total}`),
      h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'id'), h('th', { scope: 'col' }, 'type'), h('th', { scope: 'col' }, 'attributes'))),
        h('tbody', {}, entities.map(e => h('tr', {},
          h('td', {}, entityLink(e.id)), h('td', {}, [e.type].flat().join(', ')),
          h('td', {}, Object.keys(e).filter(k => !['id', 'type', '@context'].includes(k)).join(', ')))))),
      h('div', { class: 'pager' }, prev, next));
    announce(`${total} entities`);
  }

  screen('Entities', form, results);
  if (state.type || state.q) load();
}

const KIND = { Property: 'value', GeoProperty: 'value', Relationship: 'object', LanguageProperty: 'languageMap', VocabProperty: 'vocab', JsonProperty: 'json', ListProperty: 'valueList', ListRelationship: 'objectList' };
const META = new Set(['type', 'value', 'object', 'languageMap', 'vocab', 'json', 'valueList', 'objectList', 'observedAt', 'unitCode', 'datasetId', 'createdAt', 'modifiedAt', 'objectType', 'instanceId']);

function valueOf(attr) {
  const member = KIND[attr.type] ?? 'value';
  const v = attr[member];
  if (attr.type === 'Relationship') return [v].flat().map(id => h('span', {}, entityLink(id), ' '));
  if (attr.type === 'ListRelationship') return (v ?? []).map(o => h('span', {}, entityLink(o.object ?? o), ' '));
  if (v !== null && typeof v === 'object') return h('code', {}, JSON.stringify(v));
  return String(v);
}

function attributeRows(name, attr, depth = 0) {
  return [attr].flat().flatMap(a => {
    if (a === null || typeof a !== 'object' || !a.type) return [h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, '–'), h('td', {}, JSON.stringify(a)), h('td', {}), h('td', {}), h('td', {}))];
    const row = h('tr', { class: depth ? 'sub' : null },
      h('th', { scope: 'row' }, (depth ? '↳ ' : '') + name), h('td', {}, a.type), h('td', { class: 'value' }, valueOf(a)),
      h('td', {}, a.unitCode ?? ''), h('td', {}, a.observedAt ? time(a.observedAt) : ''), h('td', {}, a.datasetId ?? ''));
    const subs = Object.entries(a).filter(([k]) => !META.has(k)).flatMap(([k, v]) => attributeRows(k, v, depth + 1));
    return [row, ...subs];
  });
}

export async function showEntity(id, screen) {
  const { body: e } = await api(`${V1}/entities/${encodeURIComponent(id)}`);
  const names = Object.keys(e).filter(k => !['id', 'type', '@context', 'scope', 'createdAt', 'modifiedAt'].includes(k)).sort();
  screen(`Entity ${e.id}`,
    h('p', {}, h('a', { href: '#/entities' }, '← Entities')),
    h('dl', { class: 'facts' }, h('dt', {}, 'type'), h('dd', {}, [e.type].flat().join(', ')),
      e.scope ? [h('dt', {}, 'scope'), h('dd', {}, [e.scope].flat().join(', '))] : null),
    h('table', { id: 'entity-attributes' },
      h('caption', {}, 'Attributes'),
      h('thead', {}, h('tr', {}, ['name', 'type', 'value', 'unit', 'observedAt', 'datasetId'].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, names.flatMap(n => attributeRows(n, e[n])))));
}
