import { session } from './api.js';
import { h, screen, announce } from './dom.js';
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

async function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const show = routes[name] ?? showEntities;
  const current = routes[name] ? name : 'entities';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === `#/${current === 'entity' ? 'entities' : current}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  try {
    await show(rest.map(decodeURIComponent).join('/'));
  } catch (err) {
    screen('Error', h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

function signInState() {
  const button = document.getElementById('signin-open');
  button.textContent = session.key ? 'Signed in' : 'Sign in';
  button.setAttribute('aria-label', session.key ? 'Signed in: change or sign out' : 'Sign in');
}

function setUp() {
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
