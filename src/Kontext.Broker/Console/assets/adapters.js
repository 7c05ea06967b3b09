import { api } from './api.js';
import { h, errorText, time, announce } from './dom.js';

const MODES = ['off', 'warn', 'enforce'];

export async function showAdapters(_, screen) {
  const message = h('p', { id: 'adapters-message', role: 'status' });
  const letters = h('section', { id: 'dead-letters', 'aria-labelledby': 'dl-title' });
  const modes = h('section', { id: 'validation', 'aria-labelledby': 'vm-title' });
  screen('Adapters', message, letters, modes);
  await Promise.all([loadLetters(), loadModes()]);

  async function loadLetters() {
    const title = h('h2', { id: 'dl-title' }, 'Dead letters');
    try {
      const { body } = await api('/adapters/deadletters?limit=100');
      letters.replaceChildren(title, body.length === 0 ? h('p', {}, 'No dead letters.') : h('table', {},
        h('thead', {}, h('tr', {}, ['received', 'source', 'device', 'reason', 'status', 'attempts', 'payload', ''].map(c => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, body.map(letter))));
    } catch (err) { letters.replaceChildren(title, h('p', { class: 'error' }, denied(err))); }
  }

  function letter(l) {
    const replay = h('button', { type: 'button', class: 'replay', 'data-id': l.id, 'aria-label': `Replay dead letter ${l.id}`, disabled: l.status !== 'pending',
      onclick: async () => {
        try {
          const { body } = await api(`/adapters/deadletters/${encodeURIComponent(l.id)}/replay`, { method: 'POST' });
          message.textContent = `Replay of ${l.id}: ${body?.status ?? 'done'}${body?.reason ? ` (${body.reason})` : ''}`;
        } catch (err) { message.textContent = `Replay of ${l.id}: ${errorText(err)}`; }
        announce(message.textContent);
        await loadLetters();
      } }, 'Replay');
    return h('tr', { 'data-id': l.id },
      h('td', {}, time(l.receivedAt)), h('td', {}, l.source), h('td', {}, l.device ?? ''),
      h('td', {}, h('strong', {}, l.reason), l.detail ? h('div', { class: 'muted' }, l.detail) : null),
      h('td', { class: 'status' }, l.status), h('td', {}, l.attempts),
      h('td', {}, h('details', {}, h('summary', {}, 'payload'), h('pre', {}, typeof l.payload === 'string' ? l.payload : JSON.stringify(l.payload, null, 2)))),
      h('td', {}, replay));
  }

  async function loadModes() {
    const title = h('h2', { id: 'vm-title' }, 'Validation per type');
    try {
      const { body } = await api('/adapters/validation');
      const types = [...new Set([...(body.schemas ?? []), ...Object.keys(body.types ?? {})])].sort();
      modes.replaceChildren(title, h('p', {}, `Default: ${body.default}`), h('table', {},
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'type'), h('th', { scope: 'col' }, 'mode'))),
        h('tbody', {}, types.map(t => {
          const select = h('select', { id: `mode-${t}`, 'aria-label': `Validation mode for ${t}`, onchange: async () => {
            try {
              if (select.value === '') await api(`/adapters/validation/${encodeURIComponent(t)}`, { method: 'DELETE' });
              else await api(`/adapters/validation/${encodeURIComponent(t)}`, { method: 'PUT', body: { mode: select.value } });
              message.textContent = `${t}: ${select.value || 'default'}`;
            } catch (err) { message.textContent = errorText(err); }
            announce(message.textContent);
          } }, h('option', { value: '' }, `default (${body.default})`),
          MODES.map(m => h('option', { value: m, selected: body.types?.[t] === m }, m)));
          return h('tr', {}, h('th', { scope: 'row' }, t), h('td', {}, select));
        }))));
    } catch (err) { modes.replaceChildren(title, h('p', { class: 'error' }, denied(err))); }
  }
}

const denied = err => err.status === 403 || err.status === 401
  ? `${errorText(err)} — the adapter screens need an admin role on this tenant, or the adapter admin key (sign in).`
  : errorText(err);
