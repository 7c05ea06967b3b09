import { session } from './api.js';
import { h, screen, announce, errorText } from './dom.js';
import { showEntities, showEntity } from './entities.js';
import { showMap } from './map.js';
import { showHistory } from './history.js';
import { showSubscriptions } from './subscriptions.js';
import { showAdapters } from './adapters.js';
import { showHealth } from './health.js';

const routes = {
  entities: showEntities,
  entity: showEntity,
  map: showMap,
  history: showHistory,
  subscriptions: showSubscriptions,
  adapters: showAdapters,
  health: showHealth,
};

let generation = 0;

async function route() {
  // A screen still waiting for the broker when the user moved on must not paint over the new one.
  const mine = ++generation;
  const render = (...args) => mine === generation ? screen(...args) : document.createElement('div');
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const show = routes[name] ?? showEntities;
  const current = routes[name] ? name : 'entities';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#/${current === 'entity' ? 'entities' : current}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await show(rest.map(decodeURIComponent).join('/'), render);
  } catch (err) {
    const signIn = err.status === 401
      ? h('button', { type: 'button', onclick: () => document.getElementById('signin-open').click() }, 'Sign in') : null;
    render(err.status === 401 ? 'Sign-in needed' : 'Error', h('p', { class: 'error', role: 'alert' }, errorText(err)), signIn);
  }
}

function signInState() {
  const button = document.getElementById('signin-open');
  button.textContent = session.key ? 'Signed in' : 'Sign in';
  button.setAttribute('aria-label', session.key ? 'Signed in: change or sign out' : 'Sign in');
}

function setUp() {
  // The skip link moves focus without touching the hash, which is the router's.
  document.querySelector('.skip').addEventListener('click', e => { e.preventDefault(); document.getElementById('view').focus(); });
  const dialog = document.getElementById('signin');
  const form = document.getElementById('signin-form');
  document.getElementById('signin-open').addEventListener('click', () => {
    form.elements.kind.value = session.kind;
    form.elements.key.value = session.key;
    form.elements.admin.value = session.adminKey;
    dialog.showModal();
  });
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'save') session.signIn(form.elements.kind.value, form.elements.key.value, form.elements.admin.value);
    if (dialog.returnValue === 'clear') session.signOut();
    if (dialog.returnValue === 'save' || dialog.returnValue === 'clear') {
      signInState();
      announce(session.key ? 'Signed in' : 'Signed out');
      route();
    }
  });
  document.addEventListener('kontext:unauthorized', () => announce('The broker asks for a credential: sign in.'));
  const tenant = document.getElementById('tenant');
  tenant.value = session.tenant;
  document.getElementById('tenant-form').addEventListener('submit', e => {
    e.preventDefault();
    session.tenant = tenant.value;
    announce(`Tenant ${session.tenant || 'default'}`);
    route();
  });
  signInState();
  window.addEventListener('hashchange', route);
  route();
}

setUp();
