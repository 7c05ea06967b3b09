import { api, V1, query, entityTypes } from './api.js';
import { h, s, field, errorText, typeSelect, announce } from './dom.js';

const W = 800, H = 500, TILE = 256;
const state = { type: '', bbox: '' };
let config;

// Web Mercator in "world units" (0..256 at zoom 0), the space slippy-map tiles are cut in.
const project = ([lon, lat]) => {
  const y = Math.log(Math.tan(Math.PI / 4 + Math.max(-85.05, Math.min(85.05, lat)) * Math.PI / 360));
  return [(lon + 180) / 360 * TILE, (1 - y / Math.PI) / 2 * TILE];
};
const unproject = ([x, y]) => [x / TILE * 360 - 180, Math.atan(Math.sinh(Math.PI * (1 - 2 * y / TILE))) * 180 / Math.PI];

function positions(geometry) {
  const c = geometry?.coordinates;
  switch (geometry?.type) {
    case 'Point': return [c];
    case 'LineString': case 'MultiPoint': return c;
    case 'Polygon': case 'MultiLineString': return c.flat();
    case 'MultiPolygon': return c.flat(2);
    default: return [];
  }
}

export async function showMap(_, screen) {
  config ??= await fetch('config.json').then(r => r.json()).catch(() => ({}));
  const types = await entityTypes();
  const type = typeSelect(types, state.type, 'map-type');
  const bbox = h('input', { id: 'map-bbox', name: 'bbox', value: state.bbox, size: 36, placeholder: 'minLon,minLat,maxLon,maxLat', 'aria-describedby': 'map-error' });
  const draw = h('button', { type: 'button', id: 'map-draw', 'aria-pressed': 'false' }, 'Draw a box');
  const error = h('p', { id: 'map-error', class: 'error', role: 'alert' });
  const count = h('p', { id: 'map-count', 'aria-live': 'polite' });
  const svg = s('svg', { id: 'map-svg', viewBox: `0 0 ${W} ${H}`, role: 'group', 'aria-label': 'Map of the entities; each feature is a link to its entity', class: 'map' });
  const form = h('form', { class: 'filters', 'aria-label': 'Map' },
    field('Type', type), field('Box (geo-query within)', bbox),
    h('button', { type: 'submit', id: 'map-load' }, 'Show'), draw,
    h('button', { type: 'button', onclick: () => { bbox.value = ''; form.requestSubmit(); } }, 'Clear box'));
  let view = null; // { scale, x0, y0 }: screen = (world - origin) * scale
  let features = [];

  form.addEventListener('submit', e => { e.preventDefault(); state.type = type.value; state.bbox = bbox.value.trim(); load(); });

  async function load() {
    error.textContent = '';
    if (!state.type) { count.textContent = 'Choose a type.'; return; }
    const params = { type: state.type, limit: 1000 };
    if (state.bbox) {
      const [a, b, c, d] = state.bbox.split(',').map(Number);
      if ([a, b, c, d].some(Number.isNaN)) { error.textContent = 'A box is four numbers: minLon,minLat,maxLon,maxLat'; return; }
      Object.assign(params, { georel: 'within', geometry: 'Polygon', coordinates: JSON.stringify([[[a, b], [c, b], [c, d], [a, d], [a, b]]]) });
    }
    try {
      const { body } = await api(`${V1}/entities?${query(params)}`, { accept: 'application/geo+json' });
      features = (body?.features ?? []).filter(f => f.geometry);
      if (!view || !state.bbox) view = fit(features);
      render();
      count.textContent = `${features.length} features`;
      announce(count.textContent);
    } catch (err) { error.textContent = errorText(err); }
  }

  function fit(list) {
    const pts = list.flatMap(f => positions(f.geometry)).map(project);
    if (!pts.length) return { scale: W / TILE, x0: 0, y0: (TILE - H / (W / TILE)) / 2 };
    const xs = pts.map(p => p[0]), ys = pts.map(p => p[1]);
    const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const scale = Math.min(W / Math.max(maxX - minX, 1e-4), H / Math.max(maxY - minY, 1e-4), 2 ** 18) * 0.8;
    return { scale, x0: (minX + maxX) / 2 - W / 2 / scale, y0: (minY + maxY) / 2 - H / 2 / scale };
  }

  const toScreen = p => { const [x, y] = project(p); return [(x - view.x0) * view.scale, (y - view.y0) * view.scale]; };
  const toLonLat = (sx, sy) => unproject([sx / view.scale + view.x0, sy / view.scale + view.y0]);

  function tiles() {
    if (!config?.tileUrl) return [];
    const z = Math.max(0, Math.min(19, Math.round(Math.log2(view.scale))));
    const n = 2 ** z, span = TILE / n, size = span * view.scale; // a tile in world units, and on screen
    const [tx0, tx1] = [Math.floor(view.x0 / span), Math.floor((view.x0 + W / view.scale) / span)];
    const [ty0, ty1] = [Math.max(0, Math.floor(view.y0 / span)), Math.min(n - 1, Math.floor((view.y0 + H / view.scale) / span))];
    const out = [];
    for (let tx = tx0; tx <= tx1 && out.length < 200; tx++) {
      for (let ty = ty0; ty <= ty1; ty++) {
        const href = config.tileUrl.replace('{z}', z).replace('{x}', ((tx % n) + n) % n).replace('{y}', ty);
        out.push(s('image', { href, x: (tx * span - view.x0) * view.scale, y: (ty * span - view.y0) * view.scale, width: size + 0.5, height: size + 0.5, 'aria-hidden': 'true' }));
      }
    }
    return out;
  }

  function shape(f) {
    const id = f.id ?? f.properties?.id;
    const open = () => { location.hash = `#/entity/${encodeURIComponent(id)}`; };
    const attrs = { class: 'feature', tabindex: '0', role: 'link', 'aria-label': `${id}`, 'data-id': id,
      onclick: open, onkeydown: e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } } };
    const g = f.geometry;
    const path = rings => rings.map(r => 'M' + r.map(p => toScreen(p).map(v => v.toFixed(1)).join(',')).join('L')).join(' ');
    const title = s('title', {}, id);
    switch (g.type) {
      case 'Point': { const [x, y] = toScreen(g.coordinates); return s('circle', { ...attrs, cx: x.toFixed(1), cy: y.toFixed(1), r: 7 }, title); }
      case 'MultiPoint': return s('g', attrs, title, g.coordinates.map(p => { const [x, y] = toScreen(p); return s('circle', { cx: x, cy: y, r: 6 }); }));
      case 'LineString': return s('path', { ...attrs, class: 'feature line', d: path([g.coordinates]) }, title);
      case 'MultiLineString': return s('path', { ...attrs, class: 'feature line', d: path(g.coordinates) }, title);
      case 'Polygon': return s('path', { ...attrs, d: path(g.coordinates) + ' Z' }, title);
      case 'MultiPolygon': return s('path', { ...attrs, d: g.coordinates.map(path).join(' Z ') + ' Z' }, title);
      default: return null;
    }
  }

  function render() {
    const layers = [s('rect', { class: 'sea', x: 0, y: 0, width: W, height: H }), ...tiles(), ...features.map(shape)];
    if (config?.tileAttribution) layers.push(s('text', { x: W - 4, y: H - 4, class: 'attribution', 'text-anchor': 'end' }, config.tileAttribution));
    svg.replaceChildren(...layers);
  }

  // Drawing a box: press "Draw a box", drag on the map; the box becomes the geo-query (georel=within, Polygon).
  let start = null, box = null;
  const point = e => { const r = svg.getBoundingClientRect(); return [(e.clientX - r.left) * W / r.width, (e.clientY - r.top) * H / r.height]; };
  draw.addEventListener('click', () => draw.setAttribute('aria-pressed', String(draw.getAttribute('aria-pressed') !== 'true')));
  svg.addEventListener('pointerdown', e => {
    if (draw.getAttribute('aria-pressed') !== 'true' || !view) return;
    start = point(e);
    box = s('rect', { class: 'box', x: start[0], y: start[1], width: 0, height: 0 });
    svg.append(box);
    svg.setPointerCapture?.(e.pointerId);
  });
  svg.addEventListener('pointermove', e => {
    if (!start) return;
    const [x, y] = point(e);
    box.setAttribute('x', Math.min(x, start[0])); box.setAttribute('y', Math.min(y, start[1]));
    box.setAttribute('width', Math.abs(x - start[0])); box.setAttribute('height', Math.abs(y - start[1]));
  });
  svg.addEventListener('pointerup', e => {
    if (!start) return;
    const end = point(e);
    const [a, b] = toLonLat(Math.min(start[0], end[0]), Math.max(start[1], end[1]));
    const [c, d] = toLonLat(Math.max(start[0], end[0]), Math.min(start[1], end[1]));
    start = null;
    draw.setAttribute('aria-pressed', 'false');
    bbox.value = [a, b, c, d].map(v => v.toFixed(6)).join(',');
    form.requestSubmit();
  });

  screen('Map', form, error, count, h('figure', {}, svg,
    h('figcaption', {}, config?.tileUrl ? 'Base map from the configured tile server.' : 'No base map configured (Kontext:Console:TileUrl): features only.')));
  if (state.type) load(); else count.textContent = 'Choose a type.';
}
