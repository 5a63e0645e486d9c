// A paid booking's refund: its terms as the server states them (GET reservation's
// `refund`), a confirmation that shows the amount back and the fee before anything
// moves, the refund itself with one Idempotency-Key per attempt, and its result.

import { api, ApiError, msUntil, newIdempotencyKey } from './api.js';
import { t, money, dateTime, stamp, errorText } from './i18n.js';
import { h, replace, notice } from './dom.js';

// The answer of a refund made on this page, by reservation: a redraw (say, in the
// other language) still shows the balance it left.
const results = new Map();

/**
 * The refund part of one booking. options: reservationId, describedBy (id of the
 * booking's heading, which the refund button refers to), onRefunded(answer).
 * Returns {el, destroy}.
 */
export function refundPanel(ctx, { reservationId, describedBy = null, onRefunded = null }) {
  const id = `refund-${reservationId}`;
  const el = h('div', { class: 'refund', id, dataset: { reservation: String(reservationId) } });
  let destroyed = false;
  let reservation = null;
  let busy = false;
  let attemptKey = null;   // kept while the same attempt may be sent again

  function focusIn(node) {
    node.setAttribute('tabindex', '-1');
    node.focus();
  }

  function draw(message = null) {
    const terms = reservation && reservation.refund;
    const parts = [];
    if (message) {
      message.id = `${id}-message`;
      parts.push(message);
    }
    if (reservation.status === 'CONFIRMED' && terms) {
      if (msUntil(terms.refundable_until) > 0) {
        parts.push(h('p', { class: 'refund-terms', id: `${id}-terms` }, t('refund.until', { when: dateTime(terms.refundable_until) })));
        parts.push(h('button', {
          type: 'button', class: 'btn btn-secondary btn-small', id: `${id}-button`,
          'aria-describedby': describedBy, onclick: ask,
        }, t('refund.button')));
      } else if (!message) {   // a 409 just said so
        parts.push(h('p', { class: 'refund-closed', id: `${id}-closed` },
          t('refund.closed', { when: dateTime(terms.refundable_until) })));
      }
    } else if (reservation.status === 'REFUNDED' && terms) {
      // Made here: the result, with the balance it left; made before: a plain line.
      const done = results.get(reservationId);
      const result = done
        ? notice('ok', t('refund.done', { refund: money(done.refund), fee: money(done.fee), balance: money(done.balance) }))
        : h('p', { class: 'refund-done' },
          t('refund.refunded', { when: stamp(terms.refunded_at), refund: money(terms.refund), fee: money(terms.fee) }));
      result.id = `${id}-result`;
      parts.push(result);
    }
    replace(el, parts);
  }

  /** Show what comes back and what is kept, and ask before refunding. */
  function ask() {
    const terms = reservation.refund;
    const question = h('p', { class: 'refund-question', id: `${id}-question` }, t('refund.question'));
    const confirm = h('button', { type: 'button', class: 'btn btn-primary btn-small', id: `${id}-confirm`, onclick: refund },
      t('refund.confirm'));
    const box = h('div', { class: 'refund-confirm', id: `${id}-confirm-box`, role: 'group', 'aria-labelledby': `${id}-question` },
      question,
      h('dl', { class: 'facts refund-facts' },
        h('div', {}, h('dt', {}, t('refund.paid')), h('dd', { id: `${id}-paid` }, money(reservation.amount))),
        h('div', {}, h('dt', {}, t('refund.fee')), h('dd', { id: `${id}-fee` }, money(terms.fee))),
        h('div', {}, h('dt', {}, t('refund.back')), h('dd', { id: `${id}-amount`, class: 'amount' }, money(terms.refund)))),
      h('div', { class: 'actions' },
        confirm,
        h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: `${id}-keep`, onclick: keep }, t('refund.keep'))));
    replace(el, box);
    focusIn(box);
  }

  function keep() {
    attemptKey = null;
    draw();
    el.querySelector(`#${id}-button`)?.focus();
  }

  async function refund() {
    if (busy) return;
    busy = true;
    const confirm = el.querySelector(`#${id}-confirm`);
    confirm.disabled = true;
    confirm.setAttribute('aria-busy', 'true');
    confirm.textContent = t('refund.busy');
    if (!attemptKey) attemptKey = newIdempotencyKey();
    try {
      const r = await api.refund(reservationId, attemptKey);
      attemptKey = null;
      results.set(reservationId, r.data);
      if (destroyed) return;
      await load();
      if (destroyed) return;
      focusIn(el.querySelector(`#${id}-result`) || el);
      if (onRefunded) onRefunded(r.data);
    } catch (e) {
      if (destroyed || ctx.authError(e)) return;
      if (!(e instanceof ApiError) || !e.retryable) attemptKey = null;
      if (e.code === 'REFUND_NOT_ALLOWED') {
        // Past the deadline meanwhile, or no longer CONFIRMED: say why, then show the booking as it is now.
        const until = e.details && e.details.refundable_until;
        const why = until ? t('refund.closed', { when: dateTime(until) }) : errorText(e);
        await load(notice('warn', why));
      } else {
        draw(notice('error', errorText(e)));
      }
      const first = el.firstElementChild;
      if (first) focusIn(first);
    } finally {
      busy = false;
    }
  }

  /** The booking as the server has it now; message (a notice) is shown above it. */
  async function load(message = null) {
    try {
      const r = await api.reservation(reservationId);
      if (destroyed) return;
      reservation = r.data;
      draw(message);
    } catch (e) {
      if (destroyed || ctx.authError(e)) return;
      replace(el, message, notice('error', errorText(e)));
    }
  }

  load();
  return { el, reload: () => load(), destroy() { destroyed = true; } };
}
