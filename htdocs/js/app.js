// The page: which view is on screen, the header (language, account, menu), the queue
// banner, and the steps between views. Each view lives in its own module and is drawn
// from `state`, so it can be drawn again (say, in the other language) at any time.

import { api, ApiError, setApiKey, msUntil } from './api.js';
import { t, getLang, setLang, onLangChange, applyStatic, timeOfDay } from './i18n.js';
import { h, replace, focusedId, refocus } from './dom.js';
import { loadAccount, saveAccount, forgetAccount, loadBookings, addBooking, mountSignup } from './account.js';
import { mountConcerts } from './concerts.js';
import { QueueSession, mountWaitingRoom, endText } from './queue.js';
import { mountBooking, newBooking } from './seats.js';
import { mountCheckout, mountDone } from './checkout.js';
import { mountWallet } from './wallet.js';
import { mountProof } from './proof.js';

const VIEWS = {
  signup: mountSignup,
  concerts: mountConcerts,
  queue: mountWaitingRoom,
  booking: mountBooking,
  checkout: mountCheckout,
  done: mountDone,
  wallet: mountWallet,
  proof: mountProof,
};
// Views that belong to a visit of a queue; elsewhere a banner leads back to it.
const QUEUE_VIEWS = new Set(['queue', 'booking', 'checkout', 'done']);

const state = {
  account: null,        // {apiKey, name, userId}
  view: null,
  draftName: '',
  concerts: null,
  concertsAt: null,
  session: null,        // QueueSession of the current visit to a queue
  booking: newBooking(),
  reservation: null,    // the HELD reservation being paid
  payKey: null,         // {reservation, key}: Idempotency-Key of the payment attempt under way
  confirmation: null,   // {payment, reservation, concert, token} after paying
  proofConcert: null,   // the concert whose proof of the pre-queue order is shown
};

// The HELD reservation is also kept in sessionStorage: leaving the page gives up the
// queue turn but not the hold, and a new turn may still pay for it.
const HOLD_KEY = 'ticket.hold';
function rememberHold(reservation) {
  try {
    if (reservation) sessionStorage.setItem(HOLD_KEY, JSON.stringify(reservation));
    else sessionStorage.removeItem(HOLD_KEY);
  } catch { /* not vital */ }
}
function rememberedHold(concertId) {
  try {
    const r = JSON.parse(sessionStorage.getItem(HOLD_KEY) || 'null');
    return r && String(r.concert_id) === String(concertId) && msUntil(r.expires_at) > 0 ? r : null;
  } catch {
    return null;
  }
}

const el = {
  view: document.getElementById('view'),
  nav: document.getElementById('nav'),
  account: document.getElementById('account'),
  accountName: document.getElementById('account-name'),
  banner: document.getElementById('queue-banner'),
  toast: document.getElementById('toast'),
};

let current = null;

// ---- views ------------------------------------------------------------------------

/** Which view can really be shown when `name` is asked for, given the state. */
function resolve(name) {
  const s = state.session;
  if (!state.account) return 'signup';
  if (name === 'signup') return 'concerts';
  if (name === 'queue' && !s) return 'concerts';
  if (name === 'booking' && !(s && s.status === 'ACTIVE')) return s ? 'queue' : 'concerts';
  if (name === 'checkout' && !(s && s.status === 'ACTIVE' && state.reservation)) return s ? resolve('booking') : 'concerts';
  if (name === 'done' && !state.confirmation) return 'concerts';
  if (name === 'proof' && !state.proofConcert) return 'concerts';
  return VIEWS[name] ? name : 'concerts';
}

/** Show a view. focus: move focus to its heading (after a step the user took). */
function go(name, { focus = true, keepFocus = null } = {}) {
  const view = resolve(name);
  if (current) current.destroy();
  el.view.replaceChildren();
  state.view = view;
  current = VIEWS[view](el.view, ctx);
  drawChrome();
  if (keepFocus && refocus(keepFocus)) return;
  if (focus) document.getElementById('view-title')?.focus();
}

// ---- header, banner, toast ----------------------------------------------------------

function drawChrome() {
  const signedIn = Boolean(state.account);
  el.nav.hidden = !signedIn;
  el.account.hidden = !signedIn;
  el.accountName.textContent = signedIn ? t('user.signedInAs', { name: state.account.name }) : '';
  for (const btn of el.nav.querySelectorAll('[data-view]')) {
    const here = btn.dataset.view === state.view
      || (btn.dataset.view === 'concerts' && (state.view === 'done' || state.view === 'proof'));
    if (here) btn.setAttribute('aria-current', 'page');
    else btn.removeAttribute('aria-current');
  }
  for (const btn of document.querySelectorAll('.lang-btn')) {
    btn.setAttribute('aria-pressed', String(btn.dataset.lang === getLang()));
  }
  drawBanner();
}

function drawBanner() {
  const s = state.session;
  const show = s && !QUEUE_VIEWS.has(state.view) && state.view !== 'signup'
    && (s.live || (s.status !== 'LEFT' && s.status !== 'DONE'));
  if (!show) {
    el.banner.hidden = true;
    el.banner.replaceChildren();
    return;
  }
  let text;
  if (s.status === 'PRE_QUEUE') text = t('banner.prequeue', { title: s.concert.title, time: s.opensAt ? timeOfDay(s.opensAt) : '–' });
  else if (s.status === 'WAITING') text = t('banner.waiting', { title: s.concert.title, n: s.position ?? '–' });
  else if (s.waitlisted) text = t('banner.waitlist', { title: s.concert.title, n: s.position });
  else if (s.status === 'ACTIVE') text = t('banner.active', { title: s.concert.title });
  else if (s.status === 'JOINING') text = t('queue.joining');
  else text = endText(s);
  const focused = el.banner.contains(document.activeElement);
  replace(el.banner, h('div', { class: 'banner-inner' },
    h('p', {}, text),
    h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'banner-return', onclick: resume },
      t('banner.return'))));
  el.banner.classList.toggle('banner-active', s.status === 'ACTIVE');
  el.banner.hidden = false;
  if (focused) document.getElementById('banner-return')?.focus();
}

let toastTimer = null;
function toast(text) {
  clearTimeout(toastTimer);
  el.toast.textContent = text;
  el.toast.classList.add('is-visible');
  toastTimer = setTimeout(hideToast, 4000);
}
function hideToast() {
  clearTimeout(toastTimer);
  el.toast.classList.remove('is-visible');
  el.toast.textContent = '';
}

// ---- account ----------------------------------------------------------------------

function signedUp(account) {
  saveAccount(account);
  state.account = account;
  state.draftName = '';
  setApiKey(account.apiKey);
  go('concerts');
}

function dropSession() {
  const s = state.session;
  state.session = null;
  state.booking = newBooking();
  state.reservation = null;
  if (s) {
    if (s.live) s.leave();
    s.destroy();
  }
}

function signOut(message) {
  dropSession();
  rememberHold(null);
  forgetAccount();
  setApiKey(null);
  state.account = null;
  state.confirmation = null;
  go('signup');
  toast(message || t('user.signedOut'));
}

/** UNAUTHENTICATED anywhere: the key is no good any more, so sign out and say why. */
function authError(e) {
  if (e instanceof ApiError && e.code === 'UNAUTHENTICATED') {
    signOut(t('error.UNAUTHENTICATED'));
    return true;
  }
  return false;
}

// ---- the queue and the booking steps -------------------------------------------------

let lastStatus = null;

function onSessionChange(s) {
  if (s !== state.session) return;
  if (s.status !== lastStatus) {
    const waited = lastStatus === 'PRE_QUEUE' || lastStatus === 'WAITING' || lastStatus === 'SOLD_OUT';
    lastStatus = s.status;
    if (s.status === 'ACTIVE') {
      if (state.view === 'queue') {
        go('booking');
        if (waited) toast(t('queue.admitted'));
        recoverHold(s);
      }
    } else if (!s.live && s.status !== 'DONE' && (state.view === 'booking' || state.view === 'checkout')) {
      state.reservation = null;
      go('queue');
    }
  }
  drawBanner();
}

/** A hold made in an earlier turn (before a reload) that is still HELD: go and pay it. */
async function recoverHold(s) {
  const kept = rememberedHold(s.concertId);
  if (!kept) return;
  try {
    const r = await api.reservation(kept.reservation_id, s.token);
    if (s !== state.session || s.status !== 'ACTIVE' || state.view !== 'booking') return;
    if (r.data.status === 'HELD') {
      held(r.data);
      return;
    }
  } catch { /* gone or not ours: forget it */ }
  rememberHold(null);
}

function join(concert) {
  const s = state.session;
  if (s && s.live && String(s.concertId) === String(concert.id)) {
    resume();
    return;
  }
  dropSession();
  const session = new QueueSession(concert);
  state.session = session;
  lastStatus = null;
  session.on(onSessionChange);
  go('queue');
  session.join().catch((e) => { authError(e); });
}

/** Back to wherever the current visit of a queue stands. */
function resume() {
  const s = state.session;
  if (!s) return go('concerts');
  if (s.status === 'ACTIVE') {
    go(state.reservation ? 'checkout' : 'booking');
    if (!state.reservation) recoverHold(s);
    return;
  }
  go('queue');
}

/** "Leave the queue" / "give up my turn". */
function leave() {
  if (!state.session) return;
  dropSession();
  go('concerts');
  toast(t('queue.left'));
}

/**
 * A queue-gated call was refused: deal with it here when it is about the queue token
 * or the key, and return true; false leaves the error to the caller.
 */
function gateError(e) {
  if (authError(e)) return true;
  if (!(e instanceof ApiError) || !state.session) return false;
  const s = state.session;
  switch (e.code) {
    case 'QUEUE_TOKEN_EXPIRED':
      s.end('EXPIRED');
      return true;
    case 'QUEUE_TOKEN_INVALID':
    case 'QUEUE_TOKEN_MISMATCH':
      s.end('INVALID');
      return true;
    case 'QUEUE_NOT_ADMITTED':
      s.status = 'WAITING';
      go('queue');
      s.poll();
      return true;
    default:
      return false;
  }
}

function held(reservation) {
  state.reservation = reservation;
  rememberHold(reservation);
  go('checkout');
}

function chooseAgain(text) {
  state.reservation = null;
  rememberHold(null);
  state.booking.message = text ? { kind: 'info', text } : null;
  go('booking');
}

function paid(payment, reservation) {
  const s = state.session;
  state.confirmation = { payment, reservation, concert: s.concert, token: s.token };
  addBooking({
    reservation_id: reservation.reservation_id, title: s.concert.title, date: reservation.date,
    seat_nos: reservation.seat_nos, amount: payment.amount,
  });
  state.reservation = null;
  rememberHold(null);
  s.end('DONE');
  go('done');
}

const ctx = {
  state,
  go: (name) => go(name),
  signedUp,
  join,
  resume,
  leave,
  rejoin: (concert) => join(concert),
  proof: (concert) => {
    state.proofConcert = concert;
    go('proof');
  },
  gateError,
  authError,
  held,
  chooseAgain,
  paid,
  bookings: loadBookings,
  toast,
};

// ---- start ----------------------------------------------------------------------------

document.getElementById('sign-out').addEventListener('click', () => signOut());
for (const btn of el.nav.querySelectorAll('[data-view]')) {
  btn.addEventListener('click', () => go(btn.dataset.view));
}
for (const btn of document.querySelectorAll('.lang-btn')) {
  btn.addEventListener('click', () => setLang(btn.dataset.lang));
}
onLangChange(() => {
  hideToast();
  // Draw the view again in the new language, keeping focus where it was.
  const keep = focusedId(el.view);
  go(state.view, { focus: false, keepFocus: keep });
});

// Leaving the page gives the place in the queue to the next person.
window.addEventListener('pagehide', () => {
  if (state.session) state.session.leaveOnUnload();
});
// Back from the browser's back/forward cache: the place was given up on the way out.
window.addEventListener('pageshow', (event) => {
  if (event.persisted && state.session && !state.session.live) go(state.view, { focus: false });
});

document.documentElement.lang = getLang();
applyStatic(document);
state.account = loadAccount();
setApiKey(state.account && state.account.apiKey);
go(state.account ? 'concerts' : 'signup', { focus: false });
