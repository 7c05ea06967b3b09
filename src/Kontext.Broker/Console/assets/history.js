import { api, V1, query, entityTypes } from './api.js';
import { h, s, field, errorText, typeSelect, announce } from './dom.js';

const W = 800, H = 360, PAD = { l: 60, r: 50, t: 16, b: 40 };
const DAY = 86400000;
const localInput = d => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const state = { type: '', attr: '', ids: '', from: localInput(new Date(Date.now() - DAY)), to: localInput(new Date()), mode: 'auto' };

/** Raw values for short windows; per-hour or per-day averages (aggregatedValues) when raw points would be too many to read. */
export function resolution(mode, from, to) {
  if (mode !== 'auto') return mode;
  const span = to - from;
  return span <= 2 * DAY ? 'raw' : span <= 31 * DAY ? 'PT1H' : 'P1D';
}

/** [{ id, points: [[time ms, value]] }] from a temporal query answer, raw (values) or aggregated (avg). */
export function series(entities, attr) {
  return entities.map(e => {
    const a = [e[attr]].flat()[0];
    const rows = a?.values ?? a?.avg ?? [];
    return { id: e.id, points: rows.map(r => [Date.parse(r[1]), Number(r[0])]).filter(([t, v]) => Number.isFinite(t) && Number.isFinite(v)).sort((x, y) => x[0] - y[0]) };
  }).filter(x => x.points.length);
}

const ticks = (min, max, n) => Array.from({ length: n + 1 }, (_, i) => min + (max - min) * i / n);

function chart(lines, attr) {
  const all = lines.flatMap(l => l.points);
  const [t0, t1] = [Math.min(...all.map(p => p[0])), Math.max(...all.map(p => p[0]))];
  let [v0, v1] = [Math.min(...all.map(p => p[1])), Math.max(...all.map(p => p[1]))];
  if (v0 === v1) { v0 -= 1; v1 += 1; }
  const x = t => PAD.l + (t1 === t0 ? 0.5 : (t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
  const y = v => H - PAD.b - (v - v0) / (v1 - v0) * (H - PAD.t - PAD.b);
  const axis = [
    s('line', { class: 'axis', x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b }),
    s('line', { class: 'axis', x1: PAD.l, y1: PAD.t, x2: PAD.l, y2: H - PAD.b }),
    ticks(v0, v1, 4).map(v => s('text', { class: 'tick', x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, +v.toPrecision(4))),
    ticks(t0, t1, t1 === t0 ? 0 : 4).map(t => s('text', { class: 'tick', x: x(t), y: H - PAD.b + 18, 'text-anchor': 'middle' },
      new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }))),
  ];
  const drawn = lines.map((l, i) => s('g', { class: `series c${i % 6}`, 'data-id': l.id },
    s('polyline', { points: l.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ') }),
    l.points.map(([t, v]) => s('circle', { class: 'point', cx: x(t).toFixed(1), cy: y(v).toFixed(1), r: 3 },
      s('title', {}, `${l.id}: ${v} at ${new Date(t).toISOString()}`)))));
  return s('svg', { id: 'history-chart', viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `${attr} over time for ${lines.length} entities, ${all.length} points` }, axis, drawn);
}

export async function showHistory(_, screen) {
  const types = await entityTypes();
  const type = typeSelect(types, state.type, 'history-type');
  const attr = h('input', { id: 'history-attr', name: 'attr', value: state.attr, required: true, placeholder: 'temperature' });
  const ids = h('input', { id: 'history-ids', name: 'ids', value: state.ids, size: 40, placeholder: 'all of the type (up to 10), or ids separated by commas' });
  const from = h('input', { id: 'history-from', name: 'from', type: 'datetime-local', value: state.from });
  const to = h('input', { id: 'history-to', name: 'to', type: 'datetime-local', value: state.to });
  const mode = h('select', { id: 'history-mode', name: 'mode' },
    [['auto', 'automatic'], ['raw', 'raw values'], ['PT1H', 'hourly average'], ['P1D', 'daily average']].map(([v, t]) => h('option', { value: v, selected: v === state.mode }, t)));
  const error = h('p', { id: 'history-error', class: 'error', role: 'alert' });
  const out = h('div', { id: 'history-out' });
  const form = h('form', { class: 'filters', 'aria-label': 'History' }, field('Type', type), field('Numeric property', attr), field('Entities', ids),
    field('From', from), field('To', to), field('Resolution', mode), h('button', { type: 'submit', id: 'history-load' }, 'Draw'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    Object.assign(state, { type: type.value, attr: attr.value.trim(), ids: ids.value.trim(), from: from.value, to: to.value, mode: mode.value });
    error.textContent = '';
    const [t0, t1] = [new Date(state.from), new Date(state.to)];
    const step = resolution(state.mode, t0, t1);
    const params = { type: state.type, id: state.ids.replace(/\s+/g, ''), attrs: state.attr, timerel: 'between', timeAt: t0.toISOString(), endTimeAt: t1.toISOString(), limit: 10 };
    Object.assign(params, step === 'raw' ? { options: 'temporalValues' } : { options: 'aggregatedValues', aggrMethods: 'avg', aggrPeriodDuration: step });
    try {
      const { body } = await api(`${V1}/temporal/entities?${query(params)}`);
      const lines = series(body ?? [], state.attr);
      if (!lines.length) { out.replaceChildren(h('p', {}, 'No values in this window.')); return; }
      out.replaceChildren(chart(lines, state.attr), h('ul', { class: 'legend' },
        lines.map((l, i) => h('li', { class: `c${i % 6}` }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), `${l.id} (${l.points.length} ${step === 'raw' ? 'values' : 'averages'})`))));
      announce(`Chart drawn: ${lines.length} entities`);
    } catch (err) { error.textContent = errorText(err); out.replaceChildren(); }
  });
  screen('History', form, error, out);
}
