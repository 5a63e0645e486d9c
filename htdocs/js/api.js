// The one way the page talks to the server (see docs/api.md): adds the Bearer key and the
// X-Queue-Token, turns error bodies {"error":{"code","message"}} into ApiError, reads
// Retry-After, and estimates the server's clock from the Date header of every answer.

export class ApiError extends Error {
  constructor(status, code, message, { details = null, hint = null, retryAfter = null } = {}) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;      // HTTP status, 0 when the network failed
    this.code = code;          // UPPER_SNAKE code from docs/api.md, or NETWORK
    this.details = details;
    this.hint = hint;
    this.retryAfter = retryAfter; // seconds, or null
  }

  /** Worth sending again unchanged: no answer, a server failure, or a duplicate in flight. */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.code === 'IDEMPOTENCY_IN_PROGRESS';
  }
}

const credentials = { apiKey: null };

export function setApiKey(key) {
  credentials.apiKey = key || null;
}

// ---- server clock -------------------------------------------------------------
// The Date header is whole seconds. Each answer says the server's clock, at some
// moment between sending and receiving, read between D and D+1s; so the offset
// (server minus browser) lies in [D - received, D + 1000 - sent]. Intersecting those
// intervals over the answers narrows it; a clock jump that empties it starts afresh.
let offsetLow = -Infinity;
let offsetHigh = Infinity;

function noteServerDate(res, sentAt, receivedAt) {
  const header = res.headers.get('Date');
  const d = header ? Date.parse(header) : NaN;
  if (Number.isNaN(d)) return;
  const low = d - receivedAt;
  const high = d + 1000 - sentAt;
  const nextLow = Math.max(offsetLow, low);
  const nextHigh = Math.min(offsetHigh, high);
  if (nextLow <= nextHigh) {
    offsetLow = nextLow;
    offsetHigh = nextHigh;
  } else {
    offsetLow = low;
    offsetHigh = high;
  }
}

/** Milliseconds to add to Date.now() to get the server's time. */
export function serverOffset() {
  if (!Number.isFinite(offsetLow) || !Number.isFinite(offsetHigh)) return 0;
  return (offsetLow + offsetHigh) / 2;
}

/** The server's time now, as epoch milliseconds. */
export function serverNow() {
  return Date.now() + serverOffset();
}

/** Milliseconds until an RFC 3339 time by the server's clock. */
export function msUntil(iso) {
  return Date.parse(iso) - serverNow();
}

// ---- requests ---------------------------------------------------------------------

function parseRetryAfter(value) {
  if (value == null || value === '') return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - serverNow()) / 1000));
}

/**
 * Call the API. Resolves to {status, data, retryAfter}; rejects with ApiError.
 * options: body (sent as JSON), queueToken, idempotencyKey, keepalive, auth (default true).
 */
export async function request(method, path, options = {}) {
  const { body, queueToken, idempotencyKey, keepalive = false, auth = true } = options;
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth && credentials.apiKey) headers.Authorization = `Bearer ${credentials.apiKey}`;
  if (queueToken) headers['X-Queue-Token'] = queueToken;
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  const sentAt = Date.now();
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      keepalive,
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', e && e.message);
  }
  noteServerDate(res, sentAt, Date.now());
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));

  let data = null;
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (!res.ok) {
    const e = (data && data.error) || {};
    const code = e.code || (res.status >= 500 ? 'INTERNAL' : 'UNKNOWN');
    throw new ApiError(res.status, code, e.message || res.statusText,
      { details: e.details ?? null, hint: e.hint ?? null, retryAfter });
  }
  return { status: res.status, data, retryAfter };
}

/** A fresh Idempotency-Key: 128 random bits, printable ASCII. */
export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolve after ms milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Send a request that moves money, with one Idempotency-Key for the whole attempt:
 * network failures, 5xx and IDEMPOTENCY_IN_PROGRESS are retried with the same key
 * (the server replays the first answer, so money moves at most once).
 */
export async function requestOnce(method, path, options, key, tries = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await request(method, path, { ...options, idempotencyKey: key });
    } catch (e) {
      if (!(e instanceof ApiError) || !e.retryable || attempt >= tries) throw e;
      await sleep(Math.max(1000 * attempt, (e.retryAfter || 0) * 1000));
    }
  }
}

// ---- the endpoints the page uses --------------------------------------------------

/** Where a concert's proof of the pre-queue order is published (also linked from the page). */
export function shufflePath(concertId) {
  return `/api/concerts/${encodeURIComponent(concertId)}/shuffle`;
}

export const api = {
  signUp: (name) => request('POST', '/api/users', { body: { name }, auth: false }),
  wallet: () => request('GET', '/api/wallet'),
  charge: (amount, key) => requestOnce('POST', '/api/wallet/charge', { body: { amount } }, key),
  transactions: (limit = 50, before = null) =>
    request('GET', `/api/wallet/transactions?limit=${limit}${before != null ? `&before=${encodeURIComponent(before)}` : ''}`),
  // What one can still go to: the catalogue's past (ENDED) is not read at all.
  concerts: () => request('GET', '/api/concerts?status=UPCOMING,PRE_QUEUE,ON_SALE,SOLD_OUT', { auth: false }),
  shuffle: (concertId) => request('GET', shufflePath(concertId), { auth: false }),
  joinQueue: (concertId) => request('POST', `/api/concerts/${encodeURIComponent(concertId)}/queue`),
  queueStatus: (token) => request('GET', '/api/queue', { queueToken: token, auth: false }),
  leaveQueue: (token, keepalive = false) =>
    request('DELETE', '/api/queue', { queueToken: token, auth: false, keepalive }),
  dates: (concertId, token) =>
    request('GET', `/api/concerts/${encodeURIComponent(concertId)}/dates`, { queueToken: token }),
  seats: (concertId, date, token) =>
    request('GET', `/api/concerts/${encodeURIComponent(concertId)}/dates/${encodeURIComponent(date)}/seats`,
      { queueToken: token }),
  hold: (concertId, date, seatNos, token) =>
    request('POST', '/api/reservations', { body: { concert_id: concertId, date, seat_nos: seatNos }, queueToken: token }),
  reservation: (id, token) =>
    request('GET', `/api/reservations/${encodeURIComponent(id)}`, { queueToken: token }),
  cancelReservation: (id, token) =>
    request('DELETE', `/api/reservations/${encodeURIComponent(id)}`, { queueToken: token }),
  pay: (id, token, key) =>
    requestOnce('POST', `/api/reservations/${encodeURIComponent(id)}/payment`, { body: {}, queueToken: token }, key),
  refund: (id, key) => requestOnce('POST', `/api/reservations/${encodeURIComponent(id)}/refund`, { body: {} }, key),
};
