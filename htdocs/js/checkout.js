// A held reservation: the hold's countdown (server clock), the amount and the balance,
// charging when short, paying with an Idempotency-Key per attempt, and the confirmation
// (with the booking's refund).

import { api, ApiError, msUntil, newIdempotencyKey } from './api.js';
import { t, money, clock, day, errorText } from './i18n.js';
import { h, setText, replace, notice } from './dom.js';
import { chargeForm } from './wallet.js';
import { refundPanel } from './refund.js';

/**
 * Draw the checkout view for ctx.state.reservation; returns {destroy}.
 * ctx: gateError(e), authError(e), paid(payment, reservation), chooseAgain(text), go(view).
 */
export function mountCheckout(container, ctx) {
  const { session } = ctx.state;
  const r = ctx.state.reservation;
  const concert = session.concert;
  let destroyed = false;
  let balance = null;
  let expired = false;
  let paying = false;
  // One key per payment attempt, kept (in state, so a redraw keeps it too) while the
  // attempt may be retried: no answer, a 5xx, or the same payment still in progress.
  const keyFor = () => (ctx.state.payKey && ctx.state.payKey.reservation === r.reservation_id ? ctx.state.payKey.key : null);
  const setKey = (key) => { ctx.state.payKey = key ? { reservation: r.reservation_id, key } : null; };

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('checkout.title'));
  const holdClock = h('span', { class: 'timer-value', id: 'hold-left', role: 'timer' }, '–');
  const balanceEl = h('dd', { id: 'checkout-balance' }, '–');
  const messages = h('div', { class: 'messages', id: 'checkout-messages' });
  const shortEl = h('p', { class: 'short', id: 'checkout-short' });
  const payBtn = h('button', { type: 'button', class: 'btn btn-primary btn-large', id: 'pay-button', onclick: pay },
    t('checkout.pay', { amount: money(r.amount) }));
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-quiet', id: 'cancel-hold', onclick: cancel },
    t('checkout.cancel'));
  const charge = chargeForm(ctx, {
    id: 'checkout-charge',
    onCharged: ({ balance: b }) => {
      balance = b;
      drawBalance();
      if (!expired) payBtn.focus();
    },
  });

  const panel = h('section', { class: 'panel checkout', 'aria-labelledby': 'view-title' },
    h('div', { class: 'panel-head' },
      h('div', {}, title, h('p', { class: 'lead' }, concert.title)),
      h('p', { class: 'timer' }, h('span', { class: 'timer-label' }, t('checkout.holdLeft')), ' ', holdClock)),
    messages,
    h('dl', { class: 'facts', id: 'checkout-facts' },
      h('div', {}, h('dt', {}, t('checkout.date')), h('dd', {}, day(r.date))),
      h('div', {}, h('dt', {}, t('checkout.seats')), h('dd', { id: 'checkout-seats' },
        t('checkout.seatsValue', { seats: r.seat_nos.join(', ') }))),
      h('div', {}, h('dt', {}, t('checkout.amount')), h('dd', { id: 'checkout-amount', class: 'amount' }, money(r.amount))),
      h('div', {}, h('dt', {}, t('checkout.balance')), balanceEl)),
    shortEl,
    charge.el,
    h('p', { class: 'hint hold-note' }, t('checkout.holdNote')),
    h('div', { class: 'actions' }, payBtn, cancelBtn));
  container.append(panel);

  function showMessage(kind, text, ...actions) {
    replace(messages, notice(kind, text, ...actions));
    const first = messages.firstElementChild;
    first.setAttribute('tabindex', '-1');
    first.focus();
  }

  function drawBalance() {
    setText(balanceEl, balance == null ? '–' : money(balance));
    const short = balance == null ? 0 : r.amount - balance;
    if (short > 0) {
      setText(shortEl, t('checkout.short', { amount: money(short) }));
      shortEl.className = 'short is-short';
      charge.setSuggestion(short);
    } else {
      setText(shortEl, balance == null ? '' : t('checkout.enough'));
      shortEl.className = 'short';
    }
  }

  async function loadBalance() {
    try {
      const w = await api.wallet();
      if (destroyed) return;
      balance = w.data.balance;
      drawBalance();
    } catch (e) {
      if (!destroyed && !ctx.authError(e)) setText(balanceEl, '–');
    }
  }

  function chooseAgainButton() {
    return h('button', { type: 'button', class: 'btn btn-primary', id: 'choose-again', onclick: () => ctx.chooseAgain() },
      t('checkout.chooseAgain'));
  }

  function holdEnded(text) {
    expired = true;
    panel.classList.add('is-over');
    payBtn.disabled = true;
    cancelBtn.disabled = true;
    setText(holdClock, clock(0));
    showMessage('warn', text, chooseAgainButton());
  }

  function tick() {
    if (expired) return;
    const left = msUntil(r.expires_at);
    setText(holdClock, clock(left));
    holdClock.classList.toggle('is-urgent', left < 60000);
    if (left <= 0 && !paying) holdEnded(t('checkout.expired'));
  }
  const ticker = setInterval(tick, 1000);

  async function pay() {
    if (paying || expired) return;
    paying = true;
    payBtn.disabled = true;
    payBtn.setAttribute('aria-busy', 'true');
    setText(payBtn, t('checkout.paying'));
    if (!keyFor()) setKey(newIdempotencyKey());
    try {
      const res = await api.pay(r.reservation_id, session.token, keyFor());
      setKey(null);
      if (destroyed) return;
      ctx.paid(res.data, r);
      return;
    } catch (e) {
      if (destroyed) return;
      if (!(e instanceof ApiError) || !e.retryable) setKey(null);
      if (ctx.authError(e)) return;
      if (e.code === 'INSUFFICIENT_BALANCE') {
        if (e.details && Number.isInteger(e.details.balance)) balance = e.details.balance;
        drawBalance();
        showMessage('error', errorText(e));
        charge.focus();
      } else if (e.code === 'HOLD_EXPIRED') {
        holdEnded(errorText(e));
      } else if (e.code === 'RESERVATION_NOT_HELD') {
        await settle(e);
      } else if (e.code === 'QUEUE_TOKEN_EXPIRED' || e.code === 'QUEUE_TOKEN_INVALID' || e.code === 'QUEUE_TOKEN_MISMATCH') {
        ctx.gateError(e);
      } else {
        showMessage('error', errorText(e),
          h('button', { type: 'button', class: 'btn btn-secondary', id: 'pay-retry', onclick: pay }, t('checkout.retry')));
      }
    } finally {
      if (!destroyed) {
        paying = false;
        payBtn.removeAttribute('aria-busy');
        setText(payBtn, t('checkout.pay', { amount: money(r.amount) }));
        payBtn.disabled = expired;
      }
    }
  }

  /** The reservation is not HELD any more: find out what it is now and say so. */
  async function settle(e) {
    try {
      const now = await api.reservation(r.reservation_id, session.token);
      if (destroyed) return;
      if (now.data.status === 'CONFIRMED') {
        ctx.paid({ reservation_id: r.reservation_id, amount: r.amount, balance, status: 'CONFIRMED' }, now.data);
        return;
      }
      holdEnded(now.data.status === 'EXPIRED' ? t('checkout.expired') : errorText(e));
    } catch (e2) {
      if (!ctx.gateError(e2)) holdEnded(errorText(e));
    }
  }

  async function cancel() {
    if (paying || expired) return;
    cancelBtn.disabled = true;
    try {
      await api.cancelReservation(r.reservation_id, session.token);
      if (!destroyed) ctx.chooseAgain(t('checkout.cancelled'));
    } catch (e) {
      if (destroyed || ctx.gateError(e)) return;
      if (e.code === 'RESERVATION_NOT_HELD') await settle(e);
      else {
        cancelBtn.disabled = false;
        showMessage('error', errorText(e));
      }
    }
  }

  tick();
  loadBalance();
  return {
    destroy() {
      destroyed = true;
      clearInterval(ticker);
    },
  };
}

/** Draw the confirmation for ctx.state.confirmation; returns {destroy}. */
export function mountDone(container, ctx) {
  const { payment, reservation, concert, token } = ctx.state.confirmation;
  let destroyed = false;
  const statusEl = h('dd', { id: 'done-status' }, t('status.CONFIRMED'));
  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('done.title'));
  const refund = refundPanel(ctx, {
    reservationId: reservation.reservation_id,
    onRefunded: () => setText(statusEl, t('status.REFUNDED')),
  });

  container.append(h('section', { class: 'panel done', 'aria-labelledby': 'view-title' },
    title,
    notice('ok', t('done.text')),
    h('dl', { class: 'facts', id: 'done-facts' },
      h('div', {}, h('dt', {}, t('checkout.concert')), h('dd', {}, concert.title)),
      h('div', {}, h('dt', {}, t('done.reservation')), h('dd', { id: 'done-reservation' }, String(reservation.reservation_id))),
      h('div', {}, h('dt', {}, t('checkout.date')), h('dd', {}, day(reservation.date))),
      h('div', {}, h('dt', {}, t('checkout.seats')), h('dd', { id: 'done-seats' },
        t('checkout.seatsValue', { seats: reservation.seat_nos.join(', ') }))),
      h('div', {}, h('dt', {}, t('done.paid')), h('dd', { id: 'done-amount' }, money(payment.amount))),
      payment.balance != null
        ? h('div', {}, h('dt', {}, t('done.balance')), h('dd', { id: 'done-balance' }, money(payment.balance))) : null,
      h('div', {}, h('dt', {}, t('done.status')), statusEl)),
    h('section', { class: 'refund-section', 'aria-labelledby': 'done-refund-title' },
      h('h2', { id: 'done-refund-title' }, t('refund.title')),
      refund.el),
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'done-wallet', onclick: () => ctx.go('wallet') },
        t('done.toWallet')),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'done-concerts', onclick: () => ctx.go('concerts') },
        t('done.toConcerts')))));

  // The booking as the server has it now (a paid booking stays readable with the key).
  api.reservation(reservation.reservation_id, token).then((res) => {
    if (!destroyed && res.data.status) setText(statusEl, t(`status.${res.data.status}`));
  }).catch(() => {});

  return {
    destroy() {
      destroyed = true;
      refund.destroy();
    },
  };
}
