#!/usr/bin/env node
// A concert's sale opening in a real browser against the real service: the list counts
// down to the pre-queue with the join button disabled, then to the draw; B (desktop,
// English) and C (phone, Korean) join the pre-queue and read when places are drawn,
// the countdown, their entry ID and the proof (commitment, then seed); at the opening
// each page polls when Retry-After said and shows its place, as the API has it.
//
// Time is moved, never waited for: each step that lets time pass moves the concert's
// sale_opens_at back with psql and fast-forwards the browsers' clocks (Playwright's
// clock) by the same amount, as if the laptop lid had been closed that long.
//
// Prints TAP. Needs /usr/bin/chromium, psql with PG* set to the test database, and
// tests/lib/service.sh (port SALE_OPENING_PORT, default 18284).
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const {
  ROOT, CHROMIUM, CHROMIUM_ARGS, ARTIFACTS, diag, assert, until, textMatches, psql, http, loadPlaywright,
  startService, stopService, screens, runSteps,
} = require('./lib');

const PORT = Number(process.env.SALE_OPENING_PORT || 18284);
const BASE = `http://127.0.0.1:${PORT}`;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const stamp = `${process.pid}-${Date.now().toString(36)}`;
const TITLE = `Sale opening ${stamp}`;
const API_JOINERS = 3;

const steps = [];
const step = (name, fn, { timeout = 30000, always = false } = {}) => steps.push({ name, fn, timeout, always });
const api = (method, urlPath, opts) => http(BASE, method, urlPath, opts);

let playwright;
let browser;
let serviceStarted = false;
let cid;
let pastCid;              // a concert whose last date has passed: not listed
let hhmm;                 // the draw's time as the page says it (Seoul, 24 h)
const who = {};           // B, C: {context, page, key, join: {data, retryAfter}}
const pageErrors = [];
const { shots, a11yProblems, capture, judgeAxe } = screens();

/** Time passes by ms for this concert: its sale time comes ms closer, and the browsers' clocks jump ms ahead. */
async function passTime(ms) {
  psql(`UPDATE ticket.concerts SET sale_opens_at = sale_opens_at - make_interval(secs => ${ms / 1000}) WHERE id = ${cid}`);
  for (const w of Object.values(who)) await w.context.clock.fastForward(ms);
}

async function newVisitor(name, viewport, lang) {
  const u = await api('POST', '/api/users', { body: { name: `${name}-${stamp}` } });
  assert(u.status === 201, `sign-up of ${name}: ${u.status}`);
  const context = await browser.newContext({ viewport, locale: lang === 'ko' ? 'ko-KR' : 'en-US', timezoneId: 'Asia/Seoul' });
  await context.clock.install();
  // Signed up already (the journey covers the form): the key and the language are in storage.
  await context.addInitScript(([account, l]) => {
    localStorage.setItem('ticket.account', account);
    localStorage.setItem('ticket.lang', l);
  }, [JSON.stringify({ apiKey: u.data.api_key, name: `${name}-${stamp}`, userId: u.data.user_id }), lang]);
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 4\d\d/.test(m.text())) pageErrors.push(`${name} console: ${m.text()}`); });
  who[name] = { context, page, key: u.data.api_key };
  await page.goto(`${BASE}/`);
  await page.locator(`#concert-${cid}`).waitFor();
  return who[name];
}

/** Click join and return the POST's answer as the page got it: {data, retryAfter}. */
async function joinFromPage(w) {
  const [res] = await Promise.all([
    w.page.waitForResponse((r) => r.url() === `${BASE}/api/concerts/${cid}/queue` && r.request().method() === 'POST'),
    w.page.locator(`#join-${cid}`).click(),
  ]);
  w.join = { data: await res.json(), retryAfter: Number(res.headers()['retry-after']) };
  return w.join;
}

const seoulTime = (iso) => new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Seoul', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
  .format(new Date(iso));

// ---- steps ---------------------------------------------------------------------------

step('chromium, playwright-core and axe-core are there', () => {
  assert(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (the Makefile's deps)`);
  playwright = loadPlaywright();
}, { timeout: 130000 });

step('the service answers on the test port', async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  serviceStarted = true;
  startService(PORT);
  assert((await api('GET', '/api/health')).status === 200, 'GET /api/health is not 200');
}, { timeout: 100000 });

step('a concert whose sale opens in 2 hours, with a 60-minute pre-queue and one buyer at a time, and one whose last date has passed, are made with psql', () => {
  cid = psql(`SELECT admin.create_concert('${TITLE}', 'Test Hall', ARRAY[now() + interval '30 days'],
    p_max_active => 1, p_sale_opens_at => now() + interval '2 hours', p_pre_queue_minutes => 60)`);
  assert(/^\d+$/.test(cid), `create_concert returned ${cid}`);
  pastCid = psql(`SELECT admin.create_concert('${TITLE} past', 'Test Hall', ARRAY[now() + interval '1 day'])`);
  psql(`UPDATE ticket.concert_dates SET starts_at = now() - interval '1 day' WHERE concert_id = ${pastCid}`);
});

step('B sees it upcoming: a countdown to the pre-queue, the sale time, and a join button that cannot be used yet; not the past one', async () => {
  browser = await playwright.chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const { page } = await newVisitor('B', DESKTOP, 'en');
  const card = page.locator(`#concert-${cid}`);
  await textMatches(card.locator('.badge-upcoming'), /^Upcoming$/);
  await textMatches(page.locator(`#concert-${cid}-countdown`), /^Pre-queue opens in (1:00:00|59:\d\d)$/);
  await textMatches(page.locator(`#concert-${cid}-sale`), /^Sale opens .+$/);
  assert(await page.locator(`#join-${cid}`).isDisabled(), 'the join button can be used before the pre-queue opens');
  assert(await page.locator(`#join-${cid}`).getAttribute('aria-describedby') === `concert-${cid}-status`,
    'the disabled button does not point at the status that explains it');
  assert(await page.locator(`#concert-${pastCid}`).count() === 0, 'the list shows a concert whose last date has passed');
  await capture(page, 'sale-01-upcoming.png', 'upcoming concert');
});

/** The page's tab goes to the background (hidden) or comes back, as a browser says it. */
async function setHidden(page, hidden) {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

step('10 minutes pass, the first in a background tab: it reads no list until B looks again; the countdown says 50 minutes', async () => {
  const { page } = who.B;
  const paths = [];           // of every request the page makes, in order
  const log = (r) => paths.push(new URL(r.url()).pathname);
  page.on('request', log);
  await setHidden(page, true);
  await passTime(60000);      // four of the list's 15-s readings would fall in it
  // A request of the test's own after the minute: whatever the hidden tab asked came before it.
  await Promise.all([page.waitForRequest((r) => new URL(r.url()).pathname === '/api/health'),
    page.evaluate(() => fetch('/api/health'))]);
  page.off('request', log);
  assert(!paths.includes('/api/concerts'), `the hidden tab asked: ${paths.join(', ')}`);
  const [again] = await Promise.all([
    page.waitForRequest((r) => new URL(r.url()).pathname === '/api/concerts'),
    setHidden(page, false),
  ]);
  assert(new URL(again.url()).search === '?status=UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT', `the page asked for ${again.url()}`);
  await passTime(9 * 60000);
  await textMatches(page.locator(`#concert-${cid}-countdown`), /^Pre-queue opens in (50:00|49:\d\d)$/);
});

step('the pre-queue opens: the list reads the concert again by itself, counts down to the draw, and says so in its live region', async () => {
  await passTime(50 * 60000 + 1000);
  const { page } = who.B;
  await textMatches(page.locator(`#concert-${cid} .badge-pre_queue`), /^Pre-queue open$/);
  await textMatches(page.locator(`#concert-${cid}-countdown`), /^Places drawn in 59:\d\d$/);
  await textMatches(page.locator('#concerts-live'), new RegExp(`^${TITLE}: Pre-queue open$`));
  assert(await page.locator(`#join-${cid}`).isEnabled(), 'the join button is still disabled');
  await textMatches(page.locator(`#join-${cid}`), /^Join the pre-queue$/);
  const concert = await api('GET', `/api/concerts/${cid}`);
  hhmm = seoulTime(concert.data.sale_opens_at);
});

step(`${API_JOINERS} people join the pre-queue through the API`, async () => {
  for (let i = 1; i <= API_JOINERS; i++) {
    const u = await api('POST', '/api/users', { body: { name: `D${i}-${stamp}` } });
    const q = await api('POST', `/api/concerts/${cid}/queue`, { key: u.data.api_key });
    assert(q.status === 201 && q.data.status === 'PRE_QUEUE', `D${i} joined: ${q.status} ${JSON.stringify(q.data)}`);
  }
});

step('B joins: the pre-queue page says when places are drawn, counts down, shows the entry ID and polls when Retry-After says', async () => {
  const { page } = who.B;
  const { data, retryAfter } = await joinFromPage(who.B);
  assert(data.status === 'PRE_QUEUE' && data.position === null, `B's join answered ${JSON.stringify(data)}`);
  const text = `You are in the pre-queue: at ${hhmm} everyone here gets a random place.`;
  await textMatches(page.locator('#prequeue-text'), new RegExp(`^${text.replace(/[.:]/g, '\\$&')}$`));
  await textMatches(page.locator('#queue-live'), new RegExp(`^${text.replace(/[.:]/g, '\\$&')}$`));
  await textMatches(page.locator('#prequeue-countdown'), /^59:\d\d$/);
  await textMatches(page.locator('#prequeue-entry'), new RegExp(`^${data.entry_id}$`));
  diag(`B's join: Retry-After ${retryAfter}, opens_at ${data.opens_at}`);
  assert(Number.isInteger(retryAfter) && retryAfter > 0, `no Retry-After on the PRE_QUEUE answer: ${retryAfter}`);
  const next = await textMatches(page.locator('#queue-next'), /^Checking again in \d+ s\.$/);
  const n = Number(next.match(/\d+/)[0]);
  assert(n <= retryAfter && n >= retryAfter - 3, `the page checks again in ${n} s, the server said Retry-After ${retryAfter}`);
  await capture(page, 'sale-02-prequeue.png', 'B in the pre-queue');
});

step('elsewhere in the page a banner says when places are drawn and leads back', async () => {
  const { page } = who.B;
  await page.getByRole('button', { name: 'Concerts', exact: true }).click();
  await textMatches(page.locator('#queue-banner'), new RegExp(`pre-queue · places drawn at ${hhmm}`));
  await page.locator(`#resume-${cid}`).waitFor();
  await page.locator('#banner-return').click();
  await page.locator('#prequeue-text').waitFor();
});

step('the proof before the opening: the commitment, the seed to come, B\'s entry ID and how to check with tools/verify-shuffle', async () => {
  const { page } = who.B;
  await page.locator('#prequeue-proof').click();
  await textMatches(page.locator('#view-title'), /^How places are drawn$/);
  const proof = await api('GET', `/api/concerts/${cid}/shuffle`);
  assert(proof.status === 200 && /^[0-9a-f]{64}$/.test(proof.data.commitment) && proof.data.seed === null,
    `/shuffle before the opening: ${proof.status} ${JSON.stringify(proof.data)}`);
  await textMatches(page.locator('#proof-commitment'), new RegExp(`^${proof.data.commitment}$`));
  await textMatches(page.locator('#proof-seed'), new RegExp(`^Published when the sale opens at ${hhmm}\\.$`));
  await textMatches(page.locator('#proof-entry'), new RegExp(`^${who.B.join.data.entry_id}$`));
  await textMatches(page.locator('#proof-command'), new RegExp(`^tools/verify-shuffle ${BASE} ${cid}$`));
  assert(await page.locator('#proof-json').getAttribute('href') === `/api/concerts/${cid}/shuffle`, 'no link to the proof JSON');
  await capture(page, 'sale-03-proof-before.png', 'proof before the opening');
  await page.locator('#proof-back').click();
  await page.locator('#prequeue-text').waitFor();
});

step('C joins on a phone, in Korean: the same page in Korean', async () => {
  const c = await newVisitor('C', PHONE, 'ko');
  const { data } = await joinFromPage(c);
  assert(data.status === 'PRE_QUEUE', `C's join answered ${JSON.stringify(data)}`);
  await textMatches(c.page.locator('#prequeue-text'), new RegExp(`^사전 대기열에 있습니다: ${hhmm}에 이곳의 모든 사람에게 무작위 순서가 정해집니다\\.$`));
  await textMatches(c.page.locator('#prequeue-entry'), new RegExp(`^${data.entry_id}$`));
  await capture(c.page, 'sale-04-prequeue-ko.png', 'C in the pre-queue, in Korean');
});

step('the sale opens: each page polls when Retry-After brings it back and shows its place, as GET /api/queue has it', async () => {
  const left = Number(psql(`SELECT ceil(extract(epoch FROM sale_opens_at - now()) * 1000) FROM ticket.concerts WHERE id = ${cid}`));
  await passTime(left + 6000);   // past the draw and the 1 to 5 s Retry-After adds to it
  const ranks = new Map();
  const waiting = [];
  for (const [name, w] of Object.entries(who)) {
    const q = await until(`${name}'s place`, async () => {
      const r = await api('GET', '/api/queue', { token: w.join.data.token });
      return r.data.status !== 'PRE_QUEUE' && r.data;
    });
    w.after = q;
    if (q.status === 'ACTIVE') {
      await textMatches(w.page.locator('#view-title'), name === 'B' ? /^Choose seats$/ : /^좌석 선택$/);
    } else {
      assert(q.status === 'WAITING' && Number.isInteger(q.position), `${name} after the opening: ${JSON.stringify(q)}`);
      const shown = name === 'B' ? `No. ${q.position}` : `${q.position}번째`;
      await textMatches(w.page.locator('#queue-position'), new RegExp(`^${shown}$`));
      await textMatches(w.page.locator('#queue-live'), new RegExp(`${shown}$`));
      waiting.push(name);
    }
  }
  const entries = await api('GET', `/api/concerts/${cid}/shuffle/entries`);
  for (const e of entries.data.entries) ranks.set(e.entry_id, e.rank);
  diag(`ranks: B ${ranks.get(who.B.join.data.entry_id)}, C ${ranks.get(who.C.join.data.entry_id)}; `
    + `after the opening B ${who.B.after.status} ${who.B.after.position}, C ${who.C.after.status} ${who.C.after.position}`);
  // One buyer at a time: of B and C at most one has the turn, so a place is shown.
  assert(waiting.length >= 1, 'neither B nor C shows a place in the queue');
  if (waiting.length === 2) {
    const [rb, rc] = [ranks.get(who.B.join.data.entry_id), ranks.get(who.C.join.data.entry_id)];
    assert((rb < rc) === (who.B.after.position < who.C.after.position), 'the places do not follow the published ranks');
  }
  await capture(who[waiting[0]].page, 'sale-05-opened.png', `${waiting[0]} after the opening`);
}, { timeout: 40000 });

step('the proof after the opening shows the seed and the count, and tools/verify-shuffle agrees', async () => {
  const { page } = who.B;
  const proof = await api('GET', `/api/concerts/${cid}/shuffle`);
  assert(proof.data.seed && proof.data.entries === API_JOINERS + 2, `/shuffle after the opening: ${JSON.stringify(proof.data)}`);
  await page.getByRole('button', { name: 'Concerts', exact: true }).click();
  await page.locator(`#proof-${cid}`).click();
  await textMatches(page.locator('#proof-seed'), new RegExp(`^${proof.data.seed}$`));
  await textMatches(page.locator('#proof-entries'), new RegExp(`^${API_JOINERS + 2}$`));
  await capture(page, 'sale-06-proof-after.png', 'proof after the opening');
  const r = spawnSync(path.join(ROOT, 'tools', 'verify-shuffle'), [BASE, cid], { encoding: 'utf8', timeout: 30000 });
  assert(r.status === 0, `tools/verify-shuffle exited ${r.status}:\n${r.stdout}${r.stderr}`);
});

step('accessibility basics on every screen', () => {
  assert(shots.length >= 6, `only ${shots.length} screens were checked`);
  assert(a11yProblems.length === 0, a11yProblems.join('\n'));
}, { always: true });

step('axe-core finds no serious or critical violation on any screen', () => judgeAxe(6), { always: true });

step('no JavaScript errors in the pages', () => {
  assert(pageErrors.length === 0, pageErrors.join('\n'));
}, { always: true });

runSteps(steps, {
  budgetMs: 240000,
  async cleanup(failed) {
    diag(`screenshots in ${ARTIFACTS}: ${shots.join(' ')}`);
    if (failed && browser) {
      for (const [name, w] of Object.entries(who)) {
        await w.page.screenshot({ path: path.join(ARTIFACTS, `sale-failed-${name}.png`), fullPage: true }).catch(() => {});
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
