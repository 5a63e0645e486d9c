#!/usr/bin/env node
// The whole journey through the web page, in a real browser against the real service,
// with two people at once on a concert that admits one at a time:
//   A (desktop 1280x800) and B (phone 390x844) sign up; A joins and is admitted; B
//   joins and waits; A holds a seat with the keyboard only, charges, pays; B is let in
//   by polling, sees A's seat SOLD, switches to English, loses a seat taken a moment
//   earlier (SEAT_UNAVAILABLE) and sees the map refresh by itself, holds another seat,
//   watches the countdown, is refused for a short balance (402), charges, sees the hold
//   run out (410) and holds again, pays, and reads the wallet history; B refunds the
//   booking (amount back and fee shown before confirming, then the result, the balance
//   and a Refund row); A's refund is refused past the concert's deadline (409, said
//   plainly, and no button after); on a sold-out concert B reads its place on the
//   waiting list, moves up, and gets the seat map when another buyer's refund brings
//   the seat back; then leaving the queue (button and pagehide) frees the place,
//   signing out forgets the key, and admin.check_invariants() is clean. Accessibility
//   basics and axe-core are run on every screen; a screenshot of each step goes to
//   var/test-artifacts/ at the tree root.
//
// Fixtures set with psql (the test database's owner): the concert's average turn is
// set to 1 s so Retry-After near the front is 1 s, B's hold is aged to its end
// (expiry, seat and claim all set to now) instead of waiting five minutes, and the
// refund deadline is moved to before now with admin.set_refunds instead of waiting
// for it.
//
// Prints TAP. Needs /usr/bin/chromium (Debian's package), psql with PG* set to the
// test database, and tests/lib/service.sh to start the service on JOURNEY_PORT
// (default 18090). JOURNEY_BASE_URL=http://... uses a service that is already running
// on the same database instead (then nothing is started or stopped).
// playwright-core and axe-core come from tests/browser/package-lock.json (`npm ci` when missing).
'use strict';

const fs = require('fs');
const path = require('path');
const {
  ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, SERVICE, diag, assert, until, textMatches, psql, http: httpAt, loadPlaywright,
  startService, stopService, screens, runSteps,
} = require('./lib');

const PORT = Number(process.env.JOURNEY_PORT || 18090);
const EXTERNAL = process.env.JOURNEY_BASE_URL || '';
const BASE = (EXTERNAL || `http://127.0.0.1:${PORT}`).replace(/\/+$/, '');
const BUDGET_MS = 240000;   // hard cap for the whole file (a normal run takes about 20 s)
const STEP_MS = 30000;      // any one step
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

const steps = [];
function step(name, fn, { timeout = STEP_MS, always = false } = {}) {
  steps.push({ name, fn, timeout, always });
}

const http = (method, urlPath, options) => httpAt(BASE, method, urlPath, options);

async function waitingCount(concertId) {
  const r = await http('GET', '/api/concerts');
  const c = (r.data.concerts || []).find((x) => String(x.id) === String(concertId));
  return c ? c.queue.waiting : null;
}

// Accessibility basics and axe-core on every screen that gets a screenshot.
const { shots, a11yProblems, capture, judgeAxe } = screens();

// ---- the run's shared state ------------------------------------------------------------
let playwright;
let browser;
let serviceStarted = false;
let concertId;
let firstDate;
const ctx = {};         // A, B: {context, page, key}
const pageErrors = [];
const payHeaders = [];  // Idempotency-Key of A's payment requests
let userC;              // a third buyer, driven through the API

const stamp = `${process.pid}-${Date.now().toString(36)}`;
const TITLE = `Browser journey ${stamp}`;

async function newUser(viewport, name) {
  const context = await browser.newContext({ viewport, locale: 'ko-KR', timezoneId: 'Asia/Seoul' });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(`${name} console: ${m.text()}`); });
  return { context, page };
}

// ---- steps ---------------------------------------------------------------------------------

step('chromium is installed at /usr/bin/chromium', () => {
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (the Makefile's deps)`);
});

step('playwright-core and axe-core are installed from package-lock.json', () => {
  playwright = loadPlaywright();
}, { timeout: 130000 });

step('the service answers on the test port', async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  if (!EXTERNAL) {
    assert(fs.existsSync(SERVICE), `${SERVICE} is missing`);
    serviceStarted = true;   // from here on, stop it however the run ends
    startService(PORT);
  }
  const res = await fetch(`${BASE}/`);
  assert(res.ok, `GET / answered ${res.status}`);
  const health = await http('GET', '/api/health');
  assert(health.status === 200, `GET /api/health answered ${health.status}`);
}, { timeout: 100000 });

step('a concert with room for one buyer at a time is created with psql', () => {
  concertId = psql(`SELECT admin.create_concert('${TITLE}', 'Test Hall',
    ARRAY[now() + interval '30 days', now() + interval '31 days'], 50,
    ARRAY[150000, 110000, 80000]::bigint[], 5, 1, 1)`);
  assert(/^\d+$/.test(concertId), `create_concert returned ${concertId}`);
  // Fixture: recent turns took about a second (a fresh concert assumes whole 10-minute
  // turns, which would ask the one waiting buyer to poll only every 30 s). The page
  // still polls exactly as Retry-After says; this only makes the server say 1 s.
  psql(`UPDATE ticket.queues SET turn_seconds = 1 WHERE concert_id = ${concertId}`);
});

step('A and B open the page in Korean (<html lang="ko">) and sign up; the key is kept in the browser', async () => {
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  Object.assign(ctx, { A: await newUser(DESKTOP, 'A'), B: await newUser(PHONE, 'B') });
  // B's queue polls, timed inside the page: when each GET /api/queue was sent, when
  // its answer came, the Retry-After it carried and the status and position it said.
  await ctx.B.context.addInitScript(() => {
    const fetch0 = window.fetch;
    window.__queuePolls = [];
    window.fetch = async function (input, init) {
      const url = typeof input === 'string' ? input : input.url;
      if (!/\/api\/queue$/.test(url) || ((init && init.method) || 'GET') !== 'GET') return fetch0.call(this, input, init);
      const poll = { sentAt: performance.now() };
      window.__queuePolls.push(poll);
      const res = await fetch0.call(this, input, init);
      const body = await res.clone().json().catch(() => ({}));
      Object.assign(poll, { doneAt: performance.now(), retryAfter: res.headers.get('Retry-After'), status: res.status,
        queueStatus: body.status, position: body.position });
      return res;
    };
  });
  const a = ctx.A.page;
  const b = ctx.B.page;
  if (process.env.JOURNEY_DEBUG) b.on('request', (req) => diag(`B ${Date.now()} ${req.method()} ${req.url()}`));
  a.on('request', (req) => {
    if (/\/payment$/.test(req.url())) payHeaders.push(req.headers()['idempotency-key']);
  });
  for (const [who, page] of [['A', a], ['B', b]]) {
    await page.goto(`${BASE}/`);
    assert(await page.getAttribute('html', 'lang') === 'ko', `${who}: <html lang> is not ko`);
    await textMatches(page.locator('#view-title'), /시작하기/);
    await page.getByLabel('이름').fill(`${who}-${stamp}`);
    if (who === 'A') await capture(page, '01-signup.png', 'sign-up form');
    await page.getByRole('button', { name: '가입하고 시작하기' }).click();
    await page.locator(`#concert-${concertId}`).waitFor();
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('ticket.account') || 'null'));
    assert(stored && /^\S+$/.test(stored.apiKey || ''), `${who}: no API key in localStorage`);
    ctx[who].key = stored.apiKey;
  }
});

step('the concert list shows the concert and its queue', async () => {
  const a = ctx.A.page;
  const card = a.locator(`#concert-${concertId}`);
  await textMatches(card, new RegExp(`${TITLE}.*Test Hall.*대기 0명.*예매 중 0/1명`));
  await capture(a, '02-concerts.png', 'concert list');
});

step('A joins the queue and is admitted at once: dates and the turn timer are shown', async () => {
  const a = ctx.A.page;
  await a.locator(`#join-${concertId}`).click();
  await textMatches(a.locator('#view-title'), /좌석 선택/);
  await textMatches(a.locator('#turn-left'), /^(10:00|9:\d\d)$/);
  await until('dates in the select', async () => (await a.locator('#date-select option').count()) >= 3);
  await capture(a, '03-a-admitted.png', 'A admitted');
});

step('B joins and waits: position 1, nobody ahead, an ETA, a moving progress bar; the list shows 1 waiting', async () => {
  const b = ctx.B.page;
  await b.locator(`#join-${concertId}`).click();
  await textMatches(b.locator('#view-title'), /대기실/);
  await textMatches(b.locator('#queue-position'), /^1번째$/);
  await textMatches(b.locator('#queue-ahead'), /^0명$/);
  await textMatches(b.locator('#queue-eta'), /약|곧 입장/);
  const bar = b.locator('#queue-progress');
  const v1 = Number(await bar.getAttribute('aria-valuenow'));
  await until('the progress bar to move', async () => Number(await bar.getAttribute('aria-valuenow')) > v1, 5000);
  await capture(b, '04-b-waiting.png', 'B waiting room');
  assert(await waitingCount(concertId) === 1, 'GET /api/concerts does not count B as waiting');
  // Looking at the list keeps the place; a banner leads back.
  await b.getByRole('button', { name: '공연 목록', exact: true }).click();
  await textMatches(b.locator(`#concert-${concertId}`), /대기 1명/);
  await textMatches(b.locator('#queue-banner'), /대기 중 · 1번째/);
  await b.locator('#banner-return').click();
  await textMatches(b.locator('#queue-position'), /^1번째$/);
});

step('A picks a date and holds seat 1 with the keyboard only (Tab, Space, arrows, End, Tab, Enter)', async () => {
  const a = ctx.A.page;
  const value = await a.locator('#date-select option').nth(1).getAttribute('value');
  firstDate = value;
  await a.locator('#date-select').focus();
  await a.selectOption('#date-select', value);
  const seat1 = a.locator('#seat-1');
  await seat1.waitFor();
  assert(await a.locator('#seat-map button.seat').count() === 50, 'the map does not have 50 seat buttons');
  const label = await seat1.getAttribute('aria-label');
  assert(label === '좌석 1, 150,000원, 선택 가능', `seat 1 aria-label is "${label}"`);
  // From the date picker, Tab reaches the first seat.
  await a.locator('#date-select').focus();
  await a.keyboard.press('Tab');
  assert(await a.evaluate(() => document.activeElement.id) === 'seat-1', 'Tab from the date picker is not seat 1');
  await a.keyboard.press('Space');
  assert(await seat1.getAttribute('aria-pressed') === 'true', 'Space did not choose seat 1');
  await textMatches(a.locator('#selection-summary'), /1번 · 합계 150,000원/);
  await a.keyboard.press('ArrowRight');
  assert(await a.evaluate(() => document.activeElement.id) === 'seat-2', 'ArrowRight did not move to seat 2');
  await a.keyboard.press('End');
  await a.keyboard.press('Tab');
  assert(await a.evaluate(() => document.activeElement.id) === 'hold-button', 'Tab after the last seat is not the hold button');
  await capture(a, '05-a-seat-chosen.png', 'A seat map');
  await a.keyboard.press('Enter');
  await textMatches(a.locator('#view-title'), /결제/);
  await textMatches(a.locator('#hold-left'), /^(5:00|4:[0-5]\d)$/);
  await textMatches(a.locator('#checkout-amount'), /^150,000원$/);
  await textMatches(a.locator('#checkout-balance'), /^0원$/);
  await textMatches(a.locator('#checkout-short'), /150,000원 부족/);
  await capture(a, '06-a-hold.png', 'A checkout');
});

step('A charges the shortfall and pays with an Idempotency-Key; the booking is confirmed', async () => {
  const a = ctx.A.page;
  assert(await a.getByLabel('충전 금액 (원)').inputValue() === '150000', 'the charge form is not prefilled with the shortfall');
  await a.getByRole('button', { name: '충전하기' }).click();
  await textMatches(a.locator('#checkout-balance'), /^150,000원$/);
  await a.locator('#pay-button').click();
  await textMatches(a.locator('#view-title'), /예매 완료/);
  await textMatches(a.locator('#done-seats'), /^1번$/);
  await textMatches(a.locator('#done-amount'), /^150,000원$/);
  await textMatches(a.locator('#done-balance'), /^0원$/);
  await textMatches(a.locator('#done-status'), /^확정$/);
  assert(payHeaders.length >= 1 && payHeaders.every((k) => k && k === payHeaders[0]), `payment Idempotency-Key headers: ${JSON.stringify(payHeaders)}`);
  await capture(a, '07-a-paid.png', 'A confirmation');
});

step("A's turn is DONE and B is admitted by polling within seconds, never faster than Retry-After", async () => {
  const b = ctx.B.page;
  const paidAt = Date.now();
  await textMatches(b.locator('#view-title'), /좌석 선택/, 8000);
  const waited = Date.now() - paidAt;
  const polls = await b.evaluate(() => window.__queuePolls);
  diag(`B admitted ${waited} ms after A's payment, after ${polls.length} polls: `
    + polls.map((p) => `at ${(p.sentAt / 1000).toFixed(1)} s ${p.status} ${p.queueStatus} ${p.position} Retry-After ${p.retryAfter}`).join(', '));
  assert(polls.every((p) => p.doneAt), 'a poll of GET /api/queue got no answer');
  // B waited while A held and paid: WAITING polls, each with a Retry-After in
  // the bounds of ticket.retry_after (1 to 30 s) and a position that never goes
  // back, then the poll that admits B, without one, sent no sooner than asked.
  const admitted = polls.findIndex((p) => p.queueStatus === 'ACTIVE');
  assert(admitted >= 1, `B was admitted at poll ${admitted + 1} (want a WAITING poll before it)`);
  assert(polls[admitted].status === 200 && polls[admitted].retryAfter === null,
    `the admitting poll answered ${polls[admitted].status} with Retry-After ${polls[admitted].retryAfter}`);
  for (let i = 0; i < admitted; i++) {
    const p = polls[i];
    assert(p.status === 200 && p.queueStatus === 'WAITING' && Number.isInteger(p.position) && p.position >= 1,
      `poll ${i + 1} answered ${p.status} ${p.queueStatus} at position ${p.position}`);
    assert(/^[0-9]+$/.test(p.retryAfter || '') && p.retryAfter >= 1 && p.retryAfter <= 30,
      `poll ${i + 1} said Retry-After ${p.retryAfter} (want 1 to 30)`);
    if (i > 0) assert(p.position <= polls[i - 1].position, `poll ${i + 1}: position ${p.position} after ${polls[i - 1].position}`);
  }
  for (let i = 1; i <= admitted; i++) {
    const prev = polls[i - 1];
    const gap = polls[i].sentAt - prev.doneAt;
    const asked = Number(prev.retryAfter) * 1000;
    assert(gap >= asked - 1, `poll ${i + 1} was sent ${gap.toFixed(0)} ms after the answer to poll ${i}, which said Retry-After ${prev.retryAfter}`);
  }
  await capture(b, '08-b-admitted.png', 'B admitted');
});

step("B picks the same date and sees A's seat 1 SOLD", async () => {
  const b = ctx.B.page;
  await until('dates for B', async () => (await b.locator(`#date-select option[value="${firstDate}"]`).count()) === 1);
  await b.selectOption('#date-select', firstDate);
  const seat1 = b.locator('#seat-1');
  await seat1.waitFor();
  assert(await seat1.getAttribute('aria-label') === '좌석 1, 150,000원, 판매 완료', `seat 1 reads "${await seat1.getAttribute('aria-label')}"`);
  assert(await seat1.getAttribute('aria-disabled') === 'true', 'a sold seat is not aria-disabled');
  await seat1.click({ force: true });
  assert(await seat1.getAttribute('aria-pressed') === 'false', 'a sold seat could be chosen');
  await capture(b, '09-b-seat-map.png', 'B seat map');
});

step('the language switch turns the page English and <html lang="en">', async () => {
  const b = ctx.B.page;
  await b.getByRole('button', { name: 'English' }).click();
  assert(await b.getAttribute('html', 'lang') === 'en', '<html lang> did not become en');
  await textMatches(b.locator('#view-title'), /^Choose seats$/);
  await b.locator('#seat-1').waitFor();
  await until('English seat labels', async () => await b.locator('#seat-1').getAttribute('aria-label') === 'Seat 1, 150,000 won, sold');
  const label = await b.locator('#seat-7').getAttribute('aria-label');
  assert(label === 'Seat 7, 150,000 won, available', `seat 7 reads "${label}"`);
  assert(await b.getByRole('button', { name: 'English' }).getAttribute('aria-pressed') === 'true', 'English is not shown as pressed');
  await capture(b, '10-b-english.png', 'B in English');
});

step('a seat taken between the map and the click: SEAT_UNAVAILABLE, said plainly, with the map refreshed', async () => {
  const b = ctx.B.page;
  // Freeze B's map as drawn: hold back its seat-map requests until released.
  let frozen = true;
  const held = [];
  const seatsUrl = /\/api\/concerts\/\d+\/dates\/[^/]+\/seats$/;
  await b.route(seatsUrl, (route) => (frozen ? held.push(route) : route.continue()));
  try {
    await until('a refresh of the map to be held back', () => held.length >= 1, 8000, 50);
    // Another buyer is let in alongside (max_active 2) and takes seat 2 through the API.
    psql(`SELECT admin.set_queue(${concertId}, 2)`);
    const u = await http('POST', '/api/users', { body: { name: `C-${stamp}` } });
    const q = await http('POST', `/api/concerts/${concertId}/queue`, { key: u.data.api_key });
    assert(q.data.status === 'ACTIVE', `C was not admitted: ${JSON.stringify(q.data)}`);
    const r = await http('POST', '/api/reservations',
      { key: u.data.api_key, token: q.data.token, body: { concert_id: Number(concertId), date: firstDate, seat_nos: [2] } });
    assert(r.status === 201, `C could not hold seat 2: ${r.status} ${JSON.stringify(r.data)}`);
    userC = { key: u.data.api_key, token: q.data.token, reservation: r.data.reservation_id };
    // B's map still shows seat 2 free; B chooses it and asks to hold it.
    const seat2 = b.locator('#seat-2');
    assert(await seat2.getAttribute('aria-label') === 'Seat 2, 150,000 won, available', 'seat 2 was not shown free');
    await seat2.click();
    assert(await seat2.getAttribute('aria-pressed') === 'true', 'seat 2 was not chosen');
    await b.locator('#hold-button').click();
    const msg = b.locator('#booking-messages');
    await textMatches(msg, /Seat 2 was just taken by someone else\. Please choose another seat\./);
    assert(await b.evaluate(() => document.activeElement?.closest('#booking-messages') !== null),
      'focus did not move to the message');
    assert(await seat2.getAttribute('aria-pressed') === 'false', 'seat 2 stayed chosen');
    assert(await b.locator('#hold-button').isDisabled(), 'the hold button stayed enabled with nothing chosen');
    await capture(b, '11-b-seat-taken.png', 'B seat taken');
  } finally {
    // Let the held-back requests go, and wait for the map the page asked for after the 409.
    frozen = false;
    const fresh = b.waitForResponse((res) => seatsUrl.test(new URL(res.url()).pathname) && res.request() === held[held.length - 1]?.request(),
      { timeout: 8000 }).catch(() => null);
    for (const route of held) await route.continue().catch(() => {});
    await b.unroute(seatsUrl);
    await fresh;
  }
  assert(await b.locator('#seat-2').getAttribute('aria-label') === 'Seat 2, 150,000 won, held by someone else',
    'seat 2 is not shown as held after the refresh');
});

step('the seat map refreshes while B looks: seat 2 comes back when C cancels', async () => {
  const b = ctx.B.page;
  const r = await http('DELETE', `/api/reservations/${userC.reservation}`, { key: userC.key, token: userC.token });
  assert(r.status === 204, `C could not cancel: ${r.status} ${JSON.stringify(r.data)}`);
  const cancelledAt = Date.now();
  let refreshes = 0;
  const count = (req) => { if (/\/seats$/.test(req.url())) refreshes += 1; };
  b.on('request', count);
  try {
    await until('seat 2 to be available again without any click', async () =>
      await b.locator('#seat-2').getAttribute('aria-label') === 'Seat 2, 150,000 won, available', 12000);
  } finally {
    b.off('request', count);
  }
  assert(refreshes >= 1, 'the map changed without a new request');
  diag(`the map showed the cancelled seat ${Date.now() - cancelledAt} ms after the cancel`);
});

step("B holds seat 20; the hold's countdown runs from the server's expires_at", async () => {
  const b = ctx.B.page;
  await b.locator('#seat-20').click();
  await textMatches(b.locator('#selection-summary'), /seat 20 · total ₩110,000/);
  await b.locator('#hold-button').click();
  await textMatches(b.locator('#view-title'), /^Payment$/);
  const clock = b.locator('#hold-left');
  const first = await textMatches(clock, /^(5:00|4:[0-5]\d)$/);
  await until('the countdown to tick', async () => ((await clock.textContent()) || '').trim() !== first, 3000);
  await textMatches(b.locator('#checkout-amount'), /^₩110,000$/);
  await textMatches(b.locator('#checkout-balance'), /^₩0$/);
  await capture(b, '12-b-hold.png', 'B checkout');
});

step('paying with too little balance says so (402) and leads to the charge form', async () => {
  const b = ctx.B.page;
  await b.locator('#pay-button').click();
  await textMatches(b.locator('#checkout-messages'), /Not enough balance\. Charge your wallet, then pay again\./);
  assert(await b.evaluate(() => document.activeElement.id) === 'checkout-charge-amount', 'focus is not on the charge amount');
  assert(await b.locator('#checkout-charge-amount').inputValue() === '110000', 'the charge amount is not the shortfall');
  await capture(b, '13-b-short.png', 'B short of money');
});

step('B charges, but the hold runs out before paying: HOLD_EXPIRED (410), no money taken, a way back to the seats', async () => {
  const b = ctx.B.page;
  await b.getByRole('button', { name: 'Charge', exact: true }).click();
  await textMatches(b.locator('#checkout-balance'), /^₩110,000$/);
  // Fixture: five minutes pass for this hold (its expiry, seat and claim end now),
  // exactly as a hold made five minutes ago would look to the database.
  const rid = psql(`SELECT r.id FROM ticket.reservations r JOIN ticket.users u ON u.id = r.user_id
    WHERE u.name = 'B-${stamp}' AND r.status = 'HELD' ORDER BY r.id DESC LIMIT 1`);
  assert(/^\d+$/.test(rid), `no HELD reservation of B: ${rid}`);
  psql(`BEGIN;
    UPDATE ticket.reservations SET expires_at = now() WHERE id = ${rid};
    UPDATE ticket.reservation_seats SET claim = tstzrange(lower(claim), greatest(lower(claim), now())) WHERE reservation_id = ${rid};
    UPDATE ticket.seats SET held_until = now() WHERE reservation_id = ${rid} AND NOT sold;
    COMMIT;`);
  await b.locator('#pay-button').click();
  await textMatches(b.locator('#checkout-messages'), /The hold ran out and the seats were released\. You were not charged\./);
  assert(await b.locator('#pay-button').isDisabled(), 'the pay button stayed enabled');
  const w = await http('GET', '/api/wallet', { key: ctx.B.key });
  assert(w.data.balance === 110000, `money moved: balance ${w.data.balance}`);
  await capture(b, '14-b-hold-expired.png', 'B hold expired');
  await b.getByRole('button', { name: 'Choose seats again' }).click();
  await textMatches(b.locator('#view-title'), /^Choose seats$/);
  await until('seat 20 to be free again', async () =>
    await b.locator('#seat-20').getAttribute('aria-label') === 'Seat 20, 110,000 won, available');
});

step('B holds seat 21, pays from the charged balance and sees the booking', async () => {
  const b = ctx.B.page;
  await b.locator('#seat-21').click();
  await b.locator('#hold-button').click();
  await textMatches(b.locator('#view-title'), /^Payment$/);
  await textMatches(b.locator('#checkout-short'), /Your balance covers it\./);
  await b.locator('#pay-button').click();
  await textMatches(b.locator('#view-title'), /^Booking confirmed$/);
  await textMatches(b.locator('#done-seats'), /^21$/);
  await textMatches(b.locator('#done-amount'), /^₩110,000$/);
  await textMatches(b.locator('#done-status'), /^Confirmed$/);
  await capture(b, '15-b-paid.png', 'B confirmation');
});

step("B's wallet history lists the charge and the payment, newest first", async () => {
  const b = ctx.B.page;
  await b.getByRole('button', { name: 'See wallet history' }).click();
  await textMatches(b.locator('#view-title'), /^Wallet$/);
  await textMatches(b.locator('#wallet-balance'), /^₩0$/);
  await until('two rows', async () => (await b.locator('#tx-rows tr').count()) === 2);
  const types = await b.locator('#tx-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.type));
  assert(JSON.stringify(types) === '["PAYMENT","CHARGE"]', `rows are ${JSON.stringify(types)}`);
  await textMatches(b.locator('#tx-rows tr').nth(0), /Payment.*−₩110,000.*₩0/);
  await textMatches(b.locator('#tx-rows tr').nth(1), /Charge.*\+₩110,000.*₩110,000/);
  await textMatches(b.locator('#booking-list'), new RegExp(`${TITLE}.*Seats 21.*₩110,000`));
  await capture(b, '16-b-wallet.png', 'B wallet');
});

step('B refunds seat 21 from its bookings: the amount back and the fee first, then the result, the new balance and a Refund row', async () => {
  const b = ctx.B.page;
  const rid = psql(`SELECT r.id FROM ticket.reservations r JOIN ticket.users u ON u.id = r.user_id
    WHERE u.name = 'B-${stamp}' AND r.status = 'CONFIRMED'`);
  assert(/^\d+$/.test(rid), `no CONFIRMED reservation of B: ${rid}`);
  const keys = [];
  const onRequest = (req) => { if (/\/refund$/.test(req.url())) keys.push(req.headers()['idempotency-key']); };
  b.on('request', onRequest);
  try {
    await textMatches(b.locator(`#refund-${rid}-terms`), /^Refundable until .+\.$/);
    await b.locator(`#booking-${rid}`).getByRole('button', { name: 'Refund', exact: true }).click();
    // Before anything moves: the question, with what comes back and what is kept.
    await textMatches(b.locator(`#refund-${rid}-question`), /^Refund this booking\?$/);
    await textMatches(b.locator(`#refund-${rid}-paid`), /^₩110,000$/);
    await textMatches(b.locator(`#refund-${rid}-fee`), /^₩11,000$/);
    await textMatches(b.locator(`#refund-${rid}-amount`), /^₩99,000$/);
    assert(await b.evaluate((id) => document.activeElement?.closest(`#refund-${id}-confirm-box`) !== null, rid),
      'focus did not move to the confirmation');
    assert(keys.length === 0, 'a refund was sent before it was confirmed');
    await capture(b, '17-b-refund-confirm.png', 'B refund confirmation');
    await b.getByRole('button', { name: 'Yes, refund' }).click();
    await textMatches(b.locator(`#refund-${rid}-result`), /^Refunded: ₩99,000 back \(fee ₩11,000\)\. Balance ₩99,000\.$/);
    assert(keys.length === 1 && /^[\x21-\x7e]{1,255}$/.test(keys[0] || ''), `refund Idempotency-Key headers: ${JSON.stringify(keys)}`);
  } finally {
    b.off('request', onRequest);
  }
  assert(await b.locator(`#refund-${rid}-button`).count() === 0, 'a refunded booking still offers a refund');
  await textMatches(b.locator('#wallet-balance'), /^₩99,000$/);
  await until('three rows', async () => (await b.locator('#tx-rows tr').count()) === 3);
  const types = await b.locator('#tx-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.type));
  assert(JSON.stringify(types) === '["REFUND","PAYMENT","CHARGE"]', `rows are ${JSON.stringify(types)}`);
  await textMatches(b.locator('#tx-rows tr').nth(0), new RegExp(`Refund.*\\+₩99,000.*₩99,000.*${rid}`));
  const r = await http('GET', `/api/reservations/${rid}`, { key: ctx.B.key });
  assert(r.data.status === 'REFUNDED' && r.data.refund.refund === 99000 && r.data.refund.fee === 11000,
    `the server has ${JSON.stringify(r.data)}`);
  await capture(b, '18-b-refunded.png', 'B refunded');
});

step("A's booking past its refund deadline: the 409 is said plainly, no money moves, and no refund is offered after", async () => {
  const a = ctx.A.page;
  const rid = ((await a.locator('#done-reservation').textContent()) || '').trim();
  assert(/^\d+$/.test(rid), `A's confirmation shows no booking number: "${rid}"`);
  await textMatches(a.locator(`#refund-${rid}-terms`), /^.+까지 환불할 수 있습니다\.$/);
  // The deadline moves to 60 days before the show (30 days away), so it has passed,
  // while A's page still offers the refund it read before.
  psql(`SELECT admin.set_refunds(${concertId}, 24 * 60)`);
  await a.getByRole('button', { name: '환불하기' }).click();
  await textMatches(a.locator(`#refund-${rid}-amount`), /^135,000원$/);
  await textMatches(a.locator(`#refund-${rid}-fee`), /^15,000원$/);
  await a.getByRole('button', { name: '환불 확정' }).click();
  await textMatches(a.locator(`#refund-${rid}-message`), /^환불 기한\(.+\)이 지나 더 이상 환불할 수 없습니다\.$/);
  assert(await a.locator(`#refund-${rid}-button`).count() === 0, 'the refund button is still offered');
  const w = await http('GET', '/api/wallet', { key: ctx.A.key });
  assert(w.data.balance === 0, `money moved: balance ${w.data.balance}`);
  const r = await http('GET', `/api/reservations/${rid}`, { key: ctx.A.key });
  assert(r.data.status === 'CONFIRMED', `the booking is ${r.data.status}`);
  await capture(a, '19-a-refund-refused.png', 'A refund refused');
  await a.getByRole('button', { name: '지갑', exact: true }).click();
  await textMatches(a.locator(`#refund-${rid}-closed`), /^환불 기한\(.+\)이 지나 더 이상 환불할 수 없습니다\.$/);
  assert(await a.locator(`#booking-${rid} button`).count() === 0, 'the wallet offers a refund past the deadline');
  await capture(a, '20-a-wallet-closed.png', 'A wallet, refund closed');
});

// A one-seat concert, sold out to E through the API; F and then B join its waiting list.
const soldOut = {};

async function apiBuyer(name, charge = 0) {
  const u = await http('POST', '/api/users', { body: { name } });
  assert(u.status === 201, `sign-up of ${name}: ${u.status} ${JSON.stringify(u.data)}`);
  if (charge) {
    const c = await http('POST', '/api/wallet/charge', { key: u.data.api_key, body: { amount: charge } });
    assert(c.status === 200, `charge of ${name}: ${c.status} ${JSON.stringify(c.data)}`);
  }
  return { key: u.data.api_key };
}

step('a sold-out concert: B joins its waiting list behind F and reads its place, in English and in Korean', async () => {
  const b = ctx.B.page;
  soldOut.id = psql(`SELECT admin.create_concert('Sold out ${stamp}', 'Small Hall',
    ARRAY[now() + interval '30 days'], 1, ARRAY[70000]::bigint[], 5, 1, 1)`);
  const E = await apiBuyer(`E-${stamp}`, 70000);
  const q = await http('POST', `/api/concerts/${soldOut.id}/queue`, { key: E.key });
  assert(q.data.status === 'ACTIVE', `E was not admitted: ${JSON.stringify(q.data)}`);
  const d = await http('GET', `/api/concerts/${soldOut.id}/dates`, { key: E.key, token: q.data.token });
  soldOut.date = d.data.dates[0].date;
  const hold = await http('POST', '/api/reservations', { key: E.key, token: q.data.token,
    body: { concert_id: Number(soldOut.id), date: soldOut.date, seat_nos: [1] } });
  assert(hold.status === 201, `E could not hold the seat: ${hold.status} ${JSON.stringify(hold.data)}`);
  const pay = await http('POST', `/api/reservations/${hold.data.reservation_id}/payment`, { key: E.key, token: q.data.token, body: {} });
  assert(pay.status === 201, `E could not pay: ${pay.status} ${JSON.stringify(pay.data)}`);
  soldOut.E = { ...E, reservation: hold.data.reservation_id };
  const F = await apiBuyer(`F-${stamp}`);
  const fq = await http('POST', `/api/concerts/${soldOut.id}/queue`, { key: F.key });
  assert(fq.data.status === 'SOLD_OUT' && fq.data.position === 1 && fq.data.token,
    `F is not first on the waiting list: ${JSON.stringify(fq.data)}`);
  soldOut.F = { ...F, token: fq.data.token };

  await b.evaluate(() => { window.__queuePolls = []; });
  await b.getByRole('button', { name: 'Concerts', exact: true }).click();
  await b.locator(`#join-${soldOut.id}`).click();
  await textMatches(b.locator('#waitlist-text'), /^Sold out\. You are number 2 on the waiting list\.$/);
  await textMatches(b.locator('#waitlist-position'), /^No\. 2$/);
  await capture(b, '21-b-waitlist.png', 'B on the waiting list');
  await b.getByRole('button', { name: '한국어' }).click();
  await textMatches(b.locator('#waitlist-text'), /^매진되었습니다\. 대기 명단 2번째입니다\.$/);
  await capture(b, '22-b-waitlist-ko.png', 'B on the waiting list in Korean');
  await b.getByRole('button', { name: 'English' }).click();
  await textMatches(b.locator('#waitlist-text'), /^Sold out\. You are number 2 on the waiting list\.$/);
});

step('F leaves the waiting list: B is number 1 after its next poll', async () => {
  const b = ctx.B.page;
  const r = await http('DELETE', '/api/queue', { token: soldOut.F.token });
  assert(r.status === 204, `F could not leave: ${r.status} ${JSON.stringify(r.data)}`);
  await textMatches(b.locator('#waitlist-text'), /^Sold out\. You are number 1 on the waiting list\.$/, 15000);
});

step("E's refund brings the seat back: B, first on the waiting list, gets a turn and the seat map with the seat", async () => {
  const b = ctx.B.page;
  const r = await http('POST', `/api/reservations/${soldOut.E.reservation}/refund`, { key: soldOut.E.key, body: {} });
  assert(r.status === 200 && r.data.status === 'REFUNDED' && r.data.refund === 63000 && r.data.fee === 7000,
    `E's refund: ${r.status} ${JSON.stringify(r.data)}`);
  const refundedAt = Date.now();
  await textMatches(b.locator('#view-title'), /^Choose seats$/, 15000);
  diag(`B had its turn ${Date.now() - refundedAt} ms after E's refund`);
  await until('the date', async () => (await b.locator(`#date-select option[value="${soldOut.date}"]`).count()) === 1);
  await b.selectOption('#date-select', soldOut.date);
  await until('the seat to be shown free', async () =>
    await b.locator('#seat-1').getAttribute('aria-label') === 'Seat 1, 70,000 won, available');
  // Each poll on the waiting list waited as long as the answer before it asked (5 to 60 s).
  const polls = await b.evaluate(() => window.__queuePolls);
  diag(`B's polls on the waiting list: ${polls.map((p) => `${p.status} Retry-After ${p.retryAfter}`).join(', ')}`);
  assert(polls.length >= 2 && polls.every((p) => p.doneAt && p.status === 200), 'B did not poll GET /api/queue');
  for (let i = 0; i < polls.length - 1; i++) {
    const asked = Number(polls[i].retryAfter);
    assert(asked >= 5 && asked <= 60, `poll ${i + 1} on the waiting list answered Retry-After ${polls[i].retryAfter}`);
    const gap = polls[i + 1].sentAt - polls[i].doneAt;
    assert(gap >= asked * 1000 - 1, `poll ${i + 2} was sent ${gap.toFixed(0)} ms after an answer that said Retry-After ${asked}`);
  }
  await capture(b, '23-b-waitlist-turn.png', 'B admitted from the waiting list');
  await b.getByRole('button', { name: 'Give up my turn' }).click();
  await b.locator(`#join-${soldOut.id}`).waitFor();
});

step('"Leave the queue" and leaving the page (pagehide) both free the place', async () => {
  const a = ctx.A.page;
  psql(`SELECT admin.set_queue(${concertId}, 1)`);   // C keeps the one turn: others wait
  await a.getByRole('button', { name: '공연 목록', exact: true }).click();
  await a.locator(`#join-${concertId}`).click();
  await textMatches(a.locator('#queue-position'), /^1번째$/);
  assert(await waitingCount(concertId) === 1, 'A is not counted as waiting');
  await a.getByRole('button', { name: '대기열 나가기' }).click();
  await a.locator(`#join-${concertId}`).waitFor();
  await until('the place to be freed after "leave"', async () => await waitingCount(concertId) === 0, 5000);
  await a.locator(`#join-${concertId}`).click();
  await textMatches(a.locator('#queue-position'), /^1번째$/);
  assert(await waitingCount(concertId) === 1, 'A is not counted as waiting again');
  await a.goto('about:blank');
  await until('the place to be freed on pagehide', async () => await waitingCount(concertId) === 0, 5000);
});

step('sign out forgets the key', async () => {
  const a = ctx.A.page;
  await a.goto(`${BASE}/`);
  await a.getByRole('button', { name: '로그아웃' }).click();
  await textMatches(a.locator('#view-title'), /시작하기/);
  assert(await a.evaluate(() => localStorage.getItem('ticket.account')) === null, 'the key is still in localStorage');
  await a.reload();
  await textMatches(a.locator('#view-title'), /시작하기/);
  await capture(a, '24-signed-out.png', 'signed out');
});

step('the books still balance: admin.check_invariants() finds nothing', () => {
  const rows = psql('SELECT count(*) FROM admin.check_invariants()');
  assert(rows === '0', `${rows} violations: ${psql('SELECT string_agg(v::text, E\'\\n\') FROM admin.check_invariants() v')}`);
});

step('accessibility basics: <html lang>, a name on every input/select/button, alt on every img', () => {
  assert(shots.length >= 10, `only ${shots.length} screens were checked`);
  assert(a11yProblems.length === 0, a11yProblems.join('\n'));
}, { always: true });

step('axe-core finds no serious or critical violation on any screen', () => judgeAxe(10), { always: true });

step('no JavaScript errors in the pages', () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
}, { always: true });

// ---- run ------------------------------------------------------------------------------

const started = Date.now();
runSteps(steps, {
  budgetMs: BUDGET_MS,
  async cleanup(failed) {
    diag(`screenshots in ${ARTIFACTS}: ${shots.join(' ')}`);
    diag(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (failed && browser) {
      // Leave a picture of where it stopped.
      for (const who of ['A', 'B']) {
        if (ctx[who]) await ctx[who].page.screenshot({ path: path.join(ARTIFACTS, `failed-${who}.png`), fullPage: true }).catch(() => {});
      }
    }
    if (browser) await browser.close().catch(() => {});
    browser = null;
    if (serviceStarted) {
      serviceStarted = false;
      stopService(PORT);
    }
  },
});
