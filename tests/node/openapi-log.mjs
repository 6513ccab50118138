// The answers an end-to-end test got from `sweep serve`, checked against the OpenAPI
// document (src/server/openapi.json): each line of LOG (written by the curl function
// of tests/e2e/lib.sh) is {method, path, status, type, body}; its status must be listed
// for the operation (a path the document lacks: the route table's 404, a method it
// lacks: 405), with its content type, and a JSON body must match that response's
// schema (ajv, compiled from the document dereferenced by swagger-parser). Prints one
// line per mismatch (method, path, status, the schema's error) and exits 1; else a
// summary line, exit 0.
//   node tests/node/openapi-log.mjs LOG [DOC]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const here = path.dirname(fileURLToPath(import.meta.url));
const [logPath, docPath = path.join(here, '../../src/server/openapi.json')] =
  process.argv.slice(2);
if (!logPath) {
  console.error('usage: openapi-log.mjs LOG [DOC]');
  process.exit(2);
}

const doc = await SwaggerParser.dereference(JSON.parse(fs.readFileSync(docPath, 'utf8')));
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
addFormats(ajv);
const validators = new Map();

// The document's path template of a concrete path ("/studies/s1" -> "/studies/{id}").
function templateOf(p) {
  const segs = p.split('/');
  for (const t of Object.keys(doc.paths)) {
    const ts = t.split('/');
    if (ts.length === segs.length && ts.every((s, i) => s.startsWith('{') || s === segs[i]))
      return t;
  }
  return null;
}

// What is wrong with one answer, or null.
function check({ method, path: p, status, type, body }) {
  const tpl = templateOf(p.split('?')[0]);
  const op = tpl && doc.paths[tpl][method.toLowerCase()];
  const responses = op ? op.responses
    : tpl ? { 405: doc.components.responses.MethodNotAllowed }
      : { 404: doc.components.responses.NotFound };
  const where = `${tpl || '(no path)'} ${method}`;
  const r = responses[String(status)];
  if (!r) return `status ${status} is not in the document for ${where}`;
  const ctype = (type || '').split(';')[0].trim();
  if (!ctype) return null; // no body (a HEAD, or curl -f on an error)
  if (!r.content || !r.content[ctype])
    return `content type ${ctype} is not documented for ${where} ${status}`;
  if (ctype !== 'application/json') return null;
  let json;
  try {
    json = JSON.parse(body);
  } catch (e) {
    return `not JSON: ${e.message}: ${body.slice(0, 200)}`;
  }
  const key = `${where} ${status}`;
  if (!validators.has(key)) validators.set(key, ajv.compile(r.content[ctype].schema));
  const validate = validators.get(key);
  if (validate(json)) return null;
  return `does not match the schema of ${key}: ${ajv.errorsText(validate.errors)}\n` +
    `  body: ${JSON.stringify(json).slice(0, 300)}`;
}

const lines = fs.readFileSync(logPath, 'utf8').split('\n').filter(Boolean);
let bad = 0;
const ops = new Set();
for (const line of lines) {
  const a = JSON.parse(line);
  const why = check(a);
  ops.add(`${a.method} ${templateOf(a.path.split('?')[0])} ${a.status}`);
  if (why) {
    bad++;
    console.log(`openapi: ${a.method} ${a.path} ${a.status}: ${why}`);
  }
}
if (lines.length === 0) {
  console.log(`openapi: ${logPath} is empty: no answer logged`);
  process.exit(1);
}
if (bad) process.exit(1);
console.log(`${lines.length} answers (${ops.size} operation/status pairs) match ` +
  'src/server/openapi.json');
