#!/usr/bin/env node
// After the other HTTP tests: every answer they received is what docs/openapi.yaml
// says (tests/http/lib.sh logs each exchange to $TICKET_VAR/http-exchanges.jsonl, not
// under log/, which must hold no secret): a documented status for that method and
// path, its Content-Type, a body of its schema (closed objects: an undocumented field
// fails), the headers it requires and no Retry-After or Allow where it has none, and a
// 405's Allow naming the path's methods. One test point for each operation and
// status seen; the checks are tests/contract/openapi.js.
'use strict';

const fs = require('fs');
const path = require('path');
const { checkExchanges } = require('../contract/openapi');

// Fewer exchanges than this means the log was not written (or the suites shrank).
const MIN_EXCHANGES = 200;
const LOG = process.env.TICKET_EXCHANGE_LOG
  || path.join(process.env.TICKET_VAR || path.resolve(__dirname, '..', '..', 'var'), 'http-exchanges.jsonl');

let n = 0, failed = 0;
function point(ok, desc, diags = []) {
  n++;
  if (!ok) failed++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${desc}`);
  for (const d of diags) for (const line of String(d).split('\n')) console.log(`# ${line}`);
}

const exchanges = fs.existsSync(LOG)
  ? fs.readFileSync(LOG, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)) : [];
point(exchanges.length >= MIN_EXCHANGES, `at least ${MIN_EXCHANGES} exchanges were logged`,
  [`${exchanges.length} in ${LOG}`]);

const { groups, neverSucceeded, unanswered, outside } = checkExchanges(exchanges);
point(neverSucceeded.length === 0, 'every documented operation answered 2xx at least once',
  neverSucceeded.map((o) => `never: ${o}`));
for (const g of groups) {
  const diags = [];
  for (const { ex, problems } of g.failures.slice(0, 3)) {
    diags.push(`${ex.method} ${ex.path} -> ${ex.status}`);
    for (const p of problems) diags.push(`  ${p}`);
  }
  if (g.failures.length > 3) diags.push(`... and ${g.failures.length - 3} more`);
  point(g.failures.length === 0, `${g.name}: ${g.count} answer${g.count > 1 ? 's' : ''} as documented`, diags);
}
console.log(`# ${unanswered} requests got no answer (services stopped on purpose); ${outside} were outside /api/`);
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
