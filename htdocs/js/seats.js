// The admitted user's booking view: time left in the turn, the dates, the seat map
// (refreshed while it is on screen), choosing up to max_seats_per_user and holding them.

import { api, ApiError, msUntil } from './api.js';
import { t, money, moneySpoken, clock, dateTime, stamp, errorText } from './i18n.js';
import { h, setText, notice, replace, whenSeen } from './dom.js';

const REFRESH_MS = 5000;     // seat map refresh while looking
const COLUMNS = 10;          // seats per row on the map

/** What the booking view remembers across redraws (language switch, back from checkout). */
export function newBooking() {
  return { dates: null, date: '', seats: null, asOf: null, selected: [], message: null };
}

/**
 * Draw the booking view into container; returns {destroy}.
 * ctx.state: session (ACTIVE QueueSession), booking (newBooking()), reservation.
 * ctx: gateError(e) -> true when it dealt with a queue/auth refusal, held(reservation), leave().
 */
export function mountBooking(container, ctx) {
  const { session } = ctx.state;
  const booking = ctx.state.booking;
  const concert = session.concert;
  const max = concert.max_seats_per_user || 1;
  let destroyed = false;
  let refreshTimer = null;
  let cancelSeen = () => {};  // the wait of a hidden tab to be seen (whenSeen)
  let loadSeq = 0;
  let holding = false;

  // ---- skeleton
  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('booking.title'));
  const turnClock = h('span', { class: 'timer-value', id: 'turn-left', role: 'timer' }, '–');
  const dateSelect = h('select', { id: 'date-select', name: 'date', onchange: () => chooseDate(dateSelect.value) });
  const dateBox = h('div', { class: 'field' },
    h('label', { for: 'date-select' }, t('booking.date')), dateSelect);
  const messages = h('div', { class: 'messages', id: 'booking-messages' });
  const mapArea = h('div', { class: 'map-area', id: 'map-area' });
  const summary = h('p', { class: 'summary', id: 'selection-summary', 'aria-live': 'polite' });
  const holdBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'hold-button', onclick: hold },
    t('booking.hold'));
  const asOf = h('p', { class: 'muted small', id: 'map-as-of' });

  container.append(h('section', { class: 'panel booking', 'aria-labelledby': 'view-title' },
    h('div', { class: 'panel-head' },
      h('div', {}, title, h('p', { class: 'lead' }, concert.title, concert.venue ? ` · ${concert.venue}` : '')),
      h('p', { class: 'timer' }, h('span', { class: 'timer-label' }, t('booking.turnLeft')), ' ', turnClock)),
    messages,
    dateBox,
    mapArea,
    h('div', { class: 'selection-bar' }, summary, h('div', { class: 'actions' }, holdBtn)),
    asOf,
    h('div', { class: 'actions actions-end' },
      h('button', { type: 'button', class: 'btn btn-quiet', id: 'give-up', onclick: () => ctx.leave() },
        t('booking.giveUp')))));

  // ---- messages
  function showMessage(kind, text, ...actions) {
    booking.message = { kind, text };
    replace(messages, notice(kind, text, ...actions));
  }
  // The hold button is disabled once nothing is chosen: keyboard focus moves to the message.
  function focusMessage() {
    const first = messages.firstElementChild;
    if (!first) return;
    first.setAttribute('tabindex', '-1');
    first.focus();
  }
  function clearMessage() {
    booking.message = null;
    messages.replaceChildren();
  }
  if (booking.message) replace(messages, notice(booking.message.kind, booking.message.text));

  // ---- turn timer
  function tickTurn() {
    if (!session.expiresAt) return;
    const left = msUntil(session.expiresAt);
    setText(turnClock, clock(left));
    turnClock.classList.toggle('is-urgent', left < 60000);
  }
  const turnTicker = setInterval(tickTurn, 1000);
  tickTurn();

  // ---- dates
  function drawDates() {
    const options = [h('option', { value: '' }, t('booking.chooseDate'))];
    for (const d of booking.dates || []) {
      const later = d.booking_opens_at && msUntil(d.booking_opens_at) > 0
        ? ` · ${t('booking.opensAt', { when: dateTime(d.booking_opens_at) })}` : '';
      options.push(h('option', { value: d.date },
        t('booking.dateOption', { when: dateTime(d.starts_at), n: d.available_seats }) + later));
    }
    // A chosen date that sold out meanwhile stays choosable so its map stays readable.
    if (booking.date && !(booking.dates || []).some((d) => d.date === booking.date)) {
      options.push(h('option', { value: booking.date }, booking.date));
    }
    dateSelect.replaceChildren(...options);
    dateSelect.value = booking.date || '';
  }

  async function loadDates() {
    try {
      const r = await api.dates(concert.id, session.token);
      if (destroyed) return;
      booking.dates = r.data.dates || [];
      drawDates();
      if (!booking.dates.length && !booking.date) showMessage('info', t('booking.noDates'));
    } catch (e) {
      if (destroyed || ctx.gateError(e)) return;
      showMessage('error', errorText(e),
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => { clearMessage(); loadDates(); } },
          t('checkout.retry')));
    }
  }

  function chooseDate(date) {
    if (date === booking.date) return;
    booking.date = date;
    booking.seats = null;
    booking.selected = [];
    clearMessage();
    drawMap();
    drawSummary();
    if (date) loadSeats();
  }

  // ---- seat map
  let seatButtons = new Map();   // seat_no -> button
  let mapDate = null;

  function tiers() {
    const prices = [...new Set((booking.seats || []).map((s) => s.price))].sort((a, b) => b - a);
    return new Map(prices.map((p, i) => [p, i + 1]));
  }

  function seatLabel(seat, selected) {
    const status = selected ? t('seat.SELECTED') : t(`seat.${seat.status}`);
    return t('seat.label', { n: seat.seat_no, price: moneySpoken(seat.price), status });
  }

  function drawMap() {
    seatButtons = new Map();
    mapDate = booking.date;
    if (!booking.date) {
      replace(mapArea, h('p', { class: 'muted' }, t('booking.pickDate')));
      setText(asOf, '');
      return;
    }
    if (!booking.seats) {
      replace(mapArea, h('p', { class: 'loading', role: 'status' }, t('app.loading')));
      return;
    }
    const tierOf = tiers();
    const grid = h('div', { class: 'seat-grid', id: 'seat-map', role: 'group', 'aria-label': t('booking.mapLabel'),
      style: `--columns: ${COLUMNS}`, onkeydown: arrowKeys });
    for (const seat of booking.seats) {
      const btn = h('button', {
        type: 'button', class: `seat tier-${Math.min(tierOf.get(seat.price) || 1, 4)}`,
        id: `seat-${seat.seat_no}`, dataset: { seat: String(seat.seat_no) },
        onclick: () => toggle(seat.seat_no),
      }, String(seat.seat_no));
      seatButtons.set(seat.seat_no, btn);
      grid.append(btn);
    }
    const legendTiers = [...tierOf.entries()].map(([price, tier]) =>
      h('li', {}, h('span', { class: `swatch tier-${Math.min(tier, 4)}`, 'aria-hidden': 'true' }), money(price)));
    const legendStates = ['AVAILABLE', 'SELECTED', 'HELD', 'SOLD'].map((s) =>
      h('li', {}, h('span', { class: `swatch state-${s.toLowerCase()}`, 'aria-hidden': 'true' }), t(`legend.${s}`)));
    replace(mapArea,
      h('p', { class: 'hint' }, t('booking.hint', { max })),
      h('div', { class: 'stage', 'aria-hidden': 'true' }, t('booking.stage')),
      grid,
      h('div', { class: 'legend' },
        h('h2', { class: 'visually-hidden' }, t('booking.legend')),
        h('ul', { class: 'legend-list' }, legendTiers),
        h('ul', { class: 'legend-list' }, legendStates)));
    updateSeats();
  }

  /** Bring every seat button up to date with booking.seats and the selection. */
  function updateSeats() {
    for (const seat of booking.seats || []) {
      const btn = seatButtons.get(seat.seat_no);
      if (!btn) continue;
      const selected = booking.selected.includes(seat.seat_no);
      const free = seat.status === 'AVAILABLE';
      btn.classList.toggle('state-available', free && !selected);
      btn.classList.toggle('state-selected', selected);
      btn.classList.toggle('state-held', seat.status === 'HELD');
      btn.classList.toggle('state-sold', seat.status === 'SOLD');
      btn.setAttribute('aria-pressed', String(selected));
      if (free) btn.removeAttribute('aria-disabled');
      else btn.setAttribute('aria-disabled', 'true');
      btn.dataset.status = seat.status;
      btn.setAttribute('aria-label', seatLabel(seat, selected));
    }
    setText(asOf, booking.asOf ? t('booking.asOf', { time: stamp(booking.asOf, false) }) : '');
  }

  function drawSummary() {
    const chosen = booking.selected.slice().sort((a, b) => a - b);
    if (!chosen.length) {
      setText(summary, t('booking.none'));
    } else {
      const total = chosen.reduce((sum, n) => sum + (booking.seats.find((s) => s.seat_no === n)?.price || 0), 0);
      setText(summary, t('booking.selection', { seats: chosen.join(', '), total: money(total) }));
    }
    holdBtn.disabled = !chosen.length || holding;
  }

  function toggle(seatNo) {
    const seat = (booking.seats || []).find((s) => s.seat_no === seatNo);
    if (!seat) return;
    const i = booking.selected.indexOf(seatNo);
    if (i >= 0) {
      booking.selected.splice(i, 1);
    } else {
      if (seat.status !== 'AVAILABLE') return;
      if (max === 1) booking.selected = [seatNo];
      else if (booking.selected.length >= max) {
        showMessage('warn', t('booking.limit', { max }));
        return;
      } else booking.selected.push(seatNo);
    }
    if (booking.message && booking.message.kind === 'warn') clearMessage();
    updateSeats();
    drawSummary();
  }

  function arrowKeys(event) {
    const btn = event.target.closest('.seat');
    if (!btn) return;
    const n = Number(btn.dataset.seat);
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -COLUMNS, ArrowDown: COLUMNS }[event.key];
    let target = null;
    if (step) target = seatButtons.get(n + step);
    else if (event.key === 'Home') target = seatButtons.get(Math.min(...seatButtons.keys()));
    else if (event.key === 'End') target = seatButtons.get(Math.max(...seatButtons.keys()));
    if (target) {
      event.preventDefault();
      target.focus();
    }
  }

  async function loadSeats() {
    clearTimeout(refreshTimer);
    cancelSeen();
    const date = booking.date;
    const seq = ++loadSeq;
    try {
      const r = await api.seats(concert.id, date, session.token);
      if (destroyed || seq !== loadSeq || date !== booking.date) return;
      booking.seats = r.data.seats || [];
      booking.asOf = new Date();
      // A chosen seat that someone else took meanwhile is unchosen, and said so.
      const lost = booking.selected.filter((n) => booking.seats.find((s) => s.seat_no === n)?.status !== 'AVAILABLE');
      if (lost.length) {
        booking.selected = booking.selected.filter((n) => !lost.includes(n));
        showMessage('warn', t('booking.taken', { seats: lost.join(', ') }));
      }
      if (mapDate !== date || !seatButtons.size) drawMap();
      else updateSeats();
      drawSummary();
    } catch (e) {
      if (destroyed || seq !== loadSeq) return;
      if (ctx.gateError(e)) return;
      if (!booking.seats) {
        replace(mapArea, notice('error', errorText(e),
          h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => loadSeats() }, t('checkout.retry'))));
        return;
      }
    }
    if (!destroyed && seq === loadSeq && date === booking.date) {
      // Nobody looking (a hidden tab): check again when someone is.
      refreshTimer = setTimeout(() => { cancelSeen = whenSeen(loadSeats); }, REFRESH_MS);
    }
  }

  // ---- holding
  async function hold() {
    const seatNos = booking.selected.slice().sort((a, b) => a - b);
    if (!seatNos.length || holding) return;
    holding = true;
    holdBtn.disabled = true;
    setText(holdBtn, t('booking.holding'));
    holdBtn.setAttribute('aria-busy', 'true');
    try {
      const r = await api.hold(concert.id, booking.date, seatNos, session.token);
      if (destroyed) return;
      booking.selected = [];
      booking.message = null;
      ctx.held(r.data);
      return;
    } catch (e) {
      if (destroyed) return;
      if (ctx.gateError(e)) return;
      if (e instanceof ApiError && e.code === 'SEAT_UNAVAILABLE') {
        const taken = (e.details && Array.isArray(e.details.seat_nos) && e.details.seat_nos.length)
          ? e.details.seat_nos : seatNos;
        booking.selected = booking.selected.filter((n) => !taken.includes(n));
        for (const s of booking.seats || []) if (taken.includes(s.seat_no) && s.status === 'AVAILABLE') s.status = 'HELD';
        updateSeats();
        showMessage('error', t('booking.taken', { seats: taken.join(', ') }));
        focusMessage();
        loadSeats();
      } else if (e instanceof ApiError && e.code === 'NOT_FOUND') {
        showMessage('error', errorText(e));
        booking.date = '';
        booking.seats = null;
        booking.selected = [];
        drawMap();
        loadDates();
      } else {
        showMessage('error', errorText(e));
      }
    } finally {
      if (!destroyed) {
        holding = false;
        holdBtn.removeAttribute('aria-busy');
        setText(holdBtn, t('booking.hold'));
        drawSummary();
      }
    }
  }

  // ---- start
  drawDates();
  drawMap();
  drawSummary();
  loadDates();
  if (booking.date) loadSeats();

  return {
    destroy() {
      destroyed = true;
      clearInterval(turnTicker);
      clearTimeout(refreshTimer);
      cancelSeen();
    },
  };
}
