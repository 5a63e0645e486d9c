// The list of concerts with their queue figures, and the way into each queue. A concert
// with a sale time shows where it stands (upcoming, pre-queue, on sale) with a countdown
// to its next step; when one runs out the list is read again, a few seconds apart per
// visitor so that everyone does not ask at once. A hidden tab reads it once it is seen.

import { api, msUntil } from './api.js';
import { t, stamp, clock, dateTime, errorText } from './i18n.js';
import { h, setText, replace, notice, whenSeen } from './dom.js';

const REFRESH_MS = 15000;
const SPREAD_MS = 3000;   // how far apart visitors read the list again after a countdown

/** The moment a concert's countdown runs to, or null: the pre-queue, then the draw. */
function nextStep(c) {
  if (c.status === 'UPCOMING') return c.pre_queue_opens_at;
  if (c.status === 'PRE_QUEUE') return c.sale_opens_at;
  return null;
}

function countdownText(c) {
  const left = msUntil(nextStep(c));
  if (c.status === 'PRE_QUEUE' && left <= 0) return t('concerts.drawing');
  return t(c.status === 'UPCOMING' ? 'concerts.preQueueIn' : 'concerts.drawIn', { in: clock(left) });
}

/**
 * Draw the concert list; returns {destroy}.
 * ctx.state: concerts, concertsAt, session. ctx: join(concert), resume().
 */
export function mountConcerts(container, ctx) {
  let destroyed = false;
  let timer = null;
  let cancelSeen = () => {};  // the wait of a hidden tab to be seen (whenSeen)

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('concerts.title'));
  const list = h('ul', { class: 'concert-list', id: 'concert-list' });
  const updated = h('p', { class: 'muted small', id: 'concerts-updated' });
  const status = h('div', { class: 'form-status', id: 'concerts-status' });
  // Says when a concert moves on (the pre-queue opens, the sale opens), not every second.
  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite', id: 'concerts-live' });
  let seen = new Map();      // concert id -> status at the last reading
  let reloadAt = null;       // the countdown end a reload is already planned for
  const refresh = h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: 'concerts-refresh', onclick: () => load() },
    t('concerts.refresh'));

  container.append(h('section', { class: 'panel concerts', 'aria-labelledby': 'view-title' },
    h('div', { class: 'panel-head' },
      h('div', {}, title, h('p', { class: 'lead' }, t('concerts.intro'))),
      h('div', { class: 'head-tools' }, updated, refresh)),
    status,
    list,
    live));

  function card(c) {
    const s = ctx.state.session;
    const mine = s && s.live && String(s.concertId) === String(c.id);
    const q = c.queue || {};
    const pre = c.status === 'PRE_QUEUE';
    const statusId = `concert-${c.id}-status`;
    const sale = c.status && c.status !== 'ON_SALE'
      ? h('p', { class: 'sale-status', id: statusId },
        h('span', { class: `badge badge-${c.status.toLowerCase()}` }, t(`concerts.state.${c.status}`)),
        nextStep(c) ? [' ', h('span', { class: 'countdown', id: `concert-${c.id}-countdown` }, countdownText(c))] : null)
      : null;
    let action = null;
    if (mine) {
      action = h('button', { type: 'button', class: 'btn btn-primary', id: `resume-${c.id}`, onclick: () => ctx.resume() },
        t('concerts.resume'));
    } else {
      // Before the pre-queue opens the button is there but cannot be used yet.
      action = h('button', {
        type: 'button', class: 'btn btn-primary', id: `join-${c.id}`, disabled: c.status === 'UPCOMING',
        'aria-label': t(pre ? 'concerts.joinPreLabel' : 'concerts.joinLabel', { title: c.title }),
        'aria-describedby': sale ? statusId : null, onclick: () => ctx.join(c),
      }, t(pre ? 'concerts.joinPre' : 'concerts.join'));
    }
    return h('li', { class: 'concert', id: `concert-${c.id}`, dataset: { concertId: String(c.id), status: c.status || '' } },
      h('div', { class: 'concert-main' },
        h('h2', { class: 'concert-title' }, c.title),
        h('p', { class: 'concert-venue' }, c.venue),
        h('p', { class: 'concert-rules muted' },
          t('concerts.rules', { min: c.hold_minutes, n: c.max_seats_per_user })),
        c.sale_opens_at ? h('p', { class: 'concert-rules muted', id: `concert-${c.id}-sale` },
          t('concerts.saleAt', { when: dateTime(c.sale_opens_at) })) : null),
      h('div', { class: 'concert-side' },
        sale,
        h('p', { class: 'queue-figures' },
          h('span', { class: 'badge badge-wait', id: `concert-${c.id}-waiting` }, t('concerts.waiting', { n: q.waiting ?? 0 })),
          ' ',
          h('span', { class: 'badge' }, t('concerts.active', { n: q.active ?? 0, max: q.max_active ?? '?' }))),
        action,
        c.shuffle ? h('button', {
          type: 'button', class: 'btn btn-quiet btn-small', id: `proof-${c.id}`,
          'aria-label': t('concerts.proofLabel', { title: c.title }), onclick: () => ctx.proof(c),
        }, t('concerts.proof')) : null));
  }

  /** Each second: the countdowns, and one reading of the list when one of them runs out. */
  function tick() {
    for (const c of ctx.state.concerts || []) {
      const at = nextStep(c);
      if (!at) continue;
      setText(document.getElementById(`concert-${c.id}-countdown`), countdownText(c));
      if (msUntil(at) <= 0 && reloadAt !== at) {
        reloadAt = at;
        clearTimeout(timer);
        timer = setTimeout(reload, Math.random() * SPREAD_MS);
      }
    }
  }

  /** Tell screen readers which concerts moved on since the last reading. */
  function announceChanges(concerts) {
    const said = [];
    for (const c of concerts) {
      const before = seen.get(String(c.id));
      if (before && c.status && before !== c.status) {
        said.push(t('concerts.changed', { title: c.title, state: t(`concerts.state.${c.status}`) }));
      }
    }
    seen = new Map(concerts.map((c) => [String(c.id), c.status]));
    if (said.length) setText(live, said.join(' '));
  }

  function draw() {
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.id : null;
    drawList();
    if (focused) document.getElementById(focused)?.focus();
  }

  function drawList() {
    const concerts = ctx.state.concerts;
    if (concerts == null) {
      replace(list, h('li', { class: 'loading' }, t('app.loading')));
      return;
    }
    if (!concerts.length) replace(list, h('li', { class: 'muted' }, t('concerts.empty')));
    else replace(list, concerts.map(card));
    setText(updated, ctx.state.concertsAt ? t('concerts.updated', { time: stamp(ctx.state.concertsAt, false) }) : '');
  }

  // Read the list again, in a hidden tab once it is seen: before a sale many wait with
  // the page in a background tab, and their readings would take the server from those
  // in line.
  function reload() {
    cancelSeen();
    cancelSeen = whenSeen(load);
  }

  async function load() {
    clearTimeout(timer);
    cancelSeen();
    try {
      const r = await api.concerts();
      if (destroyed) return;
      ctx.state.concerts = r.data.concerts || [];
      ctx.state.concertsAt = new Date();
      announceChanges(ctx.state.concerts);
      status.replaceChildren();
      draw();
    } catch (e) {
      if (destroyed) return;
      replace(status, notice('error', errorText(e)));
    }
    if (!destroyed) timer = setTimeout(reload, REFRESH_MS);
  }

  draw();
  load();
  const ticker = setInterval(tick, 1000);
  // Redraw when the user's own queue place starts or ends (its button changes).
  const session = ctx.state.session;
  let wasLive = session ? session.live : false;
  const off = session ? session.on(() => {
    if (!destroyed && session.live !== wasLive) {
      wasLive = session.live;
      draw();
    }
  }) : () => {};
  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      clearInterval(ticker);
      cancelSeen();
      off();
    },
  };
}
