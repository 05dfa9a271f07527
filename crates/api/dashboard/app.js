// The dashboard's entry: sign-in and sign-out, the account in use, and the pages behind the
// URL fragment (#/ zones, #/zones/ID one zone, #/settings the account's peers, keys and ACLs).

import { ApiError, accountId, call, setAccountId, signIn, signOut, token, whenUnauthorized } from './api.js';
import { el, field, formError, input, replace, select, showErrors } from './dom.js';
import { renderSettings } from './settings.js';
import { renderZone } from './zone.js';
import { renderZones } from './zones.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let accounts = [];

/** What a page gets: the account in use and a way to go elsewhere. */
const context = {
  account: () => accounts.find((a) => a.id === accountId()) || accounts[0],
  go: (hash) => {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
};

function showSignIn(message) {
  nav.hidden = true;
  document.title = 'Sign in — Tandem';
  const tokenInput = input({ type: 'password', required: true, autocomplete: 'current-password' });
  const form = el('form', { novalidate: true, class: 'card narrow', 'aria-labelledby': 'sign-in-title' });
  form.append(
    el('h1', { id: 'sign-in-title', text: 'Sign in' }),
    el('p', { text: 'Use an API token of this server: the administrator token, or an account token. It is kept in this browser tab only.' }),
    field('API token', 'token', tokenInput),
    formError(),
    el('button', { type: 'submit', class: 'primary', text: 'Sign in' }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    trySignIn(form, tokenInput.value.trim());
  });
  replace(main, form);
  if (message) showErrors(form, [{ field: 'token', text: message, message }]);
  tokenInput.focus();
}

async function trySignIn(form, value) {
  if (!value) {
    showErrors(form, [{ field: 'token', text: 'Enter a token.', message: 'Enter a token.' }]);
    return;
  }
  signIn(value);
  try {
    await loadAccounts();
  } catch (e) {
    signOut();
    const text = e instanceof ApiError && e.status === 401 ? 'This token is not accepted by the server.' : e.message;
    showErrors(form, [{ field: 'token', text, message: text }]);
    return;
  }
  // A new fragment renders the page through the hashchange handler; render only once.
  if (!location.hash || location.hash === '#') location.hash = '#/';
  else render();
}

async function loadAccounts() {
  accounts = await call('GET', '/accounts?per_page=1000');
  if (!accounts.some((a) => a.id === accountId()) && accounts.length) setAccountId(accounts[0].id);
  showAccountPicker();
}

/** With more than one account visible (the administrator), a choice of the one in use. */
function showAccountPicker() {
  const holder = document.getElementById('account-picker');
  if (accounts.length < 2) {
    holder.replaceChildren();
    return;
  }
  const picker = select(
    accounts.map((a) => [a.id, a.name]),
    { id: 'account-select', value: accountId() },
  );
  picker.addEventListener('change', () => {
    setAccountId(picker.value);
    context.go('#/');
  });
  replace(holder, el('label', { htmlFor: 'account-select', text: 'Account ' }), picker);
}

async function render() {
  if (!token()) {
    showSignIn();
    return;
  }
  if (!accounts.length) {
    try {
      await loadAccounts();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        signOutNow('The server no longer accepts this token; sign in again.');
        return;
      }
      replace(main, el('p', { class: 'form-error', role: 'alert', text: e.message }));
      return;
    }
  }
  nav.hidden = false;
  markCurrentLink();
  // Each page draws into its own node, so a slow page left behind never draws over the next.
  const page = el('div', { class: 'page' });
  replace(main, page);
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (parts[0] === 'zones' && parts[1]) await renderZone(page, decodeURIComponent(parts[1]), context);
  else if (parts[0] === 'settings') await renderSettings(page, context);
  else await renderZones(page, context);
}

function markCurrentLink() {
  const current = location.hash.startsWith('#/settings') ? '#/settings' : '#/';
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function signOutNow(message) {
  signOut();
  accounts = [];
  showSignIn(message);
}

document.getElementById('sign-out').addEventListener('click', () => signOutNow());
// During sign-in (no accounts yet) the sign-in form reports a refused token itself.
whenUnauthorized(() => {
  if (token() && accounts.length) signOutNow('The server no longer accepts this token; sign in again.');
});
window.addEventListener('hashchange', () => {
  // What was said about the last page is not about this one.
  document.getElementById('status').textContent = '';
  render().then(() => main.focus({ preventScroll: true }));
});
render();
