// The waiting room: one queue token per concert, polled no faster than the server's
// Retry-After asks, left on "leave queue" and when the page goes away. Before a sale
// opens the token waits in the pre-queue (PRE_QUEUE, no position) with a countdown to
// the draw; the server's Retry-After brings the page back just after it. After the
// sell-out the same token is a place on the waiting list (SOLD_OUT with a position),
// polled the same way until a seat comes back and the turn begins (ACTIVE).

import { api, ApiError, msUntil } from './api.js';
import { t, duration, clock, timeOfDay, errorText } from './i18n.js';
import { h, setText, notice, focusedId, refocus } from './dom.js';

const LIVE = new Set(['JOINING', 'PRE_QUEUE', 'WAITING', 'ACTIVE']);
const DEFAULT_RETRY = 5;   // seconds, when the server sent no Retry-After
const MAX_BACKOFF = 60;    // seconds between polls after repeated network trouble

/**
 * One visit to one concert's queue. status: JOINING, PRE_QUEUE, WAITING, ACTIVE, SOLD_OUT (on the
 * waiting list while it has a token and a position), or the end states EXPIRED, LEFT,
 * DONE, SOLD_OUT (without a place), INVALID (token refused), FAILED (could not join).
 */
export class QueueSession {
  constructor(concert) {
    this.concert = concert;
    this.concertId = concert.id;
    this.token = null;
    this.entryId = null;       // the token's public name, shown in the published order
    this.opensAt = null;       // when the sale opens (RFC 3339), while there is a pre-queue
    this.status = 'JOINING';
    this.position = null;
    this.firstPosition = null;
    this.eta = null;           // seconds, as of etaAt
    this.etaAt = 0;
    this.expiresAt = null;     // end of an ACTIVE turn (server time, RFC 3339)
    this.retryAfter = null;    // seconds the server asked us to wait before the next poll
    this.nextPollAt = null;    // Date.now() of the next poll, while one is scheduled
    this.polling = false;
    this.error = null;         // ApiError of the last failed call
    this.failures = 0;
    this.joinedAt = Date.now();
    this.progress = 0;         // 0..1, never goes back
    this.timer = null;
    this.listeners = new Set();
  }

  get live() {
    return LIVE.has(this.status) || this.waitlisted;
  }

  /** Sold out, but with a place on the waiting list that a returned seat may reach. */
  get waitlisted() {
    return this.status === 'SOLD_OUT' && Boolean(this.token) && this.position != null;
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of [...this.listeners]) fn(this);
  }

  async join() {
    this.status = 'JOINING';
    this.emit();
    try {
      const r = await api.joinQueue(this.concertId);
      this.apply(r.data, r.retryAfter);
    } catch (e) {
      this.error = e;
      this.status = 'FAILED';
      this.emit();
      throw e;
    }
  }

  /** Take in a token answer (POST /concerts/{id}/queue or GET /queue). */
  apply(data, retryAfter) {
    this.error = null;
    this.failures = 0;
    if (data.token) this.token = data.token;
    if (data.entry_id) this.entryId = data.entry_id;
    this.opensAt = data.opens_at ?? null;
    // The wait in line (and its progress) starts at the opening, not at the pre-queue join.
    if (this.status === 'PRE_QUEUE' && data.status !== 'PRE_QUEUE') this.joinedAt = Date.now();
    this.status = data.status;
    this.position = data.position ?? null;
    this.eta = data.eta_seconds ?? null;
    this.etaAt = Date.now();
    this.expiresAt = data.expires_at ?? null;
    this.clearTimer();
    if (this.status === 'PRE_QUEUE') {
      this.retryAfter = retryAfter ?? DEFAULT_RETRY;
      this.schedule(this.retryAfter);
    } else if (this.status === 'WAITING') {
      if (this.position != null && (this.firstPosition == null || this.position > this.firstPosition)) {
        this.firstPosition = this.position;
      }
      this.retryAfter = retryAfter ?? DEFAULT_RETRY;
      this.schedule(this.retryAfter);
    } else if (this.waitlisted) {
      this.retryAfter = retryAfter ?? DEFAULT_RETRY;
      this.schedule(this.retryAfter);
    } else if (this.status === 'ACTIVE') {
      this.progress = 1;
      // Ask again just after the turn should end, to learn that it did.
      if (this.expiresAt) this.schedule(Math.max(1, msUntil(this.expiresAt) / 1000 + 1));
    }
    this.emit();
  }

  schedule(seconds) {
    this.clearTimer();
    this.nextPollAt = Date.now() + seconds * 1000;
    this.timer = setTimeout(() => this.poll(), seconds * 1000);
  }

  clearTimer() {
    clearTimeout(this.timer);
    this.timer = null;
    this.nextPollAt = null;
  }

  /** GET /api/queue once (scheduled by the answers; also called when a gated call is refused). */
  async poll() {
    if (!this.token || !this.live || this.polling) return;
    this.clearTimer();
    this.polling = true;
    this.emit();
    try {
      const r = await api.queueStatus(this.token);
      this.polling = false;
      this.apply(r.data, r.retryAfter);
    } catch (e) {
      this.polling = false;
      this.error = e;
      if (e instanceof ApiError && (e.code === 'QUEUE_TOKEN_INVALID' || e.code === 'QUEUE_TOKEN_MISMATCH')) {
        this.status = 'INVALID';
      } else if (e instanceof ApiError && e.code === 'QUEUE_TOKEN_EXPIRED') {
        this.status = 'EXPIRED';
      } else {
        // Network or server trouble: try again, backing off, never sooner than asked.
        this.failures += 1;
        const base = Math.max(this.retryAfter ?? DEFAULT_RETRY, e.retryAfter ?? 0, DEFAULT_RETRY);
        this.schedule(Math.min(MAX_BACKOFF, base * 2 ** (this.failures - 1)));
      }
      this.emit();
    }
  }

  /** The turn or place ended here (payment done, or a gated call said it expired). */
  end(status) {
    this.clearTimer();
    this.status = status;
    this.emit();
  }

  /** "Leave the queue": DELETE /api/queue, then forget the token. */
  async leave() {
    const wasLive = this.live;
    this.clearTimer();
    this.status = 'LEFT';
    this.emit();
    if (wasLive && this.token) {
      try { await api.leaveQueue(this.token); } catch { /* the place runs out by itself */ }
    }
  }

  /** pagehide: free the place with a request that outlives the page. */
  leaveOnUnload() {
    if (!this.live || !this.token) return;
    this.clearTimer();
    api.leaveQueue(this.token, true).catch(() => {});
    this.status = 'LEFT';
  }

  destroy() {
    this.clearTimer();
    this.listeners.clear();
  }

  /** Estimated seconds left, counting down between polls. */
  etaLeft() {
    if (this.eta == null) return null;
    return Math.max(0, this.eta - (Date.now() - this.etaAt) / 1000);
  }

  /** Progress 0..1: how far the position moved, or how much of the wait has passed. */
  updateProgress() {
    if (this.status === 'ACTIVE' || this.status === 'DONE') {
      this.progress = 1;
      return 1;
    }
    if (this.status !== 'WAITING') return this.progress;
    const p0 = this.firstPosition || 1;
    const byPosition = (p0 - (this.position ?? p0)) / p0;
    const left = this.etaLeft();
    const waited = (Date.now() - this.joinedAt) / 1000;
    const byTime = left == null ? 0 : waited / (waited + left + 1);
    this.progress = Math.min(0.97, Math.max(this.progress, byPosition, byTime));
    return this.progress;
  }
}

// ---- the waiting room view --------------------------------------------------------

/** "Sold out; you are number n on the waiting list." */
export function waitlistText(n) {
  return t('queue.waitlist', { n });
}

/** Text for an ended session (or a place on the waiting list), or null while it is live. */
export function endText(session) {
  switch (session.status) {
    case 'EXPIRED': return session.expiresAt ? t('queue.turnExpired') : t('queue.expired');
    case 'SOLD_OUT': return session.waitlisted ? waitlistText(session.position) : t('queue.soldOut');
    case 'LEFT': return t('queue.left');
    case 'DONE': return t('queue.done');
    case 'INVALID': return t('queue.invalid');
    case 'FAILED': return session.error ? errorText(session.error) : t('error.UNKNOWN', { code: '?' });
    default: return null;
  }
}

/**
 * Draw the waiting room for ctx.state.session into container; returns {destroy}.
 * ctx: rejoin(concert), leave(), go(view).
 */
export function mountWaitingRoom(container, ctx) {
  const session = ctx.state.session;
  let destroyed = false;
  let phase = null;
  let refs = {};

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('queue.title'));
  const subtitle = h('p', { class: 'lead', id: 'queue-concert' }, session ? session.concert.title : '');
  const body = h('div', { class: 'queue-body' });
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', id: 'queue-live' });
  container.append(h('section', { class: 'panel queue', 'aria-labelledby': 'view-title' }, title, subtitle, body, live));

  function drawWaiting() {
    const position = h('p', { class: 'stat-value', id: 'queue-position' });
    const ahead = h('p', { class: 'stat-value', id: 'queue-ahead' });
    const eta = h('p', { class: 'stat-value', id: 'queue-eta' });
    const bar = h('div', { class: 'progress-bar' });
    const progress = h('div', {
      class: 'progress', id: 'queue-progress', role: 'progressbar',
      'aria-label': t('queue.progress'), 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': '0',
    }, bar);
    const next = h('p', { class: 'muted', id: 'queue-next' });
    refs = { position, ahead, eta, bar, progress, next };
    body.replaceChildren(
      h('div', { class: 'stats' },
        h('div', { class: 'stat stat-main' }, h('p', { class: 'stat-label' }, t('queue.position')), position),
        h('div', { class: 'stat' }, h('p', { class: 'stat-label' }, t('queue.ahead')), ahead),
        h('div', { class: 'stat' }, h('p', { class: 'stat-label' }, t('queue.eta')), eta)),
      progress,
      next,
      h('p', { class: 'hint' }, t('queue.keepOpen')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'queue-leave', onclick: () => ctx.leave() },
          t('queue.leave'))));
  }

  function drawWaitlist() {
    const text = h('p', { class: 'notice-text', id: 'waitlist-text' });
    const position = h('p', { class: 'stat-value', id: 'waitlist-position' });
    const next = h('p', { class: 'muted', id: 'queue-next' });
    refs = { text, position, next };
    body.replaceChildren(
      h('div', { class: 'notice notice-warn', id: 'waitlist' }, text),
      h('div', { class: 'stats stats-one' },
        h('div', { class: 'stat stat-main' }, h('p', { class: 'stat-label' }, t('queue.waitlistPosition')), position)),
      h('p', { class: 'hint' }, t('queue.waitlistHint')),
      next,
      h('p', { class: 'hint' }, t('queue.keepOpen')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'queue-leave', onclick: () => ctx.leave() },
          t('queue.leaveWaitlist'))));
  }

  function drawPreQueue() {
    const text = h('p', { class: 'notice-text', id: 'prequeue-text' });
    const countdown = h('p', { class: 'stat-value', id: 'prequeue-countdown' });
    const next = h('p', { class: 'muted', id: 'queue-next' });
    refs = { text, countdown, next };
    body.replaceChildren(
      h('div', { class: 'notice notice-info', id: 'prequeue' }, text),
      h('div', { class: 'stats stats-two' },
        h('div', { class: 'stat stat-main' }, h('p', { class: 'stat-label' }, t('queue.drawIn')), countdown),
        h('div', { class: 'stat' }, h('p', { class: 'stat-label' }, t('queue.entryId')),
          h('p', { class: 'stat-value hex', id: 'prequeue-entry' },
            session.entryId || '–'))),
      h('p', { class: 'hint' }, t('queue.entryHint'), ' ',
        h('button', { type: 'button', class: 'btn btn-small btn-secondary', id: 'prequeue-proof', onclick: () => ctx.proof(session.concert) },
          t('queue.proof'))),
      next,
      h('p', { class: 'hint' }, t('queue.keepOpen')),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'queue-leave', onclick: () => ctx.leave() },
          t('queue.leavePre'))));
  }

  function drawJoining() {
    refs = {};
    body.replaceChildren(h('p', { class: 'loading', role: 'status' }, t('queue.joining')));
  }

  function drawActive() {
    refs = {};
    body.replaceChildren(notice('ok', t('queue.admitted'),
      h('button', { type: 'button', class: 'btn btn-primary', id: 'queue-continue', onclick: () => ctx.go('booking') },
        t('booking.title'))));
  }

  function drawEnded() {
    refs = {};
    const kind = session.status === 'LEFT' || session.status === 'DONE' ? 'info' : 'warn';
    const actions = [];
    if (session.status !== 'DONE') {
      actions.push(h('button', {
        type: 'button', class: 'btn btn-primary', id: 'queue-rejoin', onclick: () => ctx.rejoin(session.concert),
      }, t('queue.joinAgain')));
    }
    actions.push(h('button', { type: 'button', class: 'btn btn-secondary', id: 'queue-back', onclick: () => ctx.go('concerts') },
      t('queue.backToConcerts')));
    body.replaceChildren(notice(kind, endText(session), ...actions));
  }

  let lastAnnounced = null;

  function update() {
    if (!session || destroyed) return;
    const next = session.status === 'PRE_QUEUE' ? 'prequeue'
      : session.status === 'WAITING' ? 'waiting'
      : session.waitlisted ? 'waitlist'
        : session.status === 'JOINING' ? 'joining'
          : session.status === 'ACTIVE' ? 'active' : 'ended';
    if (next !== phase) {
      const hadFocus = container.contains(document.activeElement) && document.activeElement !== title;
      const keep = focusedId(container);
      phase = next;
      ({
        prequeue: drawPreQueue, waiting: drawWaiting, waitlist: drawWaitlist, joining: drawJoining, active: drawActive, ended: drawEnded,
      })[next]();
      // The same control when it is still there (leave), else the heading.
      if (hadFocus && !refocus(keep)) title.focus();
    }
    tick();
  }

  function nextCheckText() {
    if (session.polling) return t('queue.checking');
    if (!session.nextPollAt) return '';
    const s = Math.max(0, Math.ceil((session.nextPollAt - Date.now()) / 1000));
    return session.error ? t('queue.retrying', { s }) : t('queue.nextCheck', { s });
  }

  function announce(say) {
    if (say && say !== lastAnnounced) {
      lastAnnounced = say;
      setText(live, say);
    }
  }

  function tick() {
    if (phase === 'prequeue') {
      const text = session.opensAt ? t('queue.prequeue', { time: timeOfDay(session.opensAt) }) : t('queue.title');
      setText(refs.text, text);
      const left = session.opensAt ? msUntil(session.opensAt) : null;
      setText(refs.countdown, left == null ? '–' : left > 0 ? clock(left) : t('queue.drawing'));
      setText(refs.next, nextCheckText());
      announce(text);
      return;
    }
    if (phase === 'waitlist') {
      const text = waitlistText(session.position);
      setText(refs.text, text);
      setText(refs.position, t('queue.positionValue', { n: session.position }));
      setText(refs.next, nextCheckText());
      announce(text);
      return;
    }
    if (phase !== 'waiting') return;
    const pos = session.position;
    setText(refs.position, pos != null ? t('queue.positionValue', { n: pos }) : '–');
    setText(refs.ahead, pos != null ? t('queue.aheadValue', { n: Math.max(0, pos - 1) }) : '–');
    const left = session.etaLeft();
    setText(refs.eta, left == null ? t('queue.etaUnknown') : left < 1 ? t('queue.etaSoon') : duration(left));
    const pct = Math.round(session.updateProgress() * 100);
    refs.bar.style.width = `${pct}%`;
    refs.progress.setAttribute('aria-valuenow', String(pct));
    setText(refs.next, nextCheckText());
    announce(pos != null ? `${t('queue.position')}: ${t('queue.positionValue', { n: pos })}` : null);
  }

  const off = session ? session.on(update) : () => {};
  const ticker = setInterval(tick, 1000);
  update();

  return {
    destroy() {
      destroyed = true;
      off();
      clearInterval(ticker);
    },
  };
}
