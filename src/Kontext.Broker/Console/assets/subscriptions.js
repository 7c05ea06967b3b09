import { api, V1 } from './api.js';
import { h, errorText, time, announce } from './dom.js';

export async function showSubscriptions(_, screen) {
  const message = h('p', { id: 'subscriptions-message', role: 'status' });
  const table = h('div', { id: 'subscriptions-table' });
  screen('Subscriptions', message, table);
  await load();

  async function load() {
    const { body } = await api(`${V1}/subscriptions?limit=100`);
    table.replaceChildren(body.length === 0 ? h('p', {}, 'No subscriptions in this tenant.') : h('table', {},
      h('thead', {}, h('tr', {}, ['subscription', 'status', 'last success', 'last failure', 'failure reason', 'sent', 'failed', ''].map(c => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, body.map(row))));
  }

  function row(sub) {
    const n = sub.notification ?? {};
    const active = sub.isActive !== false;
    const toggle = h('button', { type: 'button', class: 'toggle', 'data-id': sub.id, 'aria-label': `${active ? 'Pause' : 'Resume'} ${sub.subscriptionName ?? sub.id}`,
      onclick: async () => {
        try {
          await api(`${V1}/subscriptions/${encodeURIComponent(sub.id)}`, { method: 'PATCH', body: { isActive: !active } });
          message.textContent = `${sub.id} ${active ? 'paused' : 'resumed'}`;
          announce(message.textContent);
          await load();
        } catch (err) { message.textContent = errorText(err); }
      } }, active ? 'Pause' : 'Resume');
    return h('tr', { 'data-id': sub.id },
      h('th', { scope: 'row' }, h('span', {}, sub.subscriptionName ?? sub.description ?? sub.id), sub.subscriptionName || sub.description ? h('div', { class: 'muted' }, sub.id) : null),
      h('td', { class: `status ${sub.status ?? ''}` }, sub.status ?? (active ? 'active' : 'paused')),
      h('td', {}, time(n.lastSuccess)), h('td', {}, time(n.lastFailure)), h('td', {}, n.lastFailureReason ?? ''),
      h('td', {}, n.timesSent ?? 0), h('td', {}, n.timesFailed ?? 0), h('td', {}, toggle));
  }
}
