// The proof of a concert's pre-queue order: the commitment published before the sale,
// the seed once it has opened, the visitor's own entry ID, and how anyone can check the
// published order with tools/verify-shuffle.

import { api, shufflePath } from './api.js';
import { t, timeOfDay, errorText } from './i18n.js';
import { h, replace, notice } from './dom.js';

/**
 * Draw the proof for ctx.state.proofConcert into container; returns {destroy}.
 * ctx: go(view), resume().
 */
export function mountProof(container, ctx) {
  const concert = ctx.state.proofConcert;
  const session = ctx.state.session;
  const mine = session && String(session.concertId) === String(concert.id) ? session : null;
  let destroyed = false;

  const title = h('h1', { id: 'view-title', tabindex: '-1' }, t('proof.title'));
  const facts = h('div', { id: 'proof-facts', 'aria-busy': 'true' }, h('p', { class: 'loading' }, t('app.loading')));
  const command = `tools/verify-shuffle ${window.location.origin} ${concert.id}`;
  const back = mine && mine.live
    ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'proof-back', onclick: () => ctx.resume() }, t('concerts.resume'))
    : h('button', { type: 'button', class: 'btn btn-secondary', id: 'proof-back', onclick: () => ctx.go('concerts') },
      t('queue.backToConcerts'));

  container.append(h('section', { class: 'panel proof', 'aria-labelledby': 'view-title' },
    title,
    h('p', { class: 'lead', id: 'proof-concert' }, concert.title),
    h('p', {}, t('proof.rule')),
    facts,
    h('h2', {}, t('proof.check')),
    h('p', {}, t('proof.howto')),
    h('pre', { class: 'command' }, h('code', { id: 'proof-command' }, command)),
    h('p', {}, h('a', { href: shufflePath(concert.id), id: 'proof-json' }, t('proof.json'))),
    h('div', { class: 'actions' }, back)));

  function fact(label, id, value, hex = true) {
    return h('div', {}, h('dt', {}, label), h('dd', { class: hex ? 'hex' : null, id }, value));
  }

  function draw(p) {
    const opens = concert.sale_opens_at;
    replace(facts, h('dl', { class: 'facts facts-wide' },
      fact(t('proof.commitment'), 'proof-commitment', p.commitment),
      fact(t('proof.seed'), 'proof-seed',
        p.seed ?? (opens ? t('proof.seedLater', { time: timeOfDay(opens) }) : t('proof.entriesLater')), p.seed != null),
      fact(t('proof.entries'), 'proof-entries', p.entries ?? t('proof.entriesLater'), false),
      mine && mine.entryId ? fact(t('proof.yourEntry'), 'proof-entry', mine.entryId) : null,
      p.rule ? fact(t('proof.serverRule'), 'proof-rule', p.rule, false) : null));
    facts.removeAttribute('aria-busy');
  }

  api.shuffle(concert.id).then((r) => {
    if (!destroyed) draw(r.data);
  }, (e) => {
    if (destroyed) return;
    replace(facts, notice('error', errorText(e)));
    facts.removeAttribute('aria-busy');
  });

  return {
    destroy() {
      destroyed = true;
    },
  };
}
