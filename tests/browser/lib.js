// What a browser test file needs around the browser: TAP steps with time limits, polling,
// psql and plain HTTP against the service, the service itself (tests/lib/service.sh),
// playwright-core and axe-core from package-lock.json, and the accessibility checks.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');

const HERE = __dirname;
const ROOT = process.env.TICKET_ROOT || path.resolve(HERE, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SERVICE = path.join(ROOT, 'tests', 'lib', 'service.sh');
const ARTIFACTS = path.join(ROOT, 'var', 'test-artifacts');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function diag(text) {
  for (const line of String(text).split('\n')) console.log(`# ${line}`);
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Poll fn() until it returns a truthy value (returned), or fail after timeout ms. */
async function until(what, fn, timeout = 10000, interval = 100) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Wait until the locator's text (spaces squeezed) matches re; returns the text. */
async function textMatches(locator, re, timeout = 10000) {
  let text = '';
  await until(`text ${re}`, async () => {
    text = ((await locator.textContent({ timeout: 1000 })) || '').replace(/\s+/g, ' ').trim();
    return re.test(text);
  }, timeout).catch((e) => { throw new Error(`${e.message}; text was "${text}"`); });
  return text;
}

/** One query as the test database's owner (PG* from the harness); the value, trimmed. */
function psql(sql) {
  return execFileSync('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** A JSON call to the service at base: {status, data, headers}. */
async function http(base, method, urlPath, { key, token, body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (key) headers.Authorization = `Bearer ${key}`;
  if (token) headers['X-Queue-Token'] = token;
  const res = await fetch(base + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  return { status: res.status, data, headers: res.headers };
}

/** playwright-core, installed from package-lock.json first when missing. */
function loadPlaywright() {
  const mod = path.join(HERE, 'node_modules', 'playwright-core');
  if (!fs.existsSync(mod) || !fs.existsSync(path.join(HERE, 'node_modules', 'axe-core'))) {
    const r = spawnSync('npm', ['ci', '--prefix', HERE, '--no-audit', '--no-fund', '--loglevel=error'],
      { encoding: 'utf8', timeout: 120000 });
    if (r.status !== 0) throw new Error(`npm ci --prefix ${HERE} failed:\n${r.stdout}${r.stderr}${r.error || ''}`);
  }
  return require(mod);
}

function startService(port) {
  const r = spawnSync(SERVICE, ['start', 'fastcgi', String(port)], { encoding: 'utf8', timeout: 90000 });
  if (r.status !== 0) throw new Error(`service.sh start fastcgi ${port} failed (${r.status}):\n${r.stdout}${r.stderr}${r.error || ''}`);
}

function stopService(port) {
  const r = spawnSync(SERVICE, ['stop', String(port)], { encoding: 'utf8', timeout: 30000 });
  if (r.status !== 0) diag(`service.sh stop ${port}: ${r.status} ${r.stdout}${r.stderr}`);
}

/** Accessibility basics: <html lang>, a name on every control, alt on every image. */
async function a11yBasics(page) {
  return page.evaluate(() => {
    const out = [];
    if (!document.documentElement.getAttribute('lang')) out.push('<html> has no lang');
    for (const img of document.querySelectorAll('img')) {
      if (!img.hasAttribute('alt')) out.push(`<img src="${img.getAttribute('src')}"> has no alt`);
    }
    const nameOf = (el) => {
      const label = el.getAttribute('aria-label');
      if (label && label.trim()) return label;
      const by = el.getAttribute('aria-labelledby');
      if (by) {
        const s = by.split(/\s+/).map((id) => document.getElementById(id)?.textContent || '').join(' ').trim();
        if (s) return s;
      }
      if (el.labels && el.labels.length) {
        const s = [...el.labels].map((l) => l.textContent).join(' ').trim();
        if (s) return s;
      }
      if (el.tagName === 'BUTTON' && el.textContent.trim()) return el.textContent.trim();
      if (el.tagName === 'INPUT' && ['submit', 'button', 'reset'].includes(el.type) && el.value) return el.value;
      const title = el.getAttribute('title');
      return title && title.trim() ? title : '';
    };
    for (const el of document.querySelectorAll('input, select, textarea, button')) {
      if (el.type === 'hidden') continue;
      if (!nameOf(el)) out.push(`<${el.tagName.toLowerCase()} id="${el.id}"> has no accessible name`);
    }
    return out;
  });
}

/** axe-core's violations on the page: [{id, impact, help, nodes}]. */
async function axe(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    await page.addScriptTag({ path: path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js') });
  }
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}${n.any[0] ? `: ${n.any[0].message}` : ''}`),
    }));
  });
}

/**
 * Every screen a test shows: capture(page, file, where) checks the accessibility basics
 * and axe-core, then saves a screenshot under ARTIFACTS; the findings are kept for the
 * closing steps, which judge them (serious or critical axe findings fail).
 */
function screens() {
  const out = { shots: [], a11yProblems: [], axeFindings: [] };
  out.capture = async (page, name, where) => {
    for (const p of await a11yBasics(page)) out.a11yProblems.push(`${where}: ${p}`);
    for (const v of await axe(page)) out.axeFindings.push({ where, ...v });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });
    out.shots.push(name);
  };
  // The closing step's judgement: every finding is printed, serious or critical ones fail.
  out.judgeAxe = (minScreens) => {
    for (const f of out.axeFindings) {
      diag(`axe ${f.impact} ${f.id} on ${f.where}: ${f.help}; ${f.nodes.length} element(s): ${f.nodes.slice(0, 3).join(' | ')}`);
    }
    assert(out.shots.length >= minScreens, `only ${out.shots.length} screens were checked`);
    const bad = out.axeFindings.filter((f) => f.impact === 'serious' || f.impact === 'critical');
    assert(bad.length === 0, `${bad.length} serious or critical violation(s), on: ${[...new Set(bad.map((f) => f.where))].join(', ')}`);
  };
  return out;
}

/**
 * Run steps [{name, fn, timeout, always}] as TAP: after a failure only `always` steps run.
 * cleanup() runs at the end, on the time budget and on a signal. Sets process.exitCode.
 */
function runSteps(steps, { budgetMs, cleanup }) {
  let printed = 0;
  const finishRemaining = (reason) => {
    for (let i = printed; i < steps.length; i++) console.log(`not ok ${i + 1} - ${steps[i].name} (not run: ${reason})`);
    printed = steps.length;
  };
  const watchdog = setTimeout(async () => {
    diag(`the file took over ${budgetMs / 1000} s`);
    finishRemaining('time budget exhausted');
    await cleanup(true);
    process.exit(1);
  }, budgetMs);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, async () => {
      finishRemaining(`interrupted by ${sig}`);
      await cleanup(true);
      process.exit(1);
    });
  }
  const main = async () => {
    console.log(`1..${steps.length}`);
    let failed = null;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      if (failed && !s.always) {
        console.log(`not ok ${i + 1} - ${s.name} (not run: step ${failed} failed)`);
        printed = i + 1;
        continue;
      }
      let timer;
      try {
        await Promise.race([
          Promise.resolve().then(s.fn),
          new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`step took over ${s.timeout} ms`)), s.timeout); }),
        ]);
        console.log(`ok ${i + 1} - ${s.name}`);
      } catch (e) {
        console.log(`not ok ${i + 1} - ${s.name}`);
        diag(e && e.stack ? e.stack : String(e));
        if (!failed) failed = i + 1;
      } finally {
        clearTimeout(timer);
        printed = i + 1;
      }
    }
    await cleanup(Boolean(failed));
    return failed ? 1 : 0;
  };
  main().then((code) => {
    clearTimeout(watchdog);
    process.exitCode = code;
  }, async (e) => {
    diag(e && e.stack ? e.stack : String(e));
    finishRemaining('internal error');
    await cleanup(true);
    process.exit(1);
  });
}

module.exports = {
  ROOT, CHROMIUM, CHROMIUM_ARGS, ARTIFACTS, SERVICE,
  diag, assert, until, textMatches, psql, http, loadPlaywright, startService, stopService, screens, runSteps,
};
