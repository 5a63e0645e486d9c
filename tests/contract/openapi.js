// docs/openapi.yaml as a test oracle: lint the document, and check recorded HTTP
// exchanges (method, path, status, raw headers, body) against it.
//
//   lint()            problems of the document: the official OpenAPI 3.1 schema
//                     (@seriousme/openapi-schema-validator), then this project's rules
//                     (closed objects, refs that resolve, path parameters declared, each
//                     error answer's schema is its status's, every code of
//                     cgi-bin/errors.c in the document)
//   checkExchanges()  groups exchanges by operation and status; for each group, the
//                     problems of its answers (status documented, Content-Type, body
//                     schema, required and forbidden headers, Allow of a 405)
//
// The packages come from tests/contract/package-lock.json (`npm ci` when missing).
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const HERE = __dirname;
const ROOT = process.env.TICKET_ROOT || path.resolve(HERE, '..', '..');
const DOC_PATH = path.join(ROOT, 'docs', 'openapi.yaml');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
// Headers whose presence means something: sent only where the document declares them.
const DECLARED_ONLY = ['retry-after', 'allow'];

function ensurePackages() {
  if (fs.existsSync(path.join(HERE, 'node_modules', 'ajv'))) return;
  const r = spawnSync('npm', ['ci', '--prefix', HERE, '--no-audit', '--no-fund', '--loglevel=error'],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm ci --prefix ${HERE} failed:\n${r.stdout}${r.stderr}${r.error || ''}`);
}

function loadDoc() {
  ensurePackages();
  return require('yaml').parse(fs.readFileSync(DOC_PATH, 'utf8'));
}

// The node a local "#/a/b" reference names, or undefined.
function resolvePointer(doc, ref) {
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

function deref(doc, node) {
  while (node && typeof node === 'object' && typeof node.$ref === 'string') node = resolvePointer(doc, node.$ref);
  return node;
}

// Every object node of the document with its JSON pointer.
function* walk(node, where = '#') {
  if (node === null || typeof node !== 'object') return;
  yield [node, where];
  for (const [k, v] of Object.entries(node)) yield* walk(v, `${where}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`);
}

function operations(doc) {
  const ops = [];
  for (const [template, item] of Object.entries(doc.paths || {}))
    for (const m of METHODS) if (item[m]) ops.push({ template, method: m.toUpperCase(), item, op: item[m] });
  return ops;
}

// ---- lint ------------------------------------------------------------------------

// {official: problems against the OpenAPI 3.1 schema, rules: problems of ours}.
async function lint() {
  const doc = loadDoc();
  // An ES module: import() loads it on Debian 12's Node 18 too, where require() cannot.
  const { Validator } = await import('@seriousme/openapi-schema-validator');
  const result = await new Validator().validate(DOC_PATH);
  const official = result.valid ? [] : [JSON.stringify(result.errors, null, 1)];
  if (doc.openapi !== '3.1.0') official.push(`openapi is ${doc.openapi}, want 3.1.0`);
  const problems = [];

  for (const [node, where] of walk(doc)) {
    if (typeof node.$ref === 'string' && resolvePointer(doc, node.$ref) === undefined)
      problems.push(`${where}: $ref ${node.$ref} names nothing`);
    const types = [].concat(node.type || []);
    if (types.includes('object') && node.additionalProperties !== false)
      problems.push(`${where}: an object schema without additionalProperties: false`);
  }

  const ids = new Set();
  for (const { template, method, item, op } of operations(doc)) {
    const name = `${method} ${template}`;
    if (!op.operationId) problems.push(`${name}: no operationId`);
    else if (ids.has(op.operationId)) problems.push(`${name}: operationId ${op.operationId} twice`);
    ids.add(op.operationId);
    const params = [...(item.parameters || []), ...(op.parameters || [])].map((p) => deref(doc, p));
    const declared = params.filter((p) => p && p.in === 'path').map((p) => p.name).sort();
    const inTemplate = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
    if (JSON.stringify(declared) !== JSON.stringify(inTemplate))
      problems.push(`${name}: path parameters ${declared} but the path names ${inTemplate}`);
    for (const [status, resp] of Object.entries(op.responses || {}))
      problems.push(...errorResponseProblems(doc, `${name} ${status}`, status, resp));
  }
  for (const [status, resp] of Object.entries(doc['x-any-request'] || {}))
    problems.push(...errorResponseProblems(doc, `x-any-request ${status}`, status, resp));

  // Every (status, code) the programs can answer is in the document.
  const errorsC = fs.readFileSync(path.join(ROOT, 'cgi-bin', 'errors.c'), 'utf8');
  const codes = [...errorsC.matchAll(/=\s*\{\s*(\d{3}),\s*"([A-Z_]+)"/g)];
  if (codes.length < 10) problems.push(`cgi-bin/errors.c: found only ${codes.length} codes in tk_codes`);
  for (const [, status, code] of codes) {
    const enumOf = errorCodes(doc, status);
    if (!enumOf) problems.push(`errors.c answers ${status} ${code}: no schema Error${status}`);
    else if (!enumOf.includes(code)) problems.push(`errors.c answers ${status} ${code}: not in Error${status}`);
  }
  return { official, rules: problems };
}

// The codes schema Error<status> allows (from its allOf), or undefined.
function errorCodes(doc, status) {
  const s = ((doc.components || {}).schemas || {})[`Error${status}`];
  if (!s || !Array.isArray(s.allOf)) return undefined;
  for (const part of s.allOf) {
    const e = part.properties && part.properties.error;
    if (e && e.properties && e.properties.code && e.properties.code.enum) return e.properties.code.enum;
  }
  return undefined;
}

function errorResponseProblems(doc, name, status, resp) {
  if (Number(status) < 400) return [];
  const r = deref(doc, resp);
  const media = r && r.content && r.content['application/json; charset=utf-8'];
  const want = `#/components/schemas/Error${status}`;
  if (!media || !media.schema || media.schema.$ref !== want) return [`${name}: an error answer whose schema is not ${want}`];
  if (!errorCodes(doc, status)) return [`${name}: ${want} narrows no codes`];
  return [];
}

// ---- exchanges -------------------------------------------------------------------

// The headers of the last response in curl's -D output: {name: [values]}.
function parseHead(head) {
  const blocks = head.replace(/\r/g, '').split(/\n\n+/).filter((b) => b.startsWith('HTTP/'));
  const headers = {};
  let status = null;
  if (blocks.length === 0) return { status, headers };
  const lines = blocks[blocks.length - 1].split('\n');
  status = Number((lines[0].split(' ')[1]) || NaN);
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    (headers[k] = headers[k] || []).push(line.slice(i + 1).trim());
  }
  return { status, headers };
}

// Which document path a request path is (segments percent-decoded, as the router
// does), or null. A literal segment beats a parameter.
function matchTemplate(doc, rawPath) {
  const p = rawPath.split('?')[0];
  let segs;
  try {
    segs = p.split('/').slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
  let best = null, bestLiterals = -1;
  for (const template of Object.keys(doc.paths)) {
    const t = template.split('/').slice(1);
    if (t.length !== segs.length) continue;
    let literals = 0, ok = true;
    for (let i = 0; i < t.length && ok; i++) {
      if (/^\{.+\}$/.test(t[i])) ok = segs[i] !== '';
      else if (t[i] === segs[i]) literals++;
      else ok = false;
    }
    if (ok && literals > bestLiterals) [best, bestLiterals] = [template, literals];
  }
  return best;
}

function makeAjv(doc) {
  const Ajv2020 = require('ajv/dist/2020').default;
  const addFormats = require('ajv-formats').default;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  addFormats(ajv);
  // The document's local refs made absolute, so that any part of it compiles alone.
  const absolute = JSON.parse(JSON.stringify(doc).replace(/"\$ref":"#\//g, '"$ref":"openapi#/'));
  ajv.addSchema(absolute, 'openapi');
  const cache = new Map();
  return (schema) => {
    const key = JSON.stringify(schema);
    if (!cache.has(key)) cache.set(key, ajv.compile(JSON.parse(key.replace(/"\$ref":"#\//g, '"$ref":"openapi#/'))));
    return cache.get(key);
  };
}

function ajvErrors(validate) {
  return (validate.errors || []).slice(0, 5)
    .map((e) => `${e.instancePath || '(body)'} ${e.message}${e.params && e.params.additionalProperty ? `: ${e.params.additionalProperty}` : ''}`)
    .join('; ');
}

// Problems of one answer against one documented response.
function answerProblems(doc, validator, resp, ex, head, allowWant) {
  const problems = [];
  const r = deref(doc, resp);
  const h = (k) => (head.headers[k] ? head.headers[k][head.headers[k].length - 1] : undefined);
  if (head.status !== ex.status) problems.push(`status line says ${head.status}`);

  const declared = {};
  for (const [name, hd] of Object.entries(r.headers || {})) declared[name.toLowerCase()] = deref(doc, hd);
  for (const [name, hd] of Object.entries(declared)) {
    const value = h(name);
    if (value === undefined) {
      if (hd.required) problems.push(`header ${name} missing`);
      continue;
    }
    const schema = deref(doc, hd.schema) || {};
    const typed = [].concat(schema.type || []).includes('integer') ? (/^\d+$/.test(value) ? Number(value) : value) : value;
    const v = validator(hd.schema);
    if (!v(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${ajvErrors(v)}`);
  }
  for (const name of DECLARED_ONLY)
    if (!(name in declared) && h(name) !== undefined) problems.push(`header ${name} sent but not documented here`);
  if (allowWant !== undefined && h('allow') !== undefined) {
    const got = h('allow').split(',').map((s) => s.trim()).sort().join(', ');
    if (got !== allowWant) problems.push(`Allow: ${h('allow')}, the document has ${allowWant}`);
  }

  const ctype = h('content-type');
  if (!r.content) {
    if (ex.body !== '') problems.push(`a body where none is documented: ${ex.body.slice(0, 200)}`);
    if (ctype !== undefined) problems.push(`Content-Type ${ctype} where no body is documented`);
    return problems;
  }
  const norm = (t) => t.toLowerCase().replace(/\s*;\s*/g, '; ');
  const media = Object.entries(r.content).find(([t]) => ctype !== undefined && norm(t) === norm(ctype));
  if (!media) {
    problems.push(`Content-Type ${ctype}, documented: ${Object.keys(r.content).join(' | ')}`);
    return problems;
  }
  let body = ex.body;
  if (/json/.test(media[0])) {
    try {
      body = JSON.parse(ex.body);
    } catch (e) {
      problems.push(`body is not JSON (${e.message}): ${ex.body.slice(0, 200)}`);
      return problems;
    }
  }
  const v = validator(media[1].schema || {});
  if (!v(body)) problems.push(`body: ${ajvErrors(v)}; body was ${ex.body.slice(0, 300)}`);
  return problems;
}

// Groups {name, count, failures: [{ex, problems}]} in order of first appearance, the
// operations that never answered 2xx, and how many exchanges had no answer or were
// outside /api/.
function checkExchanges(exchanges) {
  const doc = loadDoc();
  const validator = makeAjv(doc);
  const anyRequest = doc['x-any-request'] || {};
  const groups = new Map();
  const succeeded = new Set();
  let unanswered = 0, outside = 0;
  for (const ex of exchanges) {
    if (!ex.status) { unanswered++; continue; }
    if (!/^\/api(\/|$|\?)/.test(ex.path)) { outside++; continue; }
    const template = matchTemplate(doc, ex.path);
    const item = template && doc.paths[template];
    const op = item && item[ex.method.toLowerCase()];
    const name = op ? `${ex.method} ${template} ${ex.status}`
      : template ? `${template} with another method, ${ex.status}` : `a path the API does not have, ${ex.status}`;
    if (op && ex.status >= 200 && ex.status < 300) succeeded.add(`${ex.method} ${template}`);
    if (!groups.has(name)) groups.set(name, { name, count: 0, failures: [] });
    const g = groups.get(name);
    g.count++;
    // The operation's answer for the status, else (or failing that) any request's.
    const key = String(ex.status);
    const candidates = [op && op.responses[key], anyRequest[key]].filter(Boolean);
    const allowWant = item ? METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort().join(', ') : undefined;
    let problems = [`status ${ex.status} is not documented for ${op ? `${ex.method} ${template}` : 'this request'}`];
    for (const resp of candidates) {
      const p = answerProblems(doc, validator, resp, ex, parseHead(ex.head || ''), allowWant);
      if (p.length === 0 || resp === candidates[0]) problems = p;
      if (p.length === 0) break;
    }
    if (problems.length) g.failures.push({ ex, problems });
  }
  const neverSucceeded = operations(doc).map((o) => `${o.method} ${o.template}`).filter((o) => !succeeded.has(o));
  return { groups: [...groups.values()], neverSucceeded, unanswered, outside };
}

module.exports = { lint, checkExchanges, ensurePackages, DOC_PATH };
