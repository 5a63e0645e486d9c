// The wallet: balance, charging (with an Idempotency-Key per attempt), the history of
// charges, payments and refunds, and the bookings made in this browser (each refundable
// while its terms allow).

import { api, newIdempotencyKey } from './api.js';
import { t, money, stamp, errorText, day } from './i18n.js';
import { h, setText, replace, notice } from './dom.js';
import { refundPanel } from './refund.js';

export const MAX_CHARGE = 10_000_000;
const PAGE = 20;

/**
 * A charge form. options: id (prefix for element ids), suggest (won to prefill),
 * onCharged({balance, amount}). Returns {el, setSuggestion(won), focus()}.
 */
export function chargeForm(ctx, { id = 'charge', suggest = null, onCharged } = {}) {
  let pendingKey = null;    // reused while the same attempt is retried
  let pendingAmount = null;
  let busy = false;

  const input = h('input', {
    id: `${id}-amount`, name: 'amount', type: 'number', inputmode: 'numeric', min: '1', max: String(MAX_CHARGE),
    step: '1', required: true, autocomplete: 'off', 'aria-describedby': `${id}-help`,
    value: suggest ? String(suggest) : null,
  });
  const button = h('button', { type: 'submit', class: 'btn btn-secondary', id: `${id}-submit` }, t('wallet.charge'));
  const status = h('div', { class: 'form-status', id: `${id}-status` });
  const form = h('form', { class: 'charge-form', id: `${id}-form`, novalidate: true, onsubmit: submit },
    h('div', { class: 'field' },
      h('label', { for: `${id}-amount` }, t('wallet.chargeAmount')),
      h('div', { class: 'inline' }, input, button),
      h('p', { class: 'help', id: `${id}-help` }, t('wallet.chargeHelp'))),
    status);

  async function submit(event) {
    event.preventDefault();
    if (busy) return;
    const amount = Number(input.value);
    if (!Number.isInteger(amount) || amount < 1 || amount > MAX_CHARGE) {
      input.setAttribute('aria-invalid', 'true');
      replace(status, notice('error', t('error.INVALID_AMOUNT')));
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    // A new amount is a new attempt; the same amount after a failure is the same attempt.
    if (pendingKey == null || pendingAmount !== amount) {
      pendingKey = newIdempotencyKey();
      pendingAmount = amount;
    }
    busy = true;
    button.disabled = true;
    setText(button, t('wallet.charging'));
    status.replaceChildren();
    try {
      const r = await api.charge(amount, pendingKey);
      pendingKey = null;
      input.value = '';
      replace(status, notice('ok', t('wallet.charged', { amount: money(amount), balance: money(r.data.balance) })));
      if (onCharged) onCharged({ balance: r.data.balance, amount });
    } catch (e) {
      if (ctx.authError(e)) return;
      if (!e.retryable) pendingKey = null;
      replace(status, notice('error', errorText(e)));
      input.focus();
    } finally {
      busy = false;
      button.disabled = false;
      setText(button, t('wallet.charge'));
    }
  }

  return {
    el: form,
    setSuggestion(won) {
      if (won && !input.value) input.value = String(Math.min(MAX_CHARGE, won));
    },
    focus() {
      input.focus();
      input.select();
    },
  };
}

/** Draw the wallet view; returns {destroy}. */
export function mountWallet(container, ctx) {
  let destroyed = false;
  let oldest = null;

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('wallet.title'));
  const balance = h('p', { class: 'balance-value', id: 'wallet-balance' }, '–');
  const rows = h('tbody', { id: 'tx-rows' });
  const table = h('table', { class: 'tx-table', id: 'tx-table' },
    h('caption', { class: 'visually-hidden' }, t('wallet.history')),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('wallet.col.when')),
      h('th', { scope: 'col' }, t('wallet.col.type')),
      h('th', { scope: 'col', class: 'num' }, t('wallet.col.amount')),
      h('th', { scope: 'col', class: 'num' }, t('wallet.col.balance')),
      h('th', { scope: 'col' }, t('wallet.col.reservation')))),
    rows);
  const empty = h('p', { class: 'muted', id: 'tx-empty', hidden: true }, t('wallet.empty'));
  const more = h('button', { type: 'button', class: 'btn btn-secondary', id: 'tx-more', hidden: true, onclick: () => loadTx(true) },
    t('wallet.more'));
  const txStatus = h('div', { class: 'form-status' });
  const charge = chargeForm(ctx, { id: 'wallet-charge', onCharged: ({ balance: b }) => { setText(balance, money(b)); loadTx(false); } });

  const bookings = (ctx.bookings() || []).slice().reverse();
  const refunds = bookings.map((b) => refundPanel(ctx, {
    reservationId: b.reservation_id,
    describedBy: `booking-${b.reservation_id}-title booking-${b.reservation_id}-details`,
    onRefunded: () => { loadBalance(); loadTx(false); },
  }));
  const bookingList = bookings.length
    ? h('ul', { class: 'booking-list', id: 'booking-list' }, bookings.map((b, i) =>
      h('li', { class: 'booking-item', id: `booking-${b.reservation_id}` },
        h('p', { class: 'booking-title', id: `booking-${b.reservation_id}-title` }, b.title),
        h('p', { class: 'muted', id: `booking-${b.reservation_id}-details` },
          `${t('done.reservation')} ${b.reservation_id} · ${day(b.date)} · ${t('checkout.seats')} ${b.seat_nos.join(', ')} · ${money(b.amount)}`),
        refunds[i].el)))
    : h('p', { class: 'muted' }, t('wallet.noBookings'));

  container.append(
    h('section', { class: 'panel wallet', 'aria-labelledby': 'view-title' },
      title,
      h('div', { class: 'balance' }, h('p', { class: 'stat-label' }, t('wallet.balance')), balance),
      h('h2', {}, t('wallet.chargeTitle')),
      charge.el),
    h('section', { class: 'panel', 'aria-labelledby': 'tx-title' },
      h('h2', { id: 'tx-title' }, t('wallet.history')),
      txStatus, table, empty, h('div', { class: 'actions' }, more)),
    h('section', { class: 'panel', 'aria-labelledby': 'bookings-title' },
      h('h2', { id: 'bookings-title' }, t('wallet.bookings')),
      bookingList));

  async function loadBalance() {
    try {
      const r = await api.wallet();
      if (!destroyed) setText(balance, money(r.data.balance));
    } catch (e) {
      if (!destroyed && !ctx.authError(e)) replace(txStatus, notice('error', errorText(e)));
    }
  }

  function txRow(tx) {
    const sign = tx.type === 'PAYMENT' ? '−' : '+';   // CHARGE and REFUND come in
    return h('tr', { class: `tx tx-${tx.type.toLowerCase()}`, dataset: { type: tx.type } },
      h('td', { 'data-label': t('wallet.col.when') }, stamp(tx.created_at)),
      h('td', { 'data-label': t('wallet.col.type') }, t(`tx.${tx.type}`)),
      h('td', { class: 'num', 'data-label': t('wallet.col.amount') }, `${sign}${money(tx.amount)}`),
      h('td', { class: 'num', 'data-label': t('wallet.col.balance') }, money(tx.balance_after)),
      h('td', { 'data-label': t('wallet.col.reservation') }, tx.reservation_id != null ? String(tx.reservation_id) : '–'));
  }

  async function loadTx(append) {
    try {
      const r = await api.transactions(PAGE, append ? oldest : null);
      if (destroyed) return;
      const list = r.data.transactions || [];
      if (!append) rows.replaceChildren();
      for (const tx of list) rows.append(txRow(tx));
      if (list.length) oldest = list[list.length - 1].id;
      const none = !rows.children.length;
      empty.hidden = !none;
      table.hidden = none;
      more.hidden = list.length < PAGE;
      txStatus.replaceChildren();
    } catch (e) {
      if (!destroyed && !ctx.authError(e)) replace(txStatus, notice('error', errorText(e)));
    }
  }

  loadBalance();
  loadTx(false);
  return {
    destroy() {
      destroyed = true;
      for (const r of refunds) r.destroy();
    },
  };
}
