// An independent Open Badges 3.0 / CLR 2.0 verifier, used by MicroCred's test suite to
// check what MicroCred issues the way an outside verifier would. It shares no code with
// MicroCred: Data Integrity proofs are checked by Digital Bazaar's @digitalbazaar/vc with
// the eddsa-rdfc-2022 cryptosuite, VC-JWTs by jose, revocation by
// @digitalbazaar/vc-bitstring-status-list, schemas by ajv.
//
// Trust rules:
// * JSON-LD contexts come ONLY from the folder given with --contexts (the standard
//   contexts: W3C VCDM, Data Integrity, DID, Multikey, 1EdTech OB 3.0 / CLR 2.0); any other
//   context URL is refused. Every credential must also pass JSON-LD safe-mode expansion.
// * Keys and status lists are fetched live, and only from --origin (the tool under test).
//   A verification method is dereferenced as W3C Controlled Identifiers v1.0 says: the
//   document at its URL (without fragment) must have that id and list the method; the
//   method's controller document is then loaded and @digitalbazaar/vc requires it to list
//   the method under assertionMethod AND to be the credential's issuer. did:key is resolved
//   by @digitalbazaar/did-method-key.
// * A VC-JWT must name its key with `kid`; a key given only in the JOSE `jwk` header is
//   never the issuer's. The `kid` goes through the same dereferencing and issuer binding.
//
// Usage: node verify.mjs --contexts DIR --origin URL [--schemas DIR] FILE...
//    or: node verify.mjs --contexts DIR --origin URL [--schemas DIR] < request.json
// FILEs: credentials as .json, .jwt, baked .png or .svg. request.json: {"items": [{"name",
// "form": "json"|"jwt"|"png"|"svg", "data"}]} (png data base64). Prints {"results":
// [{"name", "verified", "revoked", "kind", "issuer", "errors": [...]}], "fetched": [...]}.

import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {inflateSync} from 'node:zlib';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as DidKey from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as jose from 'jose';
import jsonld from 'jsonld';
import Ajv2019 from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if(index === -1) {
    if(fallback !== undefined) {
      return fallback;
    }
    throw new Error(`--${name} is required`);
  }
  return process.argv[index + 1];
}

const CONTEXTS_DIR = option('contexts');
const ORIGIN = new URL(option('origin')).origin;
const SCHEMAS_DIR = option('schemas', '');

// --- documents: standard contexts, did:key, and the tool under test ------------------------

const contextIndex = JSON.parse(
  await readFile(path.join(CONTEXTS_DIR, 'index.json'), 'utf8'));
const contexts = new Map();
for(const [url, file] of Object.entries(contextIndex)) {
  contexts.set(url, JSON.parse(await readFile(path.join(CONTEXTS_DIR, file), 'utf8')));
}

const didKeyDriver = DidKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

const fetched = new Map();
export const fetchLog = [];

async function fetchJson(url) {
  if(new URL(url).origin !== ORIGIN) {
    throw new Error(`refusing to fetch ${url}: not the tool under test`);
  }
  if(!fetched.has(url)) {
    fetchLog.push(url);
    const response = await fetch(url, {
      headers: {accept: 'application/ld+json, application/json'},
      redirect: 'error'
    });
    if(!response.ok) {
      throw new Error(`${url} answered HTTP ${response.status}`);
    }
    fetched.set(url, await response.json());
  }
  return structuredClone(fetched.get(url));
}

async function documentLoader(url) {
  if(contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: structuredClone(contexts.get(url))};
  }
  if(url.startsWith('did:key:')) {
    const document = await didKeyDriver.get({url});
    return {contextUrl: null, documentUrl: url, document};
  }
  if(url.startsWith('http://') || url.startsWith('https://')) {
    const [base, fragment] = url.split('#');
    const document = await fetchJson(base);
    if(!fragment) {
      return {contextUrl: null, documentUrl: url, document};
    }
    // CID 1.0 "Retrieve Verification Method": the document must be the one it says it is
    // and list the method under that exact id.
    if(document.id !== base) {
      throw new Error(`${base} describes "${document.id}", not itself`);
    }
    const methods = [].concat(document.verificationMethod || []);
    const method = methods.find(m => m && typeof m === 'object' && m.id === url);
    if(!method) {
      throw new Error(`${base} does not list the verification method ${url}`);
    }
    return {
      contextUrl: null, documentUrl: url,
      document: {'@context': document['@context'], ...method}
    };
  }
  throw new Error(`refusing to load ${url}: not a standard context`);
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});

// --- checks -------------------------------------------------------------------------------

async function safeExpand(document) {
  // JSON-LD safe mode: any term a standard context does not define is an error.
  await jsonld.expand(structuredClone(document), {documentLoader, safe: true});
}

let validators = null;
async function schemaValidator(credential) {
  if(!SCHEMAS_DIR) {
    return null;
  }
  if(validators === null) {
    const ajv = new Ajv2019({strict: false, allErrors: true});
    addFormats(ajv);
    validators = {};
    for(const [kind, file] of [
      ['ob', 'ob_v3p0_achievementcredential_plain_schema.json'],
      ['clr', 'clr_v2p0_clrcredential_schema.json']]) {
      const schema = JSON.parse(await readFile(path.join(SCHEMAS_DIR, file), 'utf8'));
      delete schema.$schema;
      validators[kind] = ajv.compile(schema);
    }
  }
  const types = [].concat(credential.type || []);
  if(types.includes('ClrCredential')) {
    return validators.clr;
  }
  if(types.includes('OpenBadgeCredential') || types.includes('AchievementCredential')) {
    return validators.ob;
  }
  return null;
}

function kindOf(credential) {
  const types = [].concat(credential.type || []);
  if(types.includes('ClrCredential')) {
    return 'clr';
  }
  if(types.includes('BitstringStatusListCredential')) {
    return 'status-list';
  }
  if(types.includes('OpenBadgeCredential') || types.includes('AchievementCredential')) {
    return 'ob';
  }
  return 'other';
}

function issuerId(credential) {
  const {issuer} = credential;
  return typeof issuer === 'object' && issuer !== null ? issuer.id : issuer;
}

function messages(error) {
  const out = [];
  const seen = new Set();
  const walk = e => {
    if(!e || seen.has(e)) {
      return;
    }
    seen.add(e);
    if(Array.isArray(e)) {
      e.forEach(walk);
      return;
    }
    if(e.message) {
      out.push(e.message);
    }
    walk(e.errors);
    walk(e.cause);
  };
  walk(error);
  return out;
}

async function statusOf(credential, errors) {
  if(!credential.credentialStatus) {
    return null;
  }
  const result = await checkStatus({
    credential, documentLoader, suite,
    verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
  });
  if(!result.verified) {
    errors.push(...messages(result.error), 'status could not be checked');
    return null;
  }
  return result.results.some(r => r.status === true);
}

async function common(credential, errors) {
  try {
    await safeExpand(credential);
  } catch(e) {
    errors.push(`JSON-LD safe mode: ${messages(e).join('; ')}`);
  }
  const validate = await schemaValidator(credential);
  if(validate && !validate(credential)) {
    errors.push(...validate.errors.slice(0, 5).map(
      e => `schema: ${e.instancePath || '/'} ${e.message}`));
  }
}

async function verifyDataIntegrity(credential) {
  const errors = [];
  await common(credential, errors);
  // vc.verifyCredential uses CredentialIssuancePurpose: the verification method must be
  // in its controller's assertionMethod and that controller must be the issuer.
  const result = await vc.verifyCredential({
    credential, suite, documentLoader,
    checkStatus: async () => ({verified: true})
  });
  if(!result.verified) {
    errors.push(...messages(result.error));
    for(const r of result.results || []) {
      if(!r.verified) {
        errors.push(...messages(r.error));
      }
    }
  }
  const revoked = result.verified ? await statusOf(credential, errors) : null;
  if(kindOf(credential) === 'clr' && result.verified) {
    // every credential inside a learner record must verify on its own too
    const inner = [].concat(credential.credentialSubject?.verifiableCredential || []);
    for(const [i, embedded] of inner.entries()) {
      const outcome = await verifyDataIntegrity(embedded);
      if(!outcome.verified || outcome.revoked) {
        errors.push(`embedded credential ${i}: ${outcome.errors.join('; ') || 'revoked'}`);
      }
    }
  }
  return {verified: errors.length === 0, revoked, kind: kindOf(credential), errors,
    issuer: issuerId(credential)};
}

async function verifyJwt(token) {
  const errors = [];
  let header;
  let payload;
  try {
    header = jose.decodeProtectedHeader(token);
    payload = jose.decodeJwt(token);
  } catch(e) {
    return {verified: false, revoked: null, kind: 'other', errors: [e.message]};
  }
  const credential = payload.vc && typeof payload.vc === 'object' ?
    payload.vc : Object.fromEntries(Object.entries(payload).filter(
      ([k]) => !['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'].includes(k)));
  const issuer = issuerId(credential);
  if(typeof header.kid !== 'string') {
    errors.push('the token names no key (kid); a key in its own jwk header is not the ' +
      'issuer\'s');
    return {verified: false, revoked: null, kind: kindOf(credential), errors, issuer};
  }
  // OB 3.0 §8.2.4.2 + CID 1.0: kid -> verification method controlled by the issuer and
  // listed under its assertionMethod.
  let method;
  try {
    ({document: method} = await documentLoader(header.kid));
    const controller = typeof method.controller === 'object' ?
      method.controller.id : method.controller;
    if(controller !== issuer || payload.iss !== issuer) {
      throw new Error(`key controller "${controller}" is not the issuer "${issuer}"`);
    }
    const {document: controllerDocument} = await documentLoader(controller);
    const listed = [].concat(controllerDocument.assertionMethod || []).map(
      m => typeof m === 'object' ? m.id : m);
    if(!listed.includes(header.kid)) {
      throw new Error(`${header.kid} is not in the issuer's assertionMethod`);
    }
    if(method.revoked !== undefined) {
      throw new Error(`${header.kid} was revoked`);
    }
  } catch(e) {
    errors.push(...messages(e));
    return {verified: false, revoked: null, kind: kindOf(credential), errors, issuer};
  }
  try {
    const keyPair = await Ed25519Multikey.from(method);
    const jwk = await Ed25519Multikey.toJwk({keyPair});
    const key = await jose.importJWK({...jwk, alg: 'EdDSA'}, 'EdDSA');
    await jose.jwtVerify(token, key, {issuer, algorithms: ['EdDSA'], currentDate: new Date()});
  } catch(e) {
    errors.push(`JWS: ${messages(e).join('; ')}`);
  }
  if(payload.jti !== undefined && payload.jti !== credential.id) {
    errors.push('jti does not match the credential id');
  }
  await common(credential, errors);
  const revoked = errors.length === 0 ? await statusOf(credential, errors) : null;
  return {verified: errors.length === 0, revoked, kind: kindOf(credential), errors, issuer};
}

// --- baked images ------------------------------------------------------------------------

function fromPng(buffer) {
  // OB 3.0 §5.3.1: an iTXt chunk with keyword "openbadgecredential".
  if(buffer.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') {
    throw new Error('not a PNG');
  }
  const found = [];
  for(let at = 8; at + 8 <= buffer.length;) {
    const length = buffer.readUInt32BE(at);
    const type = buffer.subarray(at + 4, at + 8).toString('latin1');
    const body = buffer.subarray(at + 8, at + 8 + length);
    if(type === 'iTXt') {
      const keywordEnd = body.indexOf(0);
      if(body.subarray(0, keywordEnd).toString('latin1') === 'openbadgecredential') {
        const compressed = body[keywordEnd + 1] === 1;
        const languageEnd = body.indexOf(0, keywordEnd + 3);
        const translatedEnd = body.indexOf(0, languageEnd + 1);
        const text = body.subarray(translatedEnd + 1);
        found.push((compressed ? inflateSync(text) : text).toString('utf8'));
      }
    }
    at += 12 + length;
  }
  if(found.length !== 1) {
    throw new Error(`${found.length} openbadgecredential chunks`);
  }
  return found[0];
}

function fromSvg(text) {
  // OB 3.0 §5.3.2: <openbadges:credential> holding the JSON (CDATA) or verify="<jwt>".
  const element = text.match(
    /<openbadges:credential\b([^>]*?)(?:\/>|>([\s\S]*?)<\/openbadges:credential>)/);
  if(!element) {
    throw new Error('no openbadges:credential element');
  }
  const verifyAttribute = (element[1] || '').match(/\bverify\s*=\s*"([^"]+)"/);
  if(verifyAttribute) {
    return verifyAttribute[1];
  }
  const body = (element[2] || '').trim();
  const cdata = body.match(/^<!\[CDATA\[([\s\S]*)\]\]>$/);
  return cdata ? cdata[1] : body;
}

async function verifyPayload(text) {
  const trimmed = text.trim();
  if(trimmed.startsWith('{')) {
    return verifyDataIntegrity(JSON.parse(trimmed));
  }
  return verifyJwt(trimmed);
}

async function verifyItem(item) {
  try {
    switch(item.form) {
      case 'png':
        return await verifyPayload(fromPng(Buffer.from(item.data, 'base64')));
      case 'svg':
        return await verifyPayload(fromSvg(item.data));
      case 'jwt':
        return await verifyJwt(item.data.trim());
      default:
        return await verifyPayload(item.data);
    }
  } catch(e) {
    return {verified: false, revoked: null, kind: 'other', errors: messages(e)};
  }
}

async function requestFromFiles(files) {
  const items = [];
  for(const file of files) {
    const form = {'.png': 'png', '.svg': 'svg', '.jwt': 'jwt'}[
      path.extname(file).toLowerCase()] || 'json';
    const content = await readFile(file);
    items.push({name: file, form,
      data: form === 'png' ? content.toString('base64') : content.toString('utf8')});
  }
  return {items};
}

const files = [];
for(let i = 2; i < process.argv.length; i++) {
  if(process.argv[i].startsWith('--')) {
    i++;
  } else {
    files.push(process.argv[i]);
  }
}
let request;
if(files.length) {
  request = await requestFromFiles(files);
} else {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
const results = [];
for(const item of request.items) {
  results.push({name: item.name, ...await verifyItem(item)});
}
process.stdout.write(JSON.stringify({results, fetched: fetchLog}) + '\n');
