// The user's account in this browser: signing up, the API key in localStorage (the
// server shows it once), signing out, and the bookings made here.

import { api } from './api.js';
import { t, errorText } from './i18n.js';
import { h, replace, notice } from './dom.js';

const KEY = 'ticket.account';
const BOOKINGS = 'ticket.bookings';

/** {apiKey, name, userId} or null. */
export function loadAccount() {
  try {
    const a = JSON.parse(localStorage.getItem(KEY) || 'null');
    return a && typeof a.apiKey === 'string' ? a : null;
  } catch {
    return null;
  }
}

export function saveAccount(account) {
  localStorage.setItem(KEY, JSON.stringify(account));
}

/** Forget the key and everything kept for it. */
export function forgetAccount() {
  localStorage.removeItem(KEY);
  localStorage.removeItem(BOOKINGS);
}

export function loadBookings() {
  try {
    const list = JSON.parse(localStorage.getItem(BOOKINGS) || '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

export function addBooking(booking) {
  const list = loadBookings().filter((b) => b.reservation_id !== booking.reservation_id);
  list.push(booking);
  try { localStorage.setItem(BOOKINGS, JSON.stringify(list.slice(-50))); } catch { /* full: not vital */ }
}

/** Draw the sign-up form; ctx.signedUp(account) is called on success. Returns {destroy}. */
export function mountSignup(container, ctx) {
  let busy = false;
  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('signup.title'));
  const input = h('input', {
    id: 'signup-name', name: 'name', type: 'text', maxlength: '64', required: true,
    autocomplete: 'nickname', 'aria-describedby': 'signup-help',
    value: ctx.state.draftName || null, oninput: () => { ctx.state.draftName = input.value; },
  });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', id: 'signup-submit' }, t('signup.submit'));
  const status = h('div', { class: 'form-status', id: 'signup-status' });

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    const name = input.value.trim();
    if (!name) {
      input.setAttribute('aria-invalid', 'true');
      replace(status, notice('error', t('signup.nameRequired')));
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    busy = true;
    button.disabled = true;
    button.textContent = t('signup.busy');
    status.replaceChildren();
    try {
      const r = await api.signUp(name);
      ctx.signedUp({ apiKey: r.data.api_key, name: r.data.name, userId: r.data.user_id });
    } catch (e) {
      replace(status, notice('error', errorText(e)));
      input.focus();
      busy = false;
      button.disabled = false;
      button.textContent = t('signup.submit');
    }
  }

  container.append(h('section', { class: 'panel signup', 'aria-labelledby': 'view-title' },
    title,
    h('p', { class: 'lead' }, t('signup.intro')),
    h('form', { id: 'signup-form', novalidate: true, onsubmit: submit },
      h('div', { class: 'field' },
        h('label', { for: 'signup-name' }, t('signup.name')),
        input,
        h('p', { class: 'help', id: 'signup-help' }, t('signup.nameHelp'))),
      status,
      h('div', { class: 'actions' }, button))));

  return { destroy() {} };
}
