// Elements are built, never parsed from strings: broker data can hold any text and stays text (no innerHTML).
const SVG = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
export const s = (tag, attrs, ...children) => build(document.createElementNS(SVG, tag), attrs, children);

export function announce(text) {
  const live = document.getElementById('announce');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 30);
}

/** The screen's root: replaces the view, titles it and moves focus to the heading for keyboard and screen reader users. */
export function screen(title, ...children) {
  const view = document.getElementById('view');
  const heading = h('h1', { tabindex: '-1' }, title);
  view.replaceChildren(heading, ...children);
  document.title = `${title} · Kontext console`;
  heading.focus();
  return view;
}

export function field(label, input) {
  if (!input.id) input.id = 'f-' + Math.random().toString(36).slice(2, 9);
  return h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
}

export const time = iso => iso ? new Date(iso).toLocaleString() : '–';

export function errorText(err) {
  const p = err.problem;
  if (!p) return err.message;
  return [p.title, p.detail].filter(Boolean).join(': ') || err.message;
}

export function typeSelect(types, selected, id) {
  return h('select', { id, name: 'type' },
    h('option', { value: '' }, '(choose a type)'),
    types.map(t => h('option', { value: t, selected: t === selected }, t)));
}
