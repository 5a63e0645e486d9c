#!/usr/bin/env node
// docs/openapi.yaml is a valid OpenAPI 3.1 document (the official schema, through
// @seriousme/openapi-schema-validator pinned in package-lock.json) and keeps the
// project's rules: every object schema closed (additionalProperties: false) so that
// an undocumented field fails tests/http/zz_openapi.t, refs that resolve, path
// parameters declared, each error answer's schema that of its status, and every
// status and code of cgi-bin/errors.c in the document.
'use strict';

const { lint } = require('./openapi');

function point(n, problems, desc) {
  console.log(`${problems.length ? 'not ok' : 'ok'} ${n} - ${desc}`);
  for (const p of problems) for (const line of p.split('\n')) console.log(`# ${line}`);
  return problems.length === 0;
}

lint().then(({ official, rules }) => {
  const a = point(1, official, 'docs/openapi.yaml is a valid OpenAPI 3.1 document');
  const b = point(2, rules, "docs/openapi.yaml keeps the project's rules");
  console.log('1..2');
  process.exit(a && b ? 0 : 1);
}, (e) => {
  console.log(`Bail out! ${e.stack || e}`);
  process.exit(1);
});
