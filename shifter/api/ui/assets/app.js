// The UI's entry: who the user is, and which page the URL shows. Pages are
// paths under the UI's root ('' and 'endpoints/NAME'); links between them
// change the URL without reloading, so live streams are not restarted.

import { APIError, root, token, whoami } from './api.js';
import { h } from './lib.js';
import { showEndpoint } from './endpoint.js';
import { showList } from './list.js';

const main = document.getElementById('main');
const sessionBox = document.getElementById('session');
const roles = ['read', 'deploy', 'admin'];

let principal = null;
// page stops the streams and timers of the page on screen.
let page = new AbortController();

const link = (path) => new URL(path, root).href;

// start asks who the user is, then shows the page of the URL. A refused
// token is forgotten, and the user asked for another where the shifter
// allows no anonymous access.
async function start(notice = null) {
  try {
    principal = await whoami();
  } catch (err) {
    if (!(err instanceof APIError) || err.status !== 401) {
      showProblem(`Could not ask the shifter who you are: ${err.message}`);
    } else if (token.get() != null) {
      token.clear();
      start('The shifter refused that token.');
    } else {
      showSignIn(notice);
    }
    return;
  }
  showSession(notice);
  route();
}

function route() {
  page.abort();
  page = new AbortController();
  const path = location.pathname.slice(root.pathname.length);
  const endpoint = /^endpoints\/([^/]+)\/?$/.exec(path);
  // A principal may act on every endpoint it can see; see GET /v1/whoami.
  const context = { signal: page.signal, link, canAct: roles.indexOf(principal.role) >= roles.indexOf('deploy') };
  if (path === '') {
    showList(main, context);
  } else if (endpoint) {
    showEndpoint(main, decodeURIComponent(endpoint[1]), context);
  } else {
    document.title = 'Not found · ionroller';
    main.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: link('') }, 'All endpoints')));
  }
}

function showSession(notice) {
  const who = h('span', { class: 'who' }, 'Signed in as ', h('strong', {}, principal.name),
    ` (${principal.role}${principal.team ? `, team ${principal.team}` : ''})`);
  const button = token.get()
    ? h('button', { type: 'button', onclick: () => { token.clear(); start(); } }, 'Forget token')
    : h('button', {
      type: 'button',
      onclick: () => {
        sessionBox.replaceChildren(tokenForm(), h('button', { type: 'button', onclick: () => showSession() }, 'Cancel'));
        sessionBox.querySelector('input').focus();
      },
    }, 'Use a token');
  sessionBox.replaceChildren(...[who, button, notice && h('p', { class: 'error', role: 'alert' }, notice)].filter(Boolean));
}

function showSignIn(notice) {
  page.abort();
  principal = null;
  sessionBox.replaceChildren();
  document.title = 'Sign in · ionroller';
  main.replaceChildren(h('h1', {}, 'Sign in'),
    h('p', {}, 'This shifter needs an API token. It is kept in this browser tab only, until the tab closes.'),
    tokenForm(notice));
  main.querySelector('input').focus();
}

function tokenForm(problem = null) {
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true });
  return h('form', {
    class: 'token',
    onsubmit: (e) => {
      e.preventDefault();
      token.set(input.value.trim());
      start();
    },
  },
  h('label', { for: 'token' }, 'API token'), input, h('button', { type: 'submit' }, 'Use token'),
  problem && h('p', { class: 'error', role: 'alert' }, problem));
}

function showProblem(message) {
  page.abort();
  main.replaceChildren(h('h1', {}, 'ionroller'), h('p', { class: 'error', role: 'alert' }, message));
}

// Links to the UI's own pages are followed in place.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[href]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(root.pathname) || url.hash) return;
  e.preventDefault();
  history.pushState(null, '', url);
  route();
  main.focus();
});
window.addEventListener('popstate', () => principal && route());

start();
