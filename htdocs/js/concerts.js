// The list of concerts with their queue figures, and the way into each queue.

import { api } from './api.js';
import { t, stamp, errorText } from './i18n.js';
import { h, setText, replace, notice } from './dom.js';

const REFRESH_MS = 15000;

/**
 * Draw the concert list; returns {destroy}.
 * ctx.state: concerts, concertsAt, session. ctx: join(concert), resume().
 */
export function mountConcerts(container, ctx) {
  let destroyed = false;
  let timer = null;

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('concerts.title'));
  const list = h('ul', { class: 'concert-list', id: 'concert-list' });
  const updated = h('p', { class: 'muted small', id: 'concerts-updated' });
  const status = h('div', { class: 'form-status', id: 'concerts-status' });
  const refresh = h('button', { type: 'button', class: 'btn btn-quiet btn-small', id: 'concerts-refresh', onclick: () => load() },
    t('concerts.refresh'));

  container.append(h('section', { class: 'panel concerts', 'aria-labelledby': 'view-title' },
    h('div', { class: 'panel-head' },
      h('div', {}, title, h('p', { class: 'lead' }, t('concerts.intro'))),
      h('div', { class: 'head-tools' }, updated, refresh)),
    status,
    list));

  function card(c) {
    const s = ctx.state.session;
    const mine = s && s.live && String(s.concertId) === String(c.id);
    const q = c.queue || {};
    return h('li', { class: 'concert', id: `concert-${c.id}`, dataset: { concertId: String(c.id) } },
      h('div', { class: 'concert-main' },
        h('h2', { class: 'concert-title' }, c.title),
        h('p', { class: 'concert-venue' }, c.venue),
        h('p', { class: 'concert-rules muted' },
          t('concerts.rules', { min: c.hold_minutes, n: c.max_seats_per_user }))),
      h('div', { class: 'concert-side' },
        h('p', { class: 'queue-figures' },
          h('span', { class: 'badge badge-wait', id: `concert-${c.id}-waiting` }, t('concerts.waiting', { n: q.waiting ?? 0 })),
          ' ',
          h('span', { class: 'badge' }, t('concerts.active', { n: q.active ?? 0, max: q.max_active ?? '?' }))),
        mine
          ? h('button', { type: 'button', class: 'btn btn-primary', id: `resume-${c.id}`, onclick: () => ctx.resume() },
            t('concerts.resume'))
          : h('button', {
            type: 'button', class: 'btn btn-primary', id: `join-${c.id}`,
            'aria-label': t('concerts.joinLabel', { title: c.title }), onclick: () => ctx.join(c),
          }, t('concerts.join'))));
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

  async function load() {
    clearTimeout(timer);
    try {
      const r = await api.concerts();
      if (destroyed) return;
      ctx.state.concerts = r.data.concerts || [];
      ctx.state.concertsAt = new Date();
      status.replaceChildren();
      draw();
    } catch (e) {
      if (destroyed) return;
      replace(status, notice('error', errorText(e)));
    }
    if (!destroyed) timer = setTimeout(load, REFRESH_MS);
  }

  draw();
  load();
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
      off();
    },
  };
}
